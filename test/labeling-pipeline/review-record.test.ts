import * as path from 'node:path';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { LABELING, NOW } from './hearing';
import {
  borderlineReviewInput, captureOutput, createLake, drainEvents, hearingConfig, labelHandlerFor, Lake, ledgerItem, placeBorderlineRecord,
  Placed, recordCleanedMessage, recordItem, versionsUnder, writeConfigFile, ZONE_PREFIX,
} from './label-handler-support';
import { DETAIL_TYPE, LEDGER, ReviewAnswer, ReviewExecutionInput, ReviewItem, ReviewRecordEvent } from '../../src/labeling-pipeline/runtime/contract';
import { HumanLabelKept, RecordNotInLedger, setRecordState } from '../../src/labeling-pipeline/runtime/label-ledger';
import { createReviewRecordHandler } from '../../src/labeling-pipeline/runtime/review-record';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';

/**
 * The review-record handler (the review state machine's Lambda task) against moto_server over
 * real HTTP: the pending review item, the human label in the curated zone (versioned, SSE-KMS),
 * the record item and the `Record Labelled` event.
 */
const aws = useLocalAws();
/** A reviewer pseudonym, as the review API derives it (32 hex digits of an HMAC). */
const REVIEWER = '5d41402abc4b2a76b9719d911017c592';
const SECOND_REVIEWER = '7d793037a0760186574b0282f2f435e7';
/** A raw Cognito `sub`: an identity in clear, which must never reach a label. */
const RAW_SUB = '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1';

let lake: Lake;
let handler: (e: ReviewRecordEvent) => Promise<unknown>;
let clock = NOW;

beforeAll(async () => {
  lake = await createLake(aws());
  handler = createReviewRecordHandler({ s3: lake.s3, ddb: lake.ddb, events: lake.events, env: lake.env, config: hearingConfig(), now: () => clock });
});

const reviewItem = async (id: string) => (await ledgerItem(lake, LEDGER.reviewPk, id)) as unknown as ReviewItem | undefined;

/** A record in state `review`, as the labeling handler leaves a borderline one. */
async function inReview(): Promise<{ placed: Placed; input: ReviewExecutionInput }> {
  const placed = await placeBorderlineRecord(lake);
  await labelHandlerFor(lake)({ Records: [recordCleanedMessage(placed.recordId)] });
  expect((await recordItem(lake, placed.recordId)).state).toBe('review');
  return { placed, input: borderlineReviewInput(placed) };
}

test('request puts the pending review item with the token; a later attempt replaces it', async () => {
  const { placed, input } = await inReview();
  await handler({ action: 'request', taskToken: 'token-1', attempt: 1, input });
  const first = await reviewItem(placed.recordId);
  expect(first).toEqual({
    pk: 'review',
    sk: placed.recordId,
    recordId: placed.recordId,
    taskToken: 'token-1',
    attempt: 1,
    reasons: ['low-confidence'],
    proposal: { className: 'mild', confidence: 0.5 },
    votes: input.votes,
    requestedAt: new Date(NOW).toISOString(),
    recordJson: JSON.stringify(placed.record),
  });
  clock = NOW + 86_400_000;
  await handler({ action: 'request', taskToken: 'token-2', attempt: 2, input });
  const second = await reviewItem(placed.recordId);
  expect(second).toMatchObject({ taskToken: 'token-2', attempt: 2, requestedAt: new Date(clock).toISOString() });
  clock = NOW;
});

