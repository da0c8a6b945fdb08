/**
 * The states of a GpuTrainingJob's state machine:
 *
 *   ValidateInput → PrepareJob → MatchDatasetLocation → ReadDatasetCard → CheckDatasetCard
 *     → Train → HasMetrics → (ReadMetrics | NoMetrics)
 *     → [SelectGateMetrics → Gate0 … GateN] → PublishModel → RegisterModel → WriteModelRecord
 *     → PublishModelTrained → ModelTrained
 *   a failed gate: PublishModelRejected → ModelRejected
 *   invalid input (RejectInput), a dataset version whose card is absent or not published
 *   (DatasetCardUnreadable, DatasetNotPublished) or a failed task: PublishTrainingFailed → TrainingFailed
 *
 * The input may come from a forged "Dataset Version Published" event: before anything is trained
 * the machine reads the version's dataset card in the curated zone (written only by the dataset
 * handler) and goes on only when it names the version and says `published: true`.
 *
 * Every task retries what is transient (bounded) and routes everything else to
 * PublishTrainingFailed. The state and construct IDs are part of the contract.
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { MODEL_KEYS, TrainingConfig } from './training-config';
import { ChannelDataType, ChannelInputMode, MetricComparison, MetricGate, TrainingChannel } from './training-options';
import { DATASET_FILES, DATASET_KEYS } from '../contract/dataset-version';
import {
  ModelRejectedDetail, ModelTrainedDetail, TRAINING_DETAIL_TYPE, TRAINING_EVENT_SOURCE, TrainedModelDetail, TrainingFailedDetail,
} from '../contract/events';

/** What the states are built from. */
export interface TrainingStatesOptions {
  readonly config: TrainingConfig;
  /** The role SageMaker assumes to run the training jobs. */
  readonly role: iam.IRole;
  readonly trainingImageUri: string;
  /** The lake's curated zone (dataset versions). */
  readonly curated: s3.IBucket;
  /** The lake's models zone (training output, checkpoints, model records). */
  readonly models: s3.IBucket;
  /** The lake's key: encrypts the training output. */
  readonly outputKey: kms.IKey;
  /** The key of the ML storage volumes. @default - none (local NVMe storage) */
  readonly volumeEncryptionKey?: kms.IKey;
  /** `VpcConfig` of the training jobs. @default - SageMaker's own network */
  readonly vpcConfig?: Record<string, unknown>;
  /** The bus for the job's events. */
  readonly eventBus: events.IEventBus;
  /** The PublishModel task's function. */
  readonly publishModel: lambda.IFunction;
}

/** An event's `detail` as a state's input: every field of the contract's type, as JSONPath or value. */
type EventFields<T> = { readonly [K in keyof T]-?: unknown };

type Retriable = { addRetry(p: sfn.RetryProps): unknown };
type Catchable = { addCatch(handler: sfn.IChainable, p: sfn.CatchProps): unknown };

/** Errors worth retrying: throttling and service-side faults. Bounded by each task's Retry. */
const TRANSIENT_COMMON = ['ThrottlingException', 'ServiceUnavailable', 'InternalServerError'];
const TRANSIENT_SAGEMAKER = [
  // The optimized integration reports every SageMaker API error under this name (a bounded
  // retry of a validation error costs three quick calls).
  'SageMaker.AmazonSageMakerException',
  'SageMaker.SageMakerException',
  'SageMaker.ThrottlingException',
  ...TRANSIENT_COMMON,
];
const TRANSIENT_S3 = ['S3.S3Exception', 'S3.SdkClientException', 'S3.InternalErrorException', ...TRANSIENT_COMMON];
/** The function's own transient failures: S3 throttling and faults after the SDK's retries, Lambda throttling. */
const TRANSIENT_PUBLISH = [
  'Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException', 'SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'TimeoutError', ...TRANSIENT_COMMON,
];
const TRANSIENT_EVENTS = [
  'EventBridge.AmazonEventBridgeException',
  'EventBridge.EventBridgeException',
  'EventBridge.InternalException',
  'EventBridge.FailedEntry',
  ...TRANSIENT_COMMON,
];

