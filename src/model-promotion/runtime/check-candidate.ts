/**
 * The CheckCandidate task of a ModelPromotion (check-candidate.handler.ts is its entry): given the
 * model record a "Model Trained" event names, it
 *
 * 1. checks that the URI is a model record of this model in this lake's models zone (else it
 *    throws `InvalidCandidate`: an event may be forged, nothing is written);
 * 2. reads the record and claims its model version (`claim.json`, written once with
 *    If-None-Match): a version claimed by another execution is a DUPLICATE and stops there (a
 *    retry of this execution finds its own claim and goes on). An operator's execution whose input
 *    names the claiming execution in `retryOf` takes the claim over (If-Match) when that execution
 *    of this state machine ended without promoting (FAILED, TIMED_OUT, ABORTED);
 * 3. streams the model object and computes its SHA-256, which must be the record's;
 * 4. when baselines are required, reads `monitoring/baselines/<sha256>.json`, whose `modelSha256`
 *    must be the model's;
 * 5. evaluates the metric gates against the record's metrics.
 *
 * It returns every check's outcome (`CheckCandidateResult`); a failed check is a REJECTED status,
 * never an error. Logs carry identifiers and outcomes only.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CANDIDATE_STATUS, CHECK_ENV, CheckCandidateInput, CheckCandidateResult } from './contract';
import {
  baselineKeyOf, evaluateGates, GateSpec, InvalidCandidateError, parseGates, parseModelRecord, promotedModelEnvironment, recordKeyOf,
} from './logic/candidate';
import { PROMOTION_KEYS, PROMOTION_SCHEMA_VERSION, PromotionClaim, REJECTION_REASON } from '../../contract/promotion';
import { Environment, EnvironmentError, readEnvironment } from '../../private/runtime/env';
import { errorInfo, isMissing, isPreconditionFailed } from '../../private/runtime/sdk-errors';

/** The function's environment, checked. */
export interface CheckCandidateEnv {
  readonly modelsBucket: string;
  readonly modelName: string;
  readonly requireBaseline: boolean;
  readonly gates: GateSpec[];
}

/** Read the environment the construct sets (an `EnvironmentError` names what is missing or malformed). */
export function readCheckCandidateEnv(env: Environment): CheckCandidateEnv {
  const v = readEnvironment(env, CHECK_ENV, ['modelsBucket', 'modelName', 'requireBaseline', 'gates'], 'ModelPromotion');
  if (v.requireBaseline !== 'true' && v.requireBaseline !== 'false') throw new EnvironmentError(`${CHECK_ENV.requireBaseline} must be true or false`);
  let gates: GateSpec[];
  try {
    gates = parseGates(v.gates);
  } catch (e) {
    throw new EnvironmentError(`${CHECK_ENV.gates}: ${(e as Error).message}`);
  }
  return { modelsBucket: v.modelsBucket, modelName: v.modelName, requireBaseline: v.requireBaseline === 'true', gates };
}

/** A structured log line (names and figures only). */
export type CheckLog = (message: string, fields: Record<string, unknown>) => void;

export interface CheckCandidateDeps {
  readonly s3: S3Client;
  /** For an operator's retry (DescribeExecution of the execution it retries). */
  readonly sfn?: SFNClient;
  readonly env: CheckCandidateEnv;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default one JSON line on stdout */
  readonly log?: CheckLog;
}

const defaultLog: CheckLog = (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields }));

