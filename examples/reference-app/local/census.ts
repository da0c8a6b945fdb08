/**
 * The identifier census of the local end-to-end run: every S3 key and object body, ledger item,
 * event, state machine input and output, API response and log line the run produced is searched
 * for the raw identifiers the run used (the Cognito subs of the uploaders and the reviewer, the
 * patient ids and the session ids the generator put into the records). The library promises that
 * none of them appears in clear anywhere (they become keyed pseudonyms before their first use),
 * so the census must count 0.
 *
 * Deliberately not searched: the bodies of the raw zone's objects and of the quarantine zone's
 * input copies (`<prefix>quarantine/<hash>/input`). They are the uploads themselves, kept as
 * uploaded in the two zones that exist to hold them; their keys are searched.
 */
import { AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';

/** Where a piece of text came from (the census counts per place). */
export type CensusPlace = 's3-key' | 's3-body' | 'ledger' | 'event' | 'state-machine' | 'api-response' | 'log';

/** What kind of raw identifier a needle is. */
export type IdentifierKind = 'cognito-sub' | 'patient-id' | 'session-id';

export interface CensusItem { readonly place: CensusPlace; readonly text: string }
export interface Identifier { readonly kind: IdentifierKind; readonly value: string }

/** The census: occurrences of raw identifiers, by kind and by place (never the values). */
export interface CensusResult {
  readonly total: number;
  readonly byKind: Record<IdentifierKind, number>;
  readonly byPlace: Partial<Record<CensusPlace, number>>;
  /** Items searched per place. */
  readonly scanned: Partial<Record<CensusPlace, number>>;
}

/** Occurrences of `needle` in `text` (non-overlapping). */

/** Count every occurrence of every identifier in every item. Identifiers shorter than 6 characters are refused (they would match by chance). */
/** Length of the index key of `countIdentifiers` (identifiers are at least 6 characters). */
const PREFIX = 6;

export function countIdentifiers(items: readonly CensusItem[], identifiers: readonly Identifier[]): CensusResult {
  const short = identifiers.find((i) => i.value.length < 6);
  if (short) throw new Error(`census: a ${short.kind} of ${short.value.length} characters would match by chance; use longer identifiers`);
  const unique = [...new Map(identifiers.map((i) => [i.value, i])).values()];
  const byKind: Record<IdentifierKind, number> = { 'cognito-sub': 0, 'patient-id': 0, 'session-id': 0 };
  const byPlace: Partial<Record<CensusPlace, number>> = {};
  const scanned: Partial<Record<CensusPlace, number>> = {};
  // One pass over each text instead of one search per identifier (items × identifiers grew past
  // minutes with 800 uploads): identifiers indexed by their first PREFIX characters (all are at
  // least that long), each text position looked up once. Counts the non-overlapping
  // occurrences of each identifier (what `indexOf` from the end of the last match finds).
  const byPrefix = new Map<string, Identifier[]>();
  for (const id of unique) {
    const key = id.value.slice(0, PREFIX);
    byPrefix.set(key, [...(byPrefix.get(key) ?? []), id]);
  }
  let total = 0;
  for (const item of items) {
    scanned[item.place] = (scanned[item.place] ?? 0) + 1;
    const text = item.text;
    const nextFree = new Map<string, number>();
    for (let i = 0; i + PREFIX <= text.length; i++) {
      const candidates = byPrefix.get(text.slice(i, i + PREFIX));
      if (candidates === undefined) continue;
      for (const id of candidates) {
        if (i < (nextFree.get(id.value) ?? 0) || !text.startsWith(id.value, i)) continue;
        nextFree.set(id.value, i + id.value.length);
        total++;
        byKind[id.kind]++;
        byPlace[item.place] = (byPlace[item.place] ?? 0) + 1;
      }
    }
  }
  return { total, byKind, byPlace, scanned };
}

/** The census line the run prints. */
export function censusLine(r: CensusResult): string {
  const scanned = Object.entries(r.scanned).map(([p, n]) => `${n} ${p}`).join(', ');
  const kinds = Object.entries(r.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
  const places = Object.entries(r.byPlace).map(([p, n]) => `${p} ${n}`).join(', ');
  return `identifier census: ${r.total} raw identifiers in clear (${kinds})${r.total ? ` in ${places}` : ''}; searched ${scanned}`;
}

/** Every key (versions and delete markers) of a bucket, and the bodies of every version unless `skipBody` says so. */
export async function s3Items(s3: S3Client, bucket: string, skipBody: (key: string) => boolean): Promise<CensusItem[]> {
  const out: CensusItem[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
    for (const m of page.DeleteMarkers ?? []) out.push({ place: 's3-key', text: m.Key! });
    for (const v of page.Versions ?? []) {
      out.push({ place: 's3-key', text: v.Key! });
      if (skipBody(v.Key!)) continue;
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId }));
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
      out.push({ place: 's3-body', text: Buffer.from(bytes).toString('latin1') });
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return out;
}

/** Every item of a table, as JSON. */
export async function tableItems(ddb: DynamoDBClient, table: string): Promise<CensusItem[]> {
  const out: CensusItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of page.Items ?? []) out.push({ place: 'ledger', text: JSON.stringify(item) });
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
