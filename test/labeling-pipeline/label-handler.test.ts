import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { SQSBatchResponse } from 'aws-lambda';
import { cleaner, hearingRecord, LABELING, NOW } from './hearing';
import {
  captureOutput, createLake, drainEvents, FakeLambda, hearingConfig, labelHandlerFor, Lake, placeCleanRecord, Placed, recordCleanedMessage,
  recordItem, sqsMessage, throttled, versionsUnder, writeConfigFile, ZONE_PREFIX,
} from './label-handler-support';
import { DETAIL_TYPE, PipelineConfig, ReviewExecutionInput } from '../../src/labeling-pipeline/runtime/contract';
import { executionName, parseRecordCleaned } from '../../src/labeling-pipeline/runtime/label';
import { JsonObject } from '../../src/labeling-pipeline/runtime/logic/json';
import { sampleFraction } from '../../src/labeling-pipeline/runtime/logic/labeling';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';

/**
 * The labeling handler against moto_server over real HTTP: S3 (versioned, SSE-KMS), DynamoDB,
 * EventBridge (a rule copies the events to SQS so they can be counted) and Step Functions
 * StartExecution. Lambda Invoke of function / model labelers is a recording fake (moto 5.2.5 runs
 * functions only in Docker). PutObject uses `If-None-Match: *`, which moto 5.2.5 enforces.
 */
const aws = useLocalAws();
const FN_ARN = 'arn:aws:lambda:eu-central-1:123456789012:function:custom-labeler';
const MODEL_ARN = 'arn:aws:lambda:eu-central-1:123456789012:function:endpoint:live';

/** The lake's DynamoDB client, except that every UpdateItem is throttled (the handler stops between its writes). */
function ddbFailingUpdates(lake: Lake): Lake['ddb'] {
  return {
    send: async (cmd: unknown) => {
      if (cmd instanceof UpdateItemCommand) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      return lake.ddb.send(cmd as any);
    },
  } as unknown as Lake['ddb'];
}

async function executions(lake: Lake): Promise<Map<string, ReviewExecutionInput>> {
  const res = await lake.sfn.send(new ListExecutionsCommand({ stateMachineArn: lake.stateMachineArn }));
  const out = new Map<string, ReviewExecutionInput>();
  for (const e of res.executions ?? []) {
    const d = await lake.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    out.set(e.name!, JSON.parse(d.input!));
  }
  return out;
}

const flat = (t: number) => [t, t, t, t];
/** A hearing record with a fresh session id (so a fresh record id). */
const session = (left: number[], right: number[], extra: Partial<JsonObject> = {}) =>
  hearingRecord(left, right, { sessionId: randomUUID(), ...extra });

/**
 * A hearing record with a fresh session id whose record id does (or does not) fall in the 5 %
 * quality sample, so tests that expect an automatic label are not flaky.
 */
async function sample(left: number[], right: number[], sampled = false, extra: Partial<JsonObject> = {}): Promise<JsonObject> {
  for (;;) {
    const raw = session(left, right, extra);
    const r = await cleaner().clean(JSON.stringify(raw), { now: NOW });
    if (r.kind !== 'clean') throw new Error('fixture quarantined');
    const inSample = sampleFraction(LABELING.task.review.sampleSalt!, r.recordId) < LABELING.task.review.sampleRate!;
    if (inSample === sampled) return raw;
  }
}
/** Clean and place a record outside the quality sample. */
const placeAuto = async (lake: Lake, left: number[], right: number[]) => placeCleanRecord(lake, await sample(left, right));

