/**
 * The steps the cleaning handler takes for one raw object version (`SourceRef`), each a function
 * of the `StepContext` (clients, environment, the compiled cleaner, the clock) and its inputs.
 * `clean.ts` runs them in this order, the ledger steps under a per-source lock:
 *
 *   placeSource      everything below identifyVersion, for one source under its lock
 *   identifyVersion  HeadObject: the current version of a backfill item (which names none)
 *   resumePlaced     GetItem SourceItem: placed before under this config version → skip or announce
 *   readSource       ranged GetObject of at most maxBytes + 1 bytes of the key's current version,
 *                    then of the named version if another one is current (none when the reported
 *                    size is already over maxBytes); a delete marker as the current version: deleted
 *   claimUpload      PutItem UploadClaimItem if absent: the first version of an upload key claims it
 *   examine          validate, clean and pseudonymize (`logic/cleaning.ts`; MACs from KMS) → a verdict
 *   placeVerdict     clean: `claimRecord` (PutItem RecordItem, then PutObject If-None-Match `*`);
 *                    quarantine: `writeQuarantine` (input copy, sidecar)
 *   recordOutcome    PutItem SourceItem, then `announce` (PutEvents, UpdateItem announced=true)
 *
 * and `backfillRef`, the source a backfill item stands for, and `invocationMacs`, the KMS MACs
 * the cleaner pseudonymizes with. Every write is idempotent; the
 * module header of `clean.ts` gives the semantics.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSourceItem, markAnnounced, putIfAbsent, recordItemToDdb, sourceItemFromDdb, sourceItemToDdb, uploadClaimToDdb } from './clean-ledger';
import { lenientDecodedKey, SourceRef, uploadKeyHash } from './clean-source';
import { DETAIL_TYPE, ENV, KEYS, LEDGER, PipelineEventDetail, QuarantineSidecar, RecordItem, SourceItem, UploadClaimItem } from './contract';
import { Cleaner, CleanRecord, QuarantineCode, QuarantineReason } from './logic/cleaning';
import { sha256Hex } from './logic/json';
import { PipelineEvent, putEvents, s3Uri } from './pipeline-io';
import { KeyedMutex } from '../../private/runtime/concurrency';
import { isInvalidRange, isMissing, isPreconditionFailed } from '../../private/runtime/sdk-errors';

/** What happened to one message or backfill item in this invocation. */
export type CleanOutcome = 'clean' | 'duplicate' | 'quarantine' | 'skipped';

/** The environment variables the steps read. */
export type StepEnv = Readonly<Record<Extract<keyof typeof ENV,
  'RAW_BUCKET' | 'RAW_PREFIX' | 'CLEAN_BUCKET' | 'QUARANTINE_BUCKET' | 'ZONE_PREFIX' | 'DATA_KEY_ARN' | 'LEDGER_TABLE' | 'EVENT_BUS_NAME'>, string>>;

/** What every step works with; built once per execution environment by `createCleanHandler`. */
export interface StepContext {
  readonly s3: S3Client;
  readonly ddb: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly env: StepEnv;
  readonly pipelineName: string;
  /** The compiled cleaning config (its MAC function pseudonymizes through KMS). */
  readonly cleaner: Cleaner;
  /** Largest object cleaned, bytes. */
  readonly maxBytes: number;
  /** Clock, epoch ms. */
  readonly now: () => number;
  /** Serializes the claims of one record id. */
  readonly recordLocks: KeyedMutex;
}

/** How one source ended in this invocation, for the tally and the log line. */
export interface Placed {
  readonly outcome: CleanOutcome;
  readonly codes?: string[];
  readonly recordId?: string;
  readonly bytes?: number;
}

/** The ledger key of a source under the current config version. */
export interface SourceKey {
  readonly pk: string;
  readonly sk: string;
}

/** Where a source's key leads: a version to place, another key to try (URL-decoded), or nothing. */
export type Located =
  | { readonly kind: 'found'; readonly ref: SourceRef }
  | { readonly kind: 'retry'; readonly key: string }
  | { readonly kind: 'gone' };

