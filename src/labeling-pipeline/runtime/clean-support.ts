/**
 * Helpers of the cleaning handler's shell: the raw object's identity, the S3 event parser, error
 * classification, a per-key mutex and the ledger items' DynamoDB attribute maps. No SDK clients.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { RecordItem, SourceItem } from './contract';
import { sha256Hex } from './logic/json';

/** A raw object version to clean. */
export interface SourceRef {
  readonly bucket: string;
  readonly key: string;
  /** Absent for a backfill item (the handler reads the current version's id with HeadObject). */
  readonly versionId?: string;
  /** Size in bytes as the event reported it, when it did. */
  readonly size?: number;
}

/**
 * `sourceHash`: SHA-256 (lowercase hex) of the raw object's identity, the UTF-8 string
 * `<bucket>/<key>?versionId=<versionId>` (`?versionId=` followed by nothing when the bucket gave no
 * version id). It keys the ledger's source items and the quarantine zone's entries.
 */
export function sourceHash(bucket: string, key: string, versionId: string | undefined): string {
  return sha256Hex(`${bucket}/${key}?versionId=${versionId ?? ''}`);
}

/**
 * The object of an EventBridge S3 `Object Created` event (the body of each SQS message). Returns
 * undefined for anything else (not JSON, another detail-type, missing bucket or key).
 */
export function parseObjectCreated(body: string): SourceRef | undefined {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isRecord(event)) return undefined;
  const detailType = event['detail-type'];
  if (detailType !== undefined && detailType !== 'Object Created') return undefined;
  const detail = event.detail;
  if (!isRecord(detail) || !isRecord(detail.bucket) || !isRecord(detail.object)) return undefined;
  const bucket = detail.bucket.name;
  const key = detail.object.key;
  if (typeof bucket !== 'string' || typeof key !== 'string' || bucket === '' || key === '') return undefined;
  const version = detail.object['version-id'];
  const size = detail.object.size;
  return {
    bucket,
    key,
    ...(typeof version === 'string' && version !== '' ? { versionId: version } : {}),
    ...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
  };
}

/**
 * The key as an S3 *notification* would URL-encode it (`+` for space), decoded; undefined when
 * decoding changes nothing or the key is not valid URL encoding. EventBridge gives keys
 * unencoded: the handler tries this form only when the key as given does not exist.
 */
export function lenientDecodedKey(key: string): string | undefined {
  if (!/[%+]/.test(key)) return undefined;
  try {
    const decoded = decodeURIComponent(key.replace(/\+/g, ' '));
    return decoded !== key ? decoded : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Name and HTTP status of an SDK error (safe to log: never the message, which may echo input). */
export function errorInfo(e: unknown): { error: string; status?: number } {
  const name = e instanceof Error || (isRecord(e) && typeof e.name === 'string') ? String((e as { name: unknown }).name) : typeof e;
  const status = (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return { error: /^[A-Za-z0-9_.:-]{1,64}$/.test(name) ? name : 'Error', ...(typeof status === 'number' ? { status } : {}) };
}

function is(e: unknown, names: readonly string[], status?: number): boolean {
  const info = errorInfo(e);
  return names.includes(info.error) || (status !== undefined && info.status === status && !isServerFault(e));
}

function isServerFault(e: unknown): boolean {
  return (e as { $fault?: string } | undefined)?.$fault === 'server';
}

/** S3: the object (version) does not exist. */
export const isMissing = (e: unknown) => is(e, ['NoSuchKey', 'NoSuchVersion', 'NotFound'], 404);
/** S3 conditional write: the object exists (If-None-Match) or changed (If-Match). */
export const isPreconditionFailed = (e: unknown) => is(e, ['PreconditionFailed'], 412);
/** S3 ranged GET of an empty object. */
export const isInvalidRange = (e: unknown) => is(e, ['InvalidRange'], 416);
/** DynamoDB conditional write failed. */
export const isConditionFailed = (e: unknown) => is(e, ['ConditionalCheckFailedException']);

/** Serializes async work per key (one source, one record id) within an execution environment. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; settles every item. */
export async function settleAll<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        out[i] = { status: 'fulfilled', value: await fn(items[i]) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---- ledger items <-> DynamoDB attribute maps (the shapes @aws-sdk/util-dynamodb's marshall gives) ----

type Item = Record<string, AttributeValue>;

const str = (v: string): AttributeValue => ({ S: v });

export function sourceItemToDdb(s: SourceItem): Item {
  return {
    pk: str(s.pk),
    sk: str(s.sk),
    source: str(s.source),
    ...(s.sourceVersionId !== undefined ? { sourceVersionId: str(s.sourceVersionId) } : {}),
    outcome: str(s.outcome),
    ...(s.recordId !== undefined ? { recordId: str(s.recordId) } : {}),
    ...(s.codes !== undefined ? { codes: { L: s.codes.map(str) } } : {}),
    at: str(s.at),
    announced: { BOOL: s.announced },
  };
}

export function sourceItemFromDdb(i: Item): SourceItem {
  const outcome = i.outcome?.S;
  if (outcome !== 'clean' && outcome !== 'duplicate' && outcome !== 'quarantine') throw new Error('ledger: a source item has no valid outcome');
  return {
    pk: i.pk?.S ?? '',
    sk: i.sk?.S ?? '',
    source: i.source?.S ?? '',
    ...(i.sourceVersionId?.S !== undefined ? { sourceVersionId: i.sourceVersionId.S } : {}),
    outcome,
    ...(i.recordId?.S !== undefined ? { recordId: i.recordId.S } : {}),
    ...(i.codes?.L !== undefined ? { codes: i.codes.L.map((c) => c.S ?? '') } : {}),
    at: i.at?.S ?? '',
    announced: i.announced?.BOOL === true,
  };
}

export function recordItemToDdb(r: RecordItem): Item {
  return {
    pk: str(r.pk),
    sk: str(r.sk),
    recordId: str(r.recordId),
    source: str(r.source),
    ...(r.sourceVersionId !== undefined ? { sourceVersionId: str(r.sourceVersionId) } : {}),
    subject: str(r.subject),
    cleanRef: str(r.cleanRef),
    cleanedAt: str(r.cleanedAt),
    state: str(r.state),
  };
}
