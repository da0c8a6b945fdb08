/**
 * The ModelMonitor's drift settings as jsii-friendly props (an enum, interfaces, an array of
 * per-feature overrides); drift-settings.ts translates them into the drift job's `DriftConfig`.
 */

/**
 * A drift test of one feature.
 */
export enum DriftMethod {
  /** Two-sample Kolmogorov–Smirnov test (numeric; drift when p < threshold). */
  KS = 'ks',
  /** Chi-squared goodness-of-fit test (categorical; drift when p < threshold). */
  CHI_SQUARED = 'chi-squared',
  /** Wasserstein distance normalized by the reference's standard deviation (numeric; drift when ≥ threshold). */
  WASSERSTEIN = 'wasserstein',
  /** Jensen–Shannon distance (categorical; drift when ≥ threshold). */
  JENSEN_SHANNON = 'jensen-shannon',
}

/**
 * Drift settings of one feature.
 */
export interface FeatureDriftOptions {
  /** The feature's name (one of the monitor's `features`, or of the baseline's). */
  readonly feature: string;

  /**
   * The test.
   *
   * @default - Evidently's choice: KS or chi-squared for references of at most 1000 values,
   * Wasserstein or Jensen–Shannon for larger ones; categorical tests for features with at most 5
   * distinct values
   */
  readonly method?: DriftMethod;

  /**
   * A p-value for KS and chi-squared (drift below it, at most 1), a distance for Wasserstein and
   * Jensen–Shannon (drift at or above it).
   *
   * @default - the monitor-wide threshold of the method
   */
  readonly threshold?: number;

  /**
   * Set false to leave the feature out of the evaluation (and of the drift share).
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * Drift settings of the predicted class (a categorical column).
 */
export interface PredictionDriftOptions {
  /**
   * The test: `CHI_SQUARED` or `JENSEN_SHANNON`.
   *
   * @default - Evidently's choice: chi-squared for references of at most 1000 predictions,
   * Jensen–Shannon for larger ones
   */
  readonly method?: DriftMethod;

  /**
   * A p-value for chi-squared (drift below it, at most 1), a distance for Jensen–Shannon (drift
   * at or above it).
   *
   * @default - the monitor-wide threshold of the method
   */
  readonly threshold?: number;

  /**
   * Set false to leave the predicted class out of the evaluation: no prediction drift is reported
   * (and none raises the alarm or the event).
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * Thresholds of the drift evaluation. Every default is Evidently's.
 */
export interface DriftThresholds {
  /**
   * Per-feature overrides.
   *
   * @default - none
   */
  readonly features?: FeatureDriftOptions[];

  /**
   * Settings of the predicted class. Its baseline comes from the model's predictions on the
   * validation split, which is often small: the chi-squared test then flags ordinary differences
   * of the patient mix; a Jensen–Shannon threshold is the steadier choice there.
   *
   * @default - the monitor-wide settings
   */
  readonly prediction?: PredictionDriftOptions;

  /**
   * The dataset drifts when at least this share of the tested features drift (0 < share ≤ 1).
   *
   * @default 0.5
   */
  readonly datasetDriftShare?: number;

  /**
   * p-value of the KS and chi-squared tests (0 < p ≤ 1).
   *
   * @default 0.05
   */
  readonly pValueThreshold?: number;

  /**
   * Normalized Wasserstein distance.
   *
   * @default 0.1
   */
  readonly wassersteinThreshold?: number;

  /**
   * Jensen–Shannon distance.
   *
   * @default 0.1
   */
  readonly jensenShannonThreshold?: number;

  /**
   * References with at most this many values get the statistical tests (KS, chi-squared), larger
   * ones the distances.
   *
   * @default 1000
   */
  readonly referenceSizeLimit?: number;
}