/** What reading a source gave. */
export type SourceRead =
  | { readonly kind: 'read'; readonly bytes: Uint8Array; readonly total: number }
  /** Over maxBytes, as reported by the event or by the ranged GET (not read). */
  | { readonly kind: 'too-large'; readonly size: number }
  /** The version no longer exists. */
  | { readonly kind: 'missing' }
  /** The upload was deleted: a delete marker is the key's current version (the version itself still exists). */
  | { readonly kind: 'deleted' }
  /** The key as given does not exist; its URL-decoded form is to be tried instead. */
  | { readonly kind: 'retry'; readonly key: string };

/** What a quarantine entry records of the input. */
export interface QuarantineInput {
  /** The bytes to copy into the quarantine zone (absent: a sidecar only). */
  readonly bytes?: Uint8Array;
  readonly size: number;
  readonly sha256: string;
}

/** Where a source belongs. */
export type Verdict =
  | { readonly kind: 'clean'; readonly result: CleanRecord }
  | { readonly kind: 'quarantine'; readonly reasons: QuarantineReason[]; readonly input: QuarantineInput; readonly codes: string[] };

/** The outcome a source's placement gave, before it is recorded in the ledger. */
export interface Placement {
  readonly outcome: SourceItem['outcome'];
  readonly recordId?: string;
  readonly codes?: string[];
}

/**
 * KMS GenerateMac takes at most 4096 bytes: a longer identifier is MACed as the byte 0xFF followed
 * by its SHA-256 (32 bytes). 0xFF never occurs in UTF-8, so that message is never the UTF-8 text of
 * a shorter identifier (an identifier spelled `sha256:<hex>` keeps its own pseudonym), nor a
 * caller's message (0xFE, private/runtime/caller-identity.ts).
 */
const MAX_MAC_MESSAGE = 4096;
const LONG_IDENTIFIER = 0xff;
/** Handler-level quarantine codes (not produced by `logic/cleaning.ts`). */
const SOURCE_MISSING: QuarantineCode = 'source-missing';
const SOURCE_DELETED: QuarantineCode = 'source-deleted';
const REPLAYED_UPLOAD: QuarantineCode = 'replayed-upload';
/** Largest quarantine sidecar read back (backfill, config-version check). */
const MAX_SIDECAR_BYTES = 1_048_576;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Pseudonymization MACs (KMS GenerateMac, HMAC-SHA-256) for the cleaner, cached per invocation
 * (`reset()` at its start and end): one KMS call per identifier. A failed call is not cached.
 */
export function invocationMacs(kms: KMSClient, keyId: string): { readonly mac: (value: string) => Promise<string>; reset(): void } {
  let macCache = new Map<string, Promise<string>>();
  const generateMac = async (value: string): Promise<string> => {
    // The cleaner refuses ill-formed text (lone surrogates), so this UTF-8 encoding is injective.
    let message = Buffer.from(value, 'utf8');
    if (message.byteLength > MAX_MAC_MESSAGE) message = Buffer.concat([Buffer.from([LONG_IDENTIFIER]), Buffer.from(sha256Hex(message), 'hex')]);
    const res = await kms.send(new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: 'HMAC_SHA_256', Message: message }));
    if (!res.Mac) throw new Error('GenerateMac returned no MAC');
    return Buffer.from(res.Mac).toString('hex');
  };
  return {
    mac: (value: string): Promise<string> => {
      const cache = macCache;
      let p = cache.get(value);
      if (!p) {
        p = generateMac(value);
        cache.set(value, p);
        p.catch(() => cache.delete(value));
      }
      return p;
    },
    reset: () => {
      macCache = new Map();
    },
  };
}

/**
 * One source (its version known) under its lock: resumed from the ledger, or read, examined,
 * placed and recorded. `retryKey`: the key as given does not exist, try its URL-decoded form.
 */
export async function placeSource(ctx: StepContext, ref: SourceRef, hash: string, decoded: boolean): Promise<Placed | { readonly retryKey: string }> {
  const key: SourceKey = { pk: LEDGER.sourcePk(hash), sk: LEDGER.sourceSk(ctx.cleaner.configVersion) };
  const resumed = await resumePlaced(ctx, key);
  if (resumed) return resumed;
  const read = await readSource(ctx, ref, decoded);
  if (read.kind === 'retry') return { retryKey: read.key };
  const verdict = (await claimUpload(ctx, ref)) ? await examine(ctx, read) : replayed(read);
  const placement = await placeVerdict(ctx, ref, hash, verdict);
  return recordOutcome(ctx, ref, key, placement, sourceBytes(read));
}

