/**
 * Click through the review console on your machine: `npx projen console:local` (or
 * `ts-node --project tsconfig.dev.json examples/reference-app/console/serve.ts` after
 * `npx projen bundle`). It starts moto_server, puts a few hearing-test records in review with the
 * real review-record handler, and serves the built console with the reference app's audiogram
 * view on http://127.0.0.1:8787/ (PORT to change it), the review API handler behind it.
 *
 * Sign in by choosing a local user: `rita` and `ralf` are reviewers, `nora` is not. Answers go to
 * the real review API handler (moto's SendTaskSuccess accepts any task token). Ctrl-C stops it.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import { buildViews } from './build-views';
import { startLocalConsole } from './local-console';
import { PipelineConfig } from '../../../src/labeling-pipeline/runtime/contract';
import { createReviewApiHandler, ReviewApiDeps } from '../../../src/labeling-pipeline/runtime/review-api';
import { createReviewRecordHandler } from '../../../src/labeling-pipeline/runtime/review-record';
import { REPO_ROOT, startLocalAws } from '../../local-aws/local-aws';

const LABELING = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'config', 'labeling.json'), 'utf8'));
const CONFIG = { pipelineName: 'hearing', task: LABELING.task, split: LABELING.split, labelers: [], cleaning: {} } as unknown as PipelineConfig;
const HOUR = 3_600_000;

/** Pseudonymized hearing-test records (docs/formats.md), as the clean zone holds them. */
function record(left: number[], right: number[], extra: Record<string, unknown> = {}) {
  const ear = (t: number[]) => Object.fromEntries([250, 500, 1000, 2000, 4000, 8000].map((f, i) => [String(f), t[i]]));
  return {
    schemaVersion: '1',
    sessionId: randomUUID(),
    patientId: `hmac:${createHash('sha256').update(randomUUID()).digest('hex')}`,
    age: 67,
    device: { model: 'phone-x', headphones: 'hp-200', calibrationId: 'cal-2026-03' },
    ambientNoiseDbA: 31.5,
    takenAt: '2026-03-01T10:15:00Z',
    thresholds: { left: ear(left), right: ear(right) },
    catchTrials: { presented: 6, falsePositives: 0 },
    ...extra,
  };
}

async function main(): Promise<void> {
  const webDir = path.join(REPO_ROOT, 'assets', 'review-console', 'web');
  if (!fs.existsSync(path.join(webDir, 'console.js'))) throw new Error(`${webDir} has no console.js: run npx projen bundle first`);
  const aws = await startLocalAws();
  const cfg = { ...aws.clientConfig, maxAttempts: 1 };
  const ddb = new DynamoDBClient(cfg);
  const table = 'ledger';
  await ddb.send(new CreateTableCommand({
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  }));
  const kms = aws.kms();
  const hmacKeyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
  const env = {
    LEDGER_TABLE: table,
    METRICS_NAMESPACE: 'Local/ReviewConsole',
    HMAC_KEY_ID: hmacKeyId,
    CURATED_BUCKET: 'curated',
    ZONE_PREFIX: 'hearing/',
    DATA_KEY_ARN: 'local',
    EVENT_BUS_NAME: 'local',
  };
  const quiet = () => undefined;
  const now = Date.now();
  const cases = [
    { age: 50 * HOUR, record: record([10, 15, 20, 20, 25, 35], [15, 20, 20, 25, 30, 40], { catchTrials: { presented: 6, falsePositives: 3 } }), reasons: ['all-abstained'], votes: [{ labeler: 'rules:who-grade@1', abstainReason: 'unreliable-responses' }] },
    { age: 26 * HOUR, record: record([15, 20, 25, 35, 50, 60], [10, 15, 20, 30, 45, 55]), reasons: ['low-confidence', 'disagreement'], proposal: { className: 'mild', confidence: 0.55 }, votes: [{ labeler: 'rules:who-grade@1', className: 'mild', confidence: 0.5 }, { labeler: 'model:who-grade@3', className: 'moderate', confidence: 0.62 }] },
    { age: 3 * HOUR, record: record([30, 35, 40, 45, 55, 70], [25, 30, 35, 40, 50, 65]), reasons: ['low-confidence'], proposal: { className: 'moderate', confidence: 0.5 }, votes: [{ labeler: 'rules:who-grade@1', className: 'moderate', confidence: 0.5 }] },
    { age: 0.3 * HOUR, record: record([0, 5, 5, 10, 10, 15], [5, 5, 10, 10, 15, 20]), reasons: ['quality-sample'], proposal: { className: 'normal', confidence: 0.97 }, votes: [{ labeler: 'rules:who-grade@1', className: 'normal', confidence: 0.97 }] },
  ];
  for (const c of cases) {
    const recorder = createReviewRecordHandler({
      s3: aws.s3(), ddb, events: new EventBridgeClient(cfg), env, config: CONFIG, now: () => now - c.age, writeMetrics: quiet, logger: { info: quiet, warn: quiet, error: quiet },
    });
    const recordId = `rec-${createHash('sha256').update(JSON.stringify(c.record)).digest('hex').slice(0, 24)}`;
    const input = { recordId, reasons: c.reasons, votes: c.votes, record: c.record, ...(c.proposal ? { proposal: c.proposal } : {}) };
    await recorder({ action: 'request', taskToken: `local-task-${randomUUID()}`, attempt: 1, input } as never);
  }
  // The review API handler as the pipeline deploys it: reviewers are the `reviewers` group.
  const deps: ReviewApiDeps = {
    ddb,
    sfn: new SFNClient(cfg),
    kms,
    env,
    config: CONFIG,
    writeMetrics: quiet,
    settings: { access: { kind: 'cognito-group', group: 'reviewers' }, maxRequestsPerWindow: 10_000, windowSeconds: 3600, fourEyesQualitySample: false },
  };
  const handler = createReviewApiHandler(deps);
  const viewsOut = fs.mkdtempSync(path.join(os.tmpdir(), 'review-console-views-'));
  const server = await startLocalConsole({
    webDir,
    viewsDir: path.join(viewsOut, 'views'),
    views: buildViews(viewsOut),
    classes: CONFIG.task.classes,
    handler,
    users: [{ username: 'rita', groups: ['reviewers'] }, { username: 'ralf', groups: ['reviewers'] }, { username: 'nora', groups: ['uploaders'] }],
    port: Number(process.env.PORT ?? 8787),
    title: 'Review console (local, moto)',
  });
  console.log(`review console: ${server.url}  (users: rita and ralf review, nora does not; Ctrl-C stops)`);
  const stop = async () => {
    await server.close();
    await aws.stop();
    fs.rmSync(viewsOut, { recursive: true, force: true });
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
