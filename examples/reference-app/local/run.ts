/**
 * The local end-to-end run of the reference app (the README's main job): the whole loop on this
 * machine against moto_server, with the handlers and state machines exactly as synthesized.
 *
 *   npx ts-node --project tsconfig.dev.json examples/reference-app/local/run.ts \
 *     [--count 800] [--seed 7] [--epochs 30] [--python /usr/bin/python3] [--out cdk.out/local-run]
 *
 *  1. a seeded generator makes N hearing-test uploads (invalid records, duplicates, borderline cases);
 *  2. each is uploaded through the upload handler's presigned POST (the bundled handler);
 *  3. S3 → EventBridge → SQS → the cleaning handler → "Record Cleaned" → SQS → the labeling handler;
 *     records it is unsure of start the review state machine, which runs in aws-local-stepfunctions
 *     (the synthesized definition), and a simulated reviewer answers through the review API handler;
 *  4. the dataset state machine builds a dataset version (manifests, card, quality report);
 *  5. the example PyTorch script trains in local mode on the train/validation manifests;
 *  6. the model lands in the models zone; the bundled endpoint handler loads it from there and
 *     answers predictions for the test split.
 * It prints a report (records in and out by destination, reconciled; quarantine reasons; labels and
 * human reviews; accuracy on the test split; prediction latency; the identifier census) and exits 1
 * when the reconciliation does not hold or the census finds a raw identifier (a Cognito sub, a
 * patient id or a session id the run used) anywhere the run wrote (census.ts). Without PyTorch it
 * says so and serves the committed example model.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { App } from 'aws-cdk-lib';
import type { SQSEvent } from 'aws-lambda';
import { CensusItem, censusLine, CensusPlace, countIdentifiers, Identifier, s3Items, tableItems } from './census';
import { generateUploads, GeneratedUpload } from './generate';
import { featuresOf as features, LoopResult, printLoop, runLoop } from './loop';
import { createWorld, World, WorldSpec } from './world';
import { runLocalTraining } from '../../training/local-training';
import { createCleanHandler } from '../../../src/labeling-pipeline/runtime/clean';
import { createDatasetHandler } from '../../../src/labeling-pipeline/runtime/dataset';
import { fromItem } from '../../../src/labeling-pipeline/runtime/dataset-ledger';
import { createLabelHandler } from '../../../src/labeling-pipeline/runtime/label';
import { createReviewApiHandler } from '../../../src/labeling-pipeline/runtime/review-api';
import { createReviewRecordHandler } from '../../../src/labeling-pipeline/runtime/review-record';
import { CONFIG_FILE, DATASET_FILES, KEYS, PipelineConfig } from '../../../src/labeling-pipeline/runtime/contract';
import { readManifest } from '../../../src/labeling-pipeline/runtime/logic/dataset';
import { parseReviewApiSettings } from '../../../src/labeling-pipeline/runtime/logic/review-request';
import { reconcileCounts } from '../../../src/labeling-pipeline/runtime/logic/reconcile';
import { startLocalAws } from '../../local-aws/local-aws';
import { localSfn } from '../../local-aws/local-sfn';
import { postPresigned } from '../../local-aws/presigned-post';
import { METRIC_DEFINITIONS, TRAIN_SCRIPT } from '../../training/hearing-dataset';
import { CAPTURE_NAME, HYPERPARAMETERS, MIN_VALIDATION_ACCURACY, MODEL, MODEL_DIR, MODEL_NAME, ReferenceAppStack } from '../app';
import { MONITOR_CONFIG_FILE, MonitorConfig } from '../../../src/model-monitor/runtime/contract';

const REPO = path.resolve(__dirname, '..', '..', '..');

/** Task overrides receive and return JSON; the handlers are typed. */
type Override = (input: any) => Promise<any>;
/**
 * Task overrides get the state's effective input: for a Lambda invoke integration that is
 * `{ FunctionName, Payload }`, and the handler gets `Payload`, as Lambda would.
 */
const overrides = (o: Record<string, Override>) => Object.fromEntries(Object.entries(o).map(([name, fn]) => [name,
  (input: any) => fn(input && typeof input === 'object' && 'FunctionName' in input && 'Payload' in input ? input.Payload : input)])) as Record<string, (input: any) => any>;
const ASSETS = path.join(REPO, 'assets');

/** Options of the local end-to-end run. */
export interface LocalRunOptions {
  readonly count: number;
  readonly seed: number;
  readonly epochs: number;
  readonly python: string;
  readonly out: string;
  /** A synthesized cloud assembly of the reference app (default: synthesize it here). */
  readonly assembly?: { readonly directory: string; readonly artifactId: string };
}

function parseArgs(argv: string[]): LocalRunOptions {
  const a: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`unexpected argument ${argv[i]} (expected --name value pairs)`);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  return {
    count: Number(a.count ?? 800),
    seed: Number(a.seed ?? 7),
    epochs: Number(a.epochs ?? 0),
    python: a.python ?? '/usr/bin/python3',
    out: path.resolve(a.out ?? path.join(REPO, 'cdk.out', 'local-run')),
  };
}

