/**
 * The LabelingPipeline's cleaning handler: a thin shell (S3, KMS, DynamoDB, EventBridge) around
 * `logic/cleaning.ts`. `createCleanHandler(deps)` builds it from injected clients (tests point
 * them at moto and wrap them with fault injection); `clean.handler.ts` builds the real ones.
 *
 * Every raw object version (`SourceRef`; identity bucket/key/versionId, `sourceHash` in
 * clean-support.ts) ends in exactly one place under the current cleaning-config version:
 *
 *   clean       clean zone `KEYS.cleanRecord` + `RecordItem` (this source owns the record id)
 *   duplicate   another source owns the same content-derived record id (nothing written to S3)
 *   quarantine  quarantine zone `KEYS.quarantinedInput` + `KEYS.quarantineSidecar`
 *   DLQ         a transient error on every one of the queue's receives (SQS mode)
 *
 * and the ledger's `SourceItem` (`src#<sourceHash>` / `cfg#<configVersion>`) records the outcome.
 *
 * Steps per source (each write is idempotent, so any step may be retried after a failure):
 *   1. GetItem SourceItem: announced → skipped (duplicate delivery); present, not announced →
 *      announce it (a crash after the ledger write); absent → go on.
 *   2. Read at most `maxBytes + 1` bytes (a size reported above `maxBytes` is not read at all).
 *   3. `cleaner.clean` (MACs from KMS GenerateMac, cached per invocation).
 *   4. clean: PutObject If-None-Match `*` (412 = already written), then PutItem RecordItem
 *      `attribute_not_exists(pk)`; on ConditionalCheckFailed the existing item decides: owned by
 *      this very source version → clean (a retry), else → duplicate. (Stricter than
 *      `attribute_not_exists(pk) OR #source = :source`: a retry never overwrites the item, whose
 *      `state` and `label` the labeling handler may have moved on since.)
 *   5. quarantine: input copy and sidecar, If-None-Match `*`.
 *   6. PutItem SourceItem (`attribute_not_exists(pk)`, announced=false; duplicates are written
 *      announced=true, they emit no event), PutEvents, UpdateItem announced=true.
 *
 * Decisions:
 * - Source missing (NoSuchKey / NoSuchVersion: deleted before it was processed): quarantined with
 *   code `source-missing`, a sidecar only (no input copy; `inputSha256` '' and `inputBytes` 0).
 *   Without s3:ListBucket on the raw bucket S3 answers 403 instead of 404, which is treated as
 *   transient (the message ends in the DLQ).
 * - Too large (reported size or the ranged GET's total above `maxBytes`): quarantined `too-large`
 *   with a sidecar only (`inputBytes` = the size, `inputSha256` '': the object was not read; the
 *   raw zone keeps the version the sidecar names).
 * - Events are at-least-once: a crash (or lost response) after PutEvents and before the
 *   announced=true update puts the event again on the retry; consumers dedupe on
 *   `detail.recordId` (clean) or `detail.source` + `detail.sourceVersionId` (quarantine).
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
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand, AttributeValue } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  errorInfo, isConditionFailed, isInvalidRange, isMissing, isPreconditionFailed, KeyedMutex, lenientDecodedKey,
  parseObjectCreated, recordItemToDdb, settleAll, sourceHash, SourceRef, sourceItemFromDdb, sourceItemToDdb,
} from './clean-support';
import {
  BackfillBatch, BackfillResult, DETAIL_TYPE, KEYS, LEDGER, PipelineConfig, PipelineEventDetail, QuarantineSidecar,
  RecordItem, SourceItem,
} from './contract';
import { CleanResult, compileCleaner, QuarantineCode, QuarantineReason } from './logic/cleaning';
import { sha256Hex } from './logic/json';
import { metricWriter, PipelineEvent, putEvents, s3Uri } from './pipeline-io';

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

/** What happened to one message or backfill item in this invocation. */
export type CleanOutcome = 'clean' | 'duplicate' | 'quarantine' | 'skipped';

/** Handler-level quarantine code (not produced by `logic/cleaning.ts`). */
const SOURCE_MISSING: QuarantineCode = 'source-missing';
/** KMS GenerateMac takes at most 4096 bytes: a longer identifier is MACed as its SHA-256. */
const MAX_MAC_MESSAGE = 4096;
/** Largest quarantine sidecar read back (backfill, config-version check). */
const MAX_SIDECAR_BYTES = 1_048_576;
const HEX64 = /^[0-9a-f]{64}$/;

