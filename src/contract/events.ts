/**
 * The library's event vocabulary: the EventBridge `source`s, `detail-type`s and `detail`s of the
 * events the constructs put on a bus and read from it. The LabelingPipeline puts "Dataset Version
 * Published", on which a GpuTrainingJob trains; the GpuTrainingJob puts "Model Trained", which
 * its model consumers receive.
 *
 * Pure TypeScript (no aws-cdk-lib, no SDK): imported by constructs (synth time) and by handlers
 * (bundled). Changing a name here is a breaking change for deployed rules and consumers.
 */

// ---- LabelingPipeline ---------------------------------------------------------------------------

/** EventBridge `source` of every event the LabelingPipeline emits. */
export const LABELING_EVENT_SOURCE = 'cdk-secure-mlops.labeling-pipeline';

/** `detail-type`s of the LabelingPipeline's events. */
export const LABELING_DETAIL_TYPE = {
  recordCleaned: 'Record Cleaned',
  recordQuarantined: 'Record Quarantined',
  recordLabelled: 'Record Labelled',
  reviewRequested: 'Review Requested',
  datasetVersionPublished: 'Dataset Version Published',
  datasetVersionBlocked: 'Dataset Version Blocked',
} as const;

/** `detail` of every LabelingPipeline event: identifiers and codes only, never a record value. */
export interface PipelineEventDetail {
  readonly pipeline: string;
  readonly recordId?: string;
  /** `s3://bucket/key` of the raw object (its key carries no personal data: a caller hash and a uuid). */
  readonly source?: string;
  readonly sourceVersionId?: string;
  readonly codes?: string[];
  readonly datasetVersion?: string;
  /** Dataset version: `s3://…/` prefix of the manifests, card and report. */
  readonly location?: string;
  readonly counts?: Record<string, number>;
  readonly blockedReasons?: string[];
}

/** `detail` of "Dataset Version Published": what a GpuTrainingJob's dataset trigger reads. */
export interface DatasetVersionPublishedDetail extends PipelineEventDetail {
  readonly datasetVersion: string;
  /** `s3://<curated bucket>/<zone prefix>datasets/<version>/` (see `DATASET_KEYS.datasetPrefix`). */
  readonly location: string;
}

// ---- GpuTrainingJob -----------------------------------------------------------------------------

/** EventBridge `source` of every event a GpuTrainingJob emits. */
export const TRAINING_EVENT_SOURCE = 'cdk-secure-mlops.gpu-training-job';

/** `detail-type`s of a GpuTrainingJob's events. */
export const TRAINING_DETAIL_TYPE = {
  /** A model passed the gates and was registered. */
  modelTrained: 'Model Trained',
  /** A model failed a gate (not registered). */
  modelRejected: 'Model Rejected',
  /** A training run failed. */
  trainingFailed: 'Training Failed',
} as const;

/** One of SageMaker's final metrics (`FinalMetricDataList`). */
export interface TrainingMetricValue {
  readonly MetricName: string;
  readonly Value: number;
  readonly Timestamp?: string;
}

/** What "Model Trained" and "Model Rejected" say about the training run. */
export interface TrainedModelDetail {
  /** The model's name. */
  readonly model: string;
  readonly datasetVersion: string;
  /** The dataset version's location (`DatasetVersionPublishedDetail.location`). */
  readonly location: string;
  readonly trainingJobName: string;
  readonly trainingJobArn: string;
  /** `s3://` URI of the model artifact (`model.tar.gz`) in the models zone. */
  readonly modelArtifact: string;
  readonly metrics: TrainingMetricValue[];
}

/** `detail` of "Model Trained". */
export interface ModelTrainedDetail extends TrainedModelDetail {
  /** The model package (version) in the model registry. */
  readonly modelPackageArn: string;
  /** `s3://` URI of the model record in the models zone. */
  readonly modelRecord: string;
  /**
   * SHA-256 (lower-case hex) of the published ONNX file: the key of its drift baseline
   * (`MONITORING_KEYS.baseline`). Absent in events of versions before the model was published.
   */
  readonly modelSha256?: string;
  /** Key of the published ONNX file in the models zone, `<model>/models/<job>/model.onnx`. */
  readonly modelKey?: string;
  /** Key of the drift baseline in the models zone; null when the model was trained without one. */
  readonly baselineKey?: string | null;
}

/** A gate as events and model records state it. */
export interface GateDetail {
  readonly metricName: string;
  readonly comparison: string;
  readonly threshold: number;
}

/** `detail` of "Model Rejected". */
export interface ModelRejectedDetail extends TrainedModelDetail {
  /** Every gate of the job (the model failed at least one). */
  readonly gates: GateDetail[];
}

/**
 * `detail` of "Training Failed": the error name and the execution only (the cause can quote the
 * container's failure reason; it stays in the encrypted execution history).
 */
export interface TrainingFailedDetail {
  readonly model: string;
  /** The execution's ARN. */
  readonly execution: string;
  readonly error: string;
}