/** The dataset cards under the dataset prefix, `<prefix>datasets/*\/dataset-card.json`: what ReadDatasetCard may read. */
export function datasetCardPattern(config: TrainingConfig): string {
  return `${DATASET_KEYS.datasetPrefix(config.datasetPrefix, '*')}${DATASET_FILES.card}`;
}

/**
 * Define the states of the training state machine under `states` and return the start state.
 */
export function buildTrainingStates(states: Construct, o: TrainingStatesOptions): sfn.IChainable {
  const { config } = o;

  const publishFailure = failurePath(states, o);
  const onError = (state: Catchable) => state.addCatch(publishFailure, { errors: ['States.ALL'], resultPath: '$.failure' });

  const train = trainTask(states, o);
  retry(train, TRANSIENT_SAGEMAKER, 30);
  onError(train);

  const validate = inputCheck(states, o, publishFailure, train);

  const metrics = finalMetrics(states, config.gates);

  const jobDetail: EventFields<TrainedModelDetail> = {
    model: config.modelName,
    datasetVersion: sfn.JsonPath.stringAt('$.datasetVersion'),
    location: sfn.JsonPath.stringAt('$.location'),
    trainingJobName: sfn.JsonPath.stringAt('$.trainingJobName'),
    trainingJobArn: sfn.JsonPath.stringAt('$.training.TrainingJobArn'),
    modelArtifact: sfn.JsonPath.stringAt('$.training.ModelArtifacts.S3ModelArtifacts'),
    metrics: sfn.JsonPath.listAt('$.metrics.all'),
  };
  const register = publishModel(states, o, onError).next(registration(states, o, jobDetail, onError));

  // Gates, one Choice each: a metric that is not a number (the sentinel) fails the gate.
  let gateEntry: sfn.IChainable = register;
  if (config.gates.length > 0) {
    gateEntry = metrics.selectGateMetrics.next(gateChoices(states, o, jobDetail, register, onError));
  }
  metrics.readMetrics.next(gateEntry);
  metrics.noMetrics.next(gateEntry);
  train.next(metrics.hasMetrics);
  return validate;
}

/** PublishTrainingFailed → TrainingFailed: the end of every failed execution. */
function failurePath(states: Construct, o: TrainingStatesOptions): tasks.EventBridgePutEvents {
  const failed = new sfn.Fail(states, 'TrainingFailed', {
    errorPath: '$.failure.Error',
    causePath: '$.failure.Cause',
    comment: 'The execution failed; the error and cause of the failing state are recorded here',
  });
  // The cause can quote the container's failure reason: it stays in the (encrypted)
  // execution history, the event carries the error name and the execution only.
  const detail: EventFields<TrainingFailedDetail> = {
    model: o.config.modelName,
    execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
    error: sfn.JsonPath.stringAt('$.failure.Error'),
  };
  const publishFailure = putEvent(states, 'PublishTrainingFailed', o.eventBus, TRAINING_DETAIL_TYPE.trainingFailed, detail);
  publishFailure.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.failureEventError' });
  publishFailure.next(failed);
  return publishFailure;
}

/**
 * ValidateInput → PrepareJob → MatchDatasetLocation → ReadDatasetCard → CheckDatasetCard → `next`:
 * a dataset version of this lake's curated zone whose location is its own folder, and whose
 * dataset card names it and says it was published. Anything else fails with a recorded reason:
 * RejectInput (InvalidInput), DatasetCardUnreadable or DatasetNotPublished (DatasetNotPublished).
 */
