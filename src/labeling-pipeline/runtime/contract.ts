/**
 * The contract between the LabelingPipeline construct and its handlers: the configuration file
 * each handler reads, the environment variables the construct sets, the object-key layout in the
 * lake's zones, the ledger table's items, the events, and the review state machine's payloads.
 *
 * Pure TypeScript (no aws-cdk-lib, no SDK): imported by the construct (synth time) and by the
 * handlers (bundled). Changing a name here is a breaking change for deployed pipelines.
 */
import type { CleaningConfig, QuarantineReason } from './logic/cleaning';
import type { QualityGates, SplitConfig } from './logic/dataset';
import type { LabelRecord, LabelTaskConfig, ReviewReason, RulesLabelerConfig, Vote } from './logic/labeling';
import { DATASET_FILES, DATASET_KEYS } from '../../contract/dataset-version';
import { LABELING_DETAIL_TYPE as DETAIL_TYPE, LABELING_EVENT_SOURCE as EVENT_SOURCE } from '../../contract/events';

/** File name of the pipeline configuration, staged beside each handler's `index.js`. */
export const CONFIG_FILE = 'pipeline-config.json';

/** A labeler as the labeling handler runs it. */
export type LabelerSpec =
  | { readonly kind: 'rules'; readonly rules: RulesLabelerConfig }
  /**
   * A user Lambda (any language). Invoked synchronously with the labeler contract of
   * `labeling.ts`: input `{ recordId, record }`, output `{ kind: 'label', className, confidence }`
   * or `{ kind: 'abstain', reason }`.
   */
  | { readonly kind: 'function'; readonly id: string; readonly version: string; readonly functionArn: string }
  /**
   * A ServerlessModelEndpoint's function (its `live` alias), invoked synchronously with an API
   * Gateway proxy event whose body is `{ "inputs": { <input>: [[...features]] } }`; `features` are
   * record paths in the model's input order. The response's `predictions[0]` gives the class and
   * its probability (the confidence).
   */
  | {
    readonly kind: 'model';
    readonly id: string;
    readonly version: string;
    readonly functionArn: string;
    readonly inputName: string;
    readonly features: string[];
    /** Model class names in output order → task class names (absent: identical names). */
    readonly classMap?: Record<string, string>;
  };

/** Everything the handlers need, JSON-serializable, written by the construct at synth. */
export interface PipelineConfig {
  /** Name of the pipeline (events' `detail.pipeline`, metrics' `service` dimension). */
  readonly pipelineName: string;
  readonly cleaning: CleaningConfig;
  readonly labelers: LabelerSpec[];
  readonly task: LabelTaskConfig;
  readonly split: SplitConfig;
  readonly gates?: QualityGates;
  /**
   * How manifests reference records: `inline` writes the clean record as the line's `source`
   * (a JSON string; the channel is self-contained, which SageMaker's File mode with an S3Prefix
   * channel needs), `ref` writes `source-ref` (s3:// URI of the clean record).
   * @default 'inline'
   */
  readonly manifestSource?: 'inline' | 'ref';
  /**
   * Version of the library that synthesized the pipeline, recorded in dataset cards
   * (`versions.library`).
   * @default - not recorded
   */
  readonly libraryVersion?: string;
}

/**
 * Environment variables the construct sets on every handler (all required unless noted).
 * Handlers read them with one typed reader and fail at init naming a missing one.
 */
