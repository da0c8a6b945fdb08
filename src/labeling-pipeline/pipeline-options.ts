/**
 * The option types of a LabelingPipeline's props: how manifests reference records, when records go
 * to human review, the dataset split and the dataset-level quality gates.
 */
import { Duration } from 'aws-cdk-lib';

/** How dataset manifests reference the records. */
export enum ManifestSource {
  /**
   * Each line carries the clean record inline (`source`): a training channel is self-contained,
   * which SageMaker's File mode with an S3 prefix channel needs.
   */
  INLINE = 'inline',
  /** Each line references the clean record (`source-ref`, an `s3://` URI). */
  REFERENCE = 'ref',
}

/** When a record goes to human review, and how long a review may take. */
export interface ReviewOptions {
  /**
   * A combined confidence below this goes to review.
   *
   * @default 0.8
   */
  readonly minConfidence?: number;
  /**
   * Fraction of auto-accepted records also sent to review (quality control), 0 to 1.
   *
   * @default 0
   */
  readonly qualitySampleRate?: number;
  /**
   * Salt of the quality sample's hash (change it to draw a different sample).
   *
   * @default ''
   */
  readonly qualitySampleSalt?: string;
  /**
   * Send a record to review when labelers disagree.
   *
   * @default true
   */
  readonly onDisagreement?: boolean;
  /**
   * How long one review may wait before it goes back to the queue.
   *
   * @default Duration.days(7)
   */
  readonly timeout?: Duration;
  /**
   * How many times a review is queued before it expires (the execution fails with `ReviewExpired`).
   *
   * @default 3
   */
  readonly maxAttempts?: number;
}

/** Fractions of the train, validation and test splits (assigned by subject pseudonym hash). */
export interface DatasetSplit {
  /** Fraction of subjects in the training split. */
  readonly train: number;
  /** Fraction of subjects in the validation split. */
  readonly validation: number;
  /** Fraction of subjects in the test split. */
  readonly test: number;
  /**
   * Salt of the split hash (change it to draw new splits).
   *
   * @default ''
   */
  readonly salt?: string;
}

/** Dataset-level gates: a version that fails one is written but not published. */
export interface DatasetQualityGates {
  /**
   * Fewest labelled records.
   *
   * @default 1
   */
  readonly minRecords?: number;
  /**
   * Highest share of quarantined records among all records, 0 to 1.
   *
   * @default 1
   */
  readonly maxQuarantineRate?: number;
  /**
   * Fewest records in each split with a non-zero fraction.
   *
   * @default 0
   */
  readonly minPerSplit?: number;
  /**
   * Highest share of clean records still waiting for review, 0 to 1.
   *
   * @default 1
   */
  readonly maxUnlabelledRate?: number;
}