function inputCheck(states: Construct, o: TrainingStatesOptions, publishFailure: sfn.IChainable, next: sfn.IChainable): sfn.IChainable {
  const { datasetPrefix, jobNamePrefix } = o.config;
  const rejectInput = new sfn.Pass(states, 'RejectInput', {
    result: sfn.Result.fromObject({
      Error: 'InvalidInput',
      Cause: `expected {"datasetVersion": "<version>", "location": "s3://<curated bucket>/${DATASET_KEYS.datasetPrefix(datasetPrefix, '<version>')}"}`,
    }),
    resultPath: '$.failure',
  });
  rejectInput.next(publishFailure);

  const locationPattern = `s3://${o.curated.bucketName}/${DATASET_KEYS.datasetPrefix(datasetPrefix, '*')}`;
  const validate = new sfn.Choice(states, 'ValidateInput', { comment: 'A dataset version of this lake\'s curated zone' });
  const prepare = new sfn.Pass(states, 'PrepareJob', {
    comment: 'One training job name per execution (a hash of the execution id: deterministic, 63 characters at most), and where the version\'s folder and card are',
    parameters: {
      datasetVersion: sfn.JsonPath.stringAt('$.datasetVersion'),
      location: sfn.JsonPath.stringAt('$.location'),
      trainingJobName: sfn.JsonPath.format(`${jobNamePrefix}-{}`, sfn.JsonPath.hash(sfn.JsonPath.stringAt('$$.Execution.Id'), 'MD5')),
      versionLocation: sfn.JsonPath.format(`s3://${o.curated.bucketName}/${DATASET_KEYS.datasetPrefix(datasetPrefix, '{}')}`, sfn.JsonPath.stringAt('$.datasetVersion')),
      datasetCardKey: sfn.JsonPath.format(`${DATASET_KEYS.datasetPrefix(datasetPrefix, '{}')}${DATASET_FILES.card}`, sfn.JsonPath.stringAt('$.datasetVersion')),
    },
  });
  validate
    .when(sfn.Condition.or(
      sfn.Condition.not(sfn.Condition.isPresent('$.datasetVersion')),
      sfn.Condition.not(sfn.Condition.isPresent('$.location')),
    ), rejectInput)
    .when(sfn.Condition.and(
      sfn.Condition.isString('$.datasetVersion'),
      sfn.Condition.stringMatches('$.location', locationPattern),
    ), prepare)
    .otherwise(rejectInput);

  // The channels are read from `location`: it must be the folder of `datasetVersion`, whose card is checked.
  const matchLocation = new sfn.Choice(states, 'MatchDatasetLocation', { comment: 'The location is the folder of the dataset version' })
    .when(sfn.Condition.stringEqualsJsonPath('$.location', '$.versionLocation'), readCard(states, o, publishFailure, next))
    .otherwise(rejectInput);
  prepare.next(matchLocation);
  return validate;
}

/**
 * ReadDatasetCard → CheckDatasetCard: the card of the version (written by the dataset handler
 * only, last); `next` when it names the version and says `published: true`, else a recorded
 * refusal. A card that cannot be read (absent: the version was never completed) is refused too.
 */
function readCard(states: Construct, o: TrainingStatesOptions, publishFailure: sfn.IChainable, next: sfn.IChainable): sfn.IChainable {
  const card = DATASET_FILES.card;
  const unreadable = new sfn.Pass(states, 'DatasetCardUnreadable', {
    parameters: {
      Error: 'DatasetNotPublished',
      Cause: sfn.JsonPath.format(`no dataset card could be read at {}${card} ({}): the version was never completed, or it is not in this lake`,
        sfn.JsonPath.stringAt('$.location'), sfn.JsonPath.stringAt('$.cardError.Error')),
    },
    resultPath: '$.failure',
  });
  unreadable.next(publishFailure);
  const notPublished = new sfn.Pass(states, 'DatasetNotPublished', {
    parameters: {
      Error: 'DatasetNotPublished',
      Cause: sfn.JsonPath.format(`the dataset card at {}${card} does not say that this version was published (its quality gates blocked it: see its quality report), or it names another version`,
        sfn.JsonPath.stringAt('$.location')),
    },
    resultPath: '$.failure',
  });
  notPublished.next(publishFailure);

  const read = new tasks.CallAwsService(states, 'ReadDatasetCard', {
    comment: 'The dataset card of the version: an event may be forged, the card is what the dataset handler wrote',
    service: 's3',
    action: 'getObject',
    iamAction: 's3:GetObject',
    iamResources: [o.curated.arnForObjects(datasetCardPattern(o.config))],
    parameters: { Bucket: o.curated.bucketName, Key: sfn.JsonPath.stringAt('$.datasetCardKey') },
    resultSelector: { card: sfn.JsonPath.stringToJson(sfn.JsonPath.stringAt('$.Body')) },
    resultPath: '$.dataset',
  });
  retry(read, TRANSIENT_S3, 2);
  read.addCatch(unreadable, { errors: ['States.ALL'], resultPath: '$.cardError' });

  const published = '$.dataset.card.published';
  const cardVersion = '$.dataset.card.datasetVersion';
  // One Choice, branches in order: each path is tested for presence and type before it is compared.
  const check = new sfn.Choice(states, 'CheckDatasetCard', { comment: 'The card names this version and says published: true' })
    .when(sfn.Condition.not(sfn.Condition.isPresent(published)), notPublished)
    .when(sfn.Condition.not(sfn.Condition.isBoolean(published)), notPublished)
    .when(sfn.Condition.not(sfn.Condition.isPresent(cardVersion)), notPublished)
    .when(sfn.Condition.not(sfn.Condition.isString(cardVersion)), notPublished)
    .when(sfn.Condition.and(
      sfn.Condition.booleanEquals(published, true),
      sfn.Condition.stringEqualsJsonPath(cardVersion, '$.datasetVersion'),
    ), next)
    .otherwise(notPublished);
  read.next(check);
  return read;
}