export const ENV = {
  /** Raw zone bucket (read). */
  RAW_BUCKET: 'RAW_BUCKET',
  /** Key prefix of uploads in the raw zone, e.g. `uploads/` ('' = whole bucket). */
  RAW_PREFIX: 'RAW_PREFIX',
  CLEAN_BUCKET: 'CLEAN_BUCKET',
  QUARANTINE_BUCKET: 'QUARANTINE_BUCKET',
  /** Curated zone: labels and dataset versions. */
  CURATED_BUCKET: 'CURATED_BUCKET',
  /** Key prefix the pipeline writes under in the clean, quarantine and curated zones, e.g. `hearing/`. */
  ZONE_PREFIX: 'ZONE_PREFIX',
  /** The lake's data key ARN (SSE-KMS on every PutObject). */
  DATA_KEY_ARN: 'DATA_KEY_ARN',
  /**
   * The lake's HMAC key (GenerateMac, HMAC_SHA_256): the cleaning handler pseudonymizes record
   * identifiers with it, the review API the reviewers.
   */
  HMAC_KEY_ID: 'HMAC_KEY_ID',
  LEDGER_TABLE: 'LEDGER_TABLE',
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
  /** Review state machine ARN (labeling handler: StartExecution). */
  REVIEW_STATE_MACHINE_ARN: 'REVIEW_STATE_MACHINE_ARN',
  /** CloudWatch namespace of the EMF metrics. */
  METRICS_NAMESPACE: 'METRICS_NAMESPACE',
  /** Allowed CORS origins, JSON array (review API handler). Optional, default []. */
  ALLOWED_ORIGINS: 'ALLOWED_ORIGINS',
  /**
   * Review API handler: who may review and how often (`ReviewApiSettings` of
   * `logic/review-request.ts`, JSON). Required: without it the handler does not start.
   */
  REVIEW_API_SETTINGS: 'REVIEW_API_SETTINGS',
} as const;

/**
 * The pipeline's events: `EVENT_SOURCE`, `DETAIL_TYPE` (the `detail-type`s) and
 * `PipelineEventDetail`, from the library's event vocabulary (src/contract/events.ts), which
 * GpuTrainingJob reads too.
 */
export { DETAIL_TYPE, EVENT_SOURCE };
export type { PipelineEventDetail } from '../../contract/events';

/** Object keys in the zones (`p` = ZONE_PREFIX). */
export const KEYS = {
  /** Clean zone: the clean, pseudonymized record (JSON), written once (If-None-Match). */
  cleanRecord: (p: string, recordId: string) => `${p}records/${recordId}.json`,
  /** Quarantine zone: a copy of the rejected input, keyed by the raw object's identity hash. */
  quarantinedInput: (p: string, sourceHash: string) => `${p}quarantine/${sourceHash}/input`,
  /** Quarantine zone: the sidecar (`QuarantineSidecar`) beside it. */
  quarantineSidecar: (p: string, sourceHash: string) => `${p}quarantine/${sourceHash}/reasons.json`,
  /** Curated zone: append-only label records (`LabelRecord`), one object per label. */
  label: (p: string, recordId: string, labelId: string) => `${p}labels/${recordId}/${labelId}.json`,
  /** Curated zone: a dataset version's files (the layout of src/contract/dataset-version.ts). */
  datasetPrefix: DATASET_KEYS.datasetPrefix,
} as const;

/** Files of a dataset version under `KEYS.datasetPrefix` (src/contract/dataset-version.ts). */
export { DATASET_FILES };

/** The quarantine sidecar. */
export interface QuarantineSidecar {
  readonly source: string;
  readonly sourceVersionId?: string;
  readonly inputSha256: string;
  readonly inputBytes: number;
  readonly reasons: QuarantineReason[];
  readonly cleaningConfigVersion: string;
  readonly quarantinedAt: string;
}

/**
 * Ledger table (DynamoDB, `pk` + `sk` strings, CMK, PITR). Items:
 *
 * - Source outcome, one per raw object version and cleaning-config version (idempotency of
 *   cleaning; a backfill under a new config version re-runs):
 *   `pk = src#<sourceHash>`, `sk = cfg#<configVersion>` → `SourceItem`.
 * - Record, one per content-derived record id (deduplication: a conditional put on this item
 *   decides which source owns the record; the others are duplicates):
 *   `pk = rec#<recordId>`, `sk = record` → `RecordItem`.
 * - Pending review, one per record waiting for a human (the review API lists this partition):
 *   `pk = review`, `sk = <recordId>` → `ReviewItem`.
 * - Upload claim, one per raw object key (bucket and key, any version): the first version the
 *   cleaning handler processes claims the key (a conditional put); every other version of that key
 *   (a presigned POST replayed before it expired) is quarantined `replayed-upload`:
 *   `pk = upload#<SHA-256 of "<bucket>/<key>">`, `sk = upload` → `UploadClaimItem`.
 * - A reviewer's answer, one per record and reviewer, across every attempt of the review (written
 *   once: a reviewer answers a record at most once; four-eyes counts them):
 *   `pk = answer#<recordId>`, `sk = <reviewer pseudonym>` → `ReviewAnswerItem`.
 * - A reviewer's request count in one window (the per-reviewer limit; expires by TTL):
 *   `pk = reviewer#<reviewer pseudonym>`, `sk = window#<epoch seconds>` → `ReviewerWindowItem`.
 * Items are keyed by pseudonyms and ids only.
 */