/**
 * True when this version of the upload key is the one that claims it: the first version processed
 * (now, or on an earlier try), or any version when the bucket gives none. A presigned POST can be
 * replayed until it expires, each time a new version of the same key: one upload grant gives one
 * record, so every later version is quarantined `replayed-upload`. "First" is the first version the
 * handler processes; S3 delivers the events of one key in order, so that is the first upload
 * unless an event was redelivered late.
 */
export async function claimUpload(ctx: StepContext, ref: SourceRef): Promise<boolean> {
  const claim: UploadClaimItem = {
    pk: LEDGER.uploadPk(uploadKeyHash(ref.bucket, ref.key)),
    sk: LEDGER.uploadSk,
    source: s3Uri(ref.bucket, ref.key),
    ...(ref.versionId !== undefined ? { sourceVersionId: ref.versionId } : {}),
    at: new Date(ctx.now()).toISOString(),
  };
  const existing = await putIfAbsent(ctx.ddb, ctx.env.LEDGER_TABLE, uploadClaimToDdb(claim));
  return !existing || existing.sourceVersionId?.S === ref.versionId;
}

/** The verdict for a version that did not claim its upload key: quarantined, a sidecar only (the raw zone keeps the version). */
function replayed(read: Exclude<SourceRead, { kind: 'retry' }>): Verdict {
  return {
    kind: 'quarantine',
    reasons: [{ code: REPLAYED_UPLOAD, ruleId: 'upload', message: 'another version of this upload key was processed first; one upload grant gives one record' }],
    input: { size: sourceBytes(read) ?? 0, sha256: read.kind === 'read' ? sha256Hex(read.bytes) : '' },
    codes: [REPLAYED_UPLOAD],
  };
}

/** True for an object of this pipeline's raw zone that is not a folder marker. */
export function isRawSource(env: StepEnv, ref: SourceRef): boolean {
  return ref.bucket === env.RAW_BUCKET && ref.key.startsWith(env.RAW_PREFIX) && !ref.key.endsWith('/');
}

/** HeadObject: the current version (and size) of a source that names no version. */
export async function identifyVersion(ctx: StepContext, ref: SourceRef, decoded: boolean): Promise<Located> {
  try {
    const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return {
      kind: 'found',
      ref: {
        ...ref,
        ...(head.VersionId ? { versionId: head.VersionId } : {}),
        ...(head.ContentLength !== undefined ? { size: head.ContentLength } : {}),
      },
    };
  } catch (e) {
    if (!isMissing(e)) throw e;
    const alt = decoded ? undefined : lenientDecodedKey(ref.key);
    // Listed but gone before it was read: nothing to identify, nothing to place.
    return alt !== undefined ? { kind: 'retry', key: alt } : { kind: 'gone' };
  }
}

/**
 * A source placed before under this config version (undefined: not yet): skipped when its
 * outcome was announced, else announced now (a crash after the ledger write, or another delivery
 * still at work). It counts in its outcome only when this call marked it announced.
 */
export async function resumePlaced(ctx: StepContext, key: SourceKey): Promise<Placed | undefined> {
  const seen = await getSourceItem(ctx.ddb, ctx.env.LEDGER_TABLE, key.pk, key.sk);
  if (seen?.announced) return { outcome: 'skipped' };
  if (!seen) return undefined;
  if (!(await announce(ctx, seen))) return { outcome: 'skipped' };
  return { outcome: seen.outcome, codes: seen.codes, recordId: seen.recordId };
}

/**
 * At most `maxBytes + 1` bytes of the source; a size reported above `maxBytes` is not read at all.
 * A source whose key has a delete marker as its current version is `deleted`: the upload was
 * deleted before it was processed, and must not enter the dataset (it is quarantined
 * `source-deleted`, a sidecar only), although the version it names can still be read.
 */
