/**
 * Shared setup of the labeling and review handler tests against moto_server: the lake's clean and
 * curated zones (versioned, SSE-KMS), the ledger table, the pipeline's event bus with a rule that
 * copies every event to an SQS queue (so a test can count them), and the review state machine.
 *
 * What moto cannot do is faked, per call, with recording clients:
 * - Lambda Invoke (function and model labelers): moto 5.2.5 runs functions only in Docker, which
 *   the test machine does not have → `FakeLambda` answers per function ARN.
 * - Step Functions SendTaskSuccess: moto 5.2.5 accepts any token and does nothing → `FakeTaskApi`
 *   records the calls and raises TaskTimedOut / TaskDoesNotExist on demand. StartExecution runs
 *   against moto (it keeps executions, their input, and raises ExecutionAlreadyExists).
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { InvokeCommand, InvokeCommandOutput, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist, TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { cleaner, hearingConfig, hearingRecord, NOW, PIPELINE } from './hearing';
import { DETAIL_TYPE, EVENT_SOURCE, KEYS, LEDGER, PipelineConfig, RecordItem, ReviewExecutionInput } from '../../src/labeling-pipeline/runtime/contract';
import { createLabelHandler, LabelHandlerDeps } from '../../src/labeling-pipeline/runtime/label';
import { JsonObject } from '../../src/labeling-pipeline/runtime/logic/json';
import { fromItem, toItem } from '../../src/private/runtime/dynamodb-codec';
import { LocalAws } from '../support/local-aws';

export { hearingConfig, PIPELINE };

export const ZONE_PREFIX = 'hearing/';
export const NAMESPACE = 'CdkSecureMlops/LabelingPipeline';

/** Writes a config file for a bundle load (PIPELINE_CONFIG_FILE). */
export function writeConfigFile(config: PipelineConfig = hearingConfig()): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-config-'));
  const file = path.join(dir, 'pipeline-config.json');
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

/** Everything a test needs from moto. */
export interface Lake {
  readonly s3: S3Client;
  readonly ddb: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly sfn: SFNClient;
  readonly sqs: SQSClient;
  readonly keyArn: string;
  readonly clean: string;
  readonly curated: string;
  readonly table: string;
  readonly bus: string;
  readonly stateMachineArn: string;
  readonly eventQueueUrl: string;
  /** The environment the construct sets (names of `ENV`). */
  readonly env: {
    CLEAN_BUCKET: string;
    CURATED_BUCKET: string;
    ZONE_PREFIX: string;
    DATA_KEY_ARN: string;
    LEDGER_TABLE: string;
    EVENT_BUS_NAME: string;
    REVIEW_STATE_MACHINE_ARN: string;
    METRICS_NAMESPACE: string;
  };
}

let counter = 0;

/** Creates a fresh lake (unique names) in moto. */
export async function createLake(aws: LocalAws): Promise<Lake> {
  const suffix = `${Date.now().toString(36)}-${++counter}`;
  const cfg = { ...aws.clientConfig, maxAttempts: 1 };
  const s3 = new S3Client(cfg);
  const ddb = new DynamoDBClient(cfg);
  const events = new EventBridgeClient(cfg);
  const sfn = new SFNClient(cfg);
  const sqs = new SQSClient(cfg);
  const key = await aws.kms().send(new CreateKeyCommand({ Description: 'lake data key' }));
  const keyArn = key.KeyMetadata!.Arn!;
  const clean = `lake-clean-${suffix}`;
  const curated = `lake-curated-${suffix}`;
  for (const b of [clean, curated]) {
    await s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: aws.region as any } }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  const table = `ledger-${suffix}`;
  await ddb.send(new CreateTableCommand({
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  }));
  const bus = `pipeline-${suffix}`;
  await events.send(new CreateEventBusCommand({ Name: bus }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `events-${suffix}` }));
  const eventQueueUrl = queue.QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: eventQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await events.send(new PutRuleCommand({ Name: 'all', EventBusName: bus, EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'all', EventBusName: bus, Targets: [{ Id: 'q', Arn: queueArn }] }));
  const sm = await sfn.send(new CreateStateMachineCommand({
    name: `review-${suffix}`,
    roleArn: 'arn:aws:iam::123456789012:role/review',
    definition: JSON.stringify({ StartAt: 'Wait', States: { Wait: { Type: 'Pass', End: true } } }),
  }));
  return {
    s3,
    ddb,
    events,
    sfn,
    sqs,
    keyArn,
    clean,
    curated,
    table,
    bus,
    stateMachineArn: sm.stateMachineArn!,
    eventQueueUrl,
    env: {
      CLEAN_BUCKET: clean,
      CURATED_BUCKET: curated,
      ZONE_PREFIX,
      DATA_KEY_ARN: keyArn,
      LEDGER_TABLE: table,
      EVENT_BUS_NAME: bus,
      REVIEW_STATE_MACHINE_ARN: sm.stateMachineArn!,
      METRICS_NAMESPACE: NAMESPACE,
    },
  };
}

