/**
 * The LabelingPipeline's synthesized state machines (review, dataset, backfill) run in a local
 * Step Functions interpreter (aws-local-stepfunctions 3, Node 22), every Task state replaced by a
 * local handler that records the input it received: the paths taken (states entered), the calls
 * of each task, retries of transient errors, and the final output or error and cause.
 *
 * Interpreter limitations met here (see the tests of each machine):
 *   - `.waitForTaskToken`: the interpreter has no callback; the task's local handler's return value
 *     stands for the reviewer's SendTaskSuccess output.
 *   - `TimeoutSeconds` is honoured with a real timer (7 days for a review): the timeout is driven
 *     with Jest's fake timers in one test, and by a handler throwing `States.Timeout` in another.
 *   - Distributed Map: the interpreter ignores `ItemReader` and `ItemBatcher` (it runs a Map over an
 *     array in its input), so the backfill runs with each Distributed Map rewritten to an inline Map
 *     over the batches that its ItemReader (S3 listing) and ItemBatcher would produce from a fake
 *     listing; the ItemReader, ItemBatcher and MaxConcurrency fields are asserted statically.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { hearingPipelineProps } from './pipeline-fixture';
import { LabelingPipeline, SecureDataLake } from '../../src';
import { DETAIL_TYPE, EVENT_SOURCE } from '../../src/labeling-pipeline/runtime/contract';
import type { DatasetTaskResult, ReviewAnswer, ReviewExecutionInput } from '../../src/labeling-pipeline/runtime/contract';
import { ACCOUNT, allStates, REGION, stateMachineDefinition, stateMachineProperties, statesOfType } from '../support/asl';
import { awsError, ExecutionEvent as EventLog, LocalExecution as Run, localSfn, LocalSfn, startLocalExecution, StartedLocalExecution as Started, TaskHandler as Handler } from '../support/local-sfn';

const { StateMachine, ExecutionError } = localSfn;
type StateMachine = LocalSfn.StateMachine;

// --- the synthesized stack ----------------------------------------------------------------------

const app = new App();
const stack = new Stack(app, 'Labeling', { env: { account: ACCOUNT, region: REGION } });
const lake = new SecureDataLake(stack, 'Lake');
new LabelingPipeline(stack, 'Hearing', { lake, ...hearingPipelineProps() });
const template = Template.fromStack(stack).toJSON();

const MACHINES = {
  review: 'HearingReviewStateMachine',
  dataset: 'HearingDatasetStateMachine',
  backfill: 'HearingBackfillStateMachine',
} as const;
type MachineName = keyof typeof MACHINES;
const ASL: Record<MachineName, Record<string, any>> = {
  review: stateMachineDefinition(template, MACHINES.review),
  dataset: stateMachineDefinition(template, MACHINES.dataset),
  backfill: stateMachineDefinition(template, MACHINES.backfill),
};

/** The fake ARN of the only function whose logical id starts with `prefix`. */
function functionArn(prefix: string): string {
  const ids = Object.keys(template.Resources).filter((id) => id.startsWith(prefix) && template.Resources[id].Type === 'AWS::Lambda::Function');
  expect(ids).toHaveLength(1);
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${ids[0]}`;
}
/** The fake name of the only bucket whose logical id starts with `prefix`. */
function bucketName(prefix: string): string {
  const ids = Object.keys(template.Resources).filter((id) => id.startsWith(prefix) && template.Resources[id].Type === 'AWS::S3::Bucket');
  expect(ids).toHaveLength(1);
  return `bucket-${ids[0].toLowerCase()}`;
}

const REVIEW_FUNCTION = functionArn('HearingReviewRecord');
const DEFAULT_BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`;
const RAW_BUCKET = bucketName('LakeRaw');
const QUARANTINE_BUCKET = bucketName('LakeQuarantine');

// --- running a definition -----------------------------------------------------------------------

/** A task handler that throws the given errors on its first calls, then returns `then()`. */
function failing(errors: Error[], then: (input: any) => unknown = () => { throw errors[errors.length - 1]; }): Handler {
  let n = 0;
  return (input) => {
    if (n < errors.length) throw errors[n++];
    return then(input);
  };
}

/** Validated interpreters by definition (executions are independent of each other). */
const MACHINE_CACHE = new WeakMap<Record<string, any>, StateMachine>();

const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAA-task-token';

/**
 * Start the definition with every Task state (nested ones included) replaced by a local handler
 * (`handlers[state]`, else `defaults[state]`), and Retry intervals set to 0.
 */
function start(asl: Record<string, any>, defaults: Record<string, Handler>, handlers: Record<string, Handler>, input: unknown): Started {
  let machine = MACHINE_CACHE.get(asl);
  if (!machine) {
    machine = new StateMachine(asl as any, { validationOptions: { checkArn: false } });
    MACHINE_CACHE.set(asl, machine);
  }
  return startLocalExecution(machine, input, {
    taskNames: statesOfType(asl, 'Task').map((s) => s.name),
    handlerOf: (t) => handlers[t] ?? defaults[t],
    context: {
      Execution: { Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:Review:rec-1`, Input: input as any, StartTime: '2026-03-01T11:00:00Z' },
      Task: { Token: TASK_TOKEN },
    },
  });
}

/** Names of the states entered, in order (nested Map iterations included). */
const entered = (r: { events: EventLog[] }) => r.events.flatMap((e) => (e.type === 'StateEntered' ? [e.state.name] : []));
/** `[state, error]` of every retry. */
const retried = (r: Run) => r.events.flatMap((e) => (e.type === 'StateRetried' ? [[e.state.name, e.retry.retrier.ErrorEquals.join('|'), e.retry.attempt]] : []));
/** The execution's failure (`ExecutionFailed` event) or `undefined`. */
function failure(r: Run): { Error: string; Cause: unknown } | undefined {
  const e = r.events.find((x) => x.type === 'ExecutionFailed');
  return e && e.type === 'ExecutionFailed' ? { Error: e.Error, Cause: e.Cause } : undefined;
}
/** The execution ended with `ExecutionSucceeded`. */
const succeeded = (r: Run) => r.error === undefined && r.events.some((e) => e.type === 'ExecutionSucceeded');

// --- review state machine -----------------------------------------------------------------------

describe('review state machine', () => {
  const INPUT: ReviewExecutionInput = {
    recordId: 'rec-0f3a9c',
    reasons: ['low-confidence'],
    proposal: { className: 'mild', confidence: 0.62 },
    votes: [{ labeler: 'rules:who-grade@1', className: 'mild', confidence: 0.62 }],
    record: { subject: 'p-7c1e', thresholds: { left: { 500: 30 } } },
  };
  const ANSWER: ReviewAnswer = {
    recordId: INPUT.recordId,
    className: 'moderate',
    reviewer: '5d41402abc4b2a76b9719d911017c592',
    votes: INPUT.votes,
  };
  const lambdaOk = { StatusCode: 200, Payload: null };
  const defaults: Record<string, Handler> = {
    RequestReview: () => ANSWER,
    RecordReview: () => lambdaOk,
    ExpireReview: () => lambdaOk,
  };
  const run = (handlers: Record<string, Handler> = {}) => start(ASL.review, defaults, handlers, INPUT).done;
  const request = (attempt: number) => ({
    FunctionName: REVIEW_FUNCTION,
    Payload: { action: 'request', taskToken: TASK_TOKEN, attempt, input: INPUT },
  });
  const TIMED_OUT_PATH = ['RequestReview', 'RequeueReview', 'AttemptsLeft?'];

  test('a reviewer answers: the answer is recorded and the review succeeds', async () => {
    const r = await run();
    expect(r.error).toBeUndefined();
    expect(succeeded(r)).toBe(true);
    expect(entered(r)).toEqual(['StartReview', 'RequestReview', 'RecordReview', 'Reviewed']);
    expect(r.calls.RequestReview).toEqual([request(1)]);
    expect(r.calls.RecordReview).toEqual([{ FunctionName: REVIEW_FUNCTION, Payload: { action: 'record', answer: ANSWER } }]);
    expect(r.calls.ExpireReview).toEqual([]);
    expect(retried(r)).toEqual([]);
    // RecordReview's result is discarded: the output is the request state with the answer.
    expect(r.output).toEqual({ input: INPUT, attempt: 1, answer: ANSWER });
  });

  test('throttled twice, the review request is retried and then answered', async () => {
    const throttled = () => awsError('Lambda.TooManyRequestsException', 'Rate Exceeded.');
    const r = await run({ RequestReview: failing([throttled(), throttled()], () => ANSWER) });
    expect(succeeded(r)).toBe(true);
    expect(r.calls.RequestReview).toEqual([request(1), request(1), request(1)]);
    expect(retried(r)).toEqual([
      ['RequestReview', 'Lambda.ServiceException|Lambda.AWSLambdaException|Lambda.SdkClientException|Lambda.TooManyRequestsException', 1],
      ['RequestReview', 'Lambda.ServiceException|Lambda.AWSLambdaException|Lambda.SdkClientException|Lambda.TooManyRequestsException', 2],
    ]);
    expect(entered(r).filter((s) => s !== 'RequestReview')).toEqual(['StartReview', 'RecordReview', 'Reviewed']);
    expect(r.calls.RecordReview).toEqual([{ FunctionName: REVIEW_FUNCTION, Payload: { action: 'record', answer: ANSWER } }]);
    expect(r.output).toEqual({ input: INPUT, attempt: 1, answer: ANSWER });
  });

  test('timed out 3 times (maxAttempts), the review is requeued with attempts 2 and 3, then expires', async () => {
    const r = await run({ RequestReview: () => { throw awsError('States.Timeout', 'Task timed out'); } });
    expect(r.error).toBeInstanceOf(ExecutionError);
    expect(entered(r)).toEqual([
      'StartReview',
      ...TIMED_OUT_PATH, ...TIMED_OUT_PATH, ...TIMED_OUT_PATH,
      'ExpireReview', 'ReviewExpired',
    ]);
    expect(r.calls.RequestReview).toEqual([request(1), request(2), request(3)]);
    expect(r.calls.ExpireReview).toEqual([{ FunctionName: REVIEW_FUNCTION, Payload: { action: 'expire', recordId: INPUT.recordId } }]);
    expect(r.calls.RecordReview).toEqual([]);
    expect(retried(r)).toEqual([]);
    expect(failure(r)).toEqual({ Error: 'ReviewExpired', Cause: 'no reviewer answered in 3 attempt(s) of 7 days' });
  });

  test('the interpreter\'s own TimeoutSeconds (7 days) requeues an unanswered review, then it expires', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const DAY = 24 * 3600 * 1000;
      // Nobody answers: the task token is never sent back.
      const s = start(ASL.review, defaults, { RequestReview: () => new Promise(() => undefined) }, INPUT);
      await jest.advanceTimersByTimeAsync(7 * DAY - 1);
      expect(s.calls.RequestReview).toEqual([request(1)]);
      expect(entered(s)).toEqual(['StartReview', 'RequestReview']);
      await jest.advanceTimersByTimeAsync(1);
      expect(s.calls.RequestReview).toEqual([request(1), request(2)]);
      await jest.advanceTimersByTimeAsync(7 * DAY);
      expect(s.calls.RequestReview).toEqual([request(1), request(2), request(3)]);
      expect(s.calls.ExpireReview).toEqual([]);
      await jest.advanceTimersByTimeAsync(7 * DAY);
      const r = await s.done;
      expect(entered(r)).toEqual(['StartReview', ...TIMED_OUT_PATH, ...TIMED_OUT_PATH, ...TIMED_OUT_PATH, 'ExpireReview', 'ReviewExpired']);
      expect(r.events.filter((e) => e.type === 'StateCaught').map((e) => e.type === 'StateCaught' && e.catch.catcher.ErrorEquals))
        .toEqual([['States.Timeout'], ['States.Timeout'], ['States.Timeout']]);
      expect(r.calls.ExpireReview).toEqual([{ FunctionName: REVIEW_FUNCTION, Payload: { action: 'expire', recordId: INPUT.recordId } }]);
      expect(failure(r)).toEqual({ Error: 'ReviewExpired', Cause: 'no reviewer answered in 3 attempt(s) of 7 days' });
    } finally {
      jest.useRealTimers();
    }
  });

  test('a review answered on its second attempt is recorded', async () => {
    const r = await run({ RequestReview: failing([awsError('States.Timeout', 'Task timed out')], () => ANSWER) });
    expect(succeeded(r)).toBe(true);
    expect(entered(r)).toEqual(['StartReview', ...TIMED_OUT_PATH, 'RequestReview', 'RecordReview', 'Reviewed']);
    expect(r.calls.RequestReview).toEqual([request(1), request(2)]);
    expect(r.calls.RecordReview).toEqual([{ FunctionName: REVIEW_FUNCTION, Payload: { action: 'record', answer: ANSWER } }]);
    // The timeout's error is not carried into the answered state.
    expect(r.output).toEqual({ input: INPUT, attempt: 2, answer: ANSWER });
  });

  test('recording fails permanently: retried 6 times, then the execution fails with ReviewFailed and the cause', async () => {
    const broken = () => awsError('InvalidReviewRecordEvent', 'invalid review-record event: className is not a class');
    const r = await run({ RecordReview: () => { throw broken(); } });
    expect(entered(r).filter((s) => s !== 'RecordReview')).toEqual(['StartReview', 'RequestReview', 'ReviewFailed']);
    expect(r.calls.RecordReview).toHaveLength(7);
    expect(retried(r).map(([state, errors]) => [state, errors])).toEqual(Array(6).fill(['RecordReview', 'States.ALL']));
    expect(failure(r)).toEqual({ Error: 'InvalidReviewRecordEvent', Cause: 'invalid review-record event: className is not a class' });
  });

  test('a request that fails with a non-retried error fails the review with ReviewFailed (no requeue)', async () => {
    const r = await run({ RequestReview: () => { throw awsError('Lambda.ResourceNotFoundException', 'Function not found'); } });
    expect(entered(r)).toEqual(['StartReview', 'RequestReview', 'ReviewFailed']);
    expect(r.calls.RequestReview).toHaveLength(1);
    expect(failure(r)).toEqual({ Error: 'Lambda.ResourceNotFoundException', Cause: 'Function not found' });
  });

  test('expiring fails permanently: ReviewFailed with the cause (not ReviewExpired)', async () => {
    const r = await run({
      RequestReview: () => { throw awsError('States.Timeout', 'Task timed out'); },
      ExpireReview: () => { throw awsError('ConditionalCheckFailed', 'the pending review is gone'); },
    });
    expect(entered(r).slice(-2)).toEqual(['ExpireReview', 'ReviewFailed']);
    expect(r.calls.ExpireReview).toHaveLength(7);
    expect(failure(r)).toEqual({ Error: 'ConditionalCheckFailed', Cause: 'the pending review is gone' });
  });
});

// --- dataset state machine ----------------------------------------------------------------------

describe('dataset state machine', () => {
  const INPUT = { datasetVersion: 'hearing-v12' };
  const LOCATION = `s3://${bucketName('LakeCurated')}/hearing/datasets/hearing-v12/`;
  const COUNTS = { records: 1200, labelled: 1150, train: 920, validation: 115, test: 115, quarantined: 12 };
  const published: DatasetTaskResult = { datasetVersion: 'hearing-v12', location: LOCATION, publish: true, blockedReasons: [], counts: COUNTS };
  const blocked: DatasetTaskResult = { ...published, publish: false, blockedReasons: ['min-per-split', 'max-unlabelled-rate'] };
  const putOk = { Entries: [{ EventId: 'e-1' }], FailedEntryCount: 0 };
  const defaults: Record<string, Handler> = {
    BuildDatasetVersion: () => published,
    PublishDatasetVersion: () => putOk,
    ReportBlockedDatasetVersion: () => putOk,
  };
  const run = (handlers: Record<string, Handler> = {}, input: unknown = INPUT) => start(ASL.dataset, defaults, handlers, input).done;
  const entry = (detailType: string, result: DatasetTaskResult) => ({
    Entries: [{
      EventBusName: DEFAULT_BUS,
      Source: EVENT_SOURCE,
      DetailType: detailType,
      Detail: {
        pipeline: 'hearing',
        datasetVersion: result.datasetVersion,
        location: result.location,
        counts: result.counts,
        blockedReasons: result.blockedReasons,
      },
    }],
  });

  test('gates pass: the version is built from the execution input and "Dataset Version Published" is put', async () => {
    const r = await run();
    expect(succeeded(r)).toBe(true);
    expect(entered(r)).toEqual(['BuildDatasetVersion', 'Publish?', 'PublishDatasetVersion', 'Published']);
    // payloadResponseOnly: the function receives the state input itself.
    expect(r.calls.BuildDatasetVersion).toEqual([INPUT]);
    expect(r.calls.PublishDatasetVersion).toEqual([entry(DETAIL_TYPE.datasetVersionPublished, published)]);
    expect(r.calls.ReportBlockedDatasetVersion).toEqual([]);
    expect(r.output).toEqual({ ...INPUT, result: published });
  });

  test('a scheduled start ({}) passes {} to the function', async () => {
    const r = await run({}, {});
    expect(succeeded(r)).toBe(true);
    expect(r.calls.BuildDatasetVersion).toEqual([{}]);
  });

  test('a gate fails: "Dataset Version Blocked" is put with the reasons and the execution fails with DatasetBlocked', async () => {
    const r = await run({ BuildDatasetVersion: () => blocked });
    expect(entered(r)).toEqual(['BuildDatasetVersion', 'Publish?', 'ReportBlockedDatasetVersion', 'DatasetBlocked']);
    expect(r.calls.ReportBlockedDatasetVersion).toEqual([entry(DETAIL_TYPE.datasetVersionBlocked, blocked)]);
    expect(r.calls.PublishDatasetVersion).toEqual([]);
    expect(failure(r)).toEqual({ Error: 'DatasetBlocked', Cause: 'a quality gate failed; see quality-report.json of the version' });
  });

  test('Lambda.ServiceException twice: the build is retried and the version published', async () => {
    const transient = () => awsError('Lambda.ServiceException', 'An error occurred (ServiceException)');
    const r = await run({ BuildDatasetVersion: failing([transient(), transient()], () => published) });
    expect(succeeded(r)).toBe(true);
    expect(r.calls.BuildDatasetVersion).toEqual([INPUT, INPUT, INPUT]);
    expect(retried(r).map(([state, errors]) => [state, errors])).toEqual(Array(2).fill(
      ['BuildDatasetVersion', 'Lambda.ClientExecutionTimeoutException|Lambda.ServiceException|Lambda.AWSLambdaException|Lambda.SdkClientException'],
    ));
    expect(entered(r).filter((s) => s !== 'BuildDatasetVersion')).toEqual(['Publish?', 'PublishDatasetVersion', 'Published']);
    expect(r.calls.PublishDatasetVersion).toEqual([entry(DETAIL_TYPE.datasetVersionPublished, published)]);
  });

  test('a permanent error (DatasetVersionExists) is not retried: DatasetFailed with the error and cause', async () => {
    const r = await run({ BuildDatasetVersion: () => { throw awsError('DatasetVersionExists', 'dataset version hearing-v12 exists; versions are immutable'); } });
    expect(entered(r)).toEqual(['BuildDatasetVersion', 'DatasetFailed']);
    expect(r.calls.BuildDatasetVersion).toHaveLength(1);
    expect(retried(r)).toEqual([]);
    expect(r.calls.PublishDatasetVersion).toEqual([]);
    expect(r.calls.ReportBlockedDatasetVersion).toEqual([]);
    expect(failure(r)).toEqual({ Error: 'DatasetVersionExists', Cause: 'dataset version hearing-v12 exists; versions are immutable' });
  });

  test('throttled 7 times: the retries are exhausted and the execution fails with DatasetFailed', async () => {
    const r = await run({ BuildDatasetVersion: () => { throw awsError('Lambda.TooManyRequestsException', 'Rate Exceeded.'); } });
    expect(r.calls.BuildDatasetVersion).toHaveLength(7);
    expect(entered(r).filter((s) => s !== 'BuildDatasetVersion')).toEqual(['DatasetFailed']);
    expect(failure(r)).toEqual({ Error: 'Lambda.TooManyRequestsException', Cause: 'Rate Exceeded.' });
  });

  test('the event cannot be put: retried 6 times, then DatasetFailed with the error', async () => {
    const r = await run({ PublishDatasetVersion: () => { throw awsError('EventBridge.FailedEntry', 'AccessDeniedException'); } });
    expect(r.calls.PublishDatasetVersion).toHaveLength(7);
    expect(entered(r).filter((s) => s !== 'PublishDatasetVersion')).toEqual(['BuildDatasetVersion', 'Publish?', 'DatasetFailed']);
    expect(failure(r)).toEqual({ Error: 'EventBridge.FailedEntry', Cause: 'AccessDeniedException' });
  });
});

// --- backfill state machine ---------------------------------------------------------------------

/** An object of an S3 ListObjectsV2 page as a Distributed Map's S3 ItemReader gives it. */
const s3Item = (Key: string) => ({ Key, Etag: '"0f343b0931126a20f133d67c2b018a3b"', LastModified: 1772366400, Size: 412, StorageClass: 'STANDARD' });

/**
 * The definition with every Distributed Map over an S3 listing (ItemReader
 * `arn:aws:states:::s3:listObjectsV2`) rewritten to an inline Map over `$.emulatedBatches.<state>`,
 * and those batches as its ItemReader and ItemBatcher would produce them from `listing` (keys by bucket).
 */
function emulateDistributedMaps(
  asl: Record<string, any>,
  listing: Record<string, string[]>,
): { asl: Record<string, any>; batches: Record<string, any[]> } {
  const copy = JSON.parse(JSON.stringify(asl));
  const batches: Record<string, any[]> = {};
  for (const [name, state] of Object.entries<any>(copy.States)) {
    if (state.Type !== 'Map' || !state.ItemReader) continue;
    const { Resource, Parameters } = state.ItemReader;
    if (Resource !== 'arn:aws:states:::s3:listObjectsV2') throw new Error(`${name}: unsupported ItemReader ${Resource}`);
    const items = (listing[Parameters.Bucket] ?? []).filter((k) => k.startsWith(Parameters.Prefix ?? '')).map(s3Item);
    const { MaxItemsPerBatch, BatchInput, ...other } = state.ItemBatcher;
    if (Object.keys(other).length || Object.keys(BatchInput ?? {}).some((k) => k.endsWith('.$'))) throw new Error(`${name}: ItemBatcher not emulated: ${JSON.stringify(state.ItemBatcher)}`);
    batches[name] = [];
    for (let i = 0; i < items.length; i += MaxItemsPerBatch) batches[name].push({ Items: items.slice(i, i + MaxItemsPerBatch), BatchInput });
    delete state.ItemReader;
    delete state.ItemBatcher;
    state.ItemsPath = `$.emulatedBatches.${name}`;
    state.ItemProcessor.ProcessorConfig = { Mode: 'INLINE' };
  }
  return { asl: copy, batches };
}

describe('backfill state machine', () => {
  const RAW_KEYS = [
    ...Array.from({ length: 120 }, (_, i) => `uploads/2026/03/${String(i).padStart(4, '0')}.json`),
    'exports/elsewhere.json',
  ];
  const QUARANTINE_KEYS = [
    ...Array.from({ length: 7 }, (_, i) => `hearing/quarantine/rec-${i}.json`),
    'other-pipeline/quarantine/rec-x.json',
  ];
  const { asl, batches } = emulateDistributedMaps(ASL.backfill, { [RAW_BUCKET]: RAW_KEYS, [QUARANTINE_BUCKET]: QUARANTINE_KEYS });
  const counts = (input: any) => ({ received: input.Items.length, clean: input.Items.length, duplicate: 0, quarantine: 0, skipped: 0 });
  const defaults: Record<string, Handler> = { BackfillRawBatch: counts, BackfillQuarantineBatch: counts };
  const run = (zone: string | undefined, handlers: Record<string, Handler> = {}) =>
    start(asl, defaults, handlers, { ...(zone ? { zone } : {}), emulatedBatches: batches }).done;
  const keysOf = (calls: any[]) => calls.flatMap((c) => c.Items.map((i: any) => i.Key));

  test('the interpreter does not read a Distributed Map\'s ItemReader (why the maps are emulated)', async () => {
    const r = await start(ASL.backfill, defaults, {}, { zone: 'raw' }).done;
    expect(entered(r).slice(0, 2)).toEqual(['WhichZone?', 'BackfillRaw']);
    expect(r.calls.BackfillRawBatch).toEqual([]);
    expect(r.error).toBeDefined();
  });

  test('the raw zone: every upload under the source prefix, in batches of 50 with the bucket, each to the cleaning function', async () => {
    const r = await run('raw');
    expect(succeeded(r)).toBe(true);
    expect(entered(r).filter((s) => s !== 'BackfillRawBatch')).toEqual(['WhichZone?', 'BackfillRaw', 'RawRerun']);
    expect(r.calls.BackfillQuarantineBatch).toEqual([]);
    const calls = r.calls.BackfillRawBatch;
    expect(calls.map((c) => c.Items.length).sort((a, b) => b - a)).toEqual([50, 50, 20]);
    for (const c of calls) {
      expect(Object.keys(c).sort()).toEqual(['BatchInput', 'Items']);
      expect(c.BatchInput).toEqual({ bucket: RAW_BUCKET });
      expect(c.Items[0]).toEqual(s3Item(c.Items[0].Key));
    }
    expect(keysOf(calls).sort()).toEqual(RAW_KEYS.filter((k) => k.startsWith('uploads/')).sort());
    expect(r.output.result).toEqual({ batches: 3 });
    expect(r.output.zone).toBe('raw');
  });

  test.each([['no zone', undefined], ['zone "raw"', 'raw'], ['an unknown zone', 'curated']])('%s: the raw zone', async (_, zone) => {
    const r = await run(zone);
    expect(succeeded(r)).toBe(true);
    expect(entered(r).filter((s) => s !== 'BackfillRawBatch')).toEqual(['WhichZone?', 'BackfillRaw', 'RawRerun']);
    expect(r.calls.BackfillRawBatch).toHaveLength(3);
    expect(r.calls.BackfillQuarantineBatch).toEqual([]);
  });

  test('the quarantine zone: the pipeline\'s quarantine prefix only', async () => {
    const r = await run('quarantine');
    expect(succeeded(r)).toBe(true);
    expect(entered(r).filter((s) => s !== 'BackfillQuarantineBatch')).toEqual(['WhichZone?', 'BackfillQuarantine', 'QuarantineRerun']);
    expect(r.calls.BackfillRawBatch).toEqual([]);
    expect(r.calls.BackfillQuarantineBatch).toEqual([{ Items: QUARANTINE_KEYS.slice(0, 7).map(s3Item), BatchInput: { bucket: QUARANTINE_BUCKET } }]);
    expect(r.output.result).toEqual({ batches: 1 });
  });

  test('a batch that fails 4 times is retried to success', async () => {
    const r = await run('quarantine', { BackfillQuarantineBatch: failing(Array.from({ length: 4 }, () => awsError('S3.SlowDown', 'Please reduce your request rate.')), counts) });
    expect(succeeded(r)).toBe(true);
    expect(r.calls.BackfillQuarantineBatch).toHaveLength(5);
    expect(retried(r).map(([state, errors]) => [state, errors])).toEqual(Array(4).fill(['BackfillQuarantineBatch', 'States.ALL']));
    expect(r.output.result).toEqual({ batches: 1 });
  });

  test('a batch that keeps failing fails the map: BackfillFailed with the error', async () => {
    const r = await run('quarantine', { BackfillQuarantineBatch: () => { throw awsError('KMS.AccessDeniedException', 'not authorized to use the key'); } });
    expect(r.calls.BackfillQuarantineBatch).toHaveLength(5);
    expect(entered(r).filter((s) => s !== 'BackfillQuarantineBatch')).toEqual(['WhichZone?', 'BackfillQuarantine', 'BackfillFailed']);
    // In the service a Distributed Map whose item fails reports States.ExceedToleratedFailureThreshold;
    // the emulating inline Map reports the item's error.
    expect(failure(r)?.Error).toBe('KMS.AccessDeniedException');
  });
});

// --- static checks ------------------------------------------------------------------------------

describe('static checks of the definitions', () => {
  /** Task states deliberately without a Catch: the Distributed Map around them catches. */
  const WITHOUT_CATCH = ['BackfillRaw/ItemProcessor/BackfillRawBatch', 'BackfillQuarantine/ItemProcessor/BackfillQuarantineBatch'];

  test.each(Object.keys(MACHINES) as MachineName[])('%s: every Task state has a bounded Retry and a Catch of States.ALL', (name) => {
    const tasks = statesOfType(ASL[name], 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const { path, state } of tasks) {
      expect([path, Array.isArray(state.Retry) && state.Retry.length > 0]).toEqual([path, true]);
      for (const retrier of state.Retry) {
        expect(retrier.MaxAttempts).toBeGreaterThanOrEqual(1);
        expect(retrier.MaxAttempts).toBeLessThanOrEqual(6);
        expect(retrier.IntervalSeconds).toBeGreaterThanOrEqual(1);
        expect(retrier.BackoffRate).toBeGreaterThanOrEqual(1);
      }
      const catchesAll = (state.Catch ?? []).some((c: any) => c.ErrorEquals.includes('States.ALL'));
      expect([path, catchesAll]).toEqual([path, !WITHOUT_CATCH.includes(path)]);
      // A Task's Parameters is a payload template (an object), never a bare path string.
      if ('Parameters' in state) expect([path, typeof state.Parameters]).toEqual([path, 'object']);
    }
  });

  test('the tasks without a Catch are exactly the backfill batches, whose Distributed Maps catch into BackfillFailed', () => {
    const all = (Object.keys(MACHINES) as MachineName[]).flatMap((m) => statesOfType(ASL[m], 'Task'));
    expect(all.filter((t) => !t.state.Catch).map((t) => t.path).sort()).toEqual([...WITHOUT_CATCH].sort());
    for (const map of statesOfType(ASL.backfill, 'Map')) {
      expect(map.state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'BackfillFailed' }]);
    }
  });

  test.each(Object.keys(MACHINES) as MachineName[])('%s: logs exclude execution data; standard, traced, encrypted with the pipeline key', (name) => {
    const props = stateMachineProperties(template, MACHINES[name]);
    expect(props.LoggingConfiguration).toEqual({
      Level: 'ALL',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: expect.stringMatching(new RegExp(`^arn:aws:logs:${REGION}:${ACCOUNT}:log-group:ref-Hearing${name[0].toUpperCase()}${name.slice(1)}StateMachineLogs`)) } }],
    });
    expect(props.StateMachineType).toBe('STANDARD');
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
    expect(props.EncryptionConfiguration).toMatchObject({ Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: expect.stringMatching(/key-hearingkey/) });
  });

  test('review: the wait is the review timeout (7 days), the requeue limit is maxAttempts (3), only States.Timeout requeues', () => {
    const s = ASL.review.States;
    expect(s.RequestReview).toMatchObject({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSeconds: 7 * 24 * 3600 });
    expect(s.RequestReview.HeartbeatSeconds).toBeUndefined();
    expect(s.RequestReview.Catch.map((c: any) => [c.ErrorEquals, c.Next])).toEqual([[['States.Timeout'], 'RequeueReview'], [['States.ALL'], 'ReviewFailed']]);
    expect(s.RequestReview.Retry.flatMap((r: any) => r.ErrorEquals)).not.toContain('States.Timeout');
    expect(s.RequestReview.Retry.flatMap((r: any) => r.ErrorEquals)).not.toContain('States.ALL');
    expect(s['AttemptsLeft?'].Choices).toEqual([{ Variable: '$.attempt', NumericGreaterThan: 3, Next: 'ExpireReview' }]);
  });

  test('backfill: each Distributed Map lists its zone\'s prefix, batches 50 with the bucket, runs 10 at a time, and counts batches', () => {
    const s = ASL.backfill.States;
    const expected = [
      ['BackfillRaw', RAW_BUCKET, 'uploads/'],
      ['BackfillQuarantine', QUARANTINE_BUCKET, 'hearing/quarantine/'],
    ];
    for (const [name, bucket, prefix] of expected) {
      expect(s[name]).toMatchObject({
        Type: 'Map',
        ItemReader: { Resource: 'arn:aws:states:::s3:listObjectsV2', Parameters: { Bucket: bucket, Prefix: prefix } },
        ItemBatcher: { MaxItemsPerBatch: 50, BatchInput: { bucket } },
        MaxConcurrency: 10,
        ResultSelector: { 'batches.$': 'States.ArrayLength($)' },
        ResultPath: '$.result',
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      });
      const batch = s[name].ItemProcessor.States[`${name}Batch`];
      expect(batch).toMatchObject({ Type: 'Task', Resource: functionArn('HearingClean'), End: true });
      expect(batch.Retry).toContainEqual({ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2 });
    }
    expect(s['WhichZone?'].Choices).toEqual([
      { Not: { Variable: '$.zone', IsPresent: true }, Next: 'BackfillRaw' },
      { Variable: '$.zone', StringEquals: 'quarantine', Next: 'BackfillQuarantine' },
    ]);
    expect(s['WhichZone?'].Default).toBe('BackfillRaw');
  });

  test('every state is reachable and every Next names a state', () => {
    for (const name of Object.keys(MACHINES) as MachineName[]) {
      const states = allStates(ASL[name]);
      const names = new Set(states.map((s) => s.name));
      const targets = states.flatMap(({ state }) => [
        state.Next, state.Default,
        ...(state.Choices ?? []).map((c: any) => c.Next),
        ...(state.Catch ?? []).map((c: any) => c.Next),
      ]).filter((n): n is string => typeof n === 'string');
      for (const t of targets) expect([name, t, names.has(t)]).toEqual([name, t, true]);
      const starts = [ASL[name].StartAt, ...states.flatMap(({ state }) => (state.ItemProcessor ? [state.ItemProcessor.StartAt] : []))];
      const reached = new Set([...starts, ...targets]);
      expect([name, states.filter((s) => !reached.has(s.name)).map((s) => s.path)]).toEqual([name, []]);
    }
  });
});
