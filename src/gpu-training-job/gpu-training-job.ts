import { Aws, Duration, Names, RemovalPolicy, Size, SizeRoundingBehavior, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, IConstruct } from 'constructs';
import { TrainingInstanceType } from './instance-type';
import { IModelConsumer } from './model-consumer';
import { TrainingImage } from './training-image';
import { DATASET_FILES, DETAIL_TYPE, EVENT_SOURCE as DATASET_EVENT_SOURCE, KEYS } from '../labeling-pipeline/runtime/contract';
import { allowLogsService, createEncryptedLogGroup, retentionAtLeast } from '../private/encrypted-logs';
import { conflictingProps, invalidProp } from '../private/errors';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/**
 * How a metric is compared with a gate's threshold.
 */
export enum MetricComparison {
  /** The metric must be at least the threshold. */
  GREATER_THAN_OR_EQUAL = 'GREATER_THAN_OR_EQUAL',
  /** The metric must be above the threshold. */
  GREATER_THAN = 'GREATER_THAN',
  /** The metric must be at most the threshold. */
  LESS_THAN_OR_EQUAL = 'LESS_THAN_OR_EQUAL',
  /** The metric must be below the threshold. */
  LESS_THAN = 'LESS_THAN',
}

/**
 * A condition a trained model must meet before it is registered, on one of the final metrics of
 * the training job (`FinalMetricDataList`, the last value the metric definitions scraped).
 * A model whose metric is missing fails the gate.
 */
export interface MetricGate {
  /** The metric's name, as in the metric definitions (e.g. `validation:accuracy`). */
  readonly metricName: string;
  /** How the metric is compared with the threshold. */
  readonly comparison: MetricComparison;
  /** The threshold. */
  readonly threshold: number;
}

/**
 * A metric scraped from the training logs (SageMaker `MetricDefinition`).
 */
export interface TrainingMetricDefinition {
  /** The metric's name (1 to 255 characters, no quotes or backslashes). */
  readonly name: string;
  /** A regular expression whose first capture group is the metric's value (1 to 500 characters). */
  readonly regex: string;
}

/**
 * How a channel's data reaches the container.
 */
export enum ChannelInputMode {
  /** Downloaded to the instance's storage before the script starts. */
  FILE = 'File',
  /** Streamed through a FIFO (required for `AUGMENTED_MANIFEST_FILE`). */
  PIPE = 'Pipe',
  /** Presented as files and streamed on first read. */
  FAST_FILE = 'FastFile',
}

/**
 * How SageMaker reads a channel's S3 location.
 */
export enum ChannelDataType {
  /** Every object under the key prefix (the manifest file itself, for our dataset versions). */
  S3_PREFIX = 'S3Prefix',
  /**
   * An augmented manifest: SageMaker reads the attributes named in `attributeNames` of each line
   * (for `source-ref` lines it fetches the referenced object). Pipe mode only.
   */
  AUGMENTED_MANIFEST_FILE = 'AugmentedManifestFile',
}

/**
 * An input channel built from a file of the dataset version.
 */
export interface TrainingChannel {
  /** The channel name (`/opt/ml/input/data/<name>`, `SM_CHANNEL_<NAME>`). */
  readonly name: string;

  /** The file of the dataset version, e.g. `train.manifest`. */
  readonly datasetFile: string;

  /**
   * How SageMaker reads the location.
   *
   * @default ChannelDataType.S3_PREFIX
   */
  readonly dataType?: ChannelDataType;

  /**
   * How the data reaches the container.
   *
   * @default ChannelInputMode.FILE (ChannelInputMode.PIPE for AUGMENTED_MANIFEST_FILE)
   */
  readonly inputMode?: ChannelInputMode;

  /**
   * Attributes of each manifest line that SageMaker passes on (AUGMENTED_MANIFEST_FILE only,
   * 1 to 16), e.g. `['source', 'who-grade']`.
   *
   * @default - none (required for AUGMENTED_MANIFEST_FILE)
   */
  readonly attributeNames?: string[];

  /**
   * The MIME type of the channel's data.
   *
   * @default - none
   */
  readonly contentType?: string;
}

/**
 * The approval status of newly registered model versions.
 */
export enum ModelApprovalStatus {
  /** Waits for a person to approve it in the model registry. */
  PENDING_MANUAL_APPROVAL = 'PendingManualApproval',
  /** Approved as soon as it passes the gates. */
  APPROVED = 'Approved',
}

/**
 * Train whenever a labeling pipeline publishes a dataset version (the event
 * `cdk-secure-mlops.labeling-pipeline` / `Dataset Version Published`).
 */
export interface DatasetTrigger {
  /**
   * The bus the pipeline puts its events on.
   *
   * @default - the training job's `eventBus`
   */
  readonly eventBus?: events.IEventBus;

  /**
   * Only dataset versions of this pipeline (`detail.pipeline`).
   *
   * @default - any pipeline whose dataset location is under the training job's dataset prefix
   */
  readonly pipelineName?: string;
}

/**
 * Train on a schedule, on a fixed dataset version.
 */
export interface TrainingSchedule {
  /** When to train. */
  readonly schedule: events.Schedule;
  /** The dataset version to train on (under the training job's `datasetPrefix`). */
  readonly datasetVersion: string;
}