export async function readSource(ctx: StepContext, ref: SourceRef, decoded: boolean): Promise<SourceRead> {
  if (ref.size !== undefined && ref.size > ctx.maxBytes) return { kind: 'too-large', size: ref.size };
  let read: { readonly bytes: Uint8Array; readonly total: number } | 'deleted';
  try {
    read = await readCurrentVersion(ctx.s3, ref, ctx.maxBytes);
  } catch (e) {
    if (!isMissing(e)) throw e;
    const alt = decoded ? undefined : lenientDecodedKey(ref.key);
    return alt !== undefined ? { kind: 'retry', key: alt } : { kind: 'missing' };
  }
  if (read === 'deleted') return { kind: 'deleted' };
  if (read.total > ctx.maxBytes) return { kind: 'too-large', size: read.total };
  return { kind: 'read', bytes: read.bytes, total: read.total };
}

/** Bytes of the source that count for the log line (undefined: not known). */
export function sourceBytes(read: Exclude<SourceRead, { kind: 'retry' }>): number | undefined {
  if (read.kind === 'deleted') return undefined;
  return read.kind === 'read' ? read.total : read.kind === 'too-large' ? read.size : undefined;
}

/** Validate, clean and pseudonymize what was read (the cleaner calls KMS for MACs): the verdict. */
export async function examine(ctx: StepContext, read: Exclude<SourceRead, { kind: 'retry' }>): Promise<Verdict> {
  switch (read.kind) {
    case 'too-large':
      return {
        kind: 'quarantine',
        reasons: [{ code: 'too-large', ruleId: 'parse', message: `object is ${read.size} bytes; the limit is ${ctx.maxBytes}` }],
        input: { size: read.size, sha256: '' },
        codes: ['too-large'],
      };
    case 'missing':
      return {
        kind: 'quarantine',
        reasons: [{ code: SOURCE_MISSING, ruleId: 'read', message: 'the source object version no longer exists' }],
        input: { size: 0, sha256: '' },
        codes: [SOURCE_MISSING],
      };
    case 'deleted':
      return {
        kind: 'quarantine',
        reasons: [{ code: SOURCE_DELETED, ruleId: 'read', message: 'the upload was deleted (a delete marker is its current version) before it was processed' }],
        input: { size: 0, sha256: '' },
        codes: [SOURCE_DELETED],
      };
    case 'read': {
      const cleaned = await ctx.cleaner.clean(read.bytes, { now: ctx.now() });
      if (cleaned.kind === 'clean') return { kind: 'clean', result: cleaned };
      return {
        kind: 'quarantine',
        reasons: cleaned.reasons,
        input: { bytes: read.bytes, size: read.bytes.byteLength, sha256: cleaned.inputSha256 },
        codes: [...new Set(cleaned.reasons.map((r) => r.code as string))],
      };
    }
  }
}

/** Write what the verdict places: the clean record (claimed for this source) or the quarantine entry. */
export async function placeVerdict(ctx: StepContext, ref: SourceRef, hash: string, verdict: Verdict): Promise<Placement> {
  if (verdict.kind === 'clean') {
    return { outcome: await claimRecord(ctx, ref, verdict.result), recordId: verdict.result.recordId };
  }
  await writeQuarantine(ctx, ref, hash, verdict.reasons, verdict.input);
  return { outcome: 'quarantine', codes: verdict.codes };
}

/**
 * The RecordItem, then the clean record: `clean` when this source owns the record id (now or on
 * an earlier try), `duplicate` when another source does (nothing is written to S3). The item comes
 * first, so a clean object never exists that the ledger does not know (a ledger write that keeps
 * failing leaves nothing in the clean zone); a retry never overwrites the item, and finds the
 * object written (If-None-Match).
 */
export async function claimRecord(ctx: StepContext, ref: SourceRef, result: CleanRecord): Promise<'clean' | 'duplicate'> {
  const { env } = ctx;
  return ctx.recordLocks.run(result.recordId, async () => {
    const key = KEYS.cleanRecord(env.ZONE_PREFIX, result.recordId);
    const source = s3Uri(ref.bucket, ref.key);
    const item: RecordItem = {
      pk: LEDGER.recordPk(result.recordId),
      sk: LEDGER.recordSk,
      recordId: result.recordId,
      source,
      ...(ref.versionId !== undefined ? { sourceVersionId: ref.versionId } : {}),
      subject: result.subject ?? '',
      cleanRef: s3Uri(env.CLEAN_BUCKET, key),
      cleanedAt: new Date(ctx.now()).toISOString(),
      state: 'cleaned',
    };
    const existing = await putIfAbsent(ctx.ddb, env.LEDGER_TABLE, recordItemToDdb(item));
    const ours = !existing || (existing.source?.S === source && existing.sourceVersionId?.S === ref.versionId);
    if (!ours) return 'duplicate';
    await putOnce(ctx, env.CLEAN_BUCKET, key, JSON.stringify(result.record), 'application/json');
    return 'clean';
  });
}

