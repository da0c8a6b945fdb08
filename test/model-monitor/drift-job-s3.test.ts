/**
 * The drift job against moto_server (S3 with KMS): baselines, captures and ground truth written with
 * the contract's key functions; reports read back with their encryption. moto evaluates no IAM:
 * policy-evaluation.test.ts proves the role. EventBridge is an injected recorder (the entries are
 * checked as PutEvents would get them). Also: the bundled handler loads with its staged
 * configuration and only the SDK external.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  captureLine, drawFeatures, ENDPOINT, groundTruthLines, makeBaseline, monitorConfig, recordingEvents, SHA_A, SHA_B,
} from './monitor-world';
import { DRIFT_REPORT_FILES, MONITOR_DETAIL_TYPE, MONITORING_KEYS } from '../../src/contract/monitoring';
import { MONITOR_CONFIG_FILE, MONITOR_ENV } from '../../src/model-monitor/runtime/contract';
import { createDriftJob } from '../../src/model-monitor/runtime/drift-job';
import { DriftRunReport, SeededRandom } from '../../src/model-monitor/runtime/logic';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';

const aws = useLocalAws();
const BUCKET = 'lake-models';
const HOUR = 3_600_000;
// The window holds now (moto stamps objects with the current time: ground truth written now is
// "received in the window").
const END = new Date(Math.floor(Date.now() / HOUR) * HOUR + 2 * HOUR); // two hours ahead: the test may cross an hour
let s3: S3Client;
let keyArn: string;

beforeAll(async () => {
  s3 = aws().s3();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
  keyArn = (await aws().kms().send(new CreateKeyCommand({ Description: 'lake key' }))).KeyMetadata!.Arn!;
  await put(MONITORING_KEYS.baseline(SHA_A), JSON.stringify(makeBaseline(SHA_A)));
});

const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
const get = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();

function job(captureName: string) {
  const events = recordingEvents();
  const run = createDriftJob({
    s3,
    events: events.api,
    env: { modelsBucket: BUCKET, lakeKeyArn: keyArn, eventBusName: 'default' },
    config: monitorConfig({ captureName }),
    writeMetrics: () => undefined,
  });
  return { run, events: events.entries };
}

/** Captures of `n` examples (4 per line, one object per hour) in the 20 hours before now. */
async function writeCaptures(endpoint: string, n: number, random: SeededRandom, shift: Record<string, number> = {}, sha = SHA_A) {
  const now = Date.now();
  const byHour = new Map<number, string[]>();
  const captures = [];
  for (let i = 0; i < n; i += 4) {
    const at = new Date(now - (1 + ((i / 4) % 20)) * HOUR / 1.25);
    const c = captureLine(at, sha, Array.from({ length: Math.min(4, n - i) }, () => drawFeatures(random, shift)), random);
    const line = c.line.replace(`"endpoint":"${ENDPOINT}"`, `"endpoint":"${endpoint}"`);
    const hour = Math.floor(at.getTime() / HOUR) * HOUR;
    byHour.set(hour, [...(byHour.get(hour) ?? []), line]);
    captures.push(c.capture);
  }
  for (const [hour, lines] of byHour) {
    await put(MONITORING_KEYS.captureObject(endpoint, 'hearing-who@1', new Date(hour), `w-${sha.slice(0, 4)}-${hour}`), lines.join('\n') + '\n');
  }
  return captures;
}