describe('a batch of hearing records', () => {
  let lake: Lake;
  let batch: { normal: Placed; moderate: Placed; borderline: Placed; unreliable: Placed; sampled: Placed };
  let first: SQSBatchResponse;
  let firstOutput: string;

  beforeAll(async () => {
    lake = await createLake(aws());
    batch = {
      normal: await placeAuto(lake, flat(10), flat(15)),
      moderate: await placeAuto(lake, [40, 40, 45, 45], [40, 40, 45, 45]),
      // Better-ear average exactly on the normal/mild boundary: confidence 0.5.
      borderline: await placeCleanRecord(lake, session(flat(20), flat(25))),
      // 3 of 6 catch trials answered: the rules abstain.
      unreliable: await placeCleanRecord(lake, session(flat(30), flat(30), { catchTrials: { presented: 6, falsePositives: 3 } })),
      sampled: await placeCleanRecord(lake, await sample(flat(10), flat(15), true)),
    };
    const messages = Object.values(batch).map((p) => recordCleanedMessage(p.recordId));
    const run = await captureOutput(() => labelHandlerFor(lake)({ Records: messages }));
    first = run.result;
    firstOutput = run.output;
  });

  test('every message succeeds', () => {
    expect(first.batchItemFailures).toEqual([]);
  });

  test('auto labels land once in the curated zone, SSE-KMS, and become the current label', async () => {
    for (const [p, className] of [[batch.normal, 'normal'], [batch.moderate, 'moderate']] as const) {
      const versions = await versionsUnder(lake, lake.curated, `${ZONE_PREFIX}labels/${p.recordId}/`);
      expect(versions).toHaveLength(1);
      expect(versions[0].key).toMatch(new RegExp(`^hearing/labels/${p.recordId}/m-[0-9a-f]{32}\\.json$`));
      const head = await lake.s3.send(new HeadObjectCommand({ Bucket: lake.curated, Key: versions[0].key }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toContain(lake.keyArn.split('/').pop());
      const object = await lake.s3.send(new GetObjectCommand({ Bucket: lake.curated, Key: versions[0].key }));
      const stored = JSON.parse(await object.Body!.transformToString());
      expect(stored).toMatchObject({ recordId: p.recordId, attribute: 'who-grade', className, human: false, labeler: 'rules:who-grade@1', createdAt: new Date(NOW).toISOString() });
      const item = await recordItem(lake, p.recordId);
      expect(item.state).toBe('labelled');
      expect(item.label).toEqual(stored);
      expect(item.pendingEvent).toBeUndefined();
    }
  });

  test('borderline, unreliable and sampled records go to review with their reasons; nothing is labelled', async () => {
    const started = await executions(lake);
    expect([...started.keys()].sort()).toEqual([batch.borderline.recordId, batch.unreliable.recordId, batch.sampled.recordId].sort());
    const expectations: Array<[Placed, string[], string | undefined]> = [
      [batch.borderline, ['low-confidence'], 'mild'],
      [batch.unreliable, ['all-abstained'], undefined],
      [batch.sampled, ['quality-sample'], 'normal'],
    ];
    for (const [p, reasons, proposal] of expectations) {
      const input = started.get(executionName(p.recordId))!;
      expect(input.recordId).toBe(p.recordId);
      expect(input.reasons).toEqual(reasons);
      expect(input.proposal?.className).toBe(proposal);
      expect(input.record).toEqual(p.record);
      expect(input.votes).toHaveLength(1);
      const item = await recordItem(lake, p.recordId);
      expect(item.state).toBe('review');
      expect(item.label).toBeUndefined();
      expect(await versionsUnder(lake, lake.curated, `${ZONE_PREFIX}labels/${p.recordId}/`)).toEqual([]);
    }
    expect((started.get(batch.unreliable.recordId)!.votes[0]).abstainReason).toBe('condition:unreliable-responses');
  });

  test('one event per record: Record Labelled (auto) or Review Requested (reasons), ids and codes only', async () => {
    const events = await drainEvents(lake);
    const byRecord = new Map(events.map((e) => [e.detail.recordId, e]));
    expect(events).toHaveLength(5);
    expect(byRecord.get(batch.normal.recordId)).toMatchObject({ detailType: DETAIL_TYPE.recordLabelled, detail: { pipeline: 'hearing', codes: ['auto'] } });
    expect(byRecord.get(batch.moderate.recordId)?.detailType).toBe(DETAIL_TYPE.recordLabelled);
    expect(byRecord.get(batch.borderline.recordId)).toMatchObject({ detailType: DETAIL_TYPE.reviewRequested, detail: { codes: ['low-confidence'] } });
    expect(byRecord.get(batch.sampled.recordId)).toMatchObject({ detailType: DETAIL_TYPE.reviewRequested, detail: { codes: ['quality-sample'] } });
    for (const e of events) expect(Object.keys(e.detail).sort()).toEqual(['codes', 'pipeline', 'recordId']);
  });

  test('logs and events carry no record value', async () => {
    expect(firstOutput).toContain('"record labelled"');
    expect(firstOutput).toContain('"review requested"');
    for (const p of Object.values(batch)) {
      for (const secret of [p.record.sessionId, p.subject, p.record.takenAt] as string[]) expect(firstOutput).not.toContain(secret);
    }
    expect(firstOutput).not.toContain('phone-x');
    expect(firstOutput).not.toContain('thresholds');
  });

  test('a redelivery of the batch writes no object version, starts nothing and puts no event', async () => {
    await drainEvents(lake);
    const before = await versionsUnder(lake, lake.curated, ZONE_PREFIX);
    const res = await labelHandlerFor(lake)({ Records: Object.values(batch).map((p) => recordCleanedMessage(p.recordId, `again-${p.recordId}`)) });
    expect(res.batchItemFailures).toEqual([]);
    expect(await versionsUnder(lake, lake.curated, ZONE_PREFIX)).toEqual(before);
    expect((await executions(lake)).size).toBe(3);
    expect(await drainEvents(lake)).toEqual([]);
  });
});

describe('idempotency under faults', () => {
  let lake: Lake;
  beforeAll(async () => {
    lake = await createLake(aws());
  });

  test('a crash after the label was recorded: the redelivery only puts the pending event, once', async () => {
    const p = await placeAuto(lake, flat(55), flat(60));
    const down = { send: async () => { throw Object.assign(new Error('EventBridge is down'), { name: 'InternalException' }); } } as unknown as EventBridgeClient;
    const failed = await labelHandlerFor(lake, hearingConfig(), { events: down })({ Records: [recordCleanedMessage(p.recordId)] });
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: `m-${p.recordId}` }]);
    const pending = await recordItem(lake, p.recordId);
    expect(pending.state).toBe('labelled');
    expect(pending.pendingEvent).toMatchObject({ detailType: DETAIL_TYPE.recordLabelled, codes: ['auto'] });
    expect(await drainEvents(lake)).toEqual([]);
    const versions = await versionsUnder(lake, lake.curated, `${ZONE_PREFIX}labels/${p.recordId}/`);

    const retried = await labelHandlerFor(lake)({ Records: [recordCleanedMessage(p.recordId)] });
    expect(retried.batchItemFailures).toEqual([]);
    const events = await drainEvents(lake);
    expect(events.map((e) => [e.detailType, e.detail.recordId])).toEqual([[DETAIL_TYPE.recordLabelled, p.recordId]]);
    expect((await recordItem(lake, p.recordId)).pendingEvent).toBeUndefined();
    expect(await versionsUnder(lake, lake.curated, `${ZONE_PREFIX}labels/${p.recordId}/`)).toEqual(versions);
    // A third delivery: nothing at all.
    await labelHandlerFor(lake)({ Records: [recordCleanedMessage(p.recordId)] });
    expect(await drainEvents(lake)).toEqual([]);
  });

  test('a crash after the label object was written: the redelivery reuses it (no second version; the ledger holds the stored label)', async () => {
    const p = await placeAuto(lake, flat(60), flat(60));
    const failed = await labelHandlerFor(lake, hearingConfig(), { ddb: ddbFailingUpdates(lake) })({ Records: [recordCleanedMessage(p.recordId)] });
    expect(failed.batchItemFailures).toHaveLength(1);
    const written = await versionsUnder(lake, lake.curated, `${ZONE_PREFIX}labels/${p.recordId}/`);
    expect(written).toHaveLength(1);
    // Redelivered an hour later: the label object is not written again and keeps its createdAt.
    const later = await labelHandlerFor(lake, hearingConfig(), { now: () => NOW + 3_600_000 })({ Records: [recordCleanedMessage(p.recordId)] });
    expect(later.batchItemFailures).toEqual([]);
    expect(await versionsUnder(lake, lake.curated, `${ZONE_PREFIX}labels/${p.recordId}/`)).toEqual(written);
    expect((await recordItem(lake, p.recordId)).label?.createdAt).toBe(new Date(NOW).toISOString());
    expect((await drainEvents(lake)).filter((e) => e.detail.recordId === p.recordId)).toHaveLength(1);
  });

  test('a crash after the review started: the redelivery treats ExecutionAlreadyExists as done', async () => {
    const p = await placeCleanRecord(lake, session(flat(35), flat(35)));
    const failed = await labelHandlerFor(lake, hearingConfig(), { ddb: ddbFailingUpdates(lake) })({ Records: [recordCleanedMessage(p.recordId)] });
    expect(failed.batchItemFailures).toHaveLength(1);
    // Redelivered after the rules were retuned: the execution input differs, so Step Functions
    // (and moto) answer the reused name with ExecutionAlreadyExists; the handler treats it as started.
    const changed = hearingConfig({ task: { ...LABELING.task, review: { ...LABELING.task.review, minConfidence: 0.99 } } });
    const rules = { ...LABELING.rules, confidence: { max: 0.98, atBoundary: 0.4 } };
    const res = await labelHandlerFor(lake, { ...changed, labelers: [{ kind: 'rules', rules }] })({ Records: [recordCleanedMessage(p.recordId)] });
    expect(res.batchItemFailures).toEqual([]);
    expect((await recordItem(lake, p.recordId)).state).toBe('review');
    const started = await executions(lake);
    expect([...started.keys()].filter((n) => n === p.recordId)).toHaveLength(1);
    expect((await drainEvents(lake)).filter((e) => e.detail.recordId === p.recordId).map((e) => e.detailType)).toEqual([DETAIL_TYPE.reviewRequested]);
  });
});