/** A clean record as the cleaning step leaves it: the object in the clean zone and its record item. */
export interface Placed {
  readonly recordId: string;
  readonly record: JsonObject;
  readonly subject: string;
}

/** Clean a raw record with the hearing cleaning logic and place it like the cleaning handler does. */
export async function placeCleanRecord(lake: Lake, raw: JsonObject): Promise<Placed> {
  const result = await cleaner().clean(JSON.stringify(raw), { now: NOW });
  if (result.kind !== 'clean') throw new Error(`fixture record was quarantined: ${result.reasons.map((r) => r.code).join(', ')}`);
  const key = KEYS.cleanRecord(ZONE_PREFIX, result.recordId);
  await lake.s3.send(new PutObjectCommand({
    Bucket: lake.clean, Key: key, Body: JSON.stringify(result.record), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: lake.keyArn,
  }));
  const item: RecordItem = {
    pk: LEDGER.recordPk(result.recordId),
    sk: LEDGER.recordSk,
    recordId: result.recordId,
    source: `s3://raw/uploads/${result.recordId}.json`,
    subject: result.subject ?? '',
    cleanRef: `s3://${lake.clean}/${key}`,
    cleanedAt: new Date(NOW).toISOString(),
    state: 'cleaned',
  };
  await lake.ddb.send(new PutItemCommand({ TableName: lake.table, Item: toItem(item as unknown as Record<string, unknown>) }));
  return { recordId: result.recordId, record: result.record, subject: result.subject ?? '' };
}

/**
 * Place a clean record whose better-ear average sits on the normal/mild boundary (20 and 25 dB HL):
 * the labeling handler sends it to review. A fresh session id makes it a new record.
 */
export function placeBorderlineRecord(lake: Lake): Promise<Placed> {
  return placeCleanRecord(lake, hearingRecord([20, 20, 20, 20], [25, 25, 25, 25], { sessionId: randomUUID() }));
}

/** The review state machine's input for a borderline record (low confidence, `mild` at 0.5). */
export function borderlineReviewInput(placed: Placed): ReviewExecutionInput {
  return {
    recordId: placed.recordId,
    reasons: ['low-confidence'],
    proposal: { className: 'mild', confidence: 0.5 },
    votes: [{ labeler: 'rules:who-grade@1', className: 'mild', confidence: 0.5 }],
    record: placed.record,
  };
}

/**
 * The labeling handler on the lake at `NOW`, with the hearing configuration unless given; `deps`
 * replace any dependency. By default no remote labeler may be called (the hearing configuration
 * has rules only).
 */
export function labelHandlerFor(lake: Lake, config: PipelineConfig = hearingConfig(), deps: Partial<LabelHandlerDeps> = {}) {
  const noRemoteLabeler = new FakeLambda(() => {
    throw new Error('no remote labeler configured');
  });
  return createLabelHandler({
    s3: lake.s3,
    ddb: lake.ddb,
    lambda: noRemoteLabeler.asClient(),
    sfn: lake.sfn,
    events: lake.events,
    env: lake.env,
    config,
    now: () => NOW,
    ...deps,
  });
}

/** A ledger item (consistent read), decoded; `undefined` when there is none. */
export async function ledgerItem(lake: Lake, pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  const res = await lake.ddb.send(new GetItemCommand({ TableName: lake.table, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }));
  return res.Item ? fromItem(res.Item) : undefined;
}

/** The ledger item of a record (consistent read); it must exist. */
export async function recordItem(lake: Lake, recordId: string): Promise<RecordItem> {
  const item = await ledgerItem(lake, LEDGER.recordPk(recordId), LEDGER.recordSk);
  if (!item) throw new Error(`no ledger item for record ${recordId}`);
  return item as unknown as RecordItem;
}

/** An SQS message carrying the `Record Cleaned` event (as the EventBridge → SQS rule delivers it). */
export function recordCleanedMessage(recordId: string, messageId = `m-${recordId}`): SQSRecord {
  const event = {
    'version': '0',
    'id': `e-${recordId}`,
    'detail-type': DETAIL_TYPE.recordCleaned,
    'source': EVENT_SOURCE,
    'account': '123456789012',
    'time': new Date(NOW).toISOString(),
    'region': 'eu-central-1',
    'resources': [],
    'detail': { pipeline: PIPELINE, recordId },
  };
  return sqsMessage(JSON.stringify(event), messageId);
}

export function sqsMessage(body: string, messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1', SentTimestamp: String(NOW), SenderId: 'events', ApproximateFirstReceiveTimestamp: String(NOW),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-central-1:123456789012:labeling',
    awsRegion: 'eu-central-1',
  };
}

