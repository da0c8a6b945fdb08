/**
 * Test support for the cleaning handler against moto: a "world" (versioned raw / clean /
 * quarantine buckets, a KMS data key and HMAC key, the ledger table, an event bus whose rule routes
 * the pipeline's events to an SQS queue), the handler wired to it through SDK clients that can
 * inject faults, an SQS redelivery driver, and readers of the zones, the ledger and the events.
 */
import { randomUUID } from 'node:crypto';
import {
  AttributeValue, CreateTableCommand, DynamoDBClient, GetItemCommand, paginateScan,
} from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand, GetObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { CleanHandler, CleanHandlerDeps, CleanHandlerEnv, CleanLogger, createCleanHandler } from '../../../src/labeling-pipeline/runtime/clean';
import { sourceHash } from '../../../src/labeling-pipeline/runtime/clean-source';
import { EVENT_SOURCE, LEDGER, PipelineConfig } from '../../../src/labeling-pipeline/runtime/contract';
import type { LocalAws } from '../../support/local-aws';
import { CLEANING, hearingConfig, NOW } from '../hearing';

export const PIPELINE_NAME = 'hearing';
export const RAW_PREFIX = 'uploads/';
export const ZONE_PREFIX = 'hearing/';

/** The pipeline configuration of the hearing example (cleaning from the fixtures unless given). */
export function pipelineConfig(cleaning = CLEANING): PipelineConfig {
  return hearingConfig({ cleaning });
}

/** KMS keys shared by every world of a test file. */
export interface Keys {
  readonly dataKeyArn: string;
  readonly hmacKeyId: string;
}

export async function createKeys(aws: LocalAws): Promise<Keys> {
  const kms = aws.kms();
  const data = await kms.send(new CreateKeyCommand({ Description: 'lake data key' }));
  const hmac = await kms.send(new CreateKeyCommand({ Description: 'lake hmac key', KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
  return { dataKeyArn: data.KeyMetadata!.Arn!, hmacKeyId: hmac.KeyMetadata!.KeyId! };
}

/** Clients for the test's own reads and writes (no faults). */
export interface Clients {
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly ddb: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly sqs: SQSClient;
}

export function clients(aws: LocalAws): Clients {
  const c = { ...aws.clientConfig, maxAttempts: 1 };
  return { s3: new S3Client(c), kms: new KMSClient(c), ddb: new DynamoDBClient(c), events: new EventBridgeClient(c), sqs: new SQSClient(c) };
}

export interface World {
  readonly env: CleanHandlerEnv;
  readonly keys: Keys;
  readonly eventsQueueUrl: string;
  readonly c: Clients;
}

/** Fresh buckets, table, bus and event queue (named with `id`). */
export async function createWorld(aws: LocalAws, keys: Keys, id: string = randomUUID().slice(0, 8)): Promise<World> {
  const c = clients(aws);
  const name = (zone: string) => `${zone}-${id}`.toLowerCase();
  const env: CleanHandlerEnv = {
    RAW_BUCKET: name('raw'),
    RAW_PREFIX,
    CLEAN_BUCKET: name('clean'),
    QUARANTINE_BUCKET: name('quarantine'),
    ZONE_PREFIX,
    DATA_KEY_ARN: keys.dataKeyArn,
    HMAC_KEY_ID: keys.hmacKeyId,
    LEDGER_TABLE: name('ledger'),
    EVENT_BUS_NAME: name('bus'),
    METRICS_NAMESPACE: 'test/labeling',
  };
  for (const b of [env.RAW_BUCKET, env.CLEAN_BUCKET, env.QUARANTINE_BUCKET]) {
    await c.s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: aws.region as any } }));
    await c.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  await c.ddb.send(new CreateTableCommand({
    TableName: env.LEDGER_TABLE,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
  await c.events.send(new CreateEventBusCommand({ Name: env.EVENT_BUS_NAME }));
  const q = await c.sqs.send(new CreateQueueCommand({ QueueName: name('events') }));
  const arn = (await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await c.events.send(new PutRuleCommand({ Name: 'pipeline-events', EventBusName: env.EVENT_BUS_NAME, EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }) }));
  await c.events.send(new PutTargetsCommand({ Rule: 'pipeline-events', EventBusName: env.EVENT_BUS_NAME, Targets: [{ Id: 'queue', Arn: arn }] }));
  return { env, keys, eventsQueueUrl: q.QueueUrl!, c };
}

// ---- fault injection ------------------------------------------------------------------------

/** Which error an injected fault throws. */
export type FaultKind = 'internal' | 'throttling' | 's3-slowdown' | 'kms-internal' | 'ddb-throughput';
/** before: the call is not made; after: the call is made, its response lost; crash: the call is made, then the process dies. */
export type FaultMode = 'before' | 'after' | 'crash';

export interface Fault {
  /** Client: s3, kms, ddb, events. */
  readonly service: 'S3' | 'KMS' | 'DynamoDB' | 'EventBridge';
  /** Command name, e.g. PutObjectCommand. */
  readonly command: string;
  /** Fires on the nth matching call (1-based) … */
  readonly nth: number;
  /** … and, when persistent, on every later one too (until the plan is disabled). */
  readonly persistent?: boolean;
  readonly mode: FaultMode;
  readonly kind: FaultKind;
  /** Only calls whose input this accepts count towards `nth` (e.g. PutItem of a record item). @default every call */
  readonly match?: (input: any) => boolean;
}

const ERRORS: Record<FaultKind, { name: string; status: number }> = {
  'internal': { name: 'InternalServerError', status: 500 },
  'throttling': { name: 'ThrottlingException', status: 400 },
  's3-slowdown': { name: 'SlowDown', status: 503 },
  'kms-internal': { name: 'KMSInternalException', status: 500 },
  'ddb-throughput': { name: 'ProvisionedThroughputExceededException', status: 400 },
};

export class InjectedFault extends Error {
  readonly $fault = 'server';
  readonly $metadata: { httpStatusCode: number };
  constructor(kind: FaultKind, readonly fault?: Fault) {
    super(`injected ${ERRORS[kind].name}`);
    this.name = ERRORS[kind].name;
    this.$metadata = { httpStatusCode: ERRORS[kind].status };
  }
}

/** A crash: every call after it fails until the driver "restarts" the execution environment. */
export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash');
    this.name = 'SimulatedCrash';
  }
}