/**
 * The quarantine entry: the input copy (when there are bytes) and the sidecar. A sidecar written
 * under this config version is kept (a retry); one of another version is replaced (If-Match).
 */
export async function writeQuarantine(
  ctx: StepContext, ref: SourceRef, hash: string, reasons: QuarantineReason[], input: QuarantineInput,
): Promise<void> {
  const { env } = ctx;
  const p = env.ZONE_PREFIX;
  const configVersion = ctx.cleaner.configVersion;
  if (input.bytes) await putOnce(ctx, env.QUARANTINE_BUCKET, KEYS.quarantinedInput(p, hash), input.bytes, 'application/octet-stream');
  const sidecar: QuarantineSidecar = {
    source: s3Uri(ref.bucket, ref.key),
    ...(ref.versionId !== undefined ? { sourceVersionId: ref.versionId } : {}),
    inputSha256: input.sha256,
    inputBytes: input.size,
    reasons,
    cleaningConfigVersion: configVersion,
    quarantinedAt: new Date(ctx.now()).toISOString(),
  };
  const key = KEYS.quarantineSidecar(p, hash);
  const body = JSON.stringify(sidecar);
  if (await putOnce(ctx, env.QUARANTINE_BUCKET, key, body, 'application/json')) return;
  // It exists: keep it when it was written under this config version (a retry), else replace it.
  const existing = await ctx.s3.send(new GetObjectCommand({ Bucket: env.QUARANTINE_BUCKET, Key: key, Range: `bytes=0-${MAX_SIDECAR_BYTES}` }));
  const text = existing.Body ? await existing.Body.transformToString() : '';
  let version: unknown;
  try {
    version = (JSON.parse(text) as { cleaningConfigVersion?: unknown }).cleaningConfigVersion;
  } catch {
    version = undefined;
  }
  if (version === configVersion) return;
  // If-Match: a concurrent writer makes this fail (412), and the retry re-checks.
  await ctx.s3.send(new PutObjectCommand({
    Bucket: env.QUARANTINE_BUCKET, Key: key, Body: body, ContentType: 'application/json', IfMatch: existing.ETag, ...sse(env),
  }));
}

/**
 * The source's SourceItem (announced at once for a duplicate, which emits no event), then its
 * event. When another delivery (another execution environment) placed the source first, its
 * item decides: skipped when announced, else announced now. The outcome is counted by the one
 * delivery that marked the item announced (or put a duplicate's item); the others are `skipped`,
 * so two instances handling one message never count its record twice.
 */
export async function recordOutcome(
  ctx: StepContext, ref: SourceRef, key: SourceKey, placement: Placement, bytes: number | undefined,
): Promise<Placed> {
  const { outcome, recordId, codes } = placement;
  const item: SourceItem = {
    pk: key.pk,
    sk: key.sk,
    source: s3Uri(ref.bucket, ref.key),
    ...(ref.versionId !== undefined ? { sourceVersionId: ref.versionId } : {}),
    outcome,
    ...(recordId !== undefined ? { recordId } : {}),
    ...(codes !== undefined ? { codes } : {}),
    at: new Date(ctx.now()).toISOString(),
    announced: outcome === 'duplicate',
  };
  const existing = await putIfAbsent(ctx.ddb, ctx.env.LEDGER_TABLE, sourceItemToDdb(item));
  if (existing) {
    const other = sourceItemFromDdb(existing);
    if (other.announced || !(await announce(ctx, other))) return { outcome: 'skipped', bytes };
    return { outcome: other.outcome, codes: other.codes, recordId: other.recordId, bytes };
  }
  if (outcome !== 'duplicate' && !(await announce(ctx, item))) return { outcome: 'skipped', bytes };
  return { outcome, codes, recordId, bytes };
}

/**
 * Puts the outcome's event (none for duplicates) and marks the source item announced: true when
 * this call marked it (false: another delivery did meanwhile; both may have put the event, the
 * documented at-least-once window).
 */
