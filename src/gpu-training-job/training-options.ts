import * as events from 'aws-cdk-lib/aws-events';
import type { LabelingPipeline } from '../labeling-pipeline/labeling-pipeline';

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
 * Retrain when a ModelMonitor reports drift (the event `cdk-secure-mlops.model-monitor` /
 * `Model Drift Detected`).
 *
 * Retraining goes through a new dataset version: the rule starts the pipeline's dataset state
 * machine, which builds a version from the newest labelled records (the production data that
 * drifted, once labelled), and the job's `datasetTrigger` trains on it when it is published.
 * Retraining on the dataset version the drifted model was trained on would reproduce that model:
 * drift means the data moved, so the data must move too. A version the quality gates block trains
 * nothing.
 */
export interface RetrainOnDrift {
  /**
   * The labeling pipeline whose dataset versions this job trains on (its `zonePrefix` must be the
   * job's `datasetPrefix`); its `datasetStateMachine` is started on drift.
   */
  readonly pipeline: LabelingPipeline;

  /**
   * The bus the ModelMonitor puts "Model Drift Detected" on.
   *
   * @default - the training job's `eventBus`
   */
  readonly eventBus?: events.IEventBus;

  /**
   * Only drift of this endpoint (`detail.endpoint`, the endpoint's capture name).
   *
   * @default - drift of any endpoint on the bus
   */
  readonly captureName?: string;
}