// ---- what the synthesized stack says ------------------------------------------------------------

interface Synthesized {
  readonly spec: WorldSpec;
  readonly config: PipelineConfig;
  readonly datasetDefinition: any;
  readonly reviewDefinition: any;
  readonly uploadEnv: Record<string, string>;
  /** The drift job's configuration, as ModelMonitor staged it. */
  readonly monitorConfig: MonitorConfig;
}

/** Resolve a CloudFormation value to a string: references become stable placeholders. */
function flat(v: any): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v?.['Fn::Join']) return v['Fn::Join'][1].map(flat).join(v['Fn::Join'][0]);
  if (v?.Ref) return `arn:aws:states:eu-central-1:111111111111:ref:${v.Ref}`;
  if (v?.['Fn::GetAtt']) return `arn:aws:lambda:eu-central-1:111111111111:function:${v['Fn::GetAtt'][0]}`;
  return JSON.stringify(v);
}

/** Synthesize the reference app in-process (when no cloud assembly is given). */
function synthesizeInProcess(): { directory: string; artifactId: string } {
  // The endpoint's zip is not packaged: the run loads the bundled handler itself.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ReferenceAppStack(app, 'HearingLocal', { env: { account: '111111111111', region: 'eu-central-1' } });
  const assembly = app.synth();
  return { directory: assembly.directory, artifactId: stack.artifactId };
}

/** Read the pipeline's configuration, rules and state machines from the synthesized reference app. */
function synthesized(assembly: { directory: string; artifactId: string }): Synthesized {
  const template = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${assembly.artifactId}.template.json`), 'utf8'));
  const resources = Object.entries<any>(template.Resources);
  const byPrefix = (prefix: string, type: string) => {
    const found = resources.filter(([id, r]) => r.Type === type && new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
    if (found.length !== 1) throw new Error(`expected one ${type} ${prefix} in the template, found ${found.length}`);
    return found[0][1];
  };
  const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${assembly.artifactId}.assets.json`), 'utf8'));
  const assetDir = (fn: any) => path.join(assembly.directory, manifest.files[String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')].source.path);
  const clean = byPrefix('HearingClean', 'AWS::Lambda::Function');
  const config: PipelineConfig = JSON.parse(fs.readFileSync(path.join(assetDir(clean), CONFIG_FILE), 'utf8'));
  const vars = clean.Properties.Environment.Variables;
  const rawRule = byPrefix('HearingRawObjectCreated', 'AWS::Events::Rule');
  const cleanedRule = byPrefix('HearingRecordCleaned', 'AWS::Events::Rule');
  const queue = byPrefix('HearingCleaningQueue', 'AWS::SQS::Queue');
  const definition = (prefix: string) => JSON.parse(flat(byPrefix(prefix, 'AWS::StepFunctions::StateMachine').Properties.DefinitionString));
  const upload = byPrefix('UploadsHandler', 'AWS::Lambda::Function');
  const uploadEnv = Object.fromEntries(Object.entries<any>(upload.Properties.Environment.Variables).map(([k, v]) => [k, flat(v)]));
  const reviewDefinition = definition('HearingReviewStateMachine');
  // The review API function: the one the construct gives the reviewers' settings.
  const reviewApi = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.REVIEW_API_SETTINGS !== undefined);
  if (reviewApi.length !== 1) throw new Error(`expected one review API function (REVIEW_API_SETTINGS) in the template, found ${reviewApi.length}`);
  return {
    spec: {
      pipelineName: config.pipelineName,
      rawPrefix: vars.RAW_PREFIX,
      zonePrefix: vars.ZONE_PREFIX,
      rawEventPattern: rawRule.Properties.EventPattern,
      cleanedEventPattern: cleanedRule.Properties.EventPattern,
      maxReceiveCount: queue.Properties.RedrivePolicy.maxReceiveCount,
      reviewDefinition: JSON.stringify(reviewDefinition),
      reviewApiSettings: flat(reviewApi[0][1].Properties.Environment.Variables.REVIEW_API_SETTINGS),
    },
    config,
    datasetDefinition: definition('HearingDatasetStateMachine'),
    reviewDefinition,
    uploadEnv,
    monitorConfig: JSON.parse(fs.readFileSync(path.join(assetDir(byPrefix('MonitorDriftJob', 'AWS::Lambda::Function')), MONITOR_CONFIG_FILE), 'utf8')),
  };
}

// ---- output capture (handlers log to stdout; the report scans those lines for identifiers) ------

