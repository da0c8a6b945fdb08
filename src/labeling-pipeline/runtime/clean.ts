/**
 * The LabelingPipeline's cleaning handler: a thin shell (S3, KMS, DynamoDB, EventBridge) around
 * `logic/cleaning.ts`. `createCleanHandler(deps)` builds it from injected clients (tests point
 * them at moto and wrap them with fault injection); `clean.handler.ts` builds the real ones.
 * This file holds the invocations (SQS batch, backfill batch: tally, logs, metrics) and the
 * order of the steps per source; the steps are in `clean-steps.ts`, the ledger items in
 * `clean-ledger.ts`, the source identity and event parsing in `clean-source.ts`.
 *
 * Every raw object version (`SourceRef`; identity bucket/key/versionId, `sourceHash` in
 * clean-source.ts) ends in exactly one place under the current cleaning-config version:
 *
 *   clean       `RecordItem` (this source owns the record id) + clean zone `KEYS.cleanRecord`
 *   duplicate   another source owns the same content-derived record id (nothing written to S3)
 *   quarantine  quarantine zone `KEYS.quarantinedInput` + `KEYS.quarantineSidecar`
 *   DLQ         a transient error on every one of the queue's receives (SQS mode)
 *
 * and the ledger's `SourceItem` (`src#<sourceHash>` / `cfg#<configVersion>`) records the outcome.
 *
 * Steps per source (each write is idempotent, so any step may be retried after a failure; the
 * functions of clean-steps.ts in brackets):
 *   0. A source without version id (a backfill item): HeadObject [identifyVersion].
 *   1. GetItem SourceItem: announced → skipped (duplicate delivery); present, not announced →
 *      announce it (a crash after the ledger write); absent → go on [resumePlaced].
 *   2. Read at most `maxBytes + 1` bytes (a size reported above `maxBytes` is not read at all):
 *      a ranged GET of the key's current version, which is the version named in the usual case;
 *      else a ranged GET of the version named. A delete marker as the current version: deleted
 *      [readSource].
 *   3. PutItem UploadClaimItem `attribute_not_exists(pk)`: the first version of an upload key
 *      claims it; another version that did → quarantined `replayed-upload` [claimUpload].
 *   4. `cleaner.clean` (MACs from KMS GenerateMac, cached per invocation) [examine].
 *   5. clean: PutItem RecordItem `attribute_not_exists(pk)`; on ConditionalCheckFailed the
 *      existing item decides: owned by this very source version → go on (a retry), else →
 *      duplicate (nothing written to S3). Then PutObject If-None-Match `*` (412 = already
 *      written). The ledger item comes first, so no clean object ever exists that the ledger does
 *      not know, whatever fails after it. (Stricter than `attribute_not_exists(pk) OR #source =
 *      :source`: a retry never overwrites the item, whose `state` and `label` the labeling handler
 *      may have moved on since.) [claimRecord]
 *   6. quarantine: input copy and sidecar, If-None-Match `*` [writeQuarantine].
 *   7. PutItem SourceItem (`attribute_not_exists(pk)`, announced=false; duplicates are written
 *      announced=true, they emit no event) [recordOutcome], PutEvents, UpdateItem
 *      announced=true if it was false [announce].
 *
 * Decisions:
 * - Source missing (NoSuchKey / NoSuchVersion: deleted before it was processed): quarantined with
 *   code `source-missing`, a sidecar only (no input copy; `inputSha256` '' and `inputBytes` 0).
 *   Without s3:ListBucket on the raw bucket S3 answers 403 instead of 404, which is treated as
 *   transient (the message ends in the DLQ).
 * - Source deleted (its key's current version is a delete marker: the upload was deleted before
 *   it was processed, though the version the event names can still be read by id): quarantined
 *   `source-deleted`, a sidecar only (nothing of it is copied or cleaned; a deleted upload does
 *   not enter the dataset). Decided at processing time: an upload deleted after it was cleaned
 *   keeps its record. S3 answers the GET of a deleted key with 404 and `x-amz-delete-marker`
 *   (an emulator without that header is asked with HeadObject); a 403 there (no s3:ListBucket)
 *   is transient, so a deleted upload is never cleaned for want of the header.
 * - Replayed upload (a presigned POST can be used again until it expires, each time a new version
 *   of the same key): the first version of a key that the handler processes claims it in the
 *   ledger; every other version is quarantined `replayed-upload`, a sidecar only. One upload
 *   grant, one record, and reconciliation still balances (each version ends in one place).
 * - Too large (reported size or the ranged GET's total above `maxBytes`): quarantined `too-large`
 *   with a sidecar only (`inputBytes` = the size, `inputSha256` '': the object was not read; the
 *   raw zone keeps the version the sidecar names).
 * - Events are at-least-once: a crash (or lost response) after PutEvents and before the
 *   announced=true update puts the event again on the retry, and so may two deliveries of one
 *   message handled at the same time; consumers dedupe on `detail.recordId` (clean) or
 *   `detail.source` + `detail.sourceVersionId` (quarantine).
 * - Counts (`Records<Outcome>`) are once per source: the delivery whose UpdateItem turned
 *   `announced` from false to true counts the outcome (for a duplicate: the one whose PutItem
 *   wrote the item); every other delivery counts `skipped`. A lost response of that very write
 *   leaves the source uncounted (the retry finds it announced); it is counted in RecordsFailed.
 * - Backfill under a new cleaning-config version re-runs every source (new ledger sort key). A
 *   source that is quarantined again gets its sidecar replaced (If-Match on the old ETag: a new
 *   object version per config version). A source that was quarantined and is now clean keeps its
 *   quarantine entry as history (this role may not delete); the SourceItem of the latest config
 *   version is authoritative, and reconciliation counts each source under that version only.
 *   A record id the new config derives again keeps its RecordItem (and label) untouched.
 * - A message that is not an S3 `Object Created` event, an object in another bucket, outside
 *   RAW_PREFIX, or a folder marker (key ending in `/`) is skipped (counted, not a failure).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseObjectCreated, sourceHash, SourceRef } from './clean-source';
import {
  backfillRef, identifyVersion, invocationMacs, isRawSource, Placed, placeSource, StepContext,
} from './clean-steps';
import { BackfillBatch, BackfillResult, PipelineConfig } from './contract';
import { compileCleaner } from './logic/cleaning';
import { metricWriter } from './pipeline-io';
import { KeyedMutex, settleAll } from '../../private/runtime/concurrency';
import { errorInfo } from '../../private/runtime/sdk-errors';

/** The environment variables (names of `ENV`) the cleaning handler reads. */
export const CLEAN_HANDLER_ENV = [
  'RAW_BUCKET', 'RAW_PREFIX', 'CLEAN_BUCKET', 'QUARANTINE_BUCKET', 'ZONE_PREFIX', 'DATA_KEY_ARN',
  'HMAC_KEY_ID', 'LEDGER_TABLE', 'EVENT_BUS_NAME', 'METRICS_NAMESPACE',
] as const;