test('record appends the human label once (SSE-KMS), makes it current, announces it and drops the pending item', async () => {
  const { placed, input } = await inReview();
  await handler({ action: 'request', taskToken: 'token-r', attempt: 1, input });
  await drainEvents(lake);
  const answer: ReviewAnswer = { recordId: placed.recordId, className: 'normal', reviewer: REVIEWER, votes: input.votes };
  const { result, output } = await captureOutput(() => handler({ action: 'record', answer }));
  expect(result).toMatchObject({ action: 'record', recordId: placed.recordId, labelId: expect.stringMatching(/^h-[0-9a-f]{32}$/) });

  const versions = await versionsUnder(lake, lake.curated, `${ZONE_PREFIX}labels/${placed.recordId}/`);
  expect(versions).toHaveLength(1);
  const head = await lake.s3.send(new HeadObjectCommand({ Bucket: lake.curated, Key: versions[0].key }));
  expect(head.ServerSideEncryption).toBe('aws:kms');
  const object = await lake.s3.send(new GetObjectCommand({ Bucket: lake.curated, Key: versions[0].key }));
  const stored = JSON.parse(await object.Body!.transformToString());
  expect(stored).toEqual({
    recordId: placed.recordId,
    attribute: 'who-grade',
    classIndex: 0,
    className: 'normal',
    confidence: 1,
    human: true,
    labeler: `human:${REVIEWER}`,
    createdAt: new Date(NOW).toISOString(),
    votes: input.votes,
  });
  const item = await recordItem(lake, placed.recordId);
  expect(item.state).toBe('labelled');
  expect(item.label).toEqual(stored);
  expect(item.pendingEvent).toBeUndefined();
  expect(await reviewItem(placed.recordId)).toBeUndefined();
  const events = await drainEvents(lake);
  expect(events.map((e) => [e.detailType, e.detail])).toEqual([[DETAIL_TYPE.recordLabelled, { pipeline: 'hearing', recordId: placed.recordId, codes: ['human'] }]]);
  expect(output).not.toContain(placed.subject);
  expect(output).not.toContain(placed.record.sessionId as string);

  // The state machine's Retry runs the task again: nothing new in the zone, the label unchanged.
  clock = NOW + 60_000;
  await handler({ action: 'record', answer });
  clock = NOW;
  expect(await versionsUnder(lake, lake.curated, `${ZONE_PREFIX}labels/${placed.recordId}/`)).toEqual(versions);
  expect((await recordItem(lake, placed.recordId)).label).toEqual(stored);
});

test('a four-eyes answer names both reviewers (pseudonyms) in the label', async () => {
  const { placed, input } = await inReview();
  await handler({ action: 'request', taskToken: 'token-4', attempt: 1, input });
  const answer: ReviewAnswer = { recordId: placed.recordId, className: 'moderate', reviewer: SECOND_REVIEWER, reviewers: [REVIEWER, SECOND_REVIEWER], votes: input.votes };
  await handler({ action: 'record', answer });
  const item = await recordItem(lake, placed.recordId);
  expect(item.label).toMatchObject({ human: true, className: 'moderate', labeler: `human:${REVIEWER}+${SECOND_REVIEWER}` });
  await drainEvents(lake);
});

test('a human label wins over a later machine label', async () => {
  const { placed, input } = await inReview();
  await handler({ action: 'request', taskToken: 't', attempt: 1, input });
  await handler({ action: 'record', answer: { recordId: placed.recordId, className: 'mild', reviewer: REVIEWER, votes: input.votes } });
  const human = (await recordItem(lake, placed.recordId)).label;
  await drainEvents(lake);

  // A redelivery, and a relabel under retuned rules (another labeler version): both keep the human label.
  const retuned = { ...LABELING.rules, version: '2', boundaryMargin: 0 };
  for (const config of [hearingConfig(), hearingConfig({ labelers: [{ kind: 'rules', rules: retuned }] })]) {
    const label = labelHandlerFor(lake, config, { now: () => NOW + 1000 });
    expect((await label({ Records: [recordCleanedMessage(placed.recordId)] })).batchItemFailures).toEqual([]);
    expect((await recordItem(lake, placed.recordId)).label).toEqual(human);
  }
  expect(await drainEvents(lake)).toEqual([]);

  // Even when a machine decision races the human one past the first read, the conditional update keeps the human label.
  await expect(setRecordState(lake.ddb, lake.table, placed.recordId, {
    state: 'labelled',
    human: false,
    label: { ...human!, human: false, labeler: 'rules:who-grade@2', className: 'moderate', classIndex: 2 },
    pendingEvent: { id: 'm-x', detailType: DETAIL_TYPE.recordLabelled, codes: ['auto'] },
  })).rejects.toBeInstanceOf(HumanLabelKept);
  await expect(setRecordState(lake.ddb, lake.table, placed.recordId, {
    state: 'review', human: false, pendingEvent: { id: 'x', detailType: DETAIL_TYPE.reviewRequested, codes: ['low-confidence'] },
  })).rejects.toBeInstanceOf(HumanLabelKept);
  expect((await recordItem(lake, placed.recordId))).toMatchObject({ state: 'labelled', label: human });

  // A machine label that slipped in between the labeling handler's read and write.
  await lake.ddb.send(new UpdateItemCommand({
    TableName: lake.table,
    Key: { pk: { S: LEDGER.recordPk(placed.recordId) }, sk: { S: LEDGER.recordSk } },
    UpdateExpression: 'SET #s = :s',
    ExpressionAttributeNames: { '#s': 'state' },
    ExpressionAttributeValues: { ':s': { S: 'cleaned' } },
  }));
  const label = labelHandlerFor(lake, hearingConfig({ labelers: [{ kind: 'rules', rules: retuned }] }), { now: () => NOW + 2000 });
  expect((await label({ Records: [recordCleanedMessage(placed.recordId)] })).batchItemFailures).toEqual([]);
  expect((await recordItem(lake, placed.recordId)).label).toEqual(human);
});