/**
 * Properties of a `GpuTrainingJob`.
 */
export interface GpuTrainingJobProps {
  /** The lake: datasets are read from its curated zone, models written to its models zone. */
  readonly lake: ISecureDataLake;

  /** The image that runs the training script. */
  readonly trainingImage: TrainingImage;

  /**
   * The model's name: the SageMaker model package group, the key prefix `<modelName>/` in the
   * models zone, the prefix of training job names and `detail.model` of the events.
   * 1 to 40 lower-case letters, digits and hyphens.
   */
  readonly modelName: string;

  /**
   * The key prefix of dataset versions in the curated zone: the labeling pipeline's zone prefix
   * (`hearing/` when versions live under `hearing/datasets/<version>/`). Training reads only
   * `<datasetPrefix>datasets/*`.
   *
   * @default '' (versions under `datasets/<version>/`)
   */
  readonly datasetPrefix?: string;

  /**
   * Input channels, each from one file of the dataset version.
   *
   * @default - `train` from `train.manifest` and `validation` from `validation.manifest`
   * (S3Prefix, File mode: the script reads the manifest with its inline records)
   */
  readonly channels?: TrainingChannel[];

  /**
   * The instance type.
   *
   * @default TrainingInstanceType.ML_G5_XLARGE
   */
  readonly instanceType?: TrainingInstanceType;

  /**
   * Number of instances (distributed training when more than 1; inter-container traffic is then
   * encrypted).
   *
   * @default 1
   */
  readonly instanceCount?: number;

  /**
   * Size of the ML storage volume of each instance (whole GiB). On instance types with local
   * NVMe storage the storage is the instance's own and this size is ignored by SageMaker.
   *
   * @default Size.gibibytes(50)
   */
  readonly volumeSize?: Size;

  /**
   * The longest a training job may run (at most 28 days); SageMaker then stops it (SIGTERM, 120 s).
   *
   * @default Duration.hours(24)
   */
  readonly maxRuntime?: Duration;

  /**
   * Train on managed spot capacity (up to 90% cheaper; jobs may be interrupted and resume from
   * their checkpoints). Needs `checkpoints`.
   *
   * @default false
   */
  readonly useSpotInstances?: boolean;

  /**
   * With spot instances: the longest a job may take including waiting for capacity (at least
   * `maxRuntime`).
   *
   * @default - twice maxRuntime, at most 28 days (never less than maxRuntime)
   */
  readonly maxWait?: Duration;

  /**
   * Sync `/opt/ml/checkpoints` with `s3://<models zone>/<modelName>/checkpoints/<job name>/`
   * (the script resumes from it after a spot interruption).
   *
   * @default - true with spot instances, false otherwise
   */
  readonly checkpoints?: boolean;

  /**
   * Network isolation: the container gets no network access at all (SageMaker still downloads
   * the channels and uploads the model).
   *
   * @default true
   */
  readonly networkIsolation?: boolean;

  /**
   * Run the training instances in this VPC (a security group without ingress from outside is
   * created; reach S3, ECR and CloudWatch through VPC endpoints or NAT).
   *
   * @default - SageMaker's own network
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` for the training instances.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The key that encrypts the ML storage volumes (instance types without local NVMe storage).
   * The lake's key is usable only through S3, so it cannot encrypt volumes.
   *
   * @default - a new customer-managed key with rotation, when the instance type needs one
   */
  readonly volumeEncryptionKey?: kms.IKey;

  /**
   * Hyperparameters (`/opt/ml/input/config/hyperparameters.json`; at most 100).
   *
   * @default - none
   */
  readonly hyperparameters?: Record<string, string>;

  /**
   * Metrics scraped from the training logs (at most 40). Gates can only use these.
   *
   * @default - none
   */
  readonly metricDefinitions?: TrainingMetricDefinition[];

  /**
   * Environment variables of the training container (at most 100). Configuration only: the
   * values are visible in the job's description.
   *
   * @default - none
   */
  readonly environment?: Record<string, string>;

  /**
   * Conditions on the final metrics; a model that fails one is not registered ("Model Rejected").
   *
   * @default - every trained model is registered
   */
  readonly gates?: MetricGate[];

  /**
   * Approval status of new model versions in the model registry.
   *
   * @default ModelApprovalStatus.PENDING_MANUAL_APPROVAL
   */
  readonly modelApprovalStatus?: ModelApprovalStatus;

  /**
   * The bus for the job's events (Model Trained, Model Rejected, Training Failed).
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * Train when a labeling pipeline publishes a dataset version.
   *
   * @default - no event trigger
   */
  readonly datasetTrigger?: DatasetTrigger;

  /**
   * Train on a schedule.
   *
   * @default - no schedule
   */
  readonly schedule?: TrainingSchedule;

  /**
   * Consumers of models that passed the gates.
   *
   * @default - none (the "Model Trained" event is still put on the bus)
   */
  readonly consumers?: IModelConsumer[];

  /**
   * Where the failure and dead-letter alarms notify.
   *
   * @default - no action
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;

  /**
   * How long the state machine's log group keeps events.
   *
   * @default Duration.days(365)
   */
  readonly logRetention?: Duration;

