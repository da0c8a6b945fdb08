import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import { TrainingInstanceType } from './instance-type';
import { IModelConsumer } from './model-consumer';
import { definePublishModelFunction } from './publish-model';
import { MODEL_KEYS, resolveTrainingConfig, TrainingConfig } from './training-config';
import { DatasetTrigger, TrainingSchedule } from './training-options';
import { GpuTrainingJobProps } from './training-props';
import { createTrainingNetwork, createTrainingRole, grantStateMachine, scopeServiceTrust, TrainingNetwork } from './training-roles';
import { buildTrainingStates, datasetCardPattern } from './training-state-machine';
import {
  datasetVersionPublished, DeadLetterQueue, defineRetrainOnDrift, eventBridgeRules, eventBridgeSource, ServiceScopedKey,
} from './training-triggers';
import { DATASET_KEYS } from '../contract/dataset-version';
import {
  DatasetVersionPublishedDetail, LABELING_DETAIL_TYPE, LABELING_EVENT_SOURCE, TRAINING_DETAIL_TYPE, TRAINING_EVENT_SOURCE,
} from '../contract/events';
import { LINEAGE_ROOT } from '../contract/lineage';
import { MONITORING_KEYS } from '../contract/monitoring';
import { acknowledgeReviewed, compliance, iam5Resource, REASON } from '../private/acknowledgments';
import { allowLogsService, createEncryptedLogGroup, retentionAtLeast } from '../private/encrypted-logs';
import { executionFailureAlarm } from '../private/state-machine-alarm';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/**
 * A GPU training job: a state machine that trains a model on a dataset version.
 */
export interface IGpuTrainingJob extends IConstruct, iam.IGrantable {
  /** The state machine that runs the training. */
  readonly stateMachine: sfn.IStateMachine;

  /** The model's name. */
  readonly modelName: string;

  /**
   * Allow a principal to start a training (input `{"datasetVersion": "...", "location":
   * "s3://<curated bucket>/<prefix>datasets/<version>/"}`).
   */
  grantStart(grantee: iam.IGrantable): iam.Grant;

