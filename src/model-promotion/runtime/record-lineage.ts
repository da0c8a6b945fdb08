/**
 * The RecordLineage task of a ModelPromotion (record-lineage.handler.ts is its entry): once a
 * model version serves all traffic of the endpoint's live alias, it writes the promotion's
 * OpenLineage run event (src/lineage/runtime/events.ts `promotionEvent`: input the model object as
 * the model record and the training event name it, output the endpoint version) with its index
 * objects to the lake's curated zone under `lineage/` (`writeLineageEvent`: SSE-KMS, each object
 * written once with If-None-Match).
 *
 * Idempotent: the event time is the task's entered time, the same for every retry of the task,
 * so the run id and every key are the same and a retry finds the objects an earlier try wrote.
 * Errors are thrown under their names (the state machine retries them, then records the failure
 * in the audit record without undoing the promotion); a malformed input is a `LineageInputError`.
 * Logs carry identifiers only.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LINEAGE_ENV, PROMOTED_MODEL_ENV, RecordLineageInput, RecordLineageResult } from './contract';
import { PROMOTION_LINEAGE_STATUS } from '../../contract/promotion';
import { LineageInputError, promotionEvent } from '../../lineage/runtime/events';
import { writeLineageEvent } from '../../lineage/runtime/writer';
import { Environment, EnvironmentError, readEnvironment } from '../../private/runtime/env';

/** The function's environment, checked. */
export interface RecordLineageEnv {
  readonly curatedBucket: string;
  readonly kmsKeyArn: string;
  readonly endpointName: string;
}

/** Read the environment the construct sets (an `EnvironmentError` names what is missing or empty). */
export function readRecordLineageEnv(env: Environment): RecordLineageEnv {
  const v = readEnvironment(env, LINEAGE_ENV, ['curatedBucket', 'kmsKeyArn', 'endpointName'], 'ModelPromotion');
  for (const k of ['curatedBucket', 'kmsKeyArn', 'endpointName'] as const) {
    if (v[k] === '') throw new EnvironmentError(`${LINEAGE_ENV[k]} must not be empty`);
  }
  return v;
}

/** A structured log line (names and identifiers only). */
export type LineageLog = (message: string, fields: Record<string, unknown>) => void;

export interface RecordLineageDeps {
  readonly s3: S3Client;
  readonly env: RecordLineageEnv;
  /** @default one JSON line on stdout */
  readonly log?: LineageLog;
}

const defaultLog: LineageLog = (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields }));

/** The task's handler: `RecordLineageInput` in, `RecordLineageResult` out. */
export function createRecordLineageHandler(deps: RecordLineageDeps): (input: RecordLineageInput) => Promise<RecordLineageResult> {
  const { s3, env } = deps;
  const log = deps.log ?? defaultLog;
  return async (input) => {
    const eventTime = Date.parse(typeof input?.promotedAt === 'string' ? input.promotedAt : '');
    if (!Number.isFinite(eventTime)) throw new LineageInputError(`promotedAt must be an ISO-8601 time, got ${JSON.stringify(input?.promotedAt)}`);
    const before = input.previousEnvironment?.[PROMOTED_MODEL_ENV.modelVersion];
    const previous = typeof before === 'string' && before !== '' && before !== input.modelVersion ? before : undefined;
    const event = promotionEvent({
      endpoint: env.endpointName,
      modelVersion: input.modelVersion,
      modelBucket: input.modelBucket,
      modelKey: input.modelKey,
      modelSha256: input.modelSha256,
      previousModelVersion: previous,
      eventTime,
    });
    const r = await writeLineageEvent(s3, { bucket: env.curatedBucket, kmsKeyArn: env.kmsKeyArn }, event);
    log('promotion lineage recorded', { endpoint: env.endpointName, modelVersion: input.modelVersion, runId: event.run.runId, eventKey: r.eventKey, written: r.written, existing: r.existing });
    return { status: PROMOTION_LINEAGE_STATUS.written, eventKey: r.eventKey, runId: event.run.runId, written: r.written, existing: r.existing };
  };
}
