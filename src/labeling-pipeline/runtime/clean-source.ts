/**
 * The cleaning handler's sources: what identifies a raw object version (`SourceRef`,
 * `sourceHash`) and how the messages that name one are read (the S3 `Object Created` event, a
 * URL-encoded key). Pure: no SDK clients.
 */
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
 * `uploadKeyHash`: SHA-256 (lowercase hex) of `<bucket>/<key>`, the object key whatever its
 * version. It keys the ledger's upload claim (the first version processed claims the key).
 */
export function uploadKeyHash(bucket: string, key: string): string {
  return sha256Hex(`${bucket}/${key}`);
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
