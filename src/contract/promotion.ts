/**
 * Model promotion, as data: where a ModelPromotion writes its audit records, claims and approval
 * requests in the lake's models zone, and the events it emits. Read by the ModelPromotion (its
 * state machine, its candidate check and its approval handler), by auditors and by the local run.
 *
 * Pure TypeScript (no aws-cdk-lib, no SDK): imported by constructs (synth time) and by handlers
 * (bundled). Changing a name here is a breaking change for deployed promotions and consumers.
 *
 * Everything lives under `monitoring/promotions/` in the models zone: `monitoring` is already not a
 * valid model name (see contract/monitoring.ts), so no model's folder can collide with it. One
 * folder per model version, in the partition style of the captures
 * (`model=<encodeURIComponent(modelVersion)>/`): with model versions named `<model>@<n>`, every
 * version of one model lies under `monitoring/promotions/model=<model>%40`, which is what a
 * promotion's IAM policies name.
 */
import { MONITORING_ROOT, modelPartition } from './monitoring';

/** The folder of every promotion object in the models zone. */
export const PROMOTIONS_ROOT = `${MONITORING_ROOT}promotions/`;

/** The `schemaVersion` of audit records and claims this code writes. */
export const PROMOTION_SCHEMA_VERSION = '1';

/** A model name as GpuTrainingJob allows it (lower-case letters, digits, hyphens; at most 40). */
export const PROMOTION_MODEL_NAME_PATTERN = /^[a-z0-9](-*[a-z0-9]){0,39}$/;

/** The model version a promotion serves: `<model>@<model registry version>` (e.g. `hearing-who-grade@3`). */
export function promotedModelVersion(model: string, registryVersion: string | number): string {
  return `${model}@${registryVersion}`;
}

/** How a promotion ended (the last segment of an audit record's key). */
export const PROMOTION_OUTCOME = {
  /** The new version serves all traffic. */
  promoted: 'promoted',
  /** A check, a gate, the approver or the approval timeout refused the version. */
  rejected: 'rejected',
  /** The rollout started and CodeDeploy rolled it back (alarm, failure or stop). */
  rolledBack: 'rolled-back',
  /** A step failed (not a verdict on the model): see the record's reason. */
  failed: 'failed',
} as const;
export type PromotionOutcome = typeof PROMOTION_OUTCOME[keyof typeof PROMOTION_OUTCOME];

/** Object keys of promotions in the models zone. */
export const PROMOTION_KEYS = {
  /** Every promotion object of one model: `monitoring/promotions/model=<model>%40`. */
  modelPrefix: (model: string) => `${PROMOTIONS_ROOT}model=${encodeURIComponent(`${model}@`)}`,
  /** One model version's folder: `monitoring/promotions/model=<enc version>/`. */
  versionPrefix: (modelVersion: string) => `${PROMOTIONS_ROOT}${modelPartition(modelVersion)}`,
  /**
   * The claim of a model version (written once, If-None-Match): the first execution that writes it
   * evaluates and promotes the version, any later one stops as a duplicate.
   */
  claim: (modelVersion: string) => `${PROMOTIONS_ROOT}${modelPartition(modelVersion)}${PROMOTION_FILES.claim}`,
  /** The pending approval of a version (its task token): read by the approval handler only. */
  approvalRequest: (modelVersion: string) => `${PROMOTIONS_ROOT}${modelPartition(modelVersion)}${PROMOTION_FILES.approvalRequest}`,
  /**
   * An audit record: `monitoring/promotions/model=<enc version>/<ISO time>-<outcome>.json` (the
   * time the state machine wrote it).
   */
  audit: (modelVersion: string, at: string, outcome: PromotionOutcome) =>
    `${PROMOTIONS_ROOT}${modelPartition(modelVersion)}${at}-${outcome}.json`,
} as const;

/** Fixed file names in a version's folder. */
export const PROMOTION_FILES = {
  claim: 'claim.json',
  approvalRequest: 'approval-request.json',
} as const;

/** The claim object of a model version. */
export interface PromotionClaim {
  readonly schemaVersion: typeof PROMOTION_SCHEMA_VERSION;
  readonly modelVersion: string;
  readonly modelSha256: string;
  /** The execution that claimed the version. */
  readonly execution: string;
  readonly claimedAt: string;
}

/** One metric gate and how the candidate fared. */
export interface GateResult {
  readonly metricName: string;
  /** `GREATER_THAN_OR_EQUAL`, `GREATER_THAN`, `LESS_THAN_OR_EQUAL` or `LESS_THAN`. */
  readonly comparison: string;
  readonly threshold: number;
  /** The model record's value; null when the record has none (the gate fails). */
  readonly value: number | null;
  readonly passed: boolean;
}

/** Every check of a candidate, passed or not. */
export interface CandidateChecks {
  /** SHA-256 of the model object's bytes as read, and as the model record states it. */
  readonly sha256: { readonly expected: string; readonly actual: string | null; readonly passed: boolean };
  /** The drift baseline (`monitoring/baselines/<sha256>.json`) and whether it names this model. */
  readonly baseline: { readonly required: boolean; readonly key: string | null; readonly passed: boolean };
  readonly gates: readonly GateResult[];
}