  /**
   * What happens to the keys, the log group and the model package group when they leave the
   * stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

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

/** SageMaker's limit on MaxRuntimeInSeconds: 28 days. */
const MAX_RUNTIME_SECONDS = 28 * 24 * 3600;
const MODEL_NAME = /^[a-z0-9](-*[a-z0-9]){0,39}$/;
const DATASET_PREFIX = /^([A-Za-z0-9._-]+\/)*$/;
const CHANNEL_NAME = /^[A-Za-z0-9.\-_]{1,64}$/;
const DATASET_FILE = /^(?!(.*\/)?\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const SAFE_TEXT = /^[^'"\\{}]+$/;
const ENV_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,511}$/;
/** Length of `States.Hash(..., 'MD5')` in hex. */
const HASH_LENGTH = 32;

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
const TRANSIENT_EVENTS = [
  'EventBridge.AmazonEventBridgeException',
  'EventBridge.EventBridgeException',
  'EventBridge.InternalException',
  'EventBridge.FailedEntry',
  ...TRANSIENT_COMMON,
];

/**
 * Define a GPU training pipeline on SageMaker, run by a Step Functions state machine: for each
 * dataset version it runs a training job (encrypted output and volumes, network isolation,
 * inter-container encryption, optional spot with checkpoints, optional VPC), checks the final
 * metrics against gates, registers the model (model registry and a model record in the lake's
 * models zone) and puts "Model Trained", "Model Rejected" or "Training Failed" on an event bus.
 *
 * Trains when a labeling pipeline publishes a dataset version (`datasetTrigger`), on a schedule,
 * or when started with `{"datasetVersion": "...", "location": "s3://<curated>/<prefix>datasets/<version>/"}`.
 *
 * @example
 * import { Stack } from 'aws-cdk-lib';
 * import { GpuTrainingJob, MetricComparison, SecureDataLake, TrainingImage, TrainingInstanceType } from 'cdk-secure-mlops';
 *
 * declare const stack: Stack;
 *
 * const lake = new SecureDataLake(stack, 'Lake');
 * new GpuTrainingJob(stack, 'Training', {
 *   lake,
 *   modelName: 'hearing-who-grade',
 *   datasetPrefix: 'hearing/',
 *   trainingImage: TrainingImage.fromAsset('training/hearing-who-grade'),
 *   instanceType: TrainingInstanceType.ML_G5_XLARGE,
 *   hyperparameters: { epochs: '20' },
 *   metricDefinitions: [{ name: 'validation:accuracy', regex: 'validation_accuracy=([0-9.]+)' }],
 *   gates: [{ metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: 0.9 }],
 *   datasetTrigger: {},
 * });
 */
export class GpuTrainingJob extends Construct implements IGpuTrainingJob {
  /** EventBridge `source` of the job's events. */
  public static readonly EVENT_SOURCE = 'cdk-secure-mlops.gpu-training-job';
  /** `detail-type` of the event put when a model passed the gates and was registered. */
  public static readonly DETAIL_TYPE_MODEL_TRAINED = 'Model Trained';
  /** `detail-type` of the event put when a model failed a gate (not registered). */
  public static readonly DETAIL_TYPE_MODEL_REJECTED = 'Model Rejected';
  /** `detail-type` of the event put when a training run failed. */
  public static readonly DETAIL_TYPE_TRAINING_FAILED = 'Training Failed';

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

  private readonly lake: ISecureDataLake;
  private readonly removalPolicy: RemovalPolicy;
  private readonly alarmAction?: cloudwatch.IAlarmAction;
  private dlq?: sqs.Queue;
  private deadLetterAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: GpuTrainingJobProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.lake = props.lake;
    this.alarmAction = props.alarmAction;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    // ---- validation ---------------------------------------------------------------------------
    this.modelName = props.modelName;
    if (Token.isUnresolved(props.modelName) || !MODEL_NAME.test(props.modelName)) {
      invalidProp(this, 'modelName', props.modelName, 'expected 1 to 40 lower-case letters, digits or "-" (no leading, trailing or double "-"), e.g. "hearing-who-grade"');
    }
    const datasetPrefix = props.datasetPrefix ?? '';
    if (Token.isUnresolved(datasetPrefix) || !DATASET_PREFIX.test(datasetPrefix)) {
      invalidProp(this, 'datasetPrefix', datasetPrefix, 'expected "" or key segments each ending in "/" (letters, digits, ".", "_", "-"), e.g. "hearing/"');
    }
    this.instanceType = props.instanceType ?? TrainingInstanceType.ML_G5_XLARGE;
    const instanceCount = props.instanceCount ?? 1;
    if (Token.isUnresolved(instanceCount) || !Number.isInteger(instanceCount) || instanceCount < 1 || instanceCount > 100) {
      invalidProp(this, 'instanceCount', instanceCount, 'expected an integer from 1 to 100');
    }
    const volumeGiB = (props.volumeSize ?? Size.gibibytes(50)).toGibibytes({ rounding: SizeRoundingBehavior.NONE });
    if (Token.isUnresolved(volumeGiB) || !Number.isInteger(volumeGiB) || volumeGiB < 1 || volumeGiB > 16384) {
      invalidProp(this, 'volumeSize', props.volumeSize, 'expected whole GiB from 1 to 16384');
    }
    const maxRuntime = this.seconds('maxRuntime', props.maxRuntime ?? Duration.hours(24), 1, MAX_RUNTIME_SECONDS, 'expected 1 second to 28 days (SageMaker\'s limit)');
    const spot = props.useSpotInstances ?? false;
    const checkpoints = props.checkpoints ?? spot;
    let maxWait: number | undefined;
    if (spot) {
      if (!checkpoints) {
        conflictingProps(this, 'useSpotInstances needs checkpoints: an interrupted spot job without checkpoints starts again from scratch. Remove checkpoints: false (the default with spot is true).');
      }
      maxWait = props.maxWait
        ? this.seconds('maxWait', props.maxWait, maxRuntime, Number.MAX_SAFE_INTEGER, `expected at least maxRuntime (${maxRuntime} seconds)`)
        : Math.max(maxRuntime, Math.min(2 * maxRuntime, MAX_RUNTIME_SECONDS));
    } else if (props.maxWait) {
      conflictingProps(this, 'maxWait applies to spot training only: set useSpotInstances: true or remove maxWait.');
    }
    if (props.vpcSubnets && !props.vpc) {
      conflictingProps(this, 'vpcSubnets needs vpc: give the VPC the subnets belong to, or remove vpcSubnets.');
    }
    if (props.volumeEncryptionKey && this.instanceType.hasLocalNvmeStorage) {
      conflictingProps(this, `volumeEncryptionKey cannot be used with ${this.instanceType.name}: its storage is local NVMe, encrypted by the instance's hardware, and SageMaker rejects a VolumeKmsKeyId for it. Remove volumeEncryptionKey or choose an instance type without local storage (e.g. ml.p3.2xlarge).`);
    }
    const hyperparameters = props.hyperparameters ?? {};
    this.checkMap('hyperparameters', hyperparameters, 100, /^.{1,256}$/s, 2500);
    const environment = props.environment ?? {};
    this.checkMap('environment', environment, 100, ENV_NAME, 512);
    const metricDefinitions = props.metricDefinitions ?? [];
    if (metricDefinitions.length > 40) {
      invalidProp(this, 'metricDefinitions', `${metricDefinitions.length} definitions`, 'expected at most 40 (SageMaker\'s limit)');
    }
    for (const d of metricDefinitions) {
      if (!SAFE_TEXT.test(d.name) || d.name.length > 255) {
        invalidProp(this, 'metricDefinitions[].name', d.name, 'expected 1 to 255 characters without quotes, backslashes or braces');
      }
      if (d.regex.length < 1 || d.regex.length > 500) {
        invalidProp(this, `metricDefinitions[${d.name}].regex`, d.regex, 'expected 1 to 500 characters');
      }
    }
    const gates = props.gates ?? [];
    for (const g of gates) {
      if (!metricDefinitions.some((d) => d.name === g.metricName)) {
        invalidProp(this, 'gates[].metricName', g.metricName, `expected one of the metricDefinitions names (${metricDefinitions.map((d) => d.name).join(', ') || 'none defined'}): a gate on a metric the job does not scrape rejects every model`);
      }
      if (Token.isUnresolved(g.threshold) || !Number.isFinite(g.threshold)) {
        invalidProp(this, `gates[${g.metricName}].threshold`, g.threshold, 'expected a finite number');
      }
    }
    const channels = props.channels ?? [
      { name: 'train', datasetFile: DATASET_FILES.manifest('train') },
      { name: 'validation', datasetFile: DATASET_FILES.manifest('validation') },
    ];
    this.checkChannels(channels);
    if (props.schedule && (Token.isUnresolved(props.schedule.datasetVersion) || !/^[A-Za-z0-9._-]{1,128}$/.test(props.schedule.datasetVersion))) {
      invalidProp(this, 'schedule.datasetVersion', props.schedule.datasetVersion, 'expected 1 to 128 letters, digits, ".", "_" or "-"');
    }
    const jobNamePrefix = this.modelName.slice(0, 63 - HASH_LENGTH - 1).replace(/-+$/, '');

    // ---- keys, logs, roles ----------------------------------------------------------------------
    const encryptionKey = new kms.Key(this, 'Key', {
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

    const role = new iam.Role(this, 'TrainingRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
      description: `${this.node.path}: SageMaker training jobs of ${this.modelName}`,
    });
    this.role = role;
    this.grantPrincipal = role;
    const curated = this.lake.bucket(DataZone.CURATED);
    const models = this.lake.bucket(DataZone.MODELS);
    const datasetKeys = `${KEYS.datasetPrefix(datasetPrefix, '*')}*`;
    const modelsPrefix = `${this.modelName}/`;
    this.lake.grantRead(role, DataZone.CURATED, datasetKeys);
    this.grantList(role, curated.bucketArn, `${datasetPrefix}datasets/*`);
    this.lake.grantWrite(role, DataZone.MODELS, `${modelsPrefix}training-jobs/*`);
    if (checkpoints) {
      this.lake.grantReadWrite(role, DataZone.MODELS, `${modelsPrefix}checkpoints/*`);
      this.grantList(role, models.bucketArn, `${modelsPrefix}checkpoints/*`);
    }
    this.volumeEncryptionKey?.grant(role, 'kms:CreateGrant', 'kms:DescribeKey');
    const trainingLogGroup = `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/sagemaker/TrainingJobs`;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'TrainingJobLogs',
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [trainingLogGroup, `${trainingLogGroup}:log-stream:*`],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'TrainingJobMetrics',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
    }));
    this.trainingImageUri = props.trainingImage._bind(this, role).imageUri;