/**
 * Train: CreateTrainingJob and wait for it. aws-cdk-lib's SageMakerCreateTrainingJob has no
 * CheckpointConfig, managed spot or inter-container encryption, and always sets the volume key it
 * is given: the task is written in Amazon States Language directly, and its permissions are
 * granted by `grantStateMachine`.
 */
function trainTask(states: Construct, o: TrainingStatesOptions): sfn.CustomState {
  const c = o.config;
  const resourceConfig: Record<string, unknown> = {
    InstanceType: c.instanceType.name,
    InstanceCount: c.instanceCount,
    VolumeSizeInGB: c.volumeGiB,
  };
  if (o.volumeEncryptionKey) {
    resourceConfig.VolumeKmsKeyId = o.volumeEncryptionKey.keyArn;
  }
  const parameters: Record<string, unknown> = {
    'TrainingJobName.$': '$.trainingJobName',
    'RoleArn': o.role.roleArn,
    'AlgorithmSpecification': {
      TrainingImage: o.trainingImageUri,
      TrainingInputMode: 'File',
      ...(c.metricDefinitions.length > 0 ? { MetricDefinitions: c.metricDefinitions.map((d) => ({ Name: d.name, Regex: d.regex })) } : {}),
    },
    'InputDataConfig': c.channels.map(renderChannel),
    'OutputDataConfig': {
      S3OutputPath: `s3://${o.models.bucketName}/${MODEL_KEYS.trainingJobs(c.modelName)}`,
      KmsKeyId: o.outputKey.keyArn,
    },
    'ResourceConfig': resourceConfig,
    'StoppingCondition': {
      MaxRuntimeInSeconds: c.maxRuntime,
      ...(c.maxWait !== undefined ? { MaxWaitTimeInSeconds: c.maxWait } : {}),
    },
    'EnableNetworkIsolation': c.networkIsolation,
    'EnableInterContainerTrafficEncryption': c.instanceCount > 1,
    'EnableManagedSpotTraining': c.spot,
  };
  if (Object.keys(c.hyperparameters).length > 0) { parameters.HyperParameters = c.hyperparameters; }
  if (Object.keys(c.environment).length > 0) { parameters.Environment = c.environment; }
  if (c.checkpoints) {
    parameters.CheckpointConfig = {
      'S3Uri.$': `States.Format('s3://${o.models.bucketName}/${MODEL_KEYS.checkpoints(c.modelName)}{}/', $.trainingJobName)`,
      'LocalPath': '/opt/ml/checkpoints',
    };
  }
  if (o.vpcConfig) { parameters.VpcConfig = o.vpcConfig; }
  return new sfn.CustomState(states, 'Train', {
    stateJson: {
      Type: 'Task',
      Comment: 'Run the SageMaker training job and wait for it',
      Resource: `arn:${Aws.PARTITION}:states:::sagemaker:createTrainingJob.sync`,
      Parameters: parameters,
      ResultPath: '$.training',
    },
  });
}