export async function announce(ctx: StepContext, item: SourceItem): Promise<boolean> {
  if (item.outcome !== 'duplicate') {
    const detail: PipelineEventDetail = {
      pipeline: ctx.pipelineName,
      source: item.source,
      ...(item.sourceVersionId !== undefined ? { sourceVersionId: item.sourceVersionId } : {}),
      ...(item.outcome === 'clean' ? { recordId: item.recordId } : { codes: item.codes ?? [] }),
    };
    const event: PipelineEvent = { detailType: item.outcome === 'clean' ? DETAIL_TYPE.recordCleaned : DETAIL_TYPE.recordQuarantined, detail };
    await putEvents(ctx.events, ctx.env.EVENT_BUS_NAME, [event]);
  }
  return markAnnounced(ctx.ddb, ctx.env.LEDGER_TABLE, item);
}

/**
 * The raw object version a backfill item stands for (undefined: skip it): a raw-zone key, or a
 * quarantine sidecar key whose `source` version is re-run (other quarantine keys are skipped).
 */
export async function backfillRef(ctx: StepContext, bucket: unknown, item: unknown): Promise<SourceRef | undefined> {
  const { env } = ctx;
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
    const { bytes, total } = await readBounded(ctx.s3, bucket, key, undefined, MAX_SIDECAR_BYTES);
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

// ---- S3 ----

/** SSE-KMS with the lake's data key, for every object the handler writes. */
function sse(env: StepEnv) {
  return { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: env.DATA_KEY_ARN };
}

/** Writes once; true when this call created the object, false when it existed. */
async function putOnce(ctx: StepContext, bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<boolean> {
  try {
    await ctx.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*', ...sse(ctx.env) }));
    return true;
  } catch (e) {
    if (isPreconditionFailed(e)) return false;
    throw e;
  }
}

/**
 * At most `limit + 1` bytes of the version `ref` names, or `deleted` when a delete marker is the
 * key's current version. The current version is read first: in the usual case it is the version
 * named, and one GET does (as a GET by version id would); otherwise the named version is read.
 * S3 answers a GET of a delete marker with 404 and `x-amz-delete-marker: true`; an emulator that
 * omits the header there is asked with HeadObject. Throws the SDK's error when the key or the
 * version does not exist.
 */
async function readCurrentVersion(s3: S3Client, ref: SourceRef, limit: number): Promise<{ bytes: Uint8Array; total: number } | 'deleted'> {
  let current;
  try {
    current = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: `bytes=0-${limit}` }));
  } catch (e) {
    if (isInvalidRange(e)) return readBounded(s3, ref.bucket, ref.key, ref.versionId, limit); // an empty current version
    if (!isMissing(e)) throw e;
    if (isDeleteMarker(e)) return 'deleted';
    try {
      await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    } catch (head) {
      if (!isMissing(head)) throw head; // transient: the message is retried (never taken for a missing source)
      if (isDeleteMarker(head)) return 'deleted';
      throw e;
    }
    // Written again between the two calls: read the version named.
    return readBounded(s3, ref.bucket, ref.key, ref.versionId, limit);
  }
  if (ref.versionId !== undefined && current.VersionId !== ref.versionId) {
    // Another version is current (the upload key was written again): read the one named.
    (current.Body as { destroy?: () => void } | undefined)?.destroy?.();
    return readBounded(s3, ref.bucket, ref.key, ref.versionId, limit);
  }
  const bytes = current.Body ? await current.Body.transformToByteArray() : new Uint8Array();
  return { bytes, total: Number(/\/(\d+)$/.exec(current.ContentRange ?? '')?.[1] ?? bytes.byteLength) };
}

/** An S3 error that says the key's current version is a delete marker. */
function isDeleteMarker(e: unknown): boolean {
  const headers = (e as { $response?: { headers?: Record<string, string | undefined> } } | undefined)?.$response?.headers;
  return headers?.['x-amz-delete-marker'] === 'true';
}

/** At most `limit + 1` bytes of an object version and its total size. */
async function readBounded(
  s3: S3Client, bucket: string, key: string, versionId: string | undefined, limit: number,
): Promise<{ bytes: Uint8Array; total: number }> {
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
