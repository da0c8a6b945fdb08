/**
 * What the ModelPromotion construct and its handlers both read: the environment variables the
 * construct sets, the candidate check's input and result (the state machine reads the result's
 * fields by JSONPath), and the endpoint variables a promotion sets. No aws-cdk-lib here: the
 * handlers bundle this file.
 */
import { CandidateChecks, PROMOTION_LINEAGE_STATUS } from '../../contract/promotion';

/** Environment variables of the candidate check. */
export const CHECK_ENV = {
  /** The lake's models zone bucket. */
  modelsBucket: 'MODELS_BUCKET',
  /** The model whose versions are promoted. */
  modelName: 'MODEL_NAME',
  /** `true`: a drift baseline naming the model's SHA-256 must exist. */
  requireBaseline: 'REQUIRE_BASELINE',
  /** JSON array of `{metricName, comparison, threshold}`. */
  gates: 'GATES',
  metricsNamespace: 'METRICS_NAMESPACE',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** Environment variables of the approval handler. */
export const APPROVE_ENV = {
  modelsBucket: 'MODELS_BUCKET',
  modelName: 'MODEL_NAME',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;

/**
 * The ServerlessModelEndpoint variables a promotion sets (the names of the endpoint's own
 * contract, `ENDPOINT_ENV`; a test holds them equal). Every other variable of the function is kept.
 */
export const PROMOTED_MODEL_ENV = {
  modelSource: 'MODEL_SOURCE',
  modelBucket: 'MODEL_BUCKET',
  modelKey: 'MODEL_KEY',
  modelObjectVersion: 'MODEL_OBJECT_VERSION',
  modelSha256: 'MODEL_SHA256',
  modelVersion: 'MODEL_VERSION',
} as const;

/** `MODEL_SOURCE` of a model read from S3. */
export const MODEL_SOURCE_S3 = 's3';

/** The alias a promotion rolls out (the endpoint's live alias). */
export const LIVE_ALIAS = 'live';

/** The candidate check's input (the state machine's Payload). */
export interface CheckCandidateInput {
  /** `s3://<models bucket>/<model>/records/<training job>.json` ("Model Trained" `modelRecord`). */
  readonly modelRecord: string;
  /** The execution's id (the claim names it). */
  readonly execution: string;
  /**
   * The execution's input (`$$.Execution.Input`): an operator's retry names, in `retryOf`, the
   * execution that claimed the version and ended without promoting it (failed, rejected, rolled
   * back, timed out or aborted). The trigger's input never carries it.
   */
  readonly request?: { readonly retryOf?: unknown };
}

/** `status` of a checked candidate. */
export const CANDIDATE_STATUS = {
  /** Every check passed: roll it out (after approval, when required). */
  accepted: 'ACCEPTED',
  /** A check failed: audit and stop. */
  rejected: 'REJECTED',
  /** Another execution claimed this version: stop, nothing written. */
  duplicate: 'DUPLICATE',
} as const;

/** The candidate check's result. Every field is always present (the state machine reads them). */
export interface CheckCandidateResult {
  readonly status: typeof CANDIDATE_STATUS[keyof typeof CANDIDATE_STATUS];
  readonly model: string;
  readonly modelVersion: string;
  readonly modelSha256: string;
  readonly modelBucket: string;
  readonly modelKey: string;
  /** `s3://` URI of the model object. */
  readonly modelUri: string;
  readonly modelRecord: string;
  /** Every failed check (`REJECTION_REASON` values); empty when accepted. */
  readonly reasons: string[];
  /** The first of `reasons`, or ''. */
  readonly reason: string;
  readonly checks: CandidateChecks;
  /** The version's folder in the models zone (`PROMOTION_KEYS.versionPrefix`). */
  readonly auditPrefix: string;
  /** The key of the version's approval request. */
  readonly approvalKey: string;
  /** The endpoint variables to set (`PROMOTED_MODEL_ENV` names → values). */
  readonly environment: Record<string, string>;
  readonly checkedAt: string;
}

/** Environment variables of the lineage recorder. */
export const LINEAGE_ENV = {
  /** The lake's curated zone bucket (the lineage store, `lineage/`). */
  curatedBucket: 'CURATED_BUCKET',
  /** The lake's key (SSE-KMS of every lineage object). */
  kmsKeyArn: 'LAKE_KEY_ARN',
  /** The endpoint's name in lineage: its capture name, or `ModelPromotion.lineageEndpointName`. */
  endpointName: 'ENDPOINT_NAME',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** The lineage recorder's input (the RecordLineage task's Payload), once a version serves all traffic. */
export interface RecordLineageInput {
  /** The promoted version (`<model>@<n>`). */
  readonly modelVersion: string;
  readonly modelSha256: string;
  /** The model object, exactly as the model record (and the training event) name it. */
  readonly modelBucket: string;
  readonly modelKey: string;
  /**
   * The endpoint function's variables before the update (`$.function.variables`): the version it
   * served before is their `MODEL_VERSION`, when set. The whole object, because a state machine
   * path to a missing variable would fail the execution after the rollout.
   */
  readonly previousEnvironment?: Record<string, string>;
  /** When the version served all traffic: the task's `$$.State.EnteredTime` (the same for every retry, so a retry writes the same event). */
  readonly promotedAt: string;
}

/** The lineage recorder's result. */
export interface RecordLineageResult {
  readonly status: typeof PROMOTION_LINEAGE_STATUS.written;
  /** The event's key in the curated zone. */
  readonly eventKey: string;
  readonly runId: string;
  /** Objects written now, and objects found already there (a retry). */
  readonly written: number;
  readonly existing: number;
}