/** Values of `CLEAN_HANDLER_ENV`. */
export type CleanHandlerEnv = Record<typeof CLEAN_HANDLER_ENV[number], string>;

/**
 * EMF metrics of the cleaning handler (namespace METRICS_NAMESPACE, dimension `service`). The
 * outcome metrics are `Records<Outcome>` (the construct's `metricRecords(outcome)`).
 */
export const CLEAN_METRIC = {
  /** Per invocation: messages (SQS) or items (backfill) received. */
  received: 'RecordsReceived',
  clean: 'RecordsClean',
  duplicate: 'RecordsDuplicate',
  quarantine: 'RecordsQuarantine',
  /** Duplicate deliveries, foreign or out-of-prefix objects, messages that are not S3 events. */
  skipped: 'RecordsSkipped',
  /** Transient failures (retried by SQS / Step Functions). */
  failed: 'RecordsFailed',
  /** One line per quarantine reason code in the invocation, with a `reason` property. */
  quarantineReason: 'QuarantineReasons',
} as const;

/** A structured logger (Powertools `Logger` fits). Only codes, outcomes, ids and sizes are passed. */
export interface CleanLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface CleanHandlerDeps {
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly ddb: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly env: CleanHandlerEnv;
  readonly config: PipelineConfig;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** @default a Powertools Logger with service = config.pipelineName */
  readonly log?: CleanLogger;
  /** Where EMF lines go. @default stdout */
  readonly writeMetrics?: (line: string) => void;
  /** Records processed at once within a batch. @default 10 */
  readonly concurrency?: number;
}

export interface CleanHandler {
  handleSqs(event: SQSEvent): Promise<SQSBatchResponse>;
  handleBackfill(batch: BackfillBatch): Promise<BackfillResult>;
}

/** Counts of one invocation. */
interface Tally {
  received: number;
  clean: number;
  duplicate: number;
  quarantine: number;
  skipped: number;
  failed: number;
  reasons: Map<string, number>;
}

