/**
 * What the ModelMonitor construct and its drift job both read: environment variable names, the
 * configuration file staged beside the job's bundle, the metric namespace and names. Pure
 * TypeScript (no aws-cdk-lib, no SDK).
 */
import type { DriftConfig } from './logic/drift';

/** Environment variables the construct sets on the drift job. */
export const MONITOR_ENV = {
  /** Name of the lake's models bucket (captures, ground truth, baselines, reports). */
  modelsBucket: 'MONITOR_MODELS_BUCKET',
  /** ARN of the lake key: reports are written with SSE-KMS under it (the bucket policy requires it). */
  lakeKeyArn: 'MONITOR_LAKE_KEY_ARN',
  /** Name (or ARN) of the bus the "Model Drift Detected" events go to. */
  eventBusName: 'MONITOR_EVENT_BUS',
} as const;

/** The configuration file staged beside the job's bundle. */
export const MONITOR_CONFIG_FILE = 'monitor-config.json';

/** The drift job's configuration (written by the construct at synth, read once per environment). */
export interface MonitorConfig {
  /** The endpoint's capture name. */
  readonly captureName: string;
  /** The metrics' `service` dimension (the monitor's construct path). */
  readonly service: string;
  /** Column names of the feature matrix, in order; when absent, the baseline's feature names. */
  readonly features?: string[];
  /** Which `inputs` entry is the feature matrix; when absent, the only one. */
  readonly inputName?: string;
  /** Length of the window in hours (1 .. 744). */
  readonly windowHours: number;
  /** Below this many captured examples of a model, the window is reported as "not enough data". */
  readonly minimumRows: number;
  /** The most examples per model kept for the evaluation (a uniform reservoir sample beyond). */
  readonly maxRowsPerModel: number;
  /** Days of ground truth read (the `date=` partitions), ending with the window's end. */
  readonly groundTruthLookbackDays: number;
  /** The most ground-truth labels kept per run (later ones are counted, not kept). */
  readonly maxGroundTruthLabels: number;
  /** The drift tests' settings (Evidently's defaults where absent). */
  readonly drift: DriftConfig;
}

/** CloudWatch namespace of the drift job's metrics (EMF), dimension `service`. */
export const MONITOR_METRICS_NAMESPACE = 'cdk-secure-mlops/ModelMonitor';

/** Metric names of one drift run. */
export const MONITOR_METRIC = {
  /** Captured examples evaluated (sum over the window's models). */
  rowsEvaluated: 'RowsEvaluated',
  /** Drifted features (the most of any model of the window). */
  driftedFeatures: 'DriftedFeatures',
  /** Drifted share of the tested features (the most of any model). */
  driftShare: 'DriftShare',
  /** 1 when a model's dataset drifted, else 0. */
  datasetDrift: 'DatasetDrift',
  /** 1 when a model's predicted-class distribution drifted, else 0. */
  predictionDrift: 'PredictionDrift',
  /** Accuracy over the ground truth received in the window (only when some joined a capture). */
  accuracy: 'Accuracy',
  /** Ground-truth labels received in the window that joined a captured prediction. */
  labeledRows: 'LabeledRows',
  /** Capture lines that failed validation. */
  invalidCaptureLines: 'InvalidCaptureLines',
  /** Models of the window without a usable baseline. */
  missingBaselines: 'MissingBaselines',
} as const;