interface Bounded { readonly bytes: Uint8Array; readonly total: number }
interface QuarantineInput { readonly bytes?: Uint8Array; readonly size: number; readonly sha256: string }

interface Tally {
  received: number;
  clean: number;
  duplicate: number;
  quarantine: number;
  skipped: number;
  failed: number;
  reasons: Map<string, number>;
}

interface Placed {
  readonly outcome: CleanOutcome;
  readonly codes?: string[];
  readonly recordId?: string;
  readonly bytes?: number;
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
  const { s3, kms, ddb, events, env, config } = deps;
  const now = deps.now ?? Date.now;
  const log: CleanLogger = deps.log ?? powertoolsLog(config.pipelineName);
  const concurrency = deps.concurrency ?? 10;
  const maxBytes = config.cleaning.maxBytes ?? 262144;
  const sourceLocks = new KeyedMutex();
  const recordLocks = new KeyedMutex();

  // MACs are cached per invocation (cleared at its start and end): one KMS call per identifier.
  let macCache = new Map<string, Promise<string>>();
  const generateMac = async (value: string): Promise<string> => {
    let message = Buffer.from(value, 'utf8');
    if (message.byteLength > MAX_MAC_MESSAGE) message = Buffer.from(`sha256:${sha256Hex(message)}`, 'utf8');
    const res = await kms.send(new GenerateMacCommand({ KeyId: env.HMAC_KEY_ID, MacAlgorithm: 'HMAC_SHA_256', Message: message }));
    if (!res.Mac) throw new Error('GenerateMac returned no MAC');
    return Buffer.from(res.Mac).toString('hex');
  };
  const mac = (value: string): Promise<string> => {
    const cache = macCache;
    let p = cache.get(value);
    if (!p) {
      p = generateMac(value);
      cache.set(value, p);
      p.catch(() => cache.delete(value));
    }
    return p;
  };
  const cleaner = compileCleaner(config.cleaning, mac);
  const configVersion = cleaner.configVersion;

  const writeOutcomes = metricWriter(env.METRICS_NAMESPACE, config.pipelineName, [
    CLEAN_METRIC.received, CLEAN_METRIC.clean, CLEAN_METRIC.duplicate, CLEAN_METRIC.quarantine, CLEAN_METRIC.skipped, CLEAN_METRIC.failed,
  ].map((name) => ({ name, unit: 'Count' as const })), deps.writeMetrics);
  const writeReason = metricWriter(env.METRICS_NAMESPACE, config.pipelineName, [{ name: CLEAN_METRIC.quarantineReason, unit: 'Count' }], deps.writeMetrics);

  const sse = { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: env.DATA_KEY_ARN };

  // ---- S3 ----

  /** Writes once; true when this call created the object, false when it existed. */
  async function putOnce(bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<boolean> {
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*', ...sse }));
      return true;
    } catch (e) {
      if (isPreconditionFailed(e)) return false;
      throw e;
    }
  }

