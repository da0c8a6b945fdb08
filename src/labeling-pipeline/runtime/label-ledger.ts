/**
 * Ledger and label-store helpers shared by the labeling and review-record handlers: the record
 * item's state changes with a transactional outbox for the state's event, and append-only label
 * objects in the curated zone (attribute encoding: `private/runtime/dynamodb-codec.ts`).
 */
import {
  AttributeValue, ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LEDGER, PendingRecordEvent, RecordItem } from './contract';
import { sha256Hex } from './logic/json';
import { LabelRecord } from './logic/labeling';
import { PipelineEvent, putEvents } from './pipeline-io';
import { fromItem, toAttributeValue } from '../../private/runtime/dynamodb-codec';

/** The ledger's record item (consistent read), or undefined when there is none. */
export async function getRecordItem(ddb: DynamoDBClient, table: string, recordId: string): Promise<RecordItem | undefined> {
  const res = await ddb.send(new GetItemCommand({
    TableName: table,
    Key: { pk: { S: LEDGER.recordPk(recordId) }, sk: { S: LEDGER.recordSk } },
    ConsistentRead: true,
  }));
  return res.Item ? fromItem(res.Item) as unknown as RecordItem : undefined;
}

/** Thrown by `setRecordState` when the record already carries a human label (it is kept). */
export class HumanLabelKept extends Error {
  constructor() {
    super('the record already has a human label; a machine label or review does not replace it');
    this.name = 'HumanLabelKept';
  }
}

/** Thrown when the ledger has no item for a record. */
export class RecordNotInLedger extends Error {
  constructor() {
    super('the record has no item in the ledger');
    this.name = 'RecordNotInLedger';
  }
}

/** An event decided together with a state change, put on the bus after it (transactional outbox). */
export type PendingEvent = PendingRecordEvent;

/**
 * Move a record item to `labelled` (with its current label) or `review`, and store the event to
 * announce it in `pendingEvent`. Machine decisions (`human: false`) never replace a human label
 * (`HumanLabelKept`); a human label replaces anything. A missing item is `RecordNotInLedger`.
 */
export async function setRecordState(
  ddb: DynamoDBClient, table: string, recordId: string,
  change: { readonly state: 'labelled' | 'review'; readonly label?: LabelRecord; readonly human: boolean; readonly pendingEvent: PendingEvent },
): Promise<void> {
  const names: Record<string, string> = { '#pk': 'pk', '#state': 'state', '#pending': 'pendingEvent' };
  const values: Record<string, AttributeValue> = { ':state': { S: change.state }, ':pending': toAttributeValue(change.pendingEvent) };
  let set = 'SET #state = :state, #pending = :pending';
  if (change.label) {
    names['#label'] = 'label';
    values[':label'] = toAttributeValue(change.label);
    set += ', #label = :label';
  }
  let condition = 'attribute_exists(#pk)';
  if (!change.human) {
    names['#label'] = 'label';
    names['#human'] = 'human';
    values[':false'] = { BOOL: false };
    condition += ' AND (attribute_not_exists(#label) OR #label.#human = :false)';
  }
  try {
    await ddb.send(new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: LEDGER.recordPk(recordId) }, sk: { S: LEDGER.recordSk } },
      UpdateExpression: set,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
    if (!e.Item) throw new RecordNotInLedger();
    throw new HumanLabelKept();
  }
}

/**
 * Put the pending event of a record item on the bus, then clear it (only if it is still the same
 * decision). Events are at-least-once: a crash between the two puts it again on the next try.
 */
export async function announce(
  ddb: DynamoDBClient, events: EventBridgeClient, table: string, busName: string, pipeline: string, recordId: string, pending: PendingEvent,
): Promise<void> {
  const event: PipelineEvent = { detailType: pending.detailType, detail: { pipeline, recordId, codes: [...pending.codes] } };
  await putEvents(events, busName, [event]);
  try {
    await ddb.send(new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: LEDGER.recordPk(recordId) }, sk: { S: LEDGER.recordSk } },
      UpdateExpression: 'REMOVE #pending',
      ConditionExpression: '#pending.#id = :id',
      ExpressionAttributeNames: { '#pending': 'pendingEvent', '#id': 'id' },
      ExpressionAttributeValues: { ':id': { S: pending.id } },
    }));
  } catch (e) {
    // A newer decision replaced it: that one is announced by whoever made it.
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
}

/** Deterministic label ids: a redelivery or retry of the same decision names the same object. */
export const LABEL_ID = {
  /** A machine label: the record and every vote (labeler refs, classes, confidences, abstentions). */
  machine: (recordId: string, label: LabelRecord) => `m-${sha256Hex(JSON.stringify([recordId, label.className, label.confidence, label.labeler, label.votes])).slice(0, 32)}`,
  /** A human label: the record, the reviewer pseudonym and the class. */
  human: (recordId: string, reviewer: string, className: string) => `h-${sha256Hex(JSON.stringify([recordId, reviewer, className])).slice(0, 32)}`,
};

/**
 * Append a label object to the curated zone, once: PutObject with `If-None-Match: *` (SSE-KMS with
 * the data key). When the object exists already (a redelivery), nothing is written and the stored
 * label is returned, so the ledger's current label is always one of the label objects.
 */
export async function appendLabel(
  s3: S3Client, bucket: string, key: string, kmsKeyArn: string, label: LabelRecord,
): Promise<{ readonly label: LabelRecord; readonly written: boolean }> {
  try {
    await s3.send(new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(label),
      ContentType: 'application/json',
      IfNoneMatch: '*',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: kmsKeyArn,
    }));
    return { label, written: true };
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // 412: the object exists. (409, a concurrent conditional write in progress, is retried.)
    if (status !== 412 && (e as Error).name !== 'PreconditionFailed') throw e;
  }
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const stored = JSON.parse(await res.Body!.transformToString('utf8')) as LabelRecord;
  return { label: stored, written: false };
}

/** `s3://bucket/key` → parts (undefined when it is not such a URI). */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1], key: m[2] } : undefined;
}
