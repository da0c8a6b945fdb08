/**
 * The option types of a LabelingPipeline's props: how manifests reference records, when records go
 * to human review, who may review, the dataset split and the dataset-level quality gates.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

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
  /**
   * Four eyes on the quality-control sample: a record sent to review as part of the sample
   * (`qualitySampleRate`) is labelled only once two different reviewers gave the same answer.
   * (Whatever this says, a reviewer answers a record at most once, across every attempt.)
   *
   * @default false
   */
  readonly fourEyesQualityControl?: boolean;
}

/**
 * Who may call the review routes (`GET /reviews`, `POST /reviews/{recordId}`), and how often.
 *
 * Authentication is not authorization: the review routes show clean records and accept labels
 * that win over every machine label, so they must never be reachable by the data subjects (for
 * example patients who upload through a `SecureUploadApi` on the same user pool). The review
 * handler refuses (403, before it reads anything) every caller who is not a reviewer.
 */
export interface ReviewerAccessOptions {
  /**
   * With Cognito authorization: the user-pool group whose members may review, read from the
   * token's `cognito:groups` claim. Letters, digits and `_ . @ + = -`.
   *
   * @default 'reviewers'
   */
  readonly groupName?: string;

  /**
   * With Cognito authorization: create the group in the user pool.
   *
   * @default - true when the pipeline creates the user pool; false for the user pool of
   * `reviewApi.authorization` (create the group there, or set this)
   */
  readonly createGroup?: boolean;

  /**
   * With IAM authorization (required then): the roles that may review. Each gets
   * `execute-api:Invoke` on the two review methods, and the handler checks the caller's role
   * (from the ARN API Gateway verified, not the session name the caller chooses). Every session
   * of one role is one reviewer: give each reviewer their own role, and never list a role that
   * data subjects can assume (such as an identity pool's authenticated role).
   *
   * @default - none (Cognito authorization)
   */
  readonly roles?: iam.IRole[];

  /**
   * Requests one reviewer may make to the review routes in one window; beyond it the API answers
   * 429 with `Retry-After`. Counted per reviewer pseudonym in the ledger.
   *
   * @default 1200
   */
  readonly maxRequestsPerWindow?: number;

  /**
   * The window of `maxRequestsPerWindow` (1 minute to 1 day, whole seconds).
   *
   * @default Duration.hours(1)
   */
  readonly requestWindow?: Duration;
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
