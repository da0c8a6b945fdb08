/**
 * The cleaning handler's ledger: its items as DynamoDB attribute maps (the shapes
 * `@aws-sdk/util-dynamodb`'s marshall gives) and the three writes and reads it makes on them
 * (a consistent GetItem, a put-if-absent that returns the item already there, and the
 * `announced` flag, set once).
 */
import { AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { RecordItem, SourceItem, UploadClaimItem } from './contract';
import { isConditionFailed } from '../../private/runtime/sdk-errors';

/** A ledger item as DynamoDB attribute values. */
export type LedgerItem = Record<string, AttributeValue>;

const str = (v: string): AttributeValue => ({ S: v });

export function sourceItemToDdb(s: SourceItem): LedgerItem {
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

export function sourceItemFromDdb(i: LedgerItem): SourceItem {
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

export function uploadClaimToDdb(c: UploadClaimItem): LedgerItem {
  return {
    pk: str(c.pk),
    sk: str(c.sk),
    source: str(c.source),
    ...(c.sourceVersionId !== undefined ? { sourceVersionId: str(c.sourceVersionId) } : {}),
    at: str(c.at),
  };
}

export function recordItemToDdb(r: RecordItem): LedgerItem {
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

/** The source item under `pk` / `sk` (consistent read), or undefined. */
export async function getSourceItem(ddb: DynamoDBClient, table: string, pk: string, sk: string): Promise<SourceItem | undefined> {
  const res = await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }));
  return res.Item ? sourceItemFromDdb(res.Item) : undefined;
}

/** Puts the item if absent (undefined); otherwise returns the existing one. */
export async function putIfAbsent(ddb: DynamoDBClient, table: string, item: LedgerItem): Promise<LedgerItem | undefined> {
  try {
    await ddb.send(new PutItemCommand({
      TableName: table,
      Item: item,
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return undefined;
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
    const old = (e as { Item?: LedgerItem }).Item;
    if (old) return old;
    const res = await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }));
    if (!res.Item) throw new Error('ledger: conditional put failed but the item is absent (retry)');
    return res.Item;
  }
}

/**
 * Marks a source item announced (its event is on the bus): true when this call set the flag, false
 * when it was set already (another delivery of the same source announced it first). The source is
 * counted in its outcome by the one call that set the flag.
 */
export async function markAnnounced(ddb: DynamoDBClient, table: string, item: SourceItem): Promise<boolean> {
  try {
    await ddb.send(new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: item.pk }, sk: { S: item.sk } },
      UpdateExpression: 'SET announced = :t',
      ConditionExpression: 'announced = :f',
      ExpressionAttributeValues: { ':t': { BOOL: true }, ':f': { BOOL: false } },
    }));
    return true;
  } catch (e) {
    if (isConditionFailed(e)) return false;
    throw e;
  }
}