/** The Powertools logger (JSON lines with level, timestamp, service) behind the `CleanLogger` interface. */
export function powertoolsLog(serviceName: string): CleanLogger {
  const logger = new Logger({ serviceName });
  return {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}

/** Build the handler. Compiles the cleaning config once (throws when it is invalid). */
export function createCleanHandler(deps: CleanHandlerDeps): CleanHandler {
  const { env, config } = deps;
  const log: CleanLogger = deps.log ?? powertoolsLog(config.pipelineName);
  const concurrency = deps.concurrency ?? 10;
  const macs = invocationMacs(deps.kms, env.HMAC_KEY_ID);
  const ctx: StepContext = {
    s3: deps.s3,
    ddb: deps.ddb,
    events: deps.events,
    env,
    pipelineName: config.pipelineName,
    cleaner: compileCleaner(config.cleaning, macs.mac),
    maxBytes: config.cleaning.maxBytes ?? 262144,
    now: deps.now ?? Date.now,
    recordLocks: new KeyedMutex(),
  };
  const sourceLocks = new KeyedMutex();
  const flush = metricsFlusher(env.METRICS_NAMESPACE, config.pipelineName, ctx.cleaner.configVersion, deps.writeMetrics);

  /** Cleans one source; throws only on transient errors. */
  async function processSource(ref: SourceRef, decoded = false): Promise<Placed> {
    if (!isRawSource(env, ref)) return { outcome: 'skipped' };
    if (ref.versionId === undefined) {
      // Backfill items carry no version: identify the current one.
      const located = await identifyVersion(ctx, ref, decoded);
      if (located.kind === 'retry') return processSource({ ...ref, key: located.key }, true);
      if (located.kind === 'gone') return { outcome: 'skipped' };
      ref = located.ref;
    }
    const found = ref;
    const hash = sourceHash(found.bucket, found.key, found.versionId);
    const result = await sourceLocks.run(hash, () => placeSource(ctx, found, hash, decoded));
    if ('retryKey' in result) return processSource({ ...found, key: result.retryKey }, true);
    return result;
  }

  /** One message or backfill item: processed, counted and logged (a transient failure rethrown). */
  async function run(tally: Tally, ref: SourceRef | undefined, context: Record<string, unknown>): Promise<void> {
    tally.received++;
    if (!ref) {
      tally.skipped++;
      log.warn('skipped: not an S3 Object Created event or a backfill item of this pipeline', { outcome: 'skipped', ...context });
      return;
    }
    let placed: Placed;
    try {
      placed = await processSource(ref);
    } catch (e) {
      tally.failed++;
      log.warn('transient failure; the source will be retried', { ...errorInfo(e), ...context });
      throw e;
    }
    countPlaced(tally, placed);
    log.info('source processed', {
      outcome: placed.outcome,
      ...(placed.codes ? { codes: placed.codes } : {}),
      ...(placed.recordId ? { recordId: placed.recordId } : {}),
      ...(placed.bytes !== undefined ? { bytes: placed.bytes } : {}),
      ...context,
    });
  }

  return {
    async handleSqs(event: SQSEvent): Promise<SQSBatchResponse> {
      macs.reset();
      const tally = newTally();
      try {
        // One processor per invocation (it holds the batch's state). Records run in parallel;
        // the per-source and per-record-id locks serialize what must not interleave.
        const processor = new BatchProcessor(EventType.SQS);
        const recordHandler = (record: SQSRecord) => run(tally, parseObjectCreated(record.body), { messageId: record.messageId });
        return await processPartialResponse(event, recordHandler, processor, { throwOnFullBatchFailure: false });
      } finally {
        macs.reset();
        flush(tally, 'sqs');
      }
    },

    /**
     * A Distributed Map batch: raw-zone keys, or quarantine sidecar keys (their `source` version is
     * re-run; other quarantine keys, e.g. the input copies, are skipped). Every item is attempted;
     * if any failed transiently the batch throws afterwards (names and counts only), and the state
     * machine's retry runs it again (the items already placed are skipped by the ledger).
     */
    async handleBackfill(batch: BackfillBatch): Promise<BackfillResult> {
      macs.reset();
      const tally = newTally();
      try {
        const bucket = batch?.BatchInput?.bucket;
        const items = Array.isArray(batch?.Items) ? batch.Items : [];
        const results = await settleAll(items, concurrency, async (item) => run(tally, await backfillRef(ctx, bucket, item), {}));
        const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failures.length) {
          const names = [...new Set(failures.map((f) => errorInfo(f.reason).error))].join(', ');
          throw new Error(`backfill: ${failures.length} of ${items.length} item(s) failed transiently (${names}); retry the batch`);
        }
        return { received: tally.received, clean: tally.clean, duplicate: tally.duplicate, quarantine: tally.quarantine, skipped: tally.skipped };
      } finally {
        macs.reset();
        flush(tally, 'backfill');
      }
    },
  };
}

function newTally(): Tally {
  return { received: 0, clean: 0, duplicate: 0, quarantine: 0, skipped: 0, failed: 0, reasons: new Map() };
}

/** Counts a placed source: its outcome and each of its quarantine codes. */
function countPlaced(tally: Tally, placed: Placed): void {
  tally[placed.outcome]++;
  for (const c of placed.codes ?? []) tally.reasons.set(c, (tally.reasons.get(c) ?? 0) + 1);
}

/** Writes an invocation's EMF lines: the outcome counts, then one line per quarantine reason. */
function metricsFlusher(namespace: string, service: string, configVersion: string, write?: (line: string) => void) {
  const writeOutcomes = metricWriter(namespace, service, [
    CLEAN_METRIC.received, CLEAN_METRIC.clean, CLEAN_METRIC.duplicate, CLEAN_METRIC.quarantine, CLEAN_METRIC.skipped, CLEAN_METRIC.failed,
  ].map((name) => ({ name, unit: 'Count' as const })), write);
  const writeReason = metricWriter(namespace, service, [{ name: CLEAN_METRIC.quarantineReason, unit: 'Count' }], write);
  return (tally: Tally, mode: 'sqs' | 'backfill'): void => {
    writeOutcomes([tally.received, tally.clean, tally.duplicate, tally.quarantine, tally.skipped, tally.failed], { mode, configVersion });
    for (const [reason, n] of tally.reasons) writeReason([n], { reason, mode });
  };
}
