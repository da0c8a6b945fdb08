/**
 * The dataset handler's view of the ledger: one paginated, strongly consistent Scan of the record
 * and source items (projected to the attributes the dataset needs, so review items and their
 * record copies never leave the table), decoded with `private/runtime/dynamodb-codec.ts`, and the
 * choice of the outcome that counts per source.
 */
import { AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { LEDGER, RecordItem, SourceItem } from './contract';
import { RowFailure } from './logic/dataset';
import { fromItem } from '../../private/runtime/dynamodb-codec';

/**
 * Re-exported for the reference app's local run, which decodes scanned ledger items with it; the
 * handlers import the codec from `private/runtime/dynamodb-codec.ts`.
 */
export { fromItem } from '../../private/runtime/dynamodb-codec';

/** What the scan returns: record items and source items, and how much it read. */
export interface LedgerSnapshot {
  readonly records: RecordItem[];
  readonly sources: SourceItem[];
  readonly pages: number;
  readonly scannedCount: number;
}

/** Attributes the dataset needs (RecordItem and SourceItem fields; never a review's record copy). `source` is for lineage. */
const PROJECTED = ['pk', 'sk', 'recordId', 'subject', 'cleanRef', 'source', 'sourceVersionId', 'state', 'label', 'outcome', 'codes', 'at'];

/**
 * Read every record item (`rec#…`) and source item (`src#…`): Scan, page by page, strongly
 * consistent (labels recorded just before the run are in the version). `limit` caps the items
 * evaluated per page (tests; default: DynamoDB's 1 MB pages).
 */
export async function scanLedger(ddb: DynamoDBClient, table: string, limit?: number): Promise<LedgerSnapshot> {
  const names = Object.fromEntries(PROJECTED.map((a, i) => [`#a${i}`, a]));
  const records: RecordItem[] = [];
  const sources: SourceItem[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  let pages = 0;
  let scannedCount = 0;
  do {
    const res = await ddb.send(new ScanCommand({
      TableName: table,
      ConsistentRead: true,
      ProjectionExpression: Object.keys(names).join(', '),
      FilterExpression: 'begins_with(#a0, :rec) OR begins_with(#a0, :src)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':rec': { S: LEDGER.recordPk('') }, ':src': { S: LEDGER.sourcePk('') } },
      ...(limit !== undefined ? { Limit: limit } : {}),
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    }));
    pages++;
    scannedCount += res.ScannedCount ?? 0;
    for (const raw of res.Items ?? []) {
      const item = fromItem(raw);
      if (typeof item.pk !== 'string') continue;
      if (item.pk.startsWith(LEDGER.recordPk('')) && item.sk === LEDGER.recordSk) records.push(item as unknown as RecordItem);
      else if (item.pk.startsWith(LEDGER.sourcePk(''))) sources.push(item as unknown as SourceItem);
    }
    startKey = res.LastEvaluatedKey && Object.keys(res.LastEvaluatedKey).length ? res.LastEvaluatedKey : undefined;
  } while (startKey);
  return { records, sources, pages, scannedCount };
}

/** Source outcomes that count: one per source. */
export interface SourceOutcomes {
  /** Sources whose counting outcome is `quarantine`, as row failures. */
  readonly quarantined: RowFailure[];
  /** Sources whose counting outcome is `duplicate`. */
  readonly duplicates: number;
  /** Sources whose counting outcome is `clean`. */
  readonly clean: number;
}

/**
 * The outcome that counts for each source: the one under the current cleaning config version when
 * there is one, else the latest (`at`, then `sk`). A source quarantined under v1 and clean under v2
 * is clean. A quarantined source is the row failure `<recordId>` when the cleaner gave it one, else
 * `sha256:<sourceHash>`, with its codes.
 */
export function sourceOutcomes(sources: readonly SourceItem[], currentConfigVersion: string): SourceOutcomes {
  const current = LEDGER.sourceSk(currentConfigVersion);
  const best = new Map<string, SourceItem>();
  for (const s of sources) {
    const prev = best.get(s.pk);
    if (!prev || compare(s, prev, current) > 0) best.set(s.pk, s);
  }
  const quarantined: RowFailure[] = [];
  let duplicates = 0;
  let clean = 0;
  const prefix = LEDGER.sourcePk('');
  for (const [pk, s] of [...best.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (s.outcome === 'quarantine') {
      const codes = Array.isArray(s.codes) ? s.codes.filter((c): c is string => typeof c === 'string') : [];
      quarantined.push({ id: typeof s.recordId === 'string' && s.recordId ? s.recordId : `sha256:${pk.slice(prefix.length)}`, codes });
    } else if (s.outcome === 'duplicate') {
      duplicates++;
    } else if (s.outcome === 'clean') {
      clean++;
    }
  }
  return { quarantined, duplicates, clean };
}

/** > 0 when `a` should count instead of `b`. */
function compare(a: SourceItem, b: SourceItem, current: string): number {
  const ac = a.sk === current ? 1 : 0;
  const bc = b.sk === current ? 1 : 0;
  if (ac !== bc) return ac - bc;
  const at = String(a.at ?? '');
  const bt = String(b.at ?? '');
  if (at !== bt) return at > bt ? 1 : -1;
  return a.sk > b.sk ? 1 : a.sk < b.sk ? -1 : 0;
}