  /** At most `limit + 1` bytes of an object version and its total size. */
  async function readBounded(bucket: string, key: string, versionId: string | undefined, limit: number): Promise<Bounded> {
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, Range: `bytes=0-${limit}` }));
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
      const total = Number(/\/(\d+)$/.exec(res.ContentRange ?? '')?.[1] ?? bytes.byteLength);
      return { bytes, total };
    } catch (e) {
      if (isInvalidRange(e)) return { bytes: new Uint8Array(), total: 0 }; // an empty object
      throw e;
    }
  }

  // ---- ledger ----

  async function getSourceItem(pk: string, sk: string): Promise<SourceItem | undefined> {
    const res = await ddb.send(new GetItemCommand({ TableName: env.LEDGER_TABLE, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }));
    return res.Item ? sourceItemFromDdb(res.Item) : undefined;
  }

  /** Puts the item if absent; otherwise returns the existing one. */
  async function putIfAbsent(item: Record<string, AttributeValue>): Promise<Record<string, AttributeValue> | undefined> {
    try {
      await ddb.send(new PutItemCommand({
        TableName: env.LEDGER_TABLE,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
      return undefined;
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      const old = (e as { Item?: Record<string, AttributeValue> }).Item;
      if (old) return old;
      const res = await ddb.send(new GetItemCommand({ TableName: env.LEDGER_TABLE, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }));
      if (!res.Item) throw new Error('ledger: conditional put failed but the item is absent (retry)');
      return res.Item;
    }
  }

  /** Puts the outcome's event (none for duplicates) and marks the source item announced. */
  async function announce(item: SourceItem): Promise<void> {
    if (item.outcome !== 'duplicate') {
      const detail: PipelineEventDetail = {
        pipeline: config.pipelineName,
        source: item.source,
        ...(item.sourceVersionId !== undefined ? { sourceVersionId: item.sourceVersionId } : {}),
        ...(item.outcome === 'clean' ? { recordId: item.recordId } : { codes: item.codes ?? [] }),
      };
      const event: PipelineEvent = { detailType: item.outcome === 'clean' ? DETAIL_TYPE.recordCleaned : DETAIL_TYPE.recordQuarantined, detail };
      await putEvents(events, env.EVENT_BUS_NAME, [event]);
    }
    await ddb.send(new UpdateItemCommand({
      TableName: env.LEDGER_TABLE,
      Key: { pk: { S: item.pk }, sk: { S: item.sk } },
      UpdateExpression: 'SET announced = :t',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':t': { BOOL: true } },
    }));
  }

  // ---- one source ----

  async function quarantine(ref: SourceRef, hash: string, reasons: QuarantineReason[], input: QuarantineInput): Promise<void> {
    const p = env.ZONE_PREFIX;
    if (input.bytes) await putOnce(env.QUARANTINE_BUCKET, KEYS.quarantinedInput(p, hash), input.bytes, 'application/octet-stream');
    const sidecar: QuarantineSidecar = {
      source: s3Uri(ref.bucket, ref.key),
      ...(ref.versionId !== undefined ? { sourceVersionId: ref.versionId } : {}),
      inputSha256: input.sha256,
      inputBytes: input.size,
      reasons,
      cleaningConfigVersion: configVersion,
      quarantinedAt: new Date(now()).toISOString(),
    };
    const key = KEYS.quarantineSidecar(p, hash);
    const body = JSON.stringify(sidecar);
    if (await putOnce(env.QUARANTINE_BUCKET, key, body, 'application/json')) return;
    // It exists: keep it when it was written under this config version (a retry), else replace it.
    const existing = await s3.send(new GetObjectCommand({ Bucket: env.QUARANTINE_BUCKET, Key: key, Range: `bytes=0-${MAX_SIDECAR_BYTES}` }));
    const text = existing.Body ? await existing.Body.transformToString() : '';
    let version: unknown;
    try {
      version = (JSON.parse(text) as { cleaningConfigVersion?: unknown }).cleaningConfigVersion;
    } catch {
      version = undefined;
    }
    if (version === configVersion) return;
    // If-Match: a concurrent writer makes this fail (412), and the retry re-checks.
    await s3.send(new PutObjectCommand({
      Bucket: env.QUARANTINE_BUCKET, Key: key, Body: body, ContentType: 'application/json', IfMatch: existing.ETag, ...sse,
    }));
  }

  async function placeClean(ref: SourceRef, result: Extract<CleanResult, { kind: 'clean' }>): Promise<'clean' | 'duplicate'> {
    return recordLocks.run(result.recordId, async () => {
      const key = KEYS.cleanRecord(env.ZONE_PREFIX, result.recordId);
      const source = s3Uri(ref.bucket, ref.key);
      await putOnce(env.CLEAN_BUCKET, key, JSON.stringify(result.record), 'application/json');
      const item: RecordItem = {
        pk: LEDGER.recordPk(result.recordId),
        sk: LEDGER.recordSk,
        recordId: result.recordId,
        source,
        ...(ref.versionId !== undefined ? { sourceVersionId: ref.versionId } : {}),
        subject: result.subject ?? '',
        cleanRef: s3Uri(env.CLEAN_BUCKET, key),
        cleanedAt: new Date(now()).toISOString(),
        state: 'cleaned',
      };
      const existing = await putIfAbsent(recordItemToDdb(item));
      if (!existing) return 'clean';
      const ours = existing.source?.S === source && existing.sourceVersionId?.S === ref.versionId;
      return ours ? 'clean' : 'duplicate';
    });
  }

  /** Cleans one source; throws only on transient errors. */
  async function processSource(ref: SourceRef, decoded = false): Promise<Placed> {
    if (ref.bucket !== env.RAW_BUCKET || !ref.key.startsWith(env.RAW_PREFIX) || ref.key.endsWith('/')) return { outcome: 'skipped' };
    if (ref.versionId === undefined) {
      // Backfill items carry no version: identify the current one.
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
        ref = {
          ...ref,
          ...(head.VersionId ? { versionId: head.VersionId } : {}),
          ...(head.ContentLength !== undefined ? { size: head.ContentLength } : {}),
        };
      } catch (e) {
        if (!isMissing(e)) throw e;
        const alt = decoded ? undefined : lenientDecodedKey(ref.key);
        if (alt !== undefined) return processSource({ ...ref, key: alt }, true);
        // Listed but gone before it was read: nothing to identify, nothing to place.
        return { outcome: 'skipped' };
      }
    }
    const hash = sourceHash(ref.bucket, ref.key, ref.versionId);
    const result = await sourceLocks.run(hash, async (): Promise<Placed | { retryKey: string }> => {
      const pk = LEDGER.sourcePk(hash);
      const sk = LEDGER.sourceSk(configVersion);
      const seen = await getSourceItem(pk, sk);
      if (seen?.announced) return { outcome: 'skipped' };
      if (seen) {
        await announce(seen);
        return { outcome: seen.outcome, codes: seen.codes, recordId: seen.recordId };
      }

      let outcome: SourceItem['outcome'];
      let recordId: string | undefined;
      let codes: string[] | undefined;
      let bytes: number | undefined;
      const tooLarge = (size: number): QuarantineReason[] => [{ code: 'too-large', ruleId: 'parse', message: `object is ${size} bytes; the limit is ${maxBytes}` }];
      if (ref.size !== undefined && ref.size > maxBytes) {
        bytes = ref.size;
        const reasons = tooLarge(ref.size);
        await quarantine(ref, hash, reasons, { size: ref.size, sha256: '' });
        outcome = 'quarantine';
        codes = ['too-large'];
      } else {
        let read: Bounded | undefined;
        try {
          read = await readBounded(ref.bucket, ref.key, ref.versionId, maxBytes);
        } catch (e) {
          if (!isMissing(e)) throw e;
          const alt = decoded ? undefined : lenientDecodedKey(ref.key);
          if (alt !== undefined) return { retryKey: alt };
        }
        if (!read) {
          const reasons: QuarantineReason[] = [{ code: SOURCE_MISSING, ruleId: 'read', message: 'the source object version no longer exists' }];
          await quarantine(ref, hash, reasons, { size: 0, sha256: '' });
          outcome = 'quarantine';
          codes = [SOURCE_MISSING];
        } else if (read.total > maxBytes) {
          bytes = read.total;
          await quarantine(ref, hash, tooLarge(read.total), { size: read.total, sha256: '' });
          outcome = 'quarantine';
          codes = ['too-large'];
        } else {
          bytes = read.total;
          const cleaned = await cleaner.clean(read.bytes, { now: now() });
          if (cleaned.kind === 'clean') {
            outcome = await placeClean(ref, cleaned);
            recordId = cleaned.recordId;
          } else {
            await quarantine(ref, hash, cleaned.reasons, { bytes: read.bytes, size: read.bytes.byteLength, sha256: cleaned.inputSha256 });
            outcome = 'quarantine';
            codes = [...new Set(cleaned.reasons.map((r) => r.code as string))];
          }
        }
      }

      const item: SourceItem = {
        pk,
        sk,
        source: s3Uri(ref.bucket, ref.key),
        ...(ref.versionId !== undefined ? { sourceVersionId: ref.versionId } : {}),
        outcome,
        ...(recordId !== undefined ? { recordId } : {}),
        ...(codes !== undefined ? { codes } : {}),
        at: new Date(now()).toISOString(),
        announced: outcome === 'duplicate',
      };
      const existing = await putIfAbsent(sourceItemToDdb(item));
      if (existing) {
        // Another delivery of this source (another execution environment) placed it first.
        const other = sourceItemFromDdb(existing);
        if (other.announced) return { outcome: 'skipped' };
        await announce(other);
        return { outcome: other.outcome, codes: other.codes, recordId: other.recordId, bytes };
      }
      if (outcome !== 'duplicate') await announce(item);
      return { outcome, codes, recordId, bytes };
    });
    if ('retryKey' in result) return processSource({ ...ref, key: result.retryKey }, true);
    return result;
  }

  // ---- invocation bookkeeping ----

  const newTally = (): Tally => ({ received: 0, clean: 0, duplicate: 0, quarantine: 0, skipped: 0, failed: 0, reasons: new Map() });

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
    tally[placed.outcome]++;
    for (const c of placed.codes ?? []) tally.reasons.set(c, (tally.reasons.get(c) ?? 0) + 1);
    log.info('source processed', {
      outcome: placed.outcome,
      ...(placed.codes ? { codes: placed.codes } : {}),
      ...(placed.recordId ? { recordId: placed.recordId } : {}),
      ...(placed.bytes !== undefined ? { bytes: placed.bytes } : {}),
      ...context,
    });
  }

  function flush(tally: Tally, mode: 'sqs' | 'backfill'): void {
    writeOutcomes([tally.received, tally.clean, tally.duplicate, tally.quarantine, tally.skipped, tally.failed], { mode, configVersion });
    for (const [reason, n] of tally.reasons) writeReason([n], { reason, mode });
  }

  return {
    async handleSqs(event: SQSEvent): Promise<SQSBatchResponse> {
      macCache = new Map();
      const tally = newTally();
      try {
        // One processor per invocation (it holds the batch's state). Records run in parallel;
        // the per-source and per-record-id locks serialize what must not interleave.
        const processor = new BatchProcessor(EventType.SQS);
        const recordHandler = (record: SQSRecord) => run(tally, parseObjectCreated(record.body), { messageId: record.messageId });
        return await processPartialResponse(event, recordHandler, processor, { throwOnFullBatchFailure: false });
      } finally {
        macCache = new Map();
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
      macCache = new Map();
      const tally = newTally();
      try {
        const bucket = batch?.BatchInput?.bucket;
        const items = Array.isArray(batch?.Items) ? batch.Items : [];
        const results = await settleAll(items, concurrency, async (item) => run(tally, await backfillRef(bucket, item), {}));
        const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failures.length) {
          const names = [...new Set(failures.map((f) => errorInfo(f.reason).error))].join(', ');
          throw new Error(`backfill: ${failures.length} of ${items.length} item(s) failed transiently (${names}); retry the batch`);
        }
        return { received: tally.received, clean: tally.clean, duplicate: tally.duplicate, quarantine: tally.quarantine, skipped: tally.skipped };
      } finally {
        macCache = new Map();
        flush(tally, 'backfill');
      }
    },
  };

  /** The raw object version a backfill item stands for (undefined: skip it). */
  async function backfillRef(bucket: unknown, item: unknown): Promise<SourceRef | undefined> {
    const it = item as { Key?: unknown; Size?: unknown; VersionId?: unknown } | undefined;
    if (typeof bucket !== 'string' || typeof it?.Key !== 'string' || it.Key === '') return undefined;
    const key = it.Key;
    if (bucket === env.RAW_BUCKET) {
      return {
        bucket,
        key,
        ...(typeof it.VersionId === 'string' && it.VersionId !== '' ? { versionId: it.VersionId } : {}),
        ...(typeof it.Size === 'number' && Number.isSafeInteger(it.Size) && it.Size >= 0 ? { size: it.Size } : {}),
      };
    }
    if (bucket !== env.QUARANTINE_BUCKET) return undefined;
    const prefix = `${env.ZONE_PREFIX}quarantine/`;
    const hash = key.startsWith(prefix) ? key.slice(prefix.length, -'/reasons.json'.length) : '';
    if (!HEX64.test(hash) || KEYS.quarantineSidecar(env.ZONE_PREFIX, hash) !== key) return undefined;
    let sidecar: Partial<QuarantineSidecar>;
    try {
      const { bytes, total } = await readBounded(bucket, key, undefined, MAX_SIDECAR_BYTES);
      if (total > MAX_SIDECAR_BYTES) return undefined;
      sidecar = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<QuarantineSidecar>;
    } catch (e) {
      if (isMissing(e) || e instanceof SyntaxError) return undefined;
      throw e;
    }
    const rawPrefix = `s3://${env.RAW_BUCKET}/`;
    if (typeof sidecar?.source !== 'string' || !sidecar.source.startsWith(rawPrefix)) return undefined;
    const version = sidecar.sourceVersionId;
    return { bucket: env.RAW_BUCKET, key: sidecar.source.slice(rawPrefix.length), ...(typeof version === 'string' && version ? { versionId: version } : {}) };
  }
}