export const LEDGER = {
  sourcePk: (sourceHash: string) => `src#${sourceHash}`,
  sourceSk: (configVersion: string) => `cfg#${configVersion}`,
  recordPk: (recordId: string) => `rec#${recordId}`,
  recordSk: 'record',
  reviewPk: 'review',
  uploadPk: (keyHash: string) => `upload#${keyHash}`,
  uploadSk: 'upload',
  answerPk: (recordId: string) => `answer#${recordId}`,
  reviewerPk: (reviewer: string) => `reviewer#${reviewer}`,
  windowSk: (startEpochSeconds: number) => `window#${startEpochSeconds}`,
  /** The table's time-to-live attribute (epoch seconds). */
  ttlAttribute: 'expiresAt',
} as const;

/**
 * A reviewer pseudonym: 32 lowercase hex digits, the keyed pseudonym of the caller
 * (`private/runtime/caller-identity.ts`: HMAC-SHA-256 with the lake's pseudonymization key). Never
 * a Cognito `sub`, a user name or an IAM ARN.
 */
export const REVIEWER_PSEUDONYM = /^[0-9a-f]{32}$/;

/** Outcome of one raw object under one cleaning config version. */
export interface SourceItem {
  readonly pk: string;
  readonly sk: string;
  readonly source: string;
  readonly sourceVersionId?: string;
  readonly outcome: 'clean' | 'duplicate' | 'quarantine';
  readonly recordId?: string;
  readonly codes?: string[];
  readonly at: string;
  /** True once the outcome's event was put on the bus. */
  readonly announced: boolean;
}

/** The version of a raw object key that was processed first (one upload grant, one record). */
export interface UploadClaimItem {
  readonly pk: string;
  readonly sk: string;
  /** `s3://bucket/key`. */
  readonly source: string;
  /** The claiming version (absent: the bucket gave none). */
  readonly sourceVersionId?: string;
  readonly at: string;
}

/** A clean record's index entry (no record values: pseudonyms and ids only). */
export interface RecordItem {
  readonly pk: string;
  readonly sk: string;
  readonly recordId: string;
  /** The source that placed the record first. */
  readonly source: string;
  readonly sourceVersionId?: string;
  /** Subject pseudonym (`hmac:…`), '' when the config names no subject field. */
  readonly subject: string;
  /** `s3://clean-bucket/key`. */
  readonly cleanRef: string;
  readonly cleanedAt: string;
  /** `labelled` | `review` | `cleaned`. */
  readonly state: 'cleaned' | 'review' | 'labelled';
  /** The current label (human beats machine; the S3 label objects are the append-only history). */
  readonly label?: LabelRecord;
  /**
   * The event of the last state change while it is not yet on the bus (a transactional outbox):
   * written together with `state`/`label`, removed once put. A redelivery that finds it puts it
   * again, so a decision is never left unannounced. Absent: nothing pending.
   */
  readonly pendingEvent?: PendingRecordEvent;
}

/** An event decided together with a record item's state change (`RecordItem.pendingEvent`). */
export interface PendingRecordEvent {
  /** The decision it announces: the label id, or the review execution's name. */
  readonly id: string;
  readonly detailType: typeof DETAIL_TYPE.recordLabelled | typeof DETAIL_TYPE.reviewRequested;
  /** `detail.codes`: `auto` / `human` for a label, the review reasons for a review. */
  readonly codes: string[];
}

/** One reviewer's answer to one record (written once; `sk` is the reviewer's pseudonym). */
export interface ReviewAnswerItem {
  readonly pk: string;
  readonly sk: string;
  readonly recordId: string;
  readonly reviewer: string;
  readonly className: string;
  /** The review attempt it answered. */
  readonly attempt: number;
  readonly answeredAt: string;
}

