/**
 * The pure half of a promotion: reading a "Model Trained" model record, evaluating the metric
 * gates, and the endpoint variables of a promoted model. No SDK, no I/O: the candidate check
 * (check-candidate.ts) and the local run call these.
 */
import { MONITORING_KEYS } from '../../../contract/monitoring';
import { GateResult, PROMOTION_MODEL_NAME_PATTERN, promotedModelVersion } from '../../../contract/promotion';
import { MODEL_SOURCE_S3, PROMOTED_MODEL_ENV } from '../contract';

/** The input names no model record of this lake and model (error name for the state machine's Catch). */
export class InvalidCandidateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCandidate';
  }
}

/** A gate as the construct configures it. */
export interface GateSpec {
  readonly metricName: string;
  readonly comparison: string;
  readonly threshold: number;
}

/** What a model record says about the model to promote. */
export interface CandidateRecord {
  readonly model: string;
  readonly modelVersion: string;
  readonly modelKey: string;
  readonly modelSha256: string;
  readonly modelBytes: number | null;
  /** The baseline key the record names, or null. */
  readonly baselineKey: string | null;
  /** The record's final metrics (name → value). */
  readonly metrics: ReadonlyMap<string, number>;
}

const SHA256 = /^[0-9a-f]{64}$/;
const JOB_RECORD = /^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}\.json$/;
const COMPARISONS = ['GREATER_THAN_OR_EQUAL', 'GREATER_THAN', 'LESS_THAN_OR_EQUAL', 'LESS_THAN'];

/**
 * The key of the model record an `s3://` URI names: it must be `<model>/records/<job>.json` in the
 * models bucket. Anything else throws `InvalidCandidateError`.
 */
export function recordKeyOf(uri: unknown, modelsBucket: string, modelName: string): string {
  const prefix = `s3://${modelsBucket}/${modelName}/records/`;
  if (typeof uri !== 'string' || !uri.startsWith(prefix) || !JOB_RECORD.test(uri.slice(prefix.length))) {
    throw new InvalidCandidateError(`expected modelRecord to be ${prefix}<training job>.json (a model record of ${modelName} in this lake's models zone), received ${describe(uri)}`);
  }
  return uri.slice(`s3://${modelsBucket}/`.length);
}

/** Read a model record's JSON text. Throws `InvalidCandidateError` naming the first bad field. */
export function parseModelRecord(text: string, modelName: string): CandidateRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidCandidateError('the model record is not JSON');
  }
  if (!isObject(raw)) throw new InvalidCandidateError('the model record is not a JSON object');
  const modelField = raw.model;
  const file = isObject(modelField) ? modelField : undefined;
  const name = typeof modelField === 'string' ? modelField : (typeof raw.modelName === 'string' ? raw.modelName : modelName);
  if (name !== modelName) throw new InvalidCandidateError(`the model record names model ${describe(name)}, expected ${modelName}`);
  if (!PROMOTION_MODEL_NAME_PATTERN.test(modelName)) throw new InvalidCandidateError(`invalid model name ${describe(modelName)}`);

  const modelKey = file?.key ?? raw.modelKey;
  const sha = file?.sha256 ?? raw.modelSha256;
  if (typeof modelKey !== 'string' || !modelKey.startsWith(`${modelName}/models/`) || modelKey.includes('..') || modelKey.length > 1024) {
    throw new InvalidCandidateError(`the model record's model.key must be an object under ${modelName}/models/, received ${describe(modelKey)}`);
  }
  if (typeof sha !== 'string' || !SHA256.test(sha)) {
    throw new InvalidCandidateError(`the model record's model.sha256 must be 64 lower-case hex characters, received ${describe(sha)}`);
  }
  const bytes = file?.bytes ?? raw.modelBytes;
  const baseline = raw.baseline;
  const baselineKey = isObject(baseline) && typeof baseline.key === 'string' ? baseline.key : (typeof raw.baselineKey === 'string' ? raw.baselineKey : null);

  const metrics = new Map<string, number>();
  if (raw.metrics !== undefined) {
    if (!Array.isArray(raw.metrics)) throw new InvalidCandidateError('the model record\'s metrics must be an array');
    for (const m of raw.metrics) {
      if (isObject(m) && typeof m.MetricName === 'string' && typeof m.Value === 'number' && Number.isFinite(m.Value)) metrics.set(m.MetricName, m.Value);
    }
  }
  return {
    model: modelName,
    modelVersion: promotedModelVersion(modelName, registryVersionOf(raw)),
    modelKey,
    modelSha256: sha,
    modelBytes: typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : null,
    baselineKey,
    metrics,
  };
}