const captured: string[] = [];
const realWrite = process.stdout.write.bind(process.stdout);
let quietDepth = 0;
/** Run `fn` with stdout captured (re-entrant: concurrent calls share one capture). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  if (quietDepth++ === 0) {
    (process.stdout as any).write = (chunk: any, ...rest: any[]) => {
      captured.push(String(chunk));
      const cb = rest.find((r) => typeof r === 'function');
      if (cb) cb();
      return true;
    };
  }
  try {
    return await fn();
  } finally {
    if (--quietDepth === 0) (process.stdout as any).write = realWrite;
  }
}
const log = (line: string) => realWrite(line + '\n');

// ---- what the census searches (besides S3, the ledger and the log lines, read at the end) -------

const censusItems: CensusItem[] = [];
const observe = (place: CensusPlace, value: unknown) => {
  censusItems.push({ place, text: typeof value === 'string' ? value : JSON.stringify(value) ?? '' });
};

/** A Cognito `sub` as the user pool issues it (a UUID), derived from the run's seed. */
function cognitoSub(seed: number, who: string): string {
  const h = createHash('sha256').update(`${seed}:${who}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
const sink = { info: (m: string, x?: any) => captured.push(JSON.stringify({ m, ...x })), warn: (m: string, x?: any) => captured.push(JSON.stringify({ m, ...x })), error: (m: string, x?: any) => captured.push(JSON.stringify({ m, ...x })) };
const writeMetrics = (l: string) => captured.push(l);

// ---- loading the bundled handlers with an environment ---------------------------------------------

function loadBundle(rel: string, env: Record<string, string>): any {
  Object.assign(process.env, env);
  const file = path.join(ASSETS, rel, 'index.js');
  delete require.cache[require.resolve(file)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file);
}

// ---- the SQS poller (what the Lambda event source mapping does) -----------------------------------

async function drain(world: World, queueUrl: string, handle: (e: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>, batchSize: number): Promise<number> {
  const { sqs } = world.clients;
  let invocations = 0;
  let idle = 0;
  while (idle < 3) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, batchSize), WaitTimeSeconds: 0, AttributeNames: ['All'] }));
    const msgs = res.Messages ?? [];
    if (msgs.length === 0) {
      const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
      if (Number(attrs.ApproximateNumberOfMessages) + Number(attrs.ApproximateNumberOfMessagesNotVisible) === 0) idle++;
      await new Promise((r) => setTimeout(r, 300));
      continue;
    }
    idle = 0;
    invocations++;
    for (const m of msgs) observe('event', m.Body ?? '');
    const event: SQSEvent = {
      Records: msgs.map((m) => ({
        messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!,
        attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1', SentTimestamp: '0', SenderId: 'local', ApproximateFirstReceiveTimestamp: '0' } as any,
        messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-central-1:123456789012:local', awsRegion: 'eu-central-1',
      })),
    };
    const { batchItemFailures } = await quietly(() => handle(event));
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    const done = msgs.filter((m) => !failed.has(m.MessageId!));
    if (done.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
  return invocations;
}

async function queueDepth(world: World, url: string): Promise<number> {
  const a = (await world.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes!;
  return Number(a.ApproximateNumberOfMessages);
}

// ---- the run -----------------------------------------------------------------------------------------

/** Run the whole loop; resolves to the process exit code (1 when the reconciliation fails). */
export async function runLocalEndToEnd(opts: LocalRunOptions): Promise<number> {
  const t0 = performance.now();
  const phase: Record<string, number> = {};
  const mark = (name: string, since: number) => {
    phase[name] = Math.round(performance.now() - since);
    process.stderr.write(`  ${name}: ${phase[name]} ms\n`);
  };
  fs.rmSync(opts.out, { recursive: true, force: true });
  fs.mkdirSync(opts.out, { recursive: true });

  let t = performance.now();
  const synth = synthesized(opts.assembly ?? synthesizeInProcess());
  mark(opts.assembly ? 'read the synthesized reference app' : 'synthesize the reference app', t);
  const aws = await startLocalAws();
  try {
    Object.assign(process.env, aws.env);
    const world = await createWorld(aws, synth.spec);
    const { s3, ddb } = world.clients;
    const config = synth.config;

    // 1. generate
    const generation = { count: opts.count, seed: opts.seed, now: Date.now() };
    const uploads = generateUploads(generation);

    // 2. upload through the presigned POST of the bundled upload handler
    t = performance.now();
    const upload = loadBundle('secure-data-lake/runtime/upload-url.handler', { ...synth.uploadEnv, BUCKET_NAME: world.env.RAW_BUCKET, KMS_KEY_ARN: world.env.DATA_KEY_ARN, HMAC_KEY_ID: world.env.HMAC_KEY_ID, POWERTOOLS_LOG_LEVEL: 'WARN' });
    const keys = new Map<string, GeneratedUpload>();
    const uploaderSubs = Array.from({ length: 17 }, (_, i) => cognitoSub(opts.seed, `uploader-${i}`));
    for (const u of uploads) {
      const res: any = await quietly(() => upload.handler({
        body: JSON.stringify({ contentType: 'application/json', contentLength: u.body.length }),
        isBase64Encoded: false,
        headers: {},
        requestContext: { authorizer: { claims: { sub: uploaderSubs[u.index % uploaderSubs.length] } }, identity: {} },
      }));
      observe('api-response', res);
      if (res.statusCode !== 200) throw new Error(`upload ${u.index}: the upload handler answered ${res.statusCode}: ${res.body}`);
      const grant = JSON.parse(res.body);
      const posted = await postPresigned(grant.url, grant.fields, u.body, 'application/json');
      if (posted.status >= 300) throw new Error(`upload ${u.index}: POST answered ${posted.status}`);
      keys.set(grant.fields.key ?? grant.key, u);
    }
    mark('upload (presigned POST)', t);

    // 3a. cleaning (S3 → EventBridge → SQS → handler)
    t = performance.now();
    const clean = createCleanHandler({ ...world.clients, env: world.env, config, log: sink, writeMetrics });
    const cleanInvocations = await drain(world, world.queues.cleaning, (e) => clean.handleSqs(e), 10);
    mark('cleaning', t);

    // 3b. labeling ("Record Cleaned" → SQS → handler; unsure records start the review state machine)
    t = performance.now();
    const label = createLabelHandler({ ...world.clients, lambda: undefined as any, env: world.env, config, logger: sink, writeMetrics });
    const labelInvocations = await drain(world, world.queues.labeling, (e) => label(e), 10);
    mark('labeling', t);

    // 3c. reviews: each started execution runs in the local interpreter; a simulated reviewer
    // answers through the review API, whose SendTaskSuccess resumes the waiting execution.
    t = performance.now();
    const reviewerSub = cognitoSub(opts.seed, 'reviewer');
    const reviewOutcome = await runReviews(world, synth, reviewerSub);
    mark('human review (simulated reviewer)', t);

    // 4. dataset version
    t = performance.now();
    const dataset = createDatasetHandler({ s3, ddb, env: world.env, config, log: (m, f) => captured.push(JSON.stringify({ m, ...f })), writeMetrics });
    const published: any[] = [];
    const datasetRun = new localSfn.StateMachine(synth.datasetDefinition, { validationOptions: { checkArn: false, checkPaths: false } });
    const datasetInput = { datasetVersion: 'hearing-local-1' };
    observe('state-machine', datasetInput);
    const datasetResult: any = await datasetRun.run(datasetInput, {
      overrides: {
        taskResourceLocalHandlers: overrides(observedTasks({
          BuildDatasetVersion: (input: any) => quietly(() => dataset(input)),
          PublishDatasetVersion: async (input: any) => { published.push(input); return { Entries: [{ EventId: randomUUID() }], FailedEntryCount: 0 }; },
          ReportBlockedDatasetVersion: async (input: any) => { published.push(input); return { Entries: [{ EventId: randomUUID() }], FailedEntryCount: 0 }; },
        })),
      },
    }).result.catch((e: Error) => ({ error: e.name, cause: e.message }));
    observe('state-machine', datasetResult);
    mark('dataset version', t);
    const version = datasetResult.result;
    if (!version?.publish) throw new Error(`the dataset version was not published: ${JSON.stringify(datasetResult)}`);
    const prefix = KEYS.datasetPrefix(world.env.ZONE_PREFIX, version.datasetVersion);
    const read = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: world.env.CURATED_BUCKET, Key: key }))).Body!.transformToString();
    const channels = path.join(opts.out, 'channels');
    const manifests: Record<string, string> = {};
    for (const split of ['train', 'validation', 'test'] as const) {
      manifests[split] = await read(prefix + DATASET_FILES.manifest(split));
      fs.mkdirSync(path.join(channels, split), { recursive: true });
      fs.writeFileSync(path.join(channels, split, DATASET_FILES.manifest(split)), manifests[split]);
    }
    const card = JSON.parse(await read(prefix + DATASET_FILES.card));
    const quality = JSON.parse(await read(prefix + DATASET_FILES.report));

    // 5. training in local mode (or the committed example model without PyTorch)
    t = performance.now();
    let modelFile = path.join(MODEL_DIR, MODEL.file);
    let training: any = { mode: 'committed example model', reason: '' };
    let trained: { modelDir: string; metrics: Record<string, number> } | undefined;
    const torch = hasTorch(opts.python);
    if (torch.ok) {
      const result = await runLocalTraining({
        command: [opts.python, TRAIN_SCRIPT],
        channels: { train: path.join(channels, 'train'), validation: path.join(channels, 'validation') },
        // The training job's own hyperparameters; --epochs overrides the epochs for quick runs.
        hyperparameters: { ...HYPERPARAMETERS, ...(opts.epochs ? { epochs: String(opts.epochs) } : {}) },
        metricDefinitions: METRIC_DEFINITIONS,
        workDir: path.join(opts.out, 'opt-ml'),
        checkpointDir: path.join(opts.out, 'checkpoints'),
        onLog: (line) => captured.push(line),
      });
      if (result.exitCode !== 0) throw new Error(`training failed (exit ${result.exitCode}): ${result.failureReason}`);
      const metrics = Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [k, v.last]));
      // The training job's gate: only a model with enough validation accuracy is served.
      const gatePassed = (metrics['validation:accuracy'] ?? -1) >= MIN_VALIDATION_ACCURACY;
      if (gatePassed) {
        modelFile = path.join(result.modelDir, 'model.onnx');
        trained = { modelDir: result.modelDir, metrics };
      }
      training = {
        mode: 'PyTorch (CPU), local mode', durationMs: result.durationMs, metrics,
        gate: `validation:accuracy >= ${MIN_VALIDATION_ACCURACY}: ${gatePassed ? 'passed, the new model is served' : 'REJECTED, the committed example model is served'}`,
      };
    } else {
      training.reason = torch.reason;
      log(`PyTorch is not available for ${opts.python} (${torch.reason}): serving the committed example model ${path.relative(REPO, modelFile)} instead.`);
    }
    mark('training', t);

    // 6. the model in the models zone; the bundled endpoint handler loads it from there
    t = performance.now();
    const modelBytes = fs.readFileSync(modelFile);
    const modelKey = `hearing/${version.datasetVersion}/model.onnx`;
    await s3.send(new PutObjectCommand({ Bucket: world.modelsBucket, Key: modelKey, Body: modelBytes, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: world.env.DATA_KEY_ARN }));
    const sha256 = createHash('sha256').update(modelBytes).digest('hex');
    const predict = await quietly(async () => loadBundle('serverless-model-endpoint/runtime/predict.handler', {
      MODEL_SOURCE: 's3', MODEL_BUCKET: world.modelsBucket, MODEL_KEY: modelKey, MODEL_SHA256: sha256,
      MODEL_VERSION: `hearing-who-grade@${version.datasetVersion}`, CLASS_NAMES: JSON.stringify(config.task.classes),
      METRICS_NAMESPACE: 'cdk-secure-mlops/ServerlessModelEndpoint', POWERTOOLS_SERVICE_NAME: 'predict', POWERTOOLS_LOG_LEVEL: 'WARN',
    }));
    const test = readManifest(manifests.test, config.task.attribute).entries;
    const latencies: number[] = [];
    // The first request waits for the model: read from the models zone, hash check, session.
    const coldStarted = performance.now();
    const first: any = await quietly(() => predict.handler({ httpMethod: 'POST', body: JSON.stringify({ inputs: { features: [new Array(12).fill(0)] } }), headers: {}, isBase64Encoded: false, requestContext: {} }));
    const coldMs = performance.now() - coldStarted;
    if (first.statusCode !== 200) throw new Error(`the endpoint handler could not load the model: ${first.statusCode} ${first.body}`);
    let correct = 0;
    for (const entry of test) {
      const record = typeof (entry as any).source === 'string' ? JSON.parse((entry as any).source) : (entry as any).source;
      const inputs = features(record);
      const started = performance.now();
      const res: any = await quietly(() => predict.handler({ httpMethod: 'POST', body: JSON.stringify({ inputs: { features: [inputs] } }), headers: {}, isBase64Encoded: false, requestContext: {} }));
      latencies.push(performance.now() - started);
      if (res.statusCode !== 200) throw new Error(`prediction answered ${res.statusCode}: ${res.body}`);
      if (JSON.parse(res.body).predictions[0].index === entry.label) correct++;
    }
    mark('serving the test split', t);

    // 7-9. publish, promote, capture, drift, lineage (loop.ts): with a model that passed the gate.
    t = performance.now();
    let loop: LoopResult | undefined;
    if (trained) {
      const datasetRecords = (['train', 'validation', 'test'] as const).flatMap((split) => readManifest(manifests[split], config.task.attribute).entries).map((e: any) => {
        const record = typeof e.source === 'string' ? JSON.parse(e.source) : e.source;
        return { recordId: e.recordId, subject: e.subjectPseudonym, features: features(record), label: e.label as number };
      });
      loop = await runLoop({
        s3, events: world.clients.events, modelsBucket: world.modelsBucket, curatedBucket: world.env.CURATED_BUCKET, keyArn: world.env.DATA_KEY_ARN,
        modelName: MODEL_NAME, captureName: CAPTURE_NAME, classes: config.task.classes, generation, out: opts.out,
        datasetVersion: version.datasetVersion, datasetLocation: `s3://${world.env.CURATED_BUCKET}/${prefix}`,
        trainedModelDir: trained.modelDir, trainingMetrics: trained.metrics, minValidationAccuracy: MIN_VALIDATION_ACCURACY,
        committed: { file: path.join(MODEL_DIR, MODEL.file), version: MODEL.version },
        monitorConfig: synth.monitorConfig, datasetRecords,
        openLineageSchemaFile: path.join(REPO, 'test', 'fixtures', 'openlineage', 'OpenLineage-2-0-2.json'),
        loadPredict: async (env) => quietly(async () => loadBundle('serverless-model-endpoint/runtime/predict.handler', env)),
        quietly, capturedLines: () => captured, log,
      });
    } else {
      log('no trained model passed the gate: the loop (promotion, capture, drift, lineage) is skipped');
    }
    mark('the loop: publish, promote, capture, drift, lineage', t);

    // Reconciliation: every upload in exactly one place.
    const ledger: any[] = (await scanAll(world)).map((i) => fromItem(i));
    const sources = ledger.filter((i) => String(i.pk).startsWith('src#'));
    const records = ledger.filter((i) => String(i.pk).startsWith('rec#'));
    const dlq = await queueDepth(world, world.queues.cleaningDlq);
    const outcome = (o: string) => sources.filter((s) => s.outcome === o).length;
    const reconciliation = reconcileCounts({ received: uploads.length, clean: outcome('clean'), quarantined: outcome('quarantine'), dlq, duplicates: outcome('duplicate') });
    const bySource = new Map(sources.map((s) => [String(s.source).replace(/^s3:\/\/[^/]+\//, ''), s]));
    // Quarantined uploads: that outcome and its reason. Copies of one session: exactly one is clean,
    // the others duplicates (whichever the queue delivered first wins).
    const mismatches: string[] = [];
    const groups = new Map<string, string[]>();
    for (const [key, u] of keys) {
      const got = bySource.get(key);
      if (u.expect === 'quarantine') {
        if (got?.outcome !== 'quarantine' || !got.codes?.includes(u.expectCode)) mismatches.push(key);
      } else {
        const content = u.body.toString('base64');
        groups.set(content, [...(groups.get(content) ?? []), key]);
      }
    }
    for (const group of groups.values()) {
      const outcomes = group.map((k) => bySource.get(k)?.outcome);
      if (outcomes.filter((o) => o === 'clean').length !== 1 || outcomes.filter((o) => o === 'duplicate').length !== group.length - 1) mismatches.push(...group);
    }
    const cleanVersions = await versionCounts(world, world.env.CLEAN_BUCKET);
    const quarantineReasons: Record<string, number> = {};
    for (const s of sources.filter((x) => x.outcome === 'quarantine')) for (const c of new Set<string>(s.codes ?? [])) quarantineReasons[c] = (quarantineReasons[c] ?? 0) + 1;
    const labelled = records.filter((r) => r.label);
    const waitingStates: Record<string, number> = {};
    for (const r of records.filter((x) => !x.label)) waitingStates[r.state] = (waitingStates[r.state] ?? 0) + 1;
    const distribution: Record<string, number> = {};
    for (const r of labelled) distribution[r.label.className] = (distribution[r.label.className] ?? 0) + 1;
    const identifiers = [...new Set(uploads.map((u) => { try { return JSON.parse(u.body.toString()).patientId; } catch { return undefined; } }).filter(Boolean))] as string[];
    const leaks = captured.filter((l) => identifiers.some((id) => l.includes(id))).length;

    // The identifier census: every key and object, ledger item, event, execution input/output,
    // API response and log line of the run, searched for the raw identifiers it used.
    t = performance.now();
    for (const m of await receiveAll(world, [world.queues.observer, world.queues.cleaningDlq, world.queues.labelingDlq])) observe('event', m);
    for (const bucket of [world.env.RAW_BUCKET, world.env.CLEAN_BUCKET, world.env.QUARANTINE_BUCKET, world.env.CURATED_BUCKET, world.modelsBucket]) {
      // The uploads themselves (raw zone, quarantine input copies) hold the identifiers by design: their keys are searched, not their bodies.
      const uploadsThemselves = (key: string) => bucket === world.env.RAW_BUCKET || (bucket === world.env.QUARANTINE_BUCKET && key.endsWith('/input'));
      censusItems.push(...await s3Items(s3, bucket, uploadsThemselves));
    }
    censusItems.push(...await tableItems(ddb, world.env.LEDGER_TABLE));
    for (const line of captured) observe('log', line);
    const rawIdentifiers: Identifier[] = [
      ...uploaderSubs.map((value) => ({ kind: 'cognito-sub' as const, value })),
      { kind: 'cognito-sub', value: reviewerSub },
      ...uploads.map((u) => ({ kind: 'patient-id' as const, value: u.patientId })),
      ...uploads.map((u) => ({ kind: 'session-id' as const, value: u.sessionId })),
    ];
    const census = countIdentifiers(censusItems, rawIdentifiers);
    mark('identifier census', t);

    const sorted = [...latencies].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    const report = {
      uploads: uploads.length,
      destinations: { clean: outcome('clean'), quarantine: outcome('quarantine'), duplicate: outcome('duplicate'), deadLetterQueue: dlq },
      reconciliation: reconciliation.message,
      reconciled: reconciliation.balanced && mismatches.length === 0 && cleanVersions.maxVersions <= 1,
      expectationMismatches: mismatches.length,
      cleanObjectsWithMoreThanOneVersion: cleanVersions.multi,
      quarantineReasons,
      handlerInvocations: { cleaning: cleanInvocations, labeling: labelInvocations },
      labels: { labelled: labelled.length, humanReviewed: labelled.filter((r) => r.label.human).length, waitingForReview: records.length - labelled.length, waitingStates, labelingDlq: await queueDepth(world, world.queues.labelingDlq), distribution },
      reviews: reviewOutcome,
      dataset: { version: version.datasetVersion, counts: card.counts, subjects: card.subjects, publish: quality.publish, gates: quality.gates, events: published.length },
      training,
      model: { sha256, bytes: modelBytes.length, key: `s3://${world.modelsBucket}/${modelKey}` },
      testSplit: { examples: test.length, accuracy: test.length ? correct / test.length : 0 },
      predictionLatencyMs: { p50: round(q(0.5)), p99: round(q(0.99)), firstRequest: round(coldMs), note: 'warm handler calls in-process (request parse, validation, onnxruntime, response), no network' },
      loop: loop ? loop.report : { skipped: 'no trained model passed the gate' },
      loopProblems: loop?.problems ?? [],
      logs: { linesScanned: captured.length, linesWithAPatientIdentifier: leaks },
      identifierCensus: { line: censusLine(census), ...census },
      phasesMs: phase,
      totalMs: Math.round(performance.now() - t0),
    };
    fs.writeFileSync(path.join(opts.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    printReport(report);
    if (loop) {
      printLoop(loop.report, log);
      for (const problem of loop.problems) log(`PROBLEM: ${problem}`);
    }
    const ok = report.reconciled && leaks === 0 && census.total === 0 && report.testSplit.examples > 0 && (loop?.ok ?? true);
    log(ok ? 'local end-to-end run: OK' : 'local end-to-end run: FAILED (see above)');
    return ok ? 0 : 1;
  } finally {
    await aws.stop();
  }
}

/** Task handlers whose inputs and outputs the census sees (the execution history of a real state machine). */
function observedTasks(handlers: Record<string, Override>): Record<string, Override> {
  return Object.fromEntries(Object.entries(handlers).map(([name, fn]) => [name, async (input: any) => {
    observe('state-machine', input);
    const output = await fn(input);
    observe('state-machine', output);
    return output;
  }]));
}

/** Every message left in the queues (read once each; the run is over). */
async function receiveAll(world: World, queueUrls: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const url of queueUrls) {
    for (;;) {
      const res = await world.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
      if (!res.Messages?.length) break;
      out.push(...res.Messages.map((m) => m.Body ?? ''));
      // Deleted once read: moto's ReceiveMessage costs time in proportion to the messages left in
      // the queue for every message it returns, so a queue of thousands read whole is quadratic.
      await world.clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: res.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  }
  return out;
}

/** Run every review execution the labeling handler started, with a simulated reviewer. */
async function runReviews(world: World, synth: Synthesized, reviewerSub: string) {
  const { sfn } = world.clients;
  const config = synth.config;
  const record = createReviewRecordHandler({ ...world.clients, env: world.env, config, logger: sink, writeMetrics });
  const waiting = new Map<string, (answer: unknown) => void>();
  // The review API's SendTaskSuccess resumes the locally interpreted execution (and goes to moto too).
  const reviewSfn = new SFNClient({ ...(sfn.config as any) });
  const send = reviewSfn.send.bind(reviewSfn);
  (reviewSfn as any).send = async (command: any) => {
    if (command instanceof SendTaskSuccessCommand) {
      const resume = waiting.get(command.input.taskToken!);
      if (!resume) throw Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });
      waiting.delete(command.input.taskToken!);
      resume(JSON.parse(command.input.output!));
      return {};
    }
    return send(command);
  };
  const settings = parseReviewApiSettings(world.env.REVIEW_API_SETTINGS);
  const api = createReviewApiHandler({ ddb: world.clients.ddb, sfn: reviewSfn, kms: world.clients.kms, env: world.env, settings, config, logger: sink, writeMetrics });
  const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: world.reviewStateMachineArn }))).executions ?? [];
  const machine = new localSfn.StateMachine(synth.reviewDefinition, { validationOptions: { checkArn: false, checkPaths: false } });

  const runs = executions.map(async (e) => {
    const input = JSON.parse((await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }))).input ?? '{}');
    observe('state-machine', input);
    const token = `token-${randomUUID()}`;
    return machine.run(input, {
      context: { Execution: { Id: e.executionArn, Input: input, Name: e.name, StartTime: new Date().toISOString() }, Task: { Token: token } },
      overrides: {
        taskResourceLocalHandlers: overrides(observedTasks({
          RequestReview: async (payload: any) => {
            const answer = new Promise((resolve) => waiting.set(payload.taskToken ?? token, resolve));
            await quietly(() => record({ ...payload, taskToken: payload.taskToken ?? token }));
            return answer;
          },
          RecordReview: async (payload: any) => ({ Payload: await quietly(() => record(payload)) }),
          ExpireReview: async (payload: any) => ({ Payload: await quietly(() => record(payload)) }),
        })),
      },
    }).result.then((output: unknown) => {
      observe('state-machine', output);
      return 'succeeded';
    }, (e: Error) => `failed: ${e.message}`);
  });

  // The simulated reviewer: list pending reviews through the API, answer each with the true grade.
  // A member of the reviewer group (the synthesized settings name it), signed in with the user pool.
  const groups = settings.access.kind === 'cognito-group' ? { 'cognito:groups': settings.access.group } : {};
  const reviewer = { requestContext: { authorizer: { claims: { sub: reviewerSub, ...groups } }, identity: {} }, headers: {}, isBase64Encoded: false };
  let answered = 0;
  let pages = 0;
  for (let idle = 0; idle < 20 && (answered < executions.length);) {
    const list = await quietly(() => api({ ...reviewer, httpMethod: 'GET', resource: '/reviews', path: '/reviews', queryStringParameters: { limit: '25' }, pathParameters: null, body: null } as any));
    pages++;
    observe('api-response', list);
    const items = list.statusCode === 200 ? JSON.parse(list.body).items ?? [] : [];
    if (items.length === 0) {
      idle++;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    for (const item of items) {
      const className = config.task.classes[trueGrade(item.record)];
      const res = await quietly(() => api({ ...reviewer, httpMethod: 'POST', resource: '/reviews/{recordId}', path: `/reviews/${item.recordId}`, pathParameters: { recordId: item.recordId }, queryStringParameters: null, body: JSON.stringify({ className }) } as any));
      observe('api-response', res);
      if (res.statusCode === 200) answered++;
    }
  }
  const results = await Promise.all(runs);
  return {
    executionsStarted: executions.length,
    answeredThroughApi: answered,
    listPages: pages,
    succeeded: results.filter((r) => r === 'succeeded').length,
    failed: results.filter((r) => r !== 'succeeded').length,
    failures: [...new Set(results.filter((r) => r !== 'succeeded'))],
  };
}