describe('function and model labelers', () => {
  let lake: Lake;
  beforeAll(async () => {
    lake = await createLake(aws());
  });

  const withFunction = (lambda: FakeLambda) => labelHandlerFor(lake, hearingConfig({
    labelers: [{ kind: 'rules', rules: LABELING.rules }, { kind: 'function', id: 'fn:custom', version: '3', functionArn: FN_ARN }],
  }), { lambda: lambda.asClient() });

  test('the function gets {recordId, record}; agreeing votes label automatically', async () => {
    const p = await placeAuto(lake, flat(40), flat(40));
    const lambda = new FakeLambda(() => ({ payload: { kind: 'label', className: 'moderate', confidence: 0.9 } }));
    expect((await withFunction(lambda)({ Records: [recordCleanedMessage(p.recordId)] })).batchItemFailures).toEqual([]);
    expect(lambda.calls).toEqual([{ functionName: FN_ARN, payload: { recordId: p.recordId, record: p.record } }]);
    const item = await recordItem(lake, p.recordId);
    expect(item.label).toMatchObject({ className: 'moderate', labeler: 'vote:rules:who-grade@1+fn:custom@3' });
  });

  test.each([
    ['a FunctionError', { functionError: 'Unhandled' }, 'function-error'],
    ['an answer that is not JSON', { raw: 'not json {' }, 'invalid-output'],
    ['an answer outside the contract', { payload: { label: 'moderate' } }, 'invalid-output'],
    ['a class the task does not have', { payload: { kind: 'label', className: 'deafness', confidence: 0.9 } }, 'invalid-output'],
    ['a confidence above 1', { payload: { kind: 'label', className: 'moderate', confidence: 7 } }, 'invalid-output'],
    ['an abstain reason with free text', { payload: { kind: 'abstain', reason: 'patient P-0042-AB said so' } }, 'unspecified'],
    ['an abstain reason from the vocabulary', { payload: { kind: 'abstain', reason: 'missing-input' } }, 'missing-input'],
  ] as const)('a failing function labeler abstains: %s', async (_, answer, reason) => {
    const p = await placeAuto(lake, flat(40), flat(40));
    const lambda = new FakeLambda(() => answer as any);
    const { result, output } = await captureOutput(() => withFunction(lambda)({ Records: [recordCleanedMessage(p.recordId)] }));
    expect(result.batchItemFailures).toEqual([]);
    const item = await recordItem(lake, p.recordId);
    expect(item.state).toBe('labelled');
    expect(item.label!.votes).toEqual([
      { labeler: 'rules:who-grade@1', className: 'moderate', confidence: 0.97 },
      { labeler: 'fn:custom@3', abstainReason: reason },
    ]);
    expect(output).not.toContain('P-0042-AB');
    expect(JSON.stringify(item)).not.toContain('P-0042-AB');
  });

  test('a throttled invoke fails only its message; the retry labels it', async () => {
    const ok = await placeAuto(lake, flat(40), flat(40));
    const throttledOne = await placeAuto(lake, flat(45), flat(45));
    const vote = { payload: { kind: 'label', className: 'moderate', confidence: 0.9 } };
    const lambda = new FakeLambda((_, payload) => (payload.recordId === throttledOne.recordId ? { throws: throttled() } : vote));
    await drainEvents(lake);
    const { result, output } = await captureOutput(() => withFunction(lambda)({
      Records: [recordCleanedMessage(ok.recordId), recordCleanedMessage(throttledOne.recordId)],
    }));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: `m-${throttledOne.recordId}` }]);
    expect(output).toContain('TooManyRequestsException');
    expect((await recordItem(lake, ok.recordId)).state).toBe('labelled');
    expect((await recordItem(lake, throttledOne.recordId)).state).toBe('cleaned');
    expect(await versionsUnder(lake, lake.curated, `${ZONE_PREFIX}labels/${throttledOne.recordId}/`)).toEqual([]);
    expect((await drainEvents(lake)).map((e) => e.detail.recordId)).toEqual([ok.recordId]);

    const retry = await withFunction(new FakeLambda(() => vote))({ Records: [recordCleanedMessage(throttledOne.recordId)] });
    expect(retry.batchItemFailures).toEqual([]);
    expect((await recordItem(lake, throttledOne.recordId)).state).toBe('labelled');
  });

  const modelConfig = () => hearingConfig({
    labelers: [{
      kind: 'model',
      id: 'model:who',
      version: '7',
      functionArn: MODEL_ARN,
      inputName: 'features',
      features: ['thresholds.left.500', 'thresholds.left.1000', 'thresholds.right.500', 'thresholds.right.1000', 'age'],
      classMap: { g0: 'normal', g1: 'mild', g2: 'moderate' },
    }],
  });
  const predict = (label: string, index: number, probabilities: number[]) => ({
    payload: { statusCode: 200, headers: {}, body: JSON.stringify({ modelVersion: '7', outputs: {}, classNames: ['g0', 'g1', 'g2'], predictions: [{ label, index, probabilities }] }) },
  });

  test('the model endpoint gets an API Gateway proxy event; predictions[0] is mapped through classMap', async () => {
    const p = await placeAuto(lake, flat(40), flat(40));
    const lambda = new FakeLambda(() => predict('g2', 2, [0.01, 0.04, 0.95]));
    const res = await labelHandlerFor(lake, modelConfig(), { lambda: lambda.asClient() })({ Records: [recordCleanedMessage(p.recordId)] });
    expect(res.batchItemFailures).toEqual([]);
    expect(lambda.calls).toHaveLength(1);
    const event = lambda.calls[0].payload;
    expect(lambda.calls[0].functionName).toBe(MODEL_ARN);
    expect(event).toMatchObject({ httpMethod: 'POST', isBase64Encoded: false, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(event.body)).toEqual({ inputs: { features: [[40, 40, 40, 40, 67]] } });
    const item = await recordItem(lake, p.recordId);
    expect(item.label).toMatchObject({ className: 'moderate', confidence: 0.95, labeler: 'model:who@7' });
  });

  test.each([
    ['a 400 answer', { payload: { statusCode: 400, body: '{"message":"bad"}' } }, 'model-refused-input'],
    ['a class outside classMap', predict('g9', 0, [0.9, 0.05, 0.05]), 'unmapped-class'],
    ['a body without predictions', { payload: { statusCode: 200, body: '{"outputs":{}}' } }, 'invalid-output'],
  ] as const)('the model labeler abstains on %s (the record goes to review)', async (_, answer, reason) => {
    const p = await placeCleanRecord(lake, session(flat(40), flat(40)));
    const lambda = new FakeLambda(() => answer as any);
    const res = await labelHandlerFor(lake, modelConfig(), { lambda: lambda.asClient() })({ Records: [recordCleanedMessage(p.recordId)] });
    expect(res.batchItemFailures).toEqual([]);
    const input = (await executions(lake)).get(p.recordId)!;
    expect(input.reasons).toEqual(['all-abstained']);
    expect(input.votes).toEqual([{ labeler: 'model:who@7', abstainReason: reason }]);
  });

  test('a model record missing a feature abstains without an invoke', async () => {
    const raw = session(flat(40), flat(40));
    const p = await placeCleanRecord(lake, raw);
    const lambda = new FakeLambda(() => predict('g2', 2, [0, 0, 1]));
    const config = modelConfig();
    const spec = config.labelers[0] as Extract<PipelineConfig['labelers'][number], { kind: 'model' }>;
    await labelHandlerFor(lake, { ...config, labelers: [{ ...spec, features: [...spec.features, 'thresholds.left.3000'] }] }, { lambda: lambda.asClient() })({ Records: [recordCleanedMessage(p.recordId)] });
    expect(lambda.calls).toEqual([]);
    expect((await executions(lake)).get(p.recordId)!.votes).toEqual([{ labeler: 'model:who@7', abstainReason: 'missing-input' }]);
  });

  test('a 503 of the endpoint fails the message (retried), nothing is written', async () => {
    const p = await placeCleanRecord(lake, session(flat(40), flat(40)));
    const lambda = new FakeLambda(() => ({ payload: { statusCode: 503, body: '{"message":"the model is not available"}' } }));
    const res = await labelHandlerFor(lake, modelConfig(), { lambda: lambda.asClient() })({ Records: [recordCleanedMessage(p.recordId)] });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: `m-${p.recordId}` }]);
    expect((await recordItem(lake, p.recordId)).state).toBe('cleaned');
  });
});