  /**
   * Allow a principal to read the model artifacts and records of this model in the models zone.
   */
  grantReadModels(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Define a GPU training pipeline on SageMaker, run by a Step Functions state machine: for each
 * dataset version it runs a training job (encrypted output and volumes, network isolation,
 * inter-container encryption, optional spot with checkpoints, optional VPC), checks the final
 * metrics against gates, publishes the model's ONNX file and its drift baseline out of
 * `model.tar.gz` (`<modelName>/models/<job>/model.onnx` and `monitoring/baselines/<sha256>.json`
 * in the models zone), registers the model (model registry and a model record naming the file's
 * SHA-256) and puts "Model Trained", "Model Rejected" or "Training Failed" on an event bus.
 * With `retrainOnDrift`, a ModelMonitor's "Model Drift Detected" builds a new dataset version,
 * which the dataset trigger trains on.
 *
 * Trains when a labeling pipeline publishes a dataset version (`datasetTrigger`), on a schedule,
 * or when started with `{"datasetVersion": "...", "location": "s3://<curated>/<prefix>datasets/<version>/"}`.
 *
 * @example
 * import { Stack } from 'aws-cdk-lib';
 * import {
 *   GpuTrainingJob, LabelingPipeline, MetricComparison, SecureDataLake, TrainingImage, TrainingInstanceType,
 * } from 'cdk-secure-mlops';
 *
 * declare const stack: Stack;
 * declare const lake: SecureDataLake;
 * declare const pipeline: LabelingPipeline;
 *
 * new GpuTrainingJob(stack, 'Training', {
 *   lake,
 *   modelName: 'hearing-who-grade',
 *   datasetPrefix: pipeline.zonePrefix,
 *   trainingImage: TrainingImage.fromAsset('training/hearing-who-grade'),
 *   instanceType: TrainingInstanceType.ML_G5_XLARGE,
 *   hyperparameters: { epochs: '20' },
 *   metricDefinitions: [{ name: 'validation:accuracy', regex: 'validation_accuracy=([0-9.]+)' }],
 *   gates: [{ metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: 0.9 }],
 *   datasetTrigger: { pipelineName: pipeline.pipelineName },
 *   // The script writes model.onnx and baseline.json into SM_MODEL_DIR; both are published.
 *   requireBaseline: true,
 *   // A ModelMonitor's "Model Drift Detected" builds a new dataset version, which then trains.
 *   retrainOnDrift: { pipeline, captureName: 'hearing-who-grade' },
 * });
 */
export class GpuTrainingJob extends Construct implements IGpuTrainingJob {
  /** EventBridge `source` of the job's events. */
  public static readonly EVENT_SOURCE = TRAINING_EVENT_SOURCE;
  /** `detail-type` of the event put when a model passed the gates and was registered. */
  public static readonly DETAIL_TYPE_MODEL_TRAINED = TRAINING_DETAIL_TYPE.modelTrained;
  /** `detail-type` of the event put when a model failed a gate (not registered). */
  public static readonly DETAIL_TYPE_MODEL_REJECTED = TRAINING_DETAIL_TYPE.modelRejected;
  /** `detail-type` of the event put when a training run failed. */
  public static readonly DETAIL_TYPE_TRAINING_FAILED = TRAINING_DETAIL_TYPE.trainingFailed;

  /** The state machine that runs the training. */
  public readonly stateMachine: sfn.IStateMachine;
  /** The role SageMaker assumes to run the training jobs. */
  public readonly role: iam.IRole;
  /** The training role (`role`). */
  public readonly grantPrincipal: iam.IPrincipal;
  /** The model's name. */
  public readonly modelName: string;
  /** The model registry group of the model's versions. */
  public readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  /** The key that encrypts the state machine, its log group and the dead-letter queue. */
  public readonly encryptionKey: kms.IKey;
  /** The key of the ML storage volumes (undefined for instance types with local NVMe storage). */
  public readonly volumeEncryptionKey?: kms.IKey;
  /** The state machine's log group (no execution data). */
  public readonly logGroup: logs.ILogGroup;
  /** The bus for the job's events. */
  public readonly eventBus: events.IEventBus;
  /** The security group of the training instances, with a VPC. */
  public readonly securityGroup?: ec2.ISecurityGroup;
  /** Fires when an execution fails, times out or is aborted. */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** The image URI of the training container. */
  public readonly trainingImageUri: string;
  /** The instance type. */
  public readonly instanceType: TrainingInstanceType;
  /** The function that publishes the ONNX file and the drift baseline of each trained model. */
  public readonly publishModelFunction: lambda.IFunction;

  private readonly lake: ISecureDataLake;
  private readonly removalPolicy: RemovalPolicy;
  private readonly alarmAction?: cloudwatch.IAlarmAction;
  private dlq?: sqs.Queue;
  private deadLetterAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: GpuTrainingJobProps) {
    super(scope, id);
    this.lake = props.lake;
    this.alarmAction = props.alarmAction;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const config = resolveTrainingConfig(this, props);
    this.modelName = config.modelName;
    this.instanceType = config.instanceType;

    // ---- keys and logs ----------------------------------------------------------------------------
    const encryptionKey = new ServiceScopedKey(this, 'Key', {
      enableKeyRotation: true,
      description: `${this.node.path}: encrypts the training state machine, its log group and dead-letter queue`,
      removalPolicy: this.removalPolicy,
    });
    allowLogsService(encryptionKey);
    this.encryptionKey = encryptionKey;
    this.logGroup = createEncryptedLogGroup(this, 'Logs', encryptionKey, retentionAtLeast(props.logRetention ?? Duration.days(365)), this.removalPolicy);
    if (!this.instanceType.hasLocalNvmeStorage) {
      this.volumeEncryptionKey = props.volumeEncryptionKey ?? new kms.Key(this, 'VolumeKey', {
        enableKeyRotation: true,
        description: `${this.node.path}: encrypts the ML storage volumes of the training instances`,
        removalPolicy: this.removalPolicy,
      });
    }

    // ---- the training role, image and network -----------------------------------------------------
    const role = createTrainingRole(this, config, this.lake, this.volumeEncryptionKey);
    this.role = role;
    this.grantPrincipal = role;
    this.trainingImageUri = props.trainingImage._bind(this, role).imageUri;
    const network = props.vpc ? createTrainingNetwork(this, role, props.vpc, props.vpcSubnets, config.instanceCount) : undefined;
    this.securityGroup = network?.securityGroup;

    // ---- the model registry, the bus, the state machine -------------------------------------------
    this.modelPackageGroup = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelName,
      modelPackageGroupDescription: `Versions of ${this.modelName} trained by ${this.node.path}`,
    });
    this.modelPackageGroup.applyRemovalPolicy(this.removalPolicy);
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'Bus', 'default');
    this.publishModelFunction = definePublishModelFunction(this, {
      config,
      lake: this.lake,
      logsKey: encryptionKey,
      retention: retentionAtLeast(props.logRetention ?? Duration.days(365)),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
    });
    this.stateMachine = this.createStateMachine(config, role, network);
    this.failureAlarm = this.createFailureAlarm(this.stateMachine);

    // ---- triggers and consumers -------------------------------------------------------------------
    if (props.datasetTrigger) {
      this.addDatasetTrigger(props.datasetTrigger, config.datasetPrefix);
    }
    if (props.schedule) {
      this.addSchedule(props.schedule, config.datasetPrefix);
    }
    if (props.retrainOnDrift) {
      defineRetrainOnDrift(this, {
        retrain: props.retrainOnDrift, eventBus: this.eventBus, deadLetterQueue: this.ensureDeadLetterQueue(), modelName: this.modelName,
      });
    }
    (props.consumers ?? []).forEach((consumer, i) => this.addModelConsumer(consumer, `Consumer${i}`));
    this.scopeEventsRoleTrust();

    this.acknowledgeReviewed(config, props);
  }

  /** The reviewed acknowledgments of this construct's own resources (see src/private/acknowledgments.ts). */
  private acknowledgeReviewed(config: TrainingConfig, props: GpuTrainingJobProps) {
    const stack = Stack.of(this);
    const arn = (service: string, resource: string) => `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
    const curated = this.lake.bucket(DataZone.CURATED).bucketArn;
    const models = this.lake.bucket(DataZone.MODELS).bucketArn;
    const trainingRole = /^TrainingRole\/DefaultPolicy\/Resource$/;
    const machineRole = /^StateMachine\/Role\/DefaultPolicy\/Resource$/;
    const publishRole = /^PublishModelRole\/DefaultPolicy\/Resource$/;
    acknowledgeReviewed(this, [
      { at: trainingRole, ids: [iam5Resource(`${curated}/${DATASET_KEYS.datasetPrefix(config.datasetPrefix, '*')}*`)], reason: REASON.trainingDatasets },
      { at: trainingRole, ids: [iam5Resource(`${models}/${MODEL_KEYS.trainingJobs(config.modelName)}*`)], reason: REASON.trainingOutput },
      { at: trainingRole, ids: [iam5Resource(`${arn('logs', 'log-group:/aws/sagemaker/TrainingJobs')}:log-stream:*`)], reason: REASON.trainingLogs },
      { at: trainingRole, ids: [iam5Resource('*')], reason: REASON.trainingNoResource },
      ...(config.checkpoints ? [{ at: trainingRole, ids: [iam5Resource(`${models}/${MODEL_KEYS.checkpoints(config.modelName)}*`)], reason: REASON.trainingCheckpoints }] : []),
      ...(props.vpc ? [{ at: trainingRole, ids: [iam5Resource(arn('ec2', 'network-interface/*'))], reason: REASON.trainingEnis }] : []),
      { at: machineRole, ids: [iam5Resource('*')], reason: REASON.stateMachineLogsAndTracing },
      { at: machineRole, ids: [iam5Resource(arn('sagemaker', `training-job/${config.jobNamePrefix}-*`))], reason: REASON.trainingJobs },
      { at: machineRole, ids: [iam5Resource(arn('sagemaker', `model-package/${config.modelName}/*`))], reason: REASON.modelPackages },
      { at: machineRole, ids: [iam5Resource(`${models}/${MODEL_KEYS.records(config.modelName)}*`)], reason: REASON.modelRecords },
      { at: machineRole, ids: [iam5Resource(`${curated}/${datasetCardPattern(config)}`)], reason: REASON.datasetCards },
      { at: machineRole, ids: [iam5Resource(`${this.publishModelFunction.functionArn}:*`)], reason: REASON.lambdaVersions },
      { at: publishRole, ids: [iam5Resource(`${models}/${MODEL_KEYS.trainingJobs(config.modelName)}*`)], reason: REASON.publishModelArchives },
      { at: publishRole, ids: [iam5Resource(`${models}/${MODEL_KEYS.models(config.modelName)}*`)], reason: REASON.publishedModels },
      { at: publishRole, ids: [iam5Resource(`${models}/${MONITORING_KEYS.baselinesPrefix}*`)], reason: REASON.publishedBaselines },
      { at: publishRole, ids: [iam5Resource(`${curated}/${LINEAGE_ROOT}*`)], reason: REASON.trainingLineage },
      { at: publishRole, ids: [iam5Resource('*')], reason: REASON.xray },
      { at: /^PublishModel\/Resource$/, ids: [...compliance('LambdaDLQ'), 'Serverless-LambdaDLQ'], reason: REASON.syncLambdaDlq },
      { at: /^PublishModel\/Resource$/, ids: compliance('LambdaConcurrency'), reason: REASON.publishModelConcurrency },
      ...(props.vpc ? [] : [{ at: /^PublishModel\/Resource$/, ids: compliance('LambdaInsideVPC'), reason: REASON.vpc }]),
      { at: /^(TrainingRole|StateMachine\/Role|StateMachine\/EventsRole|PublishModelRole|RetrainOnDriftRole)\/DefaultPolicy\/Resource$/, ids: compliance('IAMNoInlinePolicy'), reason: REASON.inlinePolicy },
      { at: /^DeadLetterQueue\/Resource$/, ids: ['AwsSolutions-SQS3'], reason: REASON.isDeadLetterQueue },
      { at: /^DeadLetterQueue\/Resource$/, ids: ['Serverless-SQSRedrivePolicy'], reason: REASON.terminalDeadLetterQueue },
      ...(props.alarmAction ? [] : [
        { at: /^FailureAlarm\/Resource$/, ids: compliance('CloudWatchAlarmAction'), reason: `${REASON.alarmAction} Every failure also puts a "Training Failed" event.` },
        { at: /^DeadLetterAlarm\/Resource$/, ids: compliance('CloudWatchAlarmAction'), reason: REASON.alarmAction },
      ]),
    ]);
  }

  /**
   * Allow a principal to start a training (input `{"datasetVersion": "...", "location":
   * "s3://<curated bucket>/<prefix>datasets/<version>/"}`).
   */
  public grantStart(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /**
   * Allow a principal to read the model artifacts and model records of this model (models zone,
   * `<modelName>/*`, and decrypt with the lake key).
   */
  public grantReadModels(grantee: iam.IGrantable): iam.Grant {
    return this.lake.grantRead(grantee, DataZone.MODELS, `${this.modelName}/*`);
  }

  /** Executions that failed. */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed(props);
  }

  /** Executions that succeeded (a registered model or a gate rejection). */
  public metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricSucceeded(props);
  }

  /** Time of an execution, training included. */
  public metricTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricTime(props);
  }

  /**
   * The queue that keeps trigger and consumer events EventBridge could not deliver (created with
   * the first trigger or consumer).
   */
  public get deadLetterQueue(): sqs.IQueue | undefined {
    return this.dlq;
  }

  /** Fires when the dead-letter queue holds an event (created with the queue). */
  public get deadLetterQueueAlarm(): cloudwatch.IAlarm | undefined {
    return this.deadLetterAlarm;
  }

  /** The state machine (`States`, `StateMachine`) and the permissions of its hand-written tasks. */
  private createStateMachine(config: TrainingConfig, role: iam.IRole, network?: TrainingNetwork): sfn.StateMachine {
    const start = buildTrainingStates(new Construct(this, 'States'), {
      config,
      role,
      trainingImageUri: this.trainingImageUri,
      curated: this.lake.bucket(DataZone.CURATED),
      models: this.lake.bucket(DataZone.MODELS),
      outputKey: this.lake.encryptionKey,
      volumeEncryptionKey: this.volumeEncryptionKey,
      vpcConfig: network?.vpcConfig,
      eventBus: this.eventBus,
      publishModel: this.publishModelFunction,
    });
    const timeoutSeconds = (config.maxWait ?? config.maxRuntime) + 2 * 3600;
    const machine = new sfn.StateMachine(this, 'StateMachine', {
      // A name known at synth: with a customer-managed key, the role may use the key only for the
      // encryption context of this state machine's ARN, which CDK builds from the name.
      stateMachineName: `${Names.uniqueResourceName(this, { maxLength: 67 })}-StateMachine`,
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      comment: `Trains ${this.modelName} on SageMaker from a dataset version`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.seconds(timeoutSeconds),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(this.encryptionKey, Duration.minutes(5)),
    });
    grantStateMachine(machine, config, role, this.lake);
    return machine;
  }

  private createFailureAlarm(machine: sfn.IStateMachine): cloudwatch.Alarm {
    const alarm = executionFailureAlarm(this, machine, `${this.node.path}: a training execution failed, timed out or was aborted`);
    if (this.alarmAction) {
      alarm.addAlarmAction(this.alarmAction);
      alarm.addOkAction(this.alarmAction);
    }
    return alarm;
  }

  /** Train on each dataset version a labeling pipeline publishes under the dataset prefix. */
  private addDatasetTrigger(trigger: DatasetTrigger, datasetPrefix: string) {
    const curated = this.lake.bucket(DataZone.CURATED);
    const detail: { readonly [K in keyof DatasetVersionPublishedDetail]?: unknown } = {
      ...(trigger.pipelineName ? { pipeline: [trigger.pipelineName] } : {}),
      location: events.Match.prefix(`s3://${curated.bucketName}/${DATASET_KEYS.datasetRoot(datasetPrefix)}`),
    };
    const rule = new events.Rule(this, 'DatasetTrigger', {
      eventBus: trigger.eventBus ?? this.eventBus,
      description: `${this.node.path}: train ${this.modelName} on each new dataset version`,
      eventPattern: {
        source: [LABELING_EVENT_SOURCE],
        detailType: [LABELING_DETAIL_TYPE.datasetVersionPublished],
        detail,
      },
    });
    rule.addTarget(this.startTarget(events.RuleTargetInput.fromObject({
      datasetVersion: events.EventField.fromPath(datasetVersionPublished('datasetVersion')),
      location: events.EventField.fromPath(datasetVersionPublished('location')),
    })));
  }

  /** Train on one dataset version on a schedule. */
  private addSchedule(schedule: TrainingSchedule, datasetPrefix: string) {
    const curated = this.lake.bucket(DataZone.CURATED);
    const rule = new events.Rule(this, 'Schedule', {
      schedule: schedule.schedule,
      description: `${this.node.path}: train ${this.modelName} on dataset version ${schedule.datasetVersion} on a schedule`,
    });
    rule.addTarget(this.startTarget(events.RuleTargetInput.fromObject({
      datasetVersion: schedule.datasetVersion,
      location: `s3://${curated.bucketName}/${DATASET_KEYS.datasetPrefix(datasetPrefix, schedule.datasetVersion)}`,
    })));
  }

  private addModelConsumer(consumer: IModelConsumer, id: string) {
    const config = consumer.bindModelConsumer(this, { deadLetterQueue: this.ensureDeadLetterQueue() });
    new events.Rule(this, id, {
      eventBus: this.eventBus,
      description: `${this.node.path}: hand models of ${this.modelName} that passed the gates to a consumer`,
      eventPattern: {
        source: [GpuTrainingJob.EVENT_SOURCE],
        detailType: [GpuTrainingJob.DETAIL_TYPE_MODEL_TRAINED],
        detail: { model: [this.modelName] },
      },
      targets: [config.target],
    });
    if (config.grantee) {
      this.grantReadModels(config.grantee);
    }
  }

  private startTarget(input: events.RuleTargetInput): events.IRuleTarget {
    return new targets.SfnStateMachine(this.stateMachine, {
      input,
      deadLetterQueue: this.ensureDeadLetterQueue(),
      retryAttempts: 8,
      maxEventAge: Duration.hours(24),
    });
  }

  /**
   * EventBridge may assume the role of the trigger targets (aws-cdk-lib's `EventsRole` of the state
   * machine) only for rules of this account (the rules' own ARNs cannot be named: the rules refer
   * to the role).
   */
  private scopeEventsRoleTrust() {
    const eventsRole = this.stateMachine.node.tryFindChild('EventsRole') as iam.Role | undefined;
    if (eventsRole) {
      scopeServiceTrust(eventsRole, eventBridgeSource(this));
    }
  }

  private ensureDeadLetterQueue(): sqs.Queue {
    if (!this.dlq) {
      this.dlq = new DeadLetterQueue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.encryptionKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy: this.removalPolicy,
      });
      const stack = Stack.of(this);
      // EventBridge encrypts what it sends to the queue with the key.
      this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowEventBridgeDeadLetters',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          // The rules of this account (their ARNs cannot be named: the rules refer to the queue).
          ArnLikeIfExists: { 'aws:SourceArn': eventBridgeRules(this) },
        },
      }));
      this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
        alarmDescription: `${this.node.path}: a trigger or consumer event could not be delivered (see the dead-letter queue)`,
        metric: this.dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (this.alarmAction) {
        this.deadLetterAlarm.addAlarmAction(this.alarmAction);
        this.deadLetterAlarm.addOkAction(this.alarmAction);
      }
    }
    return this.dlq;
  }
}