/** A reviewer's requests in one window. */
export interface ReviewerWindowItem {
  readonly pk: string;
  readonly sk: string;
  readonly requests: number;
  /** Epoch seconds (the table's TTL attribute): the end of the window. */
  readonly expiresAt: number;
}

/** A pending review. `record` is the clean, pseudonymized record. */
export interface ReviewItem {
  readonly pk: string;
  readonly sk: string;
  readonly recordId: string;
  readonly taskToken: string;
  readonly reasons: ReviewReason[];
  readonly proposal?: { readonly className: string; readonly confidence: number };
  readonly votes: Vote[];
  /** Attempt number (1 + times the review timed out and went back to the queue). */
  readonly attempt: number;
  readonly requestedAt: string;
  /** The clean, pseudonymized record as a JSON string (the review API parses it). */
  readonly recordJson: string;
}

/**
 * Input of the review state machine (started by the labeling handler, execution name
 * `<recordId>` sanitized to 80 chars, so a duplicate start is idempotent).
 */
export interface ReviewExecutionInput {
  readonly recordId: string;
  readonly reasons: ReviewReason[];
  readonly proposal?: { readonly className: string; readonly confidence: number };
  readonly votes: Vote[];
  readonly record: Record<string, unknown>;
}

/**
 * Events of the review-record handler, invoked by the review state machine:
 * - `request` (a Lambda task with `.waitForTaskToken`): put the `ReviewItem` with the token
 *   (overwriting an earlier attempt's); the state machine then waits for the review API's
 *   SendTaskSuccess, up to the review timeout.
 * - `record`: append the human label (from the `ReviewAnswer`) and make it the record's current label.
 * - `expire`: the review timed out `maxAttempts` times: delete the pending item (the record stays
 *   `review` in the ledger, and the execution fails with `ReviewExpired`).
 */
export type ReviewRecordEvent =
  | { readonly action: 'request'; readonly taskToken: string; readonly attempt: number; readonly input: ReviewExecutionInput }
  | { readonly action: 'record'; readonly answer: ReviewAnswer }
  | { readonly action: 'expire'; readonly recordId: string };

/** What the review API sends with SendTaskSuccess, and what the record-label task receives. */
export interface ReviewAnswer {
  readonly recordId: string;
  readonly className: string;
  /** Pseudonym of the reviewer whose answer decided the review (`REVIEWER_PSEUDONYM`). */
  readonly reviewer: string;
  /**
   * Pseudonyms of every reviewer who gave this answer (`reviewer` last): one, or two different
   * reviewers for a four-eyes review. @default - [reviewer]
   */
  readonly reviewers?: string[];
  readonly votes: Vote[];
}

/**
 * Input of the dataset handler (a Lambda task of the dataset state machine; a schedule or a manual
 * start passes `{}` or a chosen version name). Output: `DatasetTaskResult`; the state machine puts
 * the published / blocked event from it.
 */
export interface DatasetTaskInput {
  /** Version name ([A-Za-z0-9._-]{1,64}). @default - `<pipelineName>-<UTC yyyyMMddTHHmmssZ>` */
  readonly datasetVersion?: string;
}

/** Output of the dataset handler. */
export interface DatasetTaskResult {
  readonly datasetVersion: string;
  /** `s3://curated-bucket/<prefix>datasets/<version>/`. */
  readonly location: string;
  readonly publish: boolean;
  readonly blockedReasons: string[];
  readonly counts: Record<string, number>;
}

/**
 * Input of the cleaning handler in backfill mode (the Distributed Map's ItemBatcher output over an
 * S3 listing of the raw zone, or of quarantine sidecars to re-run them):
 * `{ Items: [{ Key, ... }], BatchInput: { bucket } }`. Its output: counts per outcome.
 */
export interface BackfillBatch {
  readonly Items: Array<{ readonly Key: string }>;
  readonly BatchInput: { readonly bucket: string };
}

/** Counts returned by the backfill handler for one batch. */
export interface BackfillResult {
  readonly received: number;
  readonly clean: number;
  readonly duplicate: number;
  readonly quarantine: number;
  readonly skipped: number;
}
