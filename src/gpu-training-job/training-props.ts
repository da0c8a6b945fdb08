/**
 * The properties of a GpuTrainingJob.
 */
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { TrainingInstanceType } from './instance-type';
import { IModelConsumer } from './model-consumer';
import { TrainingImage } from './training-image';
import {
  DatasetTrigger, MetricGate, ModelApprovalStatus, RetrainOnDrift, TrainingChannel, TrainingMetricDefinition, TrainingSchedule,
} from './training-options';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

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
   * The ONNX file the training script writes into the model directory (`SM_MODEL_DIR`). After the
   * gates pass it is taken out of `model.tar.gz` and published as
   * `<modelName>/models/<training job>/model.onnx` in the models zone; the model record and
   * "Model Trained" name it with its SHA-256. A model archive without it fails the run
   * ("Training Failed", error `ModelFileMissing`).
   *
   * @default 'model.onnx'
   */
  readonly modelFileName?: string;

  /**
   * The drift baseline the training script writes into the model directory (schema version 1, see
   * the ModelMonitor). It is checked (its `modelSha256` must be the SHA-256 of the model file) and
   * published at `monitoring/baselines/<model sha256>.json` in the models zone, where monitors of
   * endpoints serving the model find it.
   *
   * @default 'baseline.json'
   */
  readonly baselineFileName?: string;

  /**
   * Fail a run whose model archive holds no baseline (`BaselineMissing`). A baseline that is
   * present is always checked, and an invalid one always fails the run.
   *
   * @default false
   */
  readonly requireBaseline?: boolean;

  /**
   * The most bytes (decompressed, every entry counted) read from a job's `model.tar.gz` when the
   * model is published; beyond it the run fails (`ModelArchiveTooLarge`). It bounds the work of a
   * gzip bomb or of a model directory full of checkpoints, and the model file is held in the
   * publishing function's memory (sized from this value). 1 MiB to 5 GiB (one PutObject).
   *
   * @default Size.gibibytes(2)
   */
  readonly maxArchiveSize?: Size;

  /**
   * Retrain when a ModelMonitor reports drift: a new dataset version of the pipeline is built
   * from the newest labelled records, and `datasetTrigger` (required) trains on it. Not on the
   * same data: retraining on the version the drifted model learned from would reproduce it.
   *
   * @default - drift does not start a retraining
   */
  readonly retrainOnDrift?: RetrainOnDrift;

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