test('an undrifted window: report written under the window\'s folder with SSE-KMS, no event', async () => {
  const e = 'undrifted';
  await writeCaptures(e, 2000, new SeededRandom(1));
  const j = job(e);
  const summary = await j.run({ windowEnd: END.toISOString() });
  expect(summary).toMatchObject({ windowEnd: END.toISOString(), datasetDrift: false, predictionDrift: false, rowsEvaluated: 2000, eventsPut: 0 });
  expect(j.events).toEqual([]);
  const folder = MONITORING_KEYS.reportFolder(e, END);
  for (const file of [DRIFT_REPORT_FILES.json, DRIFT_REPORT_FILES.html]) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${folder}${file}` }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toContain(keyArn.split('/').pop());
  }
  const report: DriftRunReport = JSON.parse(await get(`${folder}${DRIFT_REPORT_FILES.json}`));
  expect(report.models[0].drift!.features.filter((f) => f.drifted)).toEqual([]);
});

test('the bundled handler runs a window end to end (its configuration file, environment and SDK clients)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-handler-'));
  fs.copyFileSync(path.resolve(__dirname, '../../assets/model-monitor/runtime/drift.handler/index.js'), path.join(dir, 'index.js'));
  fs.writeFileSync(path.join(dir, MONITOR_CONFIG_FILE), JSON.stringify(monitorConfig({ captureName: 'undrifted', service: 'Bundle/Monitor' })));
  const env = {
    ...process.env,
    ...aws().env,
    NODE_PATH: path.resolve(__dirname, '../../node_modules'),
    [MONITOR_ENV.modelsBucket]: BUCKET,
    [MONITOR_ENV.lakeKeyArn]: keyArn,
    [MONITOR_ENV.eventBusName]: 'default',
  };
  const script = `require('./index.js').handler({ windowEnd: '${END.toISOString()}' }).then((r) => process.stdout.write('RESULT ' + JSON.stringify(r)))`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { cwd: dir, env, timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  fs.rmSync(dir, { recursive: true, force: true });
  expect(out).toContain('"_aws"'); // the EMF record on stdout
  expect(JSON.parse(out.slice(out.indexOf('RESULT ') + 7))).toMatchObject({ windowEnd: END.toISOString(), rowsEvaluated: 2000, datasetDrift: false, eventsPut: 0 });
});

test('+0.2 on two features: exactly those two drift; one Model Drift Detected event', async () => {
  const e = 'drifted';
  await writeCaptures(e, 2000, new SeededRandom(2), { 'left.1000': 0.2, 'right.8000': 0.2 });
  const j = job(e);
  const summary = await j.run({ windowEnd: END.toISOString() });
  const report: DriftRunReport = JSON.parse(await get(`${MONITORING_KEYS.reportFolder(e, END)}${DRIFT_REPORT_FILES.json}`));
  expect(report.models[0].drift!.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(['left.1000', 'right.8000']);
  // Two of twelve is below Evidently's dataset share: the event needs the dataset or the prediction to drift.
  expect(summary.datasetDrift).toBe(false);
  const events = recordingEvents();
  const again = createDriftJob({
    s3,
    events: events.api,
    env: { modelsBucket: BUCKET, lakeKeyArn: keyArn, eventBusName: 'default' },
    config: monitorConfig({ captureName: e, drift: { datasetDriftShare: 0.15 } }),
    writeMetrics: () => undefined,
  });
  expect(await again({ windowEnd: END.toISOString() })).toMatchObject({ datasetDrift: true, eventsPut: 1 });
  expect(events.entries[0].DetailType).toBe(MONITOR_DETAIL_TYPE.modelDriftDetected);
  expect(JSON.parse(events.entries[0].Detail)).toMatchObject({ endpoint: e, driftedFeatures: ['left.1000', 'right.8000'], datasetDrift: true });
});

test('late ground truth joins through the UUID v7 time; malformed lines and a missing baseline are counted', async () => {
  const e = 'labelled';
  const random = new SeededRandom(3);
  const recent = await writeCaptures(e, 400, random);
  await writeCaptures(e, 40, random, {}, SHA_B); // no baseline for SHA_B
  // Captures 3 days ago, labelled now.
  const old = Array.from({ length: 5 }, (_, i) => captureLine(new Date(END.getTime() - (72 + i) * HOUR), SHA_A, [drawFeatures(random)], random));
  for (const [i, c] of old.entries()) {
    await put(MONITORING_KEYS.captureObject(e, 'hearing-who@1', new Date(c.capture.capturedAt), `old-${i}`), c.line.replace(`"endpoint":"${ENDPOINT}"`, `"endpoint":"${e}"`));
  }
  await put(MONITORING_KEYS.captureObject(e, 'hearing-who@1', new Date(Date.now() - HOUR), 'bad'), 'not json\n{"captureVersion":"2"}\n');
  const lines = [
    ...recent.slice(0, 20).map((c) => ({ inferenceId: c.inferenceId, example: 2, trueClass: c.predictedClasses![2]! })),
    ...old.map((c, i) => ({ inferenceId: c.capture.inferenceId, trueClass: i < 4 ? c.capture.predictedClasses![0]! : 'not-a-class' })),
  ];
  await put(MONITORING_KEYS.groundTruthObject(e, new Date(), 'clinic-1'), groundTruthLines(lines));
  const j = job(e);
  await j.run({ windowEnd: END.toISOString() });
  const report: DriftRunReport = JSON.parse(await get(`${MONITORING_KEYS.reportFolder(e, END)}${DRIFT_REPORT_FILES.json}`));
  expect(report.groundTruth).toMatchObject({ receivedInWindow: 25, joined: 25, correct: 24, unmatched: 0, earlierHoursRead: 5 });
  expect(report.models.find((m) => m.modelSha256 === SHA_A)!.drift!.accuracy).toMatchObject({ labeled: 20, correct: 20 });
  expect(report.models.find((m) => m.modelSha256 === SHA_B)).toMatchObject({ status: 'missing-baseline', rows: { captured: 40, withoutBaseline: 40 } });
  expect(report.lines.invalid).toEqual({ 'not-json': 1, 'capture-version': 1 });
});

test('the bundled handler loads with its staged configuration (only the SDK external)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-handler-'));
  fs.copyFileSync(path.resolve(__dirname, '../../assets/model-monitor/runtime/drift.handler/index.js'), path.join(dir, 'index.js'));
  fs.writeFileSync(path.join(dir, MONITOR_CONFIG_FILE), JSON.stringify(monitorConfig()));
  const r = expectAssetLoads(dir, { env: { [MONITOR_ENV.modelsBucket]: BUCKET, [MONITOR_ENV.lakeKeyArn]: 'arn:k', [MONITOR_ENV.eventBusName]: 'default', AWS_REGION: 'eu-central-1' } });
  expect(r.externals.every((x) => x.startsWith('@aws-sdk/'))).toBe(true);
  fs.rmSync(dir, { recursive: true, force: true });
});