describe('messages that are not labeling work', () => {
  let lake: Lake;
  beforeAll(async () => {
    lake = await createLake(aws());
  });

  test('malformed messages and unknown records fail (SQS redrives them to the DLQ); logs hold no body', async () => {
    const secret = 'P-0042-AB-secret-body';
    const records = [
      sqsMessage(`not json ${secret}`, 'bad-json'),
      sqsMessage(JSON.stringify({ 'source': 'evil', 'detail-type': 'Record Cleaned', 'detail': { recordId: 'rec-1' } }), 'bad-source'),
      sqsMessage(JSON.stringify({ 'source': 'cdk-secure-mlops.labeling-pipeline', 'detail-type': 'Record Cleaned', 'detail': { recordId: `../${secret}` } }), 'bad-id'),
      recordCleanedMessage('rec-000000000000000000000000', 'unknown-record'),
    ];
    const { result, output } = await captureOutput(() => labelHandlerFor(lake)({ Records: records }));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['bad-json', 'bad-source', 'bad-id', 'unknown-record']);
    expect(output).not.toContain(secret);
    expect(output).toContain('InvalidMessage');
    expect(output).toContain('RecordNotInLedger');
    expect(output).toContain('"LabelingFailures":4');
  });

  test('parseRecordCleaned reads the record id of a Record Cleaned event only', () => {
    expect(parseRecordCleaned(recordCleanedMessage('rec-abc').body)).toBe('rec-abc');
    expect(() => parseRecordCleaned(JSON.stringify({ 'source': 'cdk-secure-mlops.labeling-pipeline', 'detail-type': 'Record Labelled', 'detail': { recordId: 'rec-abc' } }))).toThrow(/Record Cleaned/);
  });

  test('execution names are the record id, or a sanitized prefix with a hash (distinct ids stay distinct)', () => {
    expect(executionName('rec-0123abcd')).toBe('rec-0123abcd');
    const a = executionName('rec:a.b');
    const b = executionName('rec-a-b');
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(a).not.toBe(b);
    expect(executionName('r'.repeat(120))).toHaveLength(80);
  });
});

test('the bundled asset loads in a fresh Node process with its environment and configuration file', () => {
  const result = expectAssetLoads(path.join('assets', 'labeling-pipeline', 'runtime', 'label.handler'), {
    env: {
      CLEAN_BUCKET: 'c',
      CURATED_BUCKET: 'k',
      ZONE_PREFIX: 'hearing/',
      DATA_KEY_ARN: 'arn:aws:kms:eu-central-1:111111111111:key/k',
      LEDGER_TABLE: 't',
      EVENT_BUS_NAME: 'b',
      REVIEW_STATE_MACHINE_ARN: 'arn:aws:states:eu-central-1:111111111111:stateMachine:r',
      METRICS_NAMESPACE: 'ns',
      PIPELINE_CONFIG_FILE: writeConfigFile(),
    },
  });
  expect(result.externals).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-eventbridge', '@aws-sdk/client-lambda', '@aws-sdk/client-s3', '@aws-sdk/client-sfn']);
});