/** The model registry version (`…:model-package/<group>/<n>` → n), else the training job's name. */
function registryVersionOf(raw: Record<string, unknown>): string {
  const arn = raw.modelPackageArn;
  const m = typeof arn === 'string' ? /:model-package\/[^/]+\/(\d{1,10})$/.exec(arn) : null;
  if (m) return m[1];
  const job = raw.trainingJobName;
  if (typeof job === 'string' && /^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$/.test(job)) return job;
  throw new InvalidCandidateError('the model record names neither a model package (modelPackageArn) nor a training job (trainingJobName)');
}

/** The gates of the `GATES` variable. Throws on anything malformed (the construct writes it). */
export function parseGates(text: string | undefined): GateSpec[] {
  const raw: unknown = text === undefined || text === '' ? [] : JSON.parse(text);
  if (!Array.isArray(raw)) throw new Error('GATES must be a JSON array');
  return raw.map((g, i) => {
    if (!isObject(g) || typeof g.metricName !== 'string' || !COMPARISONS.includes(g.comparison as string) || typeof g.threshold !== 'number' || !Number.isFinite(g.threshold)) {
      throw new Error(`GATES[${i}] must be {metricName, comparison (${COMPARISONS.join(', ')}), threshold (a finite number)}`);
    }
    return { metricName: g.metricName, comparison: g.comparison as string, threshold: g.threshold };
  });
}

/** Each gate against the metrics: a missing metric fails its gate. */
export function evaluateGates(gates: readonly GateSpec[], metrics: ReadonlyMap<string, number>): GateResult[] {
  return gates.map((g) => {
    const value = metrics.get(g.metricName);
    return { ...g, value: value ?? null, passed: value !== undefined && compare(value, g.comparison, g.threshold) };
  });
}

function compare(value: number, comparison: string, threshold: number): boolean {
  switch (comparison) {
    case 'GREATER_THAN_OR_EQUAL': return value >= threshold;
    case 'GREATER_THAN': return value > threshold;
    case 'LESS_THAN_OR_EQUAL': return value <= threshold;
    case 'LESS_THAN': return value < threshold;
    default: return false;
  }
}

/** The baseline key of a model (content-addressed by its SHA-256). */
export function baselineKeyOf(modelSha256: string): string {
  return MONITORING_KEYS.baseline(modelSha256);
}

/** The endpoint variables that make the function serve a model of the lake (`PROMOTED_MODEL_ENV`). */
export function promotedModelEnvironment(model: {
  readonly bucket: string;
  readonly key: string;
  readonly sha256: string;
  readonly modelVersion: string;
  /** The S3 version id of the object that was hashed ('' when the bucket gave none). */
  readonly objectVersion: string;
}): Record<string, string> {
  return {
    [PROMOTED_MODEL_ENV.modelSource]: MODEL_SOURCE_S3,
    [PROMOTED_MODEL_ENV.modelBucket]: model.bucket,
    [PROMOTED_MODEL_ENV.modelKey]: model.key,
    // '' unpins a version id the previous model may have set (the endpoint reads '' as none).
    [PROMOTED_MODEL_ENV.modelObjectVersion]: model.objectVersion,
    [PROMOTED_MODEL_ENV.modelSha256]: model.sha256,
    [PROMOTED_MODEL_ENV.modelVersion]: model.modelVersion,
  };
}

/**
 * The function's variables after a promotion: the current ones with the model's replaced (what the
 * state machine's `States.JsonMerge` computes; the local run calls this in-process).
 */
export function mergeModelEnvironment(current: Readonly<Record<string, string>>, promoted: Readonly<Record<string, string>>): Record<string, string> {
  return { ...current, ...promoted };
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);
  return v === undefined ? 'undefined' : typeof v;
}