/** A pipeline event as the rule copied it to the queue. */
export interface SeenEvent {
  readonly detailType: string;
  readonly detail: { pipeline: string; recordId?: string; codes?: string[] };
  readonly raw: string;
}

/** Every event put on the bus since the last call (drains the capture queue). */
export async function drainEvents(lake: Lake): Promise<SeenEvent[]> {
  const out: SeenEvent[] = [];
  for (let empty = 0; empty < 2;) {
    const res = await lake.sqs.send(new ReceiveMessageCommand({ QueueUrl: lake.eventQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const msgs = res.Messages ?? [];
    if (msgs.length === 0) {
      empty++;
      continue;
    }
    for (const m of msgs) {
      const e = JSON.parse(m.Body!);
      out.push({ detailType: e['detail-type'], detail: e.detail, raw: m.Body! });
    }
    await lake.sqs.send(new DeleteMessageBatchCommand({
      QueueUrl: lake.eventQueueUrl,
      Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
    }));
  }
  return out;
}

/** Object versions under a key prefix of a bucket. */
export async function versionsUnder(lake: Lake, bucket: string, prefix: string): Promise<Array<{ key: string; versionId: string }>> {
  const res = await lake.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
  return (res.Versions ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId! }));
}

/** A function labeler's behaviour for one invoke. */
export type FakeAnswer =
  | { readonly payload: unknown }
  | { readonly functionError: string; readonly payload?: unknown }
  | { readonly raw: string }
  | { readonly throws: Error };

/**
 * Stand-in for LambdaClient (moto 5.2.5 needs Docker to run functions): each call goes to the
 * answerer registered for its FunctionName, and is recorded (function ARN and parsed payload).
 */
export class FakeLambda {
  public readonly calls: Array<{ functionName: string; payload: any }> = [];
  constructor(private readonly answer: (functionName: string, payload: any) => FakeAnswer) {}

  public async send(command: unknown): Promise<Partial<InvokeCommandOutput>> {
    if (!(command instanceof InvokeCommand)) throw new Error('FakeLambda: only Invoke is faked');
    const input = command.input;
    if (input.InvocationType !== 'RequestResponse') throw new Error('FakeLambda: expected a RequestResponse invoke');
    const payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
    this.calls.push({ functionName: input.FunctionName!, payload });
    const a = this.answer(input.FunctionName!, payload);
    if ('throws' in a) throw a.throws;
    if ('raw' in a) return { StatusCode: 200, Payload: Buffer.from(a.raw) as any };
    const body = Buffer.from(JSON.stringify(a.payload ?? { errorMessage: 'boom', errorType: 'Error' })) as any;
    if ('functionError' in a) return { StatusCode: 200, FunctionError: a.functionError, Payload: body };
    return { StatusCode: 200, Payload: body };
  }

  public asClient(): LambdaClient {
    return this as unknown as LambdaClient;
  }
}

/** The SDK's throttling error of Lambda Invoke. */
export function throttled(): Error {
  return new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } });
}

/**
 * Stand-in for the Step Functions task API of the review API (moto's SendTaskSuccess accepts any
 * token and does nothing): records SendTaskSuccess calls; a token in `timedOut` / `gone` raises
 * TaskTimedOut / TaskDoesNotExist, like the service once the task is no longer waiting.
 */
export class FakeTaskApi {
  public readonly successes: Array<{ taskToken: string; output: string }> = [];
  public readonly timedOut = new Set<string>();
  public readonly gone = new Set<string>();
  public failWith?: Error;

  public async send(command: unknown): Promise<object> {
    if (!(command instanceof SendTaskSuccessCommand)) throw new Error('FakeTaskApi: only SendTaskSuccess is faked');
    const { taskToken, output } = command.input;
    if (this.failWith) throw this.failWith;
    if (this.timedOut.has(taskToken!)) throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: { httpStatusCode: 400 } });
    if (this.gone.has(taskToken!)) throw new TaskDoesNotExist({ message: 'Task does not exist', $metadata: { httpStatusCode: 400 } });
    this.successes.push({ taskToken: taskToken!, output: output! });
    return {};
  }

  public asClient(): SFNClient {
    return this as unknown as SFNClient;
  }
}

/** Captures everything written to stdout / stderr / console while `fn` runs. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
  const chunks: string[] = [];
  const orig = { out: process.stdout.write, err: process.stderr.write };
  const grab = (chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...args: unknown[]) => {
    chunks.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ') + '\n');
  }));
  process.stdout.write = grab as typeof process.stdout.write;
  process.stderr.write = grab as typeof process.stderr.write;
  try {
    const result = await fn();
    return { result, output: chunks.join('') };
  } finally {
    process.stdout.write = orig.out;
    process.stderr.write = orig.err;
    for (const s of spies) s.mockRestore();
  }
}