/** Why a candidate was refused (`reasons` of the check, `reason` of an audit record). */
export const REJECTION_REASON = {
  hashMismatch: 'HASH_MISMATCH',
  modelMissing: 'MODEL_MISSING',
  baselineMissing: 'BASELINE_MISSING',
  baselineMismatch: 'BASELINE_MISMATCH',
  gateFailed: 'GATE_FAILED',
  approvalRejected: 'APPROVAL_REJECTED',
  approvalTimedOut: 'APPROVAL_TIMED_OUT',
} as const;

/** `lineage.status` of an audit record: what became of the promotion's lineage event. */
export const PROMOTION_LINEAGE_STATUS = {
  /** No promotion lineage for this outcome (not promoted, or the version was already live). */
  notEmitted: 'NOT_EMITTED',
  /** The promotion event and its index objects are in the curated zone (written now, or found there by a retry). */
  written: 'WRITTEN',
  /** Every try failed: the version is promoted all the same; `error` names the last failure. */
  failed: 'FAILED',
} as const;

/** A `PROMOTION_LINEAGE_STATUS` value. */
export type PromotionLineageStatus = typeof PROMOTION_LINEAGE_STATUS[keyof typeof PROMOTION_LINEAGE_STATUS];

/** The decision an approver sends (the approval task's result). */
export interface ApprovalDecision {
  /** `APPROVED` or `REJECTED`. */
  readonly decision: 'APPROVED' | 'REJECTED';
  /** The approver's verified identity (the IAM principal ARN the request was signed with). */
  readonly approver: string;
  readonly decidedAt: string;
  /** The approver's note (at most 500 printable characters; '' when none). */
  readonly comment: string;
}

/** An audit record, `PROMOTION_KEYS.audit(...)`. */
export interface PromotionAuditRecord {
  readonly schemaVersion: typeof PROMOTION_SCHEMA_VERSION;
  readonly outcome: PromotionOutcome;
  /** A `REJECTION_REASON`, a failed step's error name, or the deployment status; '' when promoted. */
  readonly reason: string;
  readonly model: string;
  readonly modelVersion: string;
  readonly modelSha256: string;
  /** `s3://` URI of the model object. */
  readonly modelUri: string;
  /** `s3://` URI of the model record. */
  readonly modelRecord: string;
  readonly checks: CandidateChecks | null;
  /** `NOT_REQUIRED`, `PENDING` (never decided), `APPROVED`, `REJECTED` or `TIMED_OUT`. */
  readonly approval: {
    readonly decision: string;
    readonly approver: string | null;
    readonly decidedAt: string | null;
    readonly comment: string | null;
  };
  readonly deployment: {
    readonly deploymentId: string | null;
    readonly previousVersion: string | null;
    readonly targetVersion: string | null;
    readonly status: string | null;
  };
  /**
   * The promotion's OpenLineage event (model version → endpoint version) in the lake's curated
   * zone: `WRITTEN` with its key once a version served all traffic, `FAILED` with the error when
   * every try failed (the version stays promoted), `NOT_EMITTED` otherwise. Absent in records
   * written before the promotion emitted lineage (and in the local run's records).
   */
  readonly lineage?: {
    readonly status: PromotionLineageStatus;
    readonly eventKey?: string;
    readonly error?: string;
  };
  /** The execution that wrote the record. */
  readonly execution: string;
  readonly startedAt: string;
  readonly recordedAt: string;
}

// ---- ModelPromotion events ----------------------------------------------------------------------

/** EventBridge `source` of every event a ModelPromotion emits. */
export const PROMOTION_EVENT_SOURCE = 'cdk-secure-mlops.model-promotion';

/** `detail-type`s of a ModelPromotion's events. */
export const PROMOTION_DETAIL_TYPE = {
  /** The version serves all traffic of the endpoint's live alias. */
  modelPromoted: 'Model Promoted',
  /** A check, a gate, the approver or the approval timeout refused the version. */
  modelPromotionRejected: 'Model Promotion Rejected',
  /** CodeDeploy rolled the rollout back. */
  modelRolloutRolledBack: 'Model Rollout Rolled Back',
  /** A step of the promotion failed (no verdict on the model). */
  modelPromotionFailed: 'Model Promotion Failed',
  /** A version passed its checks and waits for a human decision. */
  modelApprovalRequested: 'Model Approval Requested',
} as const;

/** `detail` of every ModelPromotion event: identifiers and figures only. */
export interface PromotionEventDetail {
  readonly model: string;
  readonly modelVersion: string;
  readonly modelSha256: string;
  readonly outcome: PromotionOutcome | 'approval-requested';
  readonly reason: string;
  /** `s3://` URI of the audit record (of the approval request for "Model Approval Requested"). */
  readonly record: string;
  /** The CodeDeploy deployment, when the rollout started. */
  readonly deploymentId: string | null;
  readonly execution: string;
}