/** The task's handler: `CheckCandidateInput` in, `CheckCandidateResult` out, or an `InvalidCandidate` error. */
export function createCheckCandidateHandler(deps: CheckCandidateDeps): (input: CheckCandidateInput) => Promise<CheckCandidateResult> {
  const { s3, env } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? defaultLog;
  const bucket = env.modelsBucket;

  return async (input) => {
    if (typeof input?.execution !== 'string' || input.execution === '') throw new InvalidCandidateError('expected execution (the execution id)');
    const recordKey = recordKeyOf(input?.modelRecord, bucket, env.modelName);
    const recordText = await readText(s3, bucket, recordKey);
    if (recordText === undefined) throw new InvalidCandidateError(`no model record at s3://${bucket}/${recordKey}`);
    const record = parseModelRecord(recordText, env.modelName);
    const { modelVersion } = record;

    const environment = (objectVersion: string) =>
      promotedModelEnvironment({ bucket, key: record.modelKey, sha256: record.modelSha256, modelVersion, objectVersion });
    const base = {
      model: record.model,
      modelVersion,
      modelSha256: record.modelSha256,
      modelBucket: bucket,
      modelKey: record.modelKey,
      modelUri: `s3://${bucket}/${record.modelKey}`,
      modelRecord: input.modelRecord,
      auditPrefix: PROMOTION_KEYS.versionPrefix(modelVersion),
      approvalKey: PROMOTION_KEYS.approvalRequest(modelVersion),
      checkedAt: new Date(now()).toISOString(),
    };

    // 2. One execution per version.
    const retryOf = typeof input.request?.retryOf === 'string' ? input.request.retryOf : undefined;
    const claimed = await claim(deps, bucket, {
      schemaVersion: PROMOTION_SCHEMA_VERSION, modelVersion, modelSha256: record.modelSha256, execution: input.execution, claimedAt: base.checkedAt,
    }, retryOf);
    if (!claimed) {
      log('model version already claimed by another execution', { modelVersion });
      return {
        ...base,
        status: CANDIDATE_STATUS.duplicate,
        reasons: [],
        reason: '',
        checks: {
          sha256: { expected: record.modelSha256, actual: null, passed: false },
          baseline: { required: env.requireBaseline, key: null, passed: false },
          gates: [],
        },
        environment: environment(''),
      };
    }

    // 3. The model's bytes.
    const reasons: string[] = [];
    const read = await hashObject(s3, bucket, record.modelKey);
    if (!read) reasons.push(REJECTION_REASON.modelMissing);
    else if (read.sha256 !== record.modelSha256) reasons.push(REJECTION_REASON.hashMismatch);

    // 4. The drift baseline.
    let baselineKey: string | null = null;
    let baselinePassed = true;
    if (env.requireBaseline) {
      baselineKey = baselineKeyOf(record.modelSha256);
      const text = await readText(s3, bucket, baselineKey);
      if (text === undefined) {
        baselinePassed = false;
        reasons.push(REJECTION_REASON.baselineMissing);
      } else if (baselineSha(text) !== record.modelSha256) {
        baselinePassed = false;
        reasons.push(REJECTION_REASON.baselineMismatch);
      }
    }

    // 5. The gates.
    const gates = evaluateGates(env.gates, record.metrics);
    if (gates.some((g) => !g.passed)) reasons.push(REJECTION_REASON.gateFailed);

    const result: CheckCandidateResult = {
      ...base,
      status: reasons.length === 0 ? CANDIDATE_STATUS.accepted : CANDIDATE_STATUS.rejected,
      reasons,
      reason: reasons[0] ?? '',
      checks: {
        sha256: { expected: record.modelSha256, actual: read?.sha256 ?? null, passed: read?.sha256 === record.modelSha256 },
        baseline: { required: env.requireBaseline, key: baselineKey, passed: baselinePassed },
        gates,
      },
      environment: environment(read?.versionId ?? ''),
    };
    log('candidate checked', { modelVersion, status: result.status, reasons, modelBytes: read?.bytes ?? null });
    return result;
  };
}

/** Statuses of an execution that ended without promoting (a Succeeded one promoted, or was a duplicate). */
const RETRIABLE = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/**
 * Write the claim once; true when this execution holds it: written now, written by an earlier try
 * of it, or taken over from `retryOf` (the execution that holds it, of this state machine, ended
 * without promoting).
 */
async function claim(deps: CheckCandidateDeps, bucket: string, c: PromotionClaim, retryOf?: string): Promise<boolean> {
  const { s3 } = deps;
  const key = PROMOTION_KEYS.claim(c.modelVersion);
  const body = JSON.stringify(c);
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
    return true;
  } catch (e) {
    if (!isPreconditionFailed(e)) throw e;
  }
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  let held: PromotionClaim | undefined;
  try {
    held = JSON.parse(await r.Body!.transformToString('utf8'));
  } catch {
    return false;
  }
  if (held?.execution === c.execution) return true;
  if (retryOf === undefined || held?.execution !== retryOf || !deps.sfn || !sameStateMachine(retryOf, c.execution)) return false;
  const described = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: retryOf }));
  if (!RETRIABLE.includes(described.status ?? '')) return false;
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', IfMatch: r.ETag }));
    return true;
  } catch (e) {
    if (isPreconditionFailed(e)) return false; // another retry took it first
    throw e;
  }
}

/** Two execution ARNs of one state machine (`arn:<p>:states:<r>:<a>:execution:<machine>:<name>`). */
function sameStateMachine(a: string, b: string): boolean {
  const machine = (arn: string) => {
    const parts = arn.split(':');
    return parts.length === 8 && parts[5] === 'execution' ? parts.slice(0, 7).join(':') : undefined;
  };
  return machine(a) !== undefined && machine(a) === machine(b);
}

async function readText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await r.Body!.transformToString('utf8');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

/** SHA-256 of an object, streamed; undefined when it does not exist. */
async function hashObject(s3: S3Client, bucket: string, key: string): Promise<{ sha256: string; bytes: number; versionId: string } | undefined> {
  let r;
  try {
    r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw Object.assign(e as Error, { info: errorInfo(e) });
  }
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of r.Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes, versionId: r.VersionId ?? '' };
}

function baselineSha(text: string): string | undefined {
  try {
    const b = JSON.parse(text);
    return typeof b?.modelSha256 === 'string' ? b.modelSha256 : undefined;
  } catch {
    return undefined;
  }
}