/** The WHO grade a careful audiologist gives: the better ear's four-frequency average. */
function trueGrade(record: any): number {
  const pta = (ear: any) => (ear['500'] + ear['1000'] + ear['2000'] + ear['4000']) / 4;
  const better = Math.min(pta(record.thresholds.left), pta(record.thresholds.right));
  return [20, 35, 50, 65, 80, 95].filter((b) => better >= b).length;
}

async function scanAll(world: World) {
  const items: any[] = [];
  let start: any;
  do {
    const page = await world.clients.ddb.send(new ScanCommand({ TableName: world.env.LEDGER_TABLE, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function versionCounts(world: World, bucket: string): Promise<{ maxVersions: number; multi: number }> {
  const counts = new Map<string, number>();
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await world.clients.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
    for (const v of page.Versions ?? []) counts.set(v.Key!, (counts.get(v.Key!) ?? 0) + 1);
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  const all = [...counts.values()];
  return { maxVersions: Math.max(0, ...all), multi: all.filter((n) => n > 1).length };
}

function hasTorch(python: string): { ok: boolean; reason: string } {
  try {
    execFileSync(python, ['-c', 'import torch, onnx'], { stdio: 'pipe', timeout: 60_000 });
    return { ok: true, reason: '' };
  } catch (e) {
    return { ok: false, reason: (e as any).code === 'ENOENT' ? `${python} not found` : 'import torch, onnx failed' };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function printReport(r: any): void {
  const lines = [
    '',
    '== local end-to-end run ==',
    `records in: ${r.uploads} uploads`,
    `out by destination: clean ${r.destinations.clean}, quarantine ${r.destinations.quarantine}, duplicate ${r.destinations.duplicate}, dead-letter queue ${r.destinations.deadLetterQueue}`,
    `reconciliation: ${r.reconciliation}; expectation mismatches ${r.expectationMismatches}; clean objects written twice ${r.cleanObjectsWithMoreThanOneVersion} -> ${r.reconciled ? 'RECONCILED' : 'NOT RECONCILED'}`,
    `quarantine reasons: ${Object.entries(r.quarantineReasons).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `labels: ${r.labels.labelled} labelled (${r.labels.humanReviewed} human-reviewed), ${r.labels.waitingForReview} waiting; distribution ${Object.entries(r.labels.distribution).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `reviews: ${r.reviews.executionsStarted} started, ${r.reviews.answeredThroughApi} answered through the review API, ${r.reviews.succeeded} executions succeeded, ${r.reviews.failed} failed`,
    `dataset ${r.dataset.version}: train ${r.dataset.counts.train}, validation ${r.dataset.counts.validation}, test ${r.dataset.counts.test} (subjects ${r.dataset.subjects.train}/${r.dataset.subjects.validation}/${r.dataset.subjects.test}), published ${r.dataset.publish}`,
    `training: ${r.training.mode}${r.training.durationMs ? ` in ${(r.training.durationMs / 1000).toFixed(1)} s, ${JSON.stringify(r.training.metrics)}; gate ${r.training.gate}` : ` (${r.training.reason})`}`,
    `model accuracy on the test split: ${(r.testSplit.accuracy * 100).toFixed(1)}% of ${r.testSplit.examples}`,
    `prediction latency: p50 ${r.predictionLatencyMs.p50} ms, p99 ${r.predictionLatencyMs.p99} ms (${r.predictionLatencyMs.note}); first request with the model load from S3 ${r.predictionLatencyMs.firstRequest} ms`,
    `logs: ${r.logs.linesScanned} lines scanned, ${r.logs.linesWithAPatientIdentifier} with a patient identifier`,
    r.identifierCensus.line,
    `phases (ms): ${Object.entries(r.phasesMs).map(([k, v]) => `${k} ${v}`).join(', ')}; total ${r.totalMs}`,
  ];
  log(lines.join('\n'));
}

if (require.main === module) {
  runLocalEndToEnd(parseArgs(process.argv.slice(2))).then((code) => process.exit(code), (e) => {
    console.error(e);
    process.exit(1);
  });
}