/** The faults of one run, and what was called. */
export class FaultPlan {
  enabled = true;
  crashed = false;
  readonly fired: Fault[] = [];
  readonly calls = new Map<string, number>();
  /** Observers of every call that was made (after it returned). */
  readonly made: Array<{ service: string; command: string; input: any }> = [];
  /** Called before each call; the call waits for the promise it returns (to force an interleaving). */
  hold?: (service: Fault['service'], command: string, input: any) => Promise<void> | undefined;
  constructor(readonly faults: readonly Fault[] = []) {}

  /** Middleware on a client: counts calls per command, fires the matching faults. */
  instrument<C extends { middlewareStack: any }>(client: C, service: Fault['service']): C {
    client.middlewareStack.add((next: any, context: any) => async (args: any) => {
      const command: string = context.commandName;
      if (this.crashed) throw new SimulatedCrash();
      await this.hold?.(service, command, args.input);
      const key = `${service}:${command}`;
      const n = (this.calls.get(key) ?? 0) + 1;
      this.calls.set(key, n);
      const counted = (x: Fault) => {
        if (!x.match) return n;
        if (!x.match(args.input)) return 0;
        const k = `${key}:${this.faults.indexOf(x)}`;
        const m = (this.calls.get(k) ?? 0) + 1;
        this.calls.set(k, m);
        return m;
      };
      // Every fault of this command counts the call (before any is chosen), then the first that hits fires.
      const hits = this.faults.map((x) => {
        if (x.service !== service || x.command !== command) return false;
        const m = counted(x);
        return m > 0 && (x.persistent ? m >= x.nth : m === x.nth);
      });
      const f = this.enabled ? this.faults.find((_, i) => hits[i]) : undefined;
      if (f) this.fired.push(f);
      if (f?.mode === 'before') throw new InjectedFault(f.kind, f);
      const out = await next(args);
      this.made.push({ service, command, input: args.input });
      if (f?.mode === 'after') throw new InjectedFault(f.kind, f);
      if (f?.mode === 'crash') {
        this.crashed = true;
        throw new SimulatedCrash();
      }
      return out;
    }, { step: 'initialize', name: `faultInjection${service}`, override: true });
    return client;
  }
}