    let vpcConfig: Record<string, unknown> | undefined;
    if (props.vpc) {
      const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        allowAllOutbound: false,
        description: `${this.node.path}: training instances (no ingress from outside the group)`,
      });
      sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to S3, ECR, CloudWatch (VPC endpoints or NAT)');
      if (instanceCount > 1) {
        // Distributed training: the instances talk to each other (TCP: NCCL, Gloo, MPI), and only
        // to each other. EFA needs all traffic within the group: add that rule yourself.
        sg.addIngressRule(sg, ec2.Port.allTcp(), 'Distributed training between the job\'s instances');
        sg.addEgressRule(sg, ec2.Port.allTcp(), 'Distributed training between the job\'s instances');
      }
      this.securityGroup = sg;
      const subnets = props.vpc.selectSubnets(props.vpcSubnets).subnetIds;
      vpcConfig = { SecurityGroupIds: [sg.securityGroupId], Subnets: subnets };
      const ec2Arn = (resource: string) => `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:${resource}`;
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'TrainingNetworkInterfaces',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [ec2Arn('network-interface/*'), ec2Arn(`security-group/${sg.securityGroupId}`), ...subnets.map((subnetId) => ec2Arn(`subnet/${subnetId}`))],
      }));
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'TrainingNetworkInterfacesLifecycle',
        actions: ['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface', 'ec2:DeleteNetworkInterfacePermission'],
        resources: [ec2Arn('network-interface/*')],
      }));
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'TrainingNetworkDescribe',
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DescribeDhcpOptions', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'],
        resources: ['*'],
      }));
    }

    this.modelPackageGroup = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelName,
      modelPackageGroupDescription: `Versions of ${this.modelName} trained by ${this.node.path}`,
    });
    this.modelPackageGroup.applyRemovalPolicy(this.removalPolicy);
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'Bus', 'default');

    // ---- the state machine ----------------------------------------------------------------------
    const states = new Construct(this, 'States');
    const jobArnPattern = `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:training-job/${jobNamePrefix}-*`;
    const retry = (state: { addRetry(p: sfn.RetryProps): unknown }, errors: string[], interval: number) =>
      state.addRetry({
        errors,
        interval: Duration.seconds(interval),
        maxAttempts: 3,
        backoffRate: 2,
        maxDelay: Duration.seconds(interval * 8),
        jitterStrategy: sfn.JitterType.FULL,
      });

    const failed = new sfn.Fail(states, 'TrainingFailed', {
      errorPath: '$.failure.Error',
      causePath: '$.failure.Cause',
      comment: 'The execution failed; the error and cause of the failing state are recorded here',
    });
    const publishFailure = new tasks.EventBridgePutEvents(states, 'PublishTrainingFailed', {
      entries: [{
        eventBus: this.eventBus,
        source: GpuTrainingJob.EVENT_SOURCE,
        detailType: GpuTrainingJob.DETAIL_TYPE_TRAINING_FAILED,
        // The cause can quote the container's failure reason: it stays in the (encrypted)
        // execution history, the event carries the error name and the execution only.
        detail: sfn.TaskInput.fromObject({
          model: this.modelName,
          execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
          error: sfn.JsonPath.stringAt('$.failure.Error'),
        }),
      }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    retry(publishFailure, TRANSIENT_EVENTS, 2);
    publishFailure.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.failureEventError' });
    publishFailure.next(failed);
    const onError = (state: { addCatch(handler: sfn.IChainable, p: sfn.CatchProps): unknown }) =>
      state.addCatch(publishFailure, { errors: ['States.ALL'], resultPath: '$.failure' });

    const rejectInput = new sfn.Pass(states, 'RejectInput', {
      result: sfn.Result.fromObject({
        Error: 'InvalidInput',
        Cause: `expected {"datasetVersion": "<version>", "location": "s3://<curated bucket>/${datasetPrefix}datasets/<version>/"}`,
      }),
      resultPath: '$.failure',
    });
    rejectInput.next(publishFailure);

    const locationPattern = `s3://${curated.bucketName}/${datasetPrefix}datasets/*/`;
    const validate = new sfn.Choice(states, 'ValidateInput', { comment: 'A dataset version of this lake\'s curated zone' });
    const prepare = new sfn.Pass(states, 'PrepareJob', {
      comment: 'One training job name per execution (a hash of the execution id: deterministic, 63 characters at most)',
      parameters: {
        datasetVersion: sfn.JsonPath.stringAt('$.datasetVersion'),
        location: sfn.JsonPath.stringAt('$.location'),
        trainingJobName: sfn.JsonPath.format(`${jobNamePrefix}-{}`, sfn.JsonPath.hash(sfn.JsonPath.stringAt('$$.Execution.Id'), 'MD5')),
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

    const resourceConfig: Record<string, unknown> = {
      InstanceType: this.instanceType.name,
      InstanceCount: instanceCount,
      VolumeSizeInGB: volumeGiB,
    };
    if (this.volumeEncryptionKey) {
      resourceConfig.VolumeKmsKeyId = this.volumeEncryptionKey.keyArn;
    }
    const trainParameters: Record<string, unknown> = {
      'TrainingJobName.$': '$.trainingJobName',
      'RoleArn': role.roleArn,
      'AlgorithmSpecification': {
        TrainingImage: this.trainingImageUri,
        TrainingInputMode: 'File',
        ...(metricDefinitions.length > 0 ? { MetricDefinitions: metricDefinitions.map((d) => ({ Name: d.name, Regex: d.regex })) } : {}),
      },
      'InputDataConfig': channels.map((c) => this.renderChannel(c)),
      'OutputDataConfig': {
        S3OutputPath: `s3://${models.bucketName}/${modelsPrefix}training-jobs/`,
        KmsKeyId: this.lake.encryptionKey.keyArn,
      },
      'ResourceConfig': resourceConfig,
      'StoppingCondition': {
        MaxRuntimeInSeconds: maxRuntime,
        ...(maxWait !== undefined ? { MaxWaitTimeInSeconds: maxWait } : {}),
      },
      'EnableNetworkIsolation': props.networkIsolation ?? true,
      'EnableInterContainerTrafficEncryption': instanceCount > 1,
      'EnableManagedSpotTraining': spot,
    };
    if (Object.keys(hyperparameters).length > 0) { trainParameters.HyperParameters = hyperparameters; }
    if (Object.keys(environment).length > 0) { trainParameters.Environment = environment; }
    if (checkpoints) {
      trainParameters.CheckpointConfig = {
        'S3Uri.$': `States.Format('s3://${models.bucketName}/${modelsPrefix}checkpoints/{}/', $.trainingJobName)`,
        'LocalPath': '/opt/ml/checkpoints',
      };
    }
    if (vpcConfig) { trainParameters.VpcConfig = vpcConfig; }
    // aws-cdk-lib's SageMakerCreateTrainingJob has no CheckpointConfig, managed spot or
    // inter-container encryption, and always sets the volume key it is given: the task is
    // written in Amazon States Language directly, with its permissions added below.
    const train = new sfn.CustomState(states, 'Train', {
      stateJson: {
        Type: 'Task',
        Comment: 'Run the SageMaker training job and wait for it',
        Resource: `arn:${Aws.PARTITION}:states:::sagemaker:createTrainingJob.sync`,
        Parameters: trainParameters,
        ResultPath: '$.training',
      },
    });
    retry(train, TRANSIENT_SAGEMAKER, 30);
    onError(train);

    // Final metrics. Each gate reads its metric from the list padded with a `null` sentinel, so
    // the filter always matches: the first value is the metric's, or null when it was not scraped.
    const gateKey = (i: number) => `g${i}`;
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

    const jobDetail = {
      model: this.modelName,
      datasetVersion: sfn.JsonPath.stringAt('$.datasetVersion'),
      location: sfn.JsonPath.stringAt('$.location'),
      trainingJobName: sfn.JsonPath.stringAt('$.trainingJobName'),
      trainingJobArn: sfn.JsonPath.stringAt('$.training.TrainingJobArn'),
      modelArtifact: sfn.JsonPath.stringAt('$.training.ModelArtifacts.S3ModelArtifacts'),
      metrics: sfn.JsonPath.listAt('$.metrics.all'),
    };
    const recordKey = sfn.JsonPath.format(`${modelsPrefix}records/{}.json`, sfn.JsonPath.stringAt('$.trainingJobName'));
    const recordUri = sfn.JsonPath.format(`s3://${models.bucketName}/${modelsPrefix}records/{}.json`, sfn.JsonPath.stringAt('$.trainingJobName'));
    const register = new tasks.CallAwsService(states, 'RegisterModel', {
      service: 'sagemaker',
      action: 'createModelPackage',
      iamAction: 'sagemaker:CreateModelPackage',
      iamResources: [`arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:model-package/${this.modelName}/*`],
      parameters: {
        ModelPackageGroupName: this.modelName,
        ModelPackageDescription: sfn.JsonPath.format('Trained on dataset version {} by training job {}', sfn.JsonPath.stringAt('$.datasetVersion'), sfn.JsonPath.stringAt('$.trainingJobName')),
        ModelApprovalStatus: props.modelApprovalStatus ?? ModelApprovalStatus.PENDING_MANUAL_APPROVAL,
        InferenceSpecification: {
          Containers: [{ Image: this.trainingImageUri, ModelDataUrl: sfn.JsonPath.stringAt('$.training.ModelArtifacts.S3ModelArtifacts') }],
          SupportedContentTypes: ['application/json'],
          SupportedResponseMIMETypes: ['application/json'],
        },
        CustomerMetadataProperties: {
          datasetVersion: sfn.JsonPath.stringAt('$.datasetVersion'),
          trainingJobName: sfn.JsonPath.stringAt('$.trainingJobName'),
          modelRecord: recordUri,
        },
      },
      resultSelector: { modelPackageArn: sfn.JsonPath.stringAt('$.ModelPackageArn') },
      resultPath: '$.registration',
    });
    retry(register, TRANSIENT_SAGEMAKER, 5);
    onError(register);

    const recordPattern = `${modelsPrefix}records/*`;
    const writeRecord = new tasks.CallAwsService(states, 'WriteModelRecord', {
      service: 's3',
      action: 'putObject',
      iamAction: 's3:PutObject',
      iamResources: [models.arnForObjects(recordPattern)],
      parameters: {
        Bucket: models.bucketName,
        Key: recordKey,
        ContentType: 'application/json',
        Body: {
          schemaVersion: '1',
          ...jobDetail,
          modelPackageArn: sfn.JsonPath.stringAt('$.registration.modelPackageArn'),
          trainingImage: this.trainingImageUri,
          instanceType: this.instanceType.name,
          instanceCount,
          hyperparameters,
          gates: gates.map((g) => ({ metricName: g.metricName, comparison: g.comparison, threshold: g.threshold })),
          execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
          recordedAt: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
        },
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    retry(writeRecord, TRANSIENT_S3, 2);
    onError(writeRecord);

    const publishTrained = new tasks.EventBridgePutEvents(states, 'PublishModelTrained', {
      entries: [{
        eventBus: this.eventBus,
        source: GpuTrainingJob.EVENT_SOURCE,
        detailType: GpuTrainingJob.DETAIL_TYPE_MODEL_TRAINED,
        detail: sfn.TaskInput.fromObject({
          ...jobDetail,
          modelPackageArn: sfn.JsonPath.stringAt('$.registration.modelPackageArn'),
          modelRecord: recordUri,
        }),
      }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    retry(publishTrained, TRANSIENT_EVENTS, 2);
    onError(publishTrained);
    register.next(writeRecord).next(publishTrained).next(new sfn.Succeed(states, 'ModelTrained', { comment: 'The model passed the gates and was registered' }));

    // Gates, one Choice each: a metric that is not a number (the sentinel) fails the gate.
    let gateEntry: sfn.IChainable = register;
    if (gates.length > 0) {
      const publishRejected = new tasks.EventBridgePutEvents(states, 'PublishModelRejected', {
        entries: [{
          eventBus: this.eventBus,
          source: GpuTrainingJob.EVENT_SOURCE,
          detailType: GpuTrainingJob.DETAIL_TYPE_MODEL_REJECTED,
          detail: sfn.TaskInput.fromObject({
            ...jobDetail,
            gates: gates.map((g) => ({ metricName: g.metricName, comparison: g.comparison, threshold: g.threshold })),
          }),
        }],
        resultPath: sfn.JsonPath.DISCARD,
      });
      retry(publishRejected, TRANSIENT_EVENTS, 2);
      onError(publishRejected);
      publishRejected.next(new sfn.Succeed(states, 'ModelRejected', { comment: 'A gate rejected the model; it was not registered' }));

      for (let i = gates.length - 1; i >= 0; i--) {
        const path = `$.gateValues.${gateKey(i)}[0]`;
        gateEntry = new sfn.Choice(states, `Gate${i}`, { comment: `${gates[i].metricName} ${gates[i].comparison} ${gates[i].threshold}` })
          .when(sfn.Condition.not(sfn.Condition.isNumeric(path)), publishRejected)
          .when(compare(path, gates[i]), gateEntry)
          .otherwise(publishRejected);
      }
      gateEntry = selectGateMetrics.next(gateEntry);
    }
    readMetrics.next(gateEntry);
    noMetrics.next(gateEntry);
    prepare.next(train).next(hasMetrics);

    const timeoutSeconds = (maxWait ?? maxRuntime) + 2 * 3600;
    const machine = new sfn.StateMachine(this, 'StateMachine', {
      // A name known at synth: with a customer-managed key, the role may use the key only for the
      // encryption context of this state machine's ARN, which CDK builds from the name.
      stateMachineName: `${Names.uniqueResourceName(this, { maxLength: 67 })}-StateMachine`,
      definitionBody: sfn.DefinitionBody.fromChainable(validate),
      comment: `Trains ${this.modelName} on SageMaker from a dataset version`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.seconds(timeoutSeconds),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(encryptionKey, Duration.minutes(5)),
    });
    this.stateMachine = machine;

    // Permissions of the hand-written Train task (what SageMakerCreateTrainingJob would add).
    machine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'RunTrainingJobs',
      actions: ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'],
      resources: [jobArnPattern],
    }));
    machine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'PassTrainingRole',
      actions: ['iam:PassRole'],
      resources: [role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    }));
    machine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'WaitForTrainingJobs',
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resources: [`arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule`],
    }));
    this.lake.grantWrite(machine, DataZone.MODELS, recordPattern);

    this.failureAlarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription: `${this.node.path}: a training execution failed, timed out or was aborted`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: {
          failed: this.stateMachine.metricFailed({ statistic: cloudwatch.Stats.SUM }),
          timedOut: this.stateMachine.metricTimedOut({ statistic: cloudwatch.Stats.SUM }),
          aborted: this.stateMachine.metricAborted({ statistic: cloudwatch.Stats.SUM }),
        },
        period: Duration.minutes(5),
        label: 'Failed, timed out or aborted executions',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmAction) {
      this.failureAlarm.addAlarmAction(props.alarmAction);
      this.failureAlarm.addOkAction(props.alarmAction);
    }

    // ---- triggers and consumers -------------------------------------------------------------------
    if (props.datasetTrigger) {
      const rule = new events.Rule(this, 'DatasetTrigger', {
        eventBus: props.datasetTrigger.eventBus ?? this.eventBus,
        description: `${this.node.path}: train ${this.modelName} on each new dataset version`,
        eventPattern: {
          source: [DATASET_EVENT_SOURCE],
          detailType: [DETAIL_TYPE.datasetVersionPublished],
          detail: {
            ...(props.datasetTrigger.pipelineName ? { pipeline: [props.datasetTrigger.pipelineName] } : {}),
            location: events.Match.prefix(`s3://${curated.bucketName}/${datasetPrefix}datasets/`),
          },
        },
      });
      rule.addTarget(this.startTarget(events.RuleTargetInput.fromObject({
        datasetVersion: events.EventField.fromPath('$.detail.datasetVersion'),
        location: events.EventField.fromPath('$.detail.location'),
      })));
    }
    if (props.schedule) {
      const rule = new events.Rule(this, 'Schedule', {
        schedule: props.schedule.schedule,
        description: `${this.node.path}: train ${this.modelName} on dataset version ${props.schedule.datasetVersion} on a schedule`,
      });
      rule.addTarget(this.startTarget(events.RuleTargetInput.fromObject({
        datasetVersion: props.schedule.datasetVersion,
        location: `s3://${curated.bucketName}/${KEYS.datasetPrefix(datasetPrefix, props.schedule.datasetVersion)}`,
      })));
    }
    (props.consumers ?? []).forEach((consumer, i) => this.addModelConsumer(consumer, `Consumer${i}`));
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

  private ensureDeadLetterQueue(): sqs.Queue {
    if (!this.dlq) {
      this.dlq = new sqs.Queue(this, 'DeadLetterQueue', {
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
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
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

  private grantList(grantee: iam.IGrantable, bucketArn: string, prefixPattern: string) {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixPattern } },
    });
  }

  private seconds(prop: string, duration: Duration, min: number, max: number, expected: string): number {
    const s = duration.toSeconds({ integral: false });
    if (Token.isUnresolved(s)) {
      invalidProp(this, prop, 'a token', 'give a literal Duration');
    }
    if (!Number.isInteger(s) || s < min || s > max) {
      invalidProp(this, prop, duration, expected);
    }
    return s;
  }

  private checkMap(prop: string, map: Record<string, string>, maxEntries: number, key: RegExp, maxValue: number) {
    const entries = Object.entries(map);
    if (entries.length > maxEntries) {
      invalidProp(this, prop, `${entries.length} entries`, `expected at most ${maxEntries} (SageMaker's limit)`);
    }
    for (const [k, v] of entries) {
      if (!key.test(k)) {
        invalidProp(this, `${prop} key`, k, `expected a name matching ${key}`);
      }
      if (typeof v !== 'string' || v.length > maxValue) {
        invalidProp(this, `${prop}.${k}`, v, `expected a string of at most ${maxValue} characters (SageMaker passes every value as a string)`);
      }
    }
  }

  private checkChannels(channels: TrainingChannel[]) {
    if (channels.length < 1 || channels.length > 20) {
      invalidProp(this, 'channels', `${channels.length} channels`, 'expected 1 to 20 channels');
    }
    const names = new Set<string>();
    for (const c of channels) {
      if (!CHANNEL_NAME.test(c.name) || names.has(c.name)) {
        invalidProp(this, 'channels[].name', c.name, 'expected a unique name of 1 to 64 letters, digits, ".", "-" or "_"');
      }
      names.add(c.name);
      if (!DATASET_FILE.test(c.datasetFile)) {
        invalidProp(this, `channels[${c.name}].datasetFile`, c.datasetFile, 'expected a file of the dataset version such as "train.manifest" (no leading "/", no "*")');
      }
      const augmented = c.dataType === ChannelDataType.AUGMENTED_MANIFEST_FILE;
      if (augmented && c.inputMode !== undefined && c.inputMode !== ChannelInputMode.PIPE) {
        invalidProp(this, `channels[${c.name}].inputMode`, c.inputMode, 'AugmentedManifestFile channels are read in Pipe mode only: use ChannelInputMode.PIPE or leave inputMode out');
      }
      if (augmented && (!c.attributeNames || c.attributeNames.length < 1 || c.attributeNames.length > 16)) {
        invalidProp(this, `channels[${c.name}].attributeNames`, c.attributeNames, 'AugmentedManifestFile channels need 1 to 16 attribute names, e.g. ["source", "who-grade"]');
      }
      if (!augmented && c.attributeNames) {
        invalidProp(this, `channels[${c.name}].attributeNames`, c.attributeNames, 'attributeNames apply to ChannelDataType.AUGMENTED_MANIFEST_FILE only');
      }
    }
  }

  private renderChannel(c: TrainingChannel): Record<string, unknown> {
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