/**
 * HasMetrics → ReadMetrics | NoMetrics (the final metrics), and SelectGateMetrics. Each gate reads
 * its metric from the list padded with a `null` sentinel, so the filter always matches: the first
 * value is the metric's, or null when it was not scraped.
 */
function finalMetrics(states: Construct, gates: MetricGate[]) {
  const sentinels = [...new Set(gates.map((g) => g.metricName))].map((name) => ({ MetricName: name, Value: null }));
  const selectGateMetrics = new sfn.Pass(states, 'SelectGateMetrics', {
    parameters: Object.fromEntries(gates.map((g, i) => [
      gateKey(i),
      sfn.JsonPath.listAt(`$.metrics.padded[*][?(@.MetricName == '${g.metricName}')].Value`),
    ])),
    resultPath: '$.gateValues',
  });
  const readMetrics = new sfn.Pass(states, 'ReadMetrics', {
    parameters: {
      'all.$': '$.training.FinalMetricDataList',
      'padded.$': `States.Array($.training.FinalMetricDataList, States.StringToJson('${JSON.stringify(sentinels)}'))`,
    },
    resultPath: '$.metrics',
  });
  const noMetrics = new sfn.Pass(states, 'NoMetrics', {
    result: sfn.Result.fromObject({ all: [], padded: [[], sentinels] }),
    resultPath: '$.metrics',
  });
  const hasMetrics = new sfn.Choice(states, 'HasMetrics')
    .when(sfn.Condition.isPresent('$.training.FinalMetricDataList'), readMetrics)
    .otherwise(noMetrics);
  return { selectGateMetrics, readMetrics, noMetrics, hasMetrics };
}

/**
 * PublishModel: the function publishes the ONNX file and the baseline out of the job's
 * model.tar.gz (`$.published`: keys, SHA-256 and size) and writes the training run's lineage event
 * (the dataset version in, the model out; its time is the state's entered time, the same for every
 * retry, so a retry writes the same event). Lambda's service errors and the function's
 * transient S3 failures are retried; its named errors (a bad archive) are not: the same archive
 * fails the same way.
 */
function publishModel(states: Construct, o: TrainingStatesOptions, onError: (state: Catchable) => unknown): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(states, 'PublishModel', {
    comment: 'Publish the ONNX file and the drift baseline out of model.tar.gz, and the training run\'s lineage event',
    lambdaFunction: o.publishModel,
    // One bounded retry with jitter (below) instead of aws-cdk-lib's six attempts without.
    retryOnServiceExceptions: false,
    payload: sfn.TaskInput.fromObject({
      modelArtifact: sfn.JsonPath.stringAt('$.training.ModelArtifacts.S3ModelArtifacts'),
      trainingJobName: sfn.JsonPath.stringAt('$.trainingJobName'),
      datasetVersion: sfn.JsonPath.stringAt('$.datasetVersion'),
      datasetLocation: sfn.JsonPath.stringAt('$.location'),
      eventTime: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
    }),
    resultSelector: {
      modelSha256: sfn.JsonPath.stringAt('$.Payload.modelSha256'),
      modelKey: sfn.JsonPath.stringAt('$.Payload.modelKey'),
      baselineKey: sfn.JsonPath.stringAt('$.Payload.baselineKey'),
      model: sfn.JsonPath.objectAt('$.Payload.model'),
      baseline: sfn.JsonPath.objectAt('$.Payload.baseline'),
    },
    resultPath: '$.published',
  });
  retry(task, TRANSIENT_PUBLISH, 5);
  onError(task);
  return task;
}