/** The handler wired to a world through instrumented clients. */
export function cleanHandler(aws: LocalAws, world: World, opts: {
  plan?: FaultPlan;
  log?: CleanLogger;
  /** Collects the EMF lines; 'stdout' writes them like the deployed handler; absent drops them. */
  metrics?: string[] | 'stdout';
  config?: PipelineConfig;
  now?: () => number;
  concurrency?: number;
} = {}): CleanHandler {
  const plan = opts.plan ?? new FaultPlan();
  const c = { ...aws.clientConfig, maxAttempts: 1 };
  const deps: CleanHandlerDeps = {
    s3: plan.instrument(atomicConditionalWrites(new S3Client(c)), 'S3'),
    kms: plan.instrument(new KMSClient(c), 'KMS'),
    ddb: plan.instrument(new DynamoDBClient(c), 'DynamoDB'),
    events: plan.instrument(new EventBridgeClient(c), 'EventBridge'),
    env: world.env,
    config: opts.config ?? pipelineConfig(),
    now: opts.now ?? (() => NOW),
    log: opts.log ?? silentLog(),
    writeMetrics: opts.metrics === 'stdout' ? undefined : (line) => (Array.isArray(opts.metrics) ? opts.metrics.push(line) : undefined),
    concurrency: opts.concurrency,
  };
  return createCleanHandler(deps);
}

export function silentLog(lines?: string[]): CleanLogger {
  const push = (level: string) => (message: string, extra?: Record<string, unknown>) => lines?.push(JSON.stringify({ level, message, ...extra }));
  return { info: push('INFO'), warn: push('WARN'), error: push('ERROR') };
}

// ---- uploads and the queue ------------------------------------------------------------------

export interface Upload {
  readonly key: string;
  readonly versionId: string;
  readonly size: number;
  readonly uri: string;
}

/** A raw upload like the upload API makes it: `uploads/<caller>/<uuid>.json`, SSE-KMS. */
export async function upload(world: World, body: Uint8Array | string, key = `${RAW_PREFIX}caller-1/${randomUUID()}.json`): Promise<Upload> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const res = await world.c.s3.send(new PutObjectCommand({
    Bucket: world.env.RAW_BUCKET, Key: key, Body: bytes, ContentLength: bytes.byteLength, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: world.keys.dataKeyArn,
  }));
  const size = bytes.byteLength;
  return { key, versionId: res.VersionId!, size, uri: `s3://${world.env.RAW_BUCKET}/${key}` };
}

/** The EventBridge S3 `Object Created` event (the SQS message body). */
export function objectCreated(bucket: string, o: { key: string; versionId?: string; size?: number }): string {
  return JSON.stringify({
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'Object Created',
    'source': 'aws.s3',
    'account': '111111111111',
    'time': '2026-03-01T10:20:00Z',
    'region': 'eu-central-1',
    'resources': [`arn:aws:s3:::${bucket}`],
    'detail': {
      'version': '0',
      'bucket': { name: bucket },
      'object': { key: o.key, ...(o.size !== undefined ? { size: o.size } : {}), etag: 'e', ...(o.versionId ? { 'version-id': o.versionId } : {}), sequencer: '00' },
      'request-id': 'r',
      'requester': '111111111111',
      'reason': 'PutObject',
    },
  });
}

export function sqsRecord(body: string, messageId: string = randomUUID(), receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'events.amazonaws.com',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-central-1:111111111111:cleaning',
    awsRegion: 'eu-central-1',
  };
}

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

export interface Message { readonly id: string; readonly body: string; receives: number }

