/**
 * What the ModelPromotion construct and its handlers both read: the environment variables the
 * construct sets, the candidate check's input and result (the state machine reads the result's
 * fields by JSONPath), and the endpoint variables a promotion sets. No aws-cdk-lib here: the
 * handlers bundle this file.
 */
import { CandidateChecks } from '../../contract/promotion';

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