/** RegisterModel → WriteModelRecord → PublishModelTrained → ModelTrained; returns RegisterModel. */
function registration(
  states: Construct,
  o: TrainingStatesOptions,
  jobDetail: EventFields<TrainedModelDetail>,
  onError: (state: Catchable) => unknown,
): tasks.CallAwsService {
  const c = o.config;
  const stack = Stack.of(states);
  const records = MODEL_KEYS.records(c.modelName);
  const recordKey = sfn.JsonPath.format(`${records}{}.json`, sfn.JsonPath.stringAt('$.trainingJobName'));
  const recordUri = sfn.JsonPath.format(`s3://${o.models.bucketName}/${records}{}.json`, sfn.JsonPath.stringAt('$.trainingJobName'));
  const register = new tasks.CallAwsService(states, 'RegisterModel', {
    service: 'sagemaker',
    action: 'createModelPackage',
    iamAction: 'sagemaker:CreateModelPackage',
    iamResources: [`arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:model-package/${c.modelName}/*`],
    parameters: {
      ModelPackageGroupName: c.modelName,
      ModelPackageDescription: sfn.JsonPath.format('Trained on dataset version {} by training job {}', sfn.JsonPath.stringAt('$.datasetVersion'), sfn.JsonPath.stringAt('$.trainingJobName')),
      ModelApprovalStatus: c.modelApprovalStatus,
      InferenceSpecification: {
        Containers: [{ Image: o.trainingImageUri, ModelDataUrl: sfn.JsonPath.stringAt('$.training.ModelArtifacts.S3ModelArtifacts') }],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      CustomerMetadataProperties: {
        datasetVersion: sfn.JsonPath.stringAt('$.datasetVersion'),
        trainingJobName: sfn.JsonPath.stringAt('$.trainingJobName'),
        modelRecord: recordUri,
        modelSha256: sfn.JsonPath.stringAt('$.published.modelSha256'),
      },
    },
    resultSelector: { modelPackageArn: sfn.JsonPath.stringAt('$.ModelPackageArn') },
    resultPath: '$.registration',
  });
  retry(register, TRANSIENT_SAGEMAKER, 5);
  onError(register);

  const writeRecord = new tasks.CallAwsService(states, 'WriteModelRecord', {
    service: 's3',
    action: 'putObject',
    iamAction: 's3:PutObject',
    iamResources: [o.models.arnForObjects(`${records}*`)],
    parameters: {
      Bucket: o.models.bucketName,
      Key: recordKey,
      ContentType: 'application/json',
      Body: {
        schemaVersion: '1',
        ...jobDetail,
        modelPackageArn: sfn.JsonPath.stringAt('$.registration.modelPackageArn'),
        trainingImage: o.trainingImageUri,
        instanceType: c.instanceType.name,
        instanceCount: c.instanceCount,
        hyperparameters: c.hyperparameters,
        gates: gateDetails(c.gates),
        // The published ONNX file and its baseline (`model` is the model's name in the events, `modelName` here).
        modelName: c.modelName,
        model: sfn.JsonPath.objectAt('$.published.model'),
        modelSha256: sfn.JsonPath.stringAt('$.published.modelSha256'),
        baseline: sfn.JsonPath.objectAt('$.published.baseline'),
        execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
        recordedAt: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
      },
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  retry(writeRecord, TRANSIENT_S3, 2);
  onError(writeRecord);

  const detail: EventFields<ModelTrainedDetail> = {
    ...jobDetail,
    modelPackageArn: sfn.JsonPath.stringAt('$.registration.modelPackageArn'),
    modelRecord: recordUri,
    modelSha256: sfn.JsonPath.stringAt('$.published.modelSha256'),
    modelKey: sfn.JsonPath.stringAt('$.published.modelKey'),
    baselineKey: sfn.JsonPath.stringAt('$.published.baselineKey'),
  };
  const publishTrained = putEvent(states, 'PublishModelTrained', o.eventBus, TRAINING_DETAIL_TYPE.modelTrained, detail);
  onError(publishTrained);
  register.next(writeRecord).next(publishTrained).next(new sfn.Succeed(states, 'ModelTrained', { comment: 'The model passed the gates and was registered' }));
  return register;
}

/**
 * PublishModelRejected → ModelRejected, and Gate0 … GateN (one Choice per gate, the last one
 * passing on to `register`); returns Gate0.
 */
function gateChoices(
  states: Construct,
  o: TrainingStatesOptions,
  jobDetail: EventFields<TrainedModelDetail>,
  register: sfn.IChainable,
  onError: (state: Catchable) => unknown,
): sfn.IChainable {
  const gates = o.config.gates;
  const detail: EventFields<ModelRejectedDetail> = { ...jobDetail, gates: gateDetails(gates) };
  const publishRejected = putEvent(states, 'PublishModelRejected', o.eventBus, TRAINING_DETAIL_TYPE.modelRejected, detail);
  onError(publishRejected);
  publishRejected.next(new sfn.Succeed(states, 'ModelRejected', { comment: 'A gate rejected the model; it was not registered' }));

  let entry = register;
  for (let i = gates.length - 1; i >= 0; i--) {
    const path = `$.gateValues.${gateKey(i)}[0]`;
    entry = new sfn.Choice(states, `Gate${i}`, { comment: `${gates[i].metricName} ${gates[i].comparison} ${gates[i].threshold}` })
      .when(sfn.Condition.not(sfn.Condition.isNumeric(path)), publishRejected)
      .when(compare(path, gates[i]), entry)
      .otherwise(publishRejected);
  }
  return entry;
}

/**
 * A task that puts one of the job's events on the bus (the state's input is passed on), retrying
 * what is transient. The caller routes its errors.
 */
function putEvent(
  states: Construct,
  id: string,
  eventBus: events.IEventBus,
  detailType: string,
  detail: Record<string, unknown>,
): tasks.EventBridgePutEvents {
  const task = new tasks.EventBridgePutEvents(states, id, {
    entries: [{
      eventBus,
      source: TRAINING_EVENT_SOURCE,
      detailType,
      detail: sfn.TaskInput.fromObject(detail),
    }],
    resultPath: sfn.JsonPath.DISCARD,
  });
  retry(task, TRANSIENT_EVENTS, 2);
  return task;
}

function retry(state: Retriable, errors: string[], interval: number) {
  state.addRetry({
    errors,
    interval: Duration.seconds(interval),
    maxAttempts: 3,
    backoffRate: 2,
    maxDelay: Duration.seconds(interval * 8),
    jitterStrategy: sfn.JitterType.FULL,
  });
}

function gateKey(i: number): string {
  return `g${i}`;
}

function gateDetails(gates: MetricGate[]) {
  return gates.map((g) => ({ metricName: g.metricName, comparison: g.comparison, threshold: g.threshold }));
}

function compare(path: string, gate: MetricGate): sfn.Condition {
  switch (gate.comparison) {
    case MetricComparison.GREATER_THAN_OR_EQUAL: return sfn.Condition.numberGreaterThanEquals(path, gate.threshold);
    case MetricComparison.GREATER_THAN: return sfn.Condition.numberGreaterThan(path, gate.threshold);
    case MetricComparison.LESS_THAN_OR_EQUAL: return sfn.Condition.numberLessThanEquals(path, gate.threshold);
    case MetricComparison.LESS_THAN: return sfn.Condition.numberLessThan(path, gate.threshold);
    default: throw new Error(`invalid gate comparison: received ${JSON.stringify(gate.comparison)}; expected a MetricComparison`);
  }
}

function renderChannel(c: TrainingChannel): Record<string, unknown> {
  const dataType = c.dataType ?? ChannelDataType.S3_PREFIX;
  const augmented = dataType === ChannelDataType.AUGMENTED_MANIFEST_FILE;
  const inputMode = c.inputMode ?? (augmented ? ChannelInputMode.PIPE : ChannelInputMode.FILE);
  return {
    ChannelName: c.name,
    DataSource: {
      S3DataSource: {
        'S3DataType': dataType,
        'S3Uri.$': `States.Format('{}${c.datasetFile}', $.location)`,
        'S3DataDistributionType': 'FullyReplicated',
        ...(c.attributeNames ? { AttributeNames: c.attributeNames } : {}),
      },
    },
    InputMode: inputMode,
    ...(c.contentType ? { ContentType: c.contentType } : {}),
  };
}