export interface DriveResult {
  /** Messages that failed maxReceiveCount times. */
  readonly dlq: Message[];
  readonly invocations: number;
  /** Invocations that crashed (the whole batch came back). */
  readonly crashes: number;
}

/**
 * Delivers `messages` like SQS with a Lambda event source mapping: batches of `batchSize`, the
 * failed ones (partial batch response; every one when the invocation crashed or threw) come back
 * until they were received `maxReceiveCount` times, then they go to the DLQ.
 */
export interface DriveOptions {
  readonly plan?: FaultPlan;
  readonly batchSize?: number;
  readonly maxReceiveCount?: number;
  /**
   * A second execution environment that gets every batch at the same time (the visibility timeout
   * ran out while the first still worked on it): a message is done when either one succeeded.
   */
  readonly twin?: CleanHandler;
}

export async function driveLikeSqs(handler: CleanHandler, messages: Message[], opts: DriveOptions = {}): Promise<DriveResult> {
  const batchSize = opts.batchSize ?? 10;
  const max = opts.maxReceiveCount ?? 3;
  const pending = [...messages];
  const dlq: Message[] = [];
  let invocations = 0;
  let crashes = 0;
  while (pending.length) {
    const batch = pending.splice(0, batchSize);
    for (const m of batch) m.receives++;
    invocations++;
    const deliver = async (h: CleanHandler): Promise<Set<string>> => {
      try {
        const res = await h.handleSqs(sqsEvent(batch.map((m) => sqsRecord(m.body, m.id, m.receives))));
        return new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
      } catch {
        return new Set(batch.map((m) => m.id));
      }
    };
    const [first, second] = await Promise.all([deliver(handler), opts.twin ? deliver(opts.twin) : undefined]);
    let failed = first;
    if (opts.plan?.crashed) {
      crashes++;
      opts.plan.crashed = false; // a new execution environment
      failed = new Set(batch.map((m) => m.id));
    }
    // The twin deleted what it handled: a message comes back only when both failed it.
    if (second) failed = new Set([...failed].filter((id) => second.has(id)));
    for (const m of batch) {
      if (!failed.has(m.id)) continue;
      if (m.receives >= max) dlq.push(m);
      else pending.push(m);
    }
  }
  return { dlq, invocations, crashes };
}

export const messages = (bodies: string[]): Message[] => bodies.map((body) => ({ id: randomUUID(), body, receives: 0 }));

// ---- reading the results --------------------------------------------------------------------

/** Every key in a bucket with its number of versions (delete markers excluded). */
export async function versions(s3: S3Client, bucket: string, prefix?: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const res = await s3.send(new ListObjectVersionsCommand({
      Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker,
    }));
    for (const v of res.Versions ?? []) out.set(v.Key!, (out.get(v.Key!) ?? 0) + 1);
    if (!res.IsTruncated) return out;
    keyMarker = res.NextKeyMarker;
    versionMarker = res.NextVersionIdMarker;
  }
}

export async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToString();
}

function fromAv(av: AttributeValue): unknown {
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return Number(av.N);
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.L !== undefined) return av.L.map(fromAv);
  if (av.M !== undefined) return fromItem(av.M);
  return null;
}

function fromItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, fromAv(v)]));
}

/** The whole ledger, decoded. */
export async function ledger(ddb: DynamoDBClient, table: string): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  for await (const page of paginateScan({ client: ddb }, { TableName: table, ConsistentRead: true })) {
    for (const item of page.Items ?? []) out.push(fromItem(item as Record<string, AttributeValue>));
  }
  return out;
}

export interface ReceivedEvent { readonly detailType: string; readonly detail: Record<string, any> }