test('a record without a ledger item is an error (the state machine retries, then fails)', async () => {
  await expect(setRecordState(lake.ddb, lake.table, 'rec-ffffffffffffffffffffffff', {
    state: 'labelled', human: true, pendingEvent: { id: 'h', detailType: DETAIL_TYPE.recordLabelled, codes: ['human'] },
  })).rejects.toBeInstanceOf(RecordNotInLedger);
  await expect(handler({ action: 'record', answer: { recordId: 'rec-ffffffffffffffffffffffff', className: 'normal', reviewer: REVIEWER, votes: [] } }))
    .rejects.toBeInstanceOf(RecordNotInLedger);
});

test('expire drops the pending item; the record stays in review', async () => {
  const { placed, input } = await inReview();
  await handler({ action: 'request', taskToken: 'te', attempt: 3, input });
  expect(await reviewItem(placed.recordId)).toBeDefined();
  await handler({ action: 'expire', recordId: placed.recordId });
  expect(await reviewItem(placed.recordId)).toBeUndefined();
  expect((await recordItem(lake, placed.recordId)).state).toBe('review');
  // Idempotent (the state machine retries it).
  await handler({ action: 'expire', recordId: placed.recordId });
});

test.each([
  ['an unknown action', { action: 'delete', recordId: 'rec-1' }, /action must be/],
  ['a record id that is not one', { action: 'expire', recordId: '../x' }, /recordId/],
  ['a request without a token', { action: 'request', attempt: 1, input: { recordId: 'rec-1', reasons: [], votes: [], record: {} } }, /taskToken/],
  ['a request with attempt 0', { action: 'request', taskToken: 't', attempt: 0, input: { recordId: 'rec-1', reasons: [], votes: [], record: {} } }, /attempt/],
  ['an answer with a class the task does not have', { action: 'record', answer: { recordId: 'rec-1', className: 'deaf', reviewer: REVIEWER, votes: [] } }, /className/],
  ['an answer whose reviewer is not a pseudonym', { action: 'record', answer: { recordId: 'rec-1', className: 'mild', reviewer: 'Dr. Jane Doe', votes: [] } }, /reviewer/],
  ['an answer whose reviewer is a raw Cognito sub', { action: 'record', answer: { recordId: 'rec-1', className: 'mild', reviewer: RAW_SUB, votes: [] } }, /reviewer pseudonym/],
  ['an answer whose reviewer is an IAM ARN hash of the old kind', {
    action: 'record', answer: { recordId: 'rec-1', className: 'mild', reviewer: 'iam-0123456789abcdef0123456789abcdef', votes: [] },
  }, /reviewer pseudonym/],
  ['an answer with a raw sub among the reviewers', {
    action: 'record', answer: { recordId: 'rec-1', className: 'mild', reviewer: REVIEWER, reviewers: [RAW_SUB, REVIEWER], votes: [] },
  }, /reviewers/],
  ['an answer with the same reviewer twice', {
    action: 'record', answer: { recordId: 'rec-1', className: 'mild', reviewer: REVIEWER, reviewers: [REVIEWER, REVIEWER], votes: [] },
  }, /distinct/],
  ['an answer whose reviewers do not end with the reviewer', {
    action: 'record', answer: { recordId: 'rec-1', className: 'mild', reviewer: REVIEWER, reviewers: [REVIEWER, SECOND_REVIEWER], votes: [] },
  }, /end with reviewer/],
])('fails on %s, naming what is wrong without echoing it', async (_, event, message) => {
  const err = await handler(event as unknown as ReviewRecordEvent).catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toContain('Jane');
  expect((err as Error).message).not.toContain(RAW_SUB);
  expect((err as Error).message).not.toContain('deaf"');
});

test('the bundled asset loads in a fresh Node process with its environment and configuration file', () => {
  const result = expectAssetLoads(path.join('assets', 'labeling-pipeline', 'runtime', 'review-record.handler'), {
    env: {
      CURATED_BUCKET: 'k',
      ZONE_PREFIX: 'hearing/',
      DATA_KEY_ARN: 'arn:aws:kms:eu-central-1:111111111111:key/k',
      LEDGER_TABLE: 't',
      EVENT_BUS_NAME: 'b',
      METRICS_NAMESPACE: 'ns',
      PIPELINE_CONFIG_FILE: writeConfigFile(),
    },
  });
  expect(result.externals).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-eventbridge', '@aws-sdk/client-s3']);
});