/** Every event the bus routed to the world's queue so far (drained). */
export async function drainEvents(world: World): Promise<ReceivedEvent[]> {
  const out: ReceivedEvent[] = [];
  for (;;) {
    const res = await world.c.sqs.send(new ReceiveMessageCommand({ QueueUrl: world.eventsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const msgs = res.Messages ?? [];
    if (msgs.length === 0) return out;
    for (const m of msgs) {
      const e = JSON.parse(m.Body!);
      out.push({ detailType: e['detail-type'], detail: e.detail });
    }
    await world.c.sqs.send(new DeleteMessageBatchCommand({
      QueueUrl: world.eventsQueueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
    }));
  }
}

/** HMAC of an identifier with the world's KMS HMAC key, as the handler writes it. */
export async function pseudonym(world: World, value: string): Promise<string> {
  const res = await world.c.kms.send(new GenerateMacCommand({ KeyId: world.keys.hmacKeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(value) }));
  return 'hmac:' + Buffer.from(res.Mac!).toString('hex');
}

/** One ledger item (strongly consistent), decoded. */
export async function ledgerItem(world: World, pk: string, sk: string): Promise<Record<string, any> | undefined> {
  const res = await world.c.ddb.send(new GetItemCommand({
    TableName: world.env.LEDGER_TABLE, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true,
  }));
  return res.Item ? fromItem(res.Item) : undefined;
}

/** The source item of an upload under a config version. */
export const sourceItemOf = (world: World, u: Upload, configVersion = 'hearing-clean@1') =>
  ledgerItem(world, LEDGER.sourcePk(sourceHash(world.env.RAW_BUCKET, u.key, u.versionId)), LEDGER.sourceSk(configVersion));

/**
 * Where each source ended, read from the zones under ZONE_PREFIX (clean records → their
 * RecordItem's source; quarantine sidecars → their `source`) and the ledger (the duplicates among
 * `sources`); sources as `uri#versionId`. `orphans`: clean objects without a record item.
 */
export interface Places { readonly clean: string[]; readonly quarantined: string[]; readonly duplicates: string[]; readonly orphans: string[] }

export async function placesFromZones(world: World, sources: readonly Upload[]): Promise<Places> {
  const { env, c } = world;
  const clean: string[] = [];
  const orphans: string[] = [];
  for (const key of (await versions(c.s3, env.CLEAN_BUCKET, `${env.ZONE_PREFIX}records/`)).keys()) {
    const id = /records\/(.+)\.json$/.exec(key)?.[1] ?? '';
    const r = await ledgerItem(world, LEDGER.recordPk(id), LEDGER.recordSk);
    if (r) clean.push(`${r.source}#${r.sourceVersionId}`);
    else orphans.push(key);
  }
  const quarantined: string[] = [];
  for (const key of (await versions(c.s3, env.QUARANTINE_BUCKET, `${env.ZONE_PREFIX}quarantine/`)).keys()) {
    if (!key.endsWith('/reasons.json')) continue;
    const s = JSON.parse(await getText(c.s3, env.QUARANTINE_BUCKET, key));
    quarantined.push(`${s.source}#${s.sourceVersionId}`);
  }
  const duplicates: string[] = [];
  for (const u of sources) if ((await sourceItemOf(world, u))?.outcome === 'duplicate') duplicates.push(sourceId(u));
  return { clean, quarantined, duplicates, orphans };
}

export const sourceId = (u: Upload) => `${u.uri}#${u.versionId}`;

/**
 * S3 makes a conditional PutObject (If-None-Match / If-Match) atomic: of two concurrent writers
 * one gets 412. moto checks and writes in two steps, so two handler instances running the same
 * message at once (the faults test's twins) could both "create" an object. Conditional writes of
 * every handler built here go through one queue, which gives the emulator S3's guarantee back; the
 * handlers and the assertions are unchanged. (Seen: seed 337245966, a sidecar with 2 versions.)
 */
let conditionalWrites: Promise<unknown> = Promise.resolve();
function atomicConditionalWrites(client: S3Client): S3Client {
  client.middlewareStack.add((next) => async (args) => {
    const input = args.input as { IfNoneMatch?: string; IfMatch?: string };
    if (!input.IfNoneMatch && !input.IfMatch) return next(args);
    const run = conditionalWrites.then(() => next(args));
    conditionalWrites = run.catch(() => undefined);
    return run;
  }, { step: 'initialize', name: 'atomicConditionalWrites' });
  return client;
}
