/**
 * The writer and the queries against moto_server over real HTTP: a curated bucket (lineage) and a
 * models bucket (prediction captures), versioned, SSE-KMS. A small world: two dataset versions
 * (one published with inline records, one blocked with 1,500 records in a records object), two
 * training runs, one promotion, captured predictions. Then: a prediction's lineage down to its
 * source record ids, a subject's footprint, idempotent re-writes, clear errors for unknown ids,
 * the CLI, and the query times (printed, not asserted).
 */
import { gzipSync } from 'node:zlib';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand,
  PutBucketEncryptionCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { expectValidRunEvent } from './openlineage-schema';
import { LINEAGE_KEYS, LINEAGE_ROOT, LineageSourceRecord } from '../../src/contract/lineage';
import { CAPTURE_VERSION, MONITORING_KEYS, PredictionCapture } from '../../src/contract/monitoring';
import { runCli } from '../../src/lineage/runtime/cli';
import { datasetBuildEvent, promotionEvent, trainingEvent, uuidV7 } from '../../src/lineage/runtime/events';
import { LineageStore, lineageOfPrediction, subjectFootprint } from '../../src/lineage/runtime/query';
import { writeLineageEvent } from '../../src/lineage/runtime/writer';
import { captureLine } from '../../src/serverless-model-endpoint/runtime/capture';
import { createCaptureWriter } from '../../src/serverless-model-endpoint/runtime/capture-writer';
import { useLocalAws } from '../support/local-aws';

jest.setTimeout(120_000);
const aws = useLocalAws();

const T = Date.UTC(2026, 11, 4, 10, 15, 0);
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const SUBJECT = 'hmac:subject-3';
const rec = (i: number, v = 1): LineageSourceRecord => ({
  recordId: `rec-${String(i).padStart(5, '0')}`,
  subject: `hmac:subject-${i % 10}`,
  cleanRef: `s3://clean/hearing/records/rec-${i}.json`,
  source: `s3://raw/uploads/c/${i}.json`,
  sourceVersionId: `ver-${i}-${v}`,
});
const V1 = Array.from({ length: 30 }, (_, i) => rec(i));
const V2 = Array.from({ length: 1500 }, (_, i) => rec(i, 2));

let s3: S3Client;
let store: LineageStore;
let keyArn: string;
const written: string[] = [];
const inference = { hit: uuidV7(T + 1000), boundary: uuidV7(Date.UTC(2026, 11, 4, 10, 59, 59, 999)), other: uuidV7(T + 2000), big: uuidV7(T + 4000) };

async function bucket(name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutBucketEncryptionCommand({
    Bucket: name,
    ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } }] },
  }));
}

function capture(inferenceId: string, capturedAt: number, modelVersion: string, sha: string): PredictionCapture {
  return {
    captureVersion: CAPTURE_VERSION,
    endpoint: 'hearing',
    inferenceId,
    capturedAt: new Date(capturedAt).toISOString(),
    modelVersion,
    modelSha256: sha,
    inputs: { x: [[1, 2]] },
    outputs: { y: [[0.1, 0.9]] },
    predictedClasses: ['mild'],
  };
}

async function putCaptures(lines: PredictionCapture[], hour: number, id: string): Promise<void> {
  const key = MONITORING_KEYS.captureObject('hearing', lines[0].modelVersion, new Date(hour), id);
  await s3.send(new PutObjectCommand({ Bucket: store.capturesBucket, Key: key, Body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n' }));
}

beforeAll(async () => {
  s3 = aws().s3();
  const stamp = Date.now();
  keyArn = (await aws().kms().send(new CreateKeyCommand({ Description: 'lake data key' }))).KeyMetadata!.Arn!;
  store = { s3, lineageBucket: `curated-${stamp}`, capturesBucket: `models-${stamp}` };
  await bucket(store.lineageBucket);
  await bucket(store.capturesBucket);
  const target = { bucket: store.lineageBucket, kmsKeyArn: keyArn };
  const dataset = (version: string, records: LineageSourceRecord[], published: boolean, at: number) => datasetBuildEvent({
    pipeline: 'hearing',
    datasetVersion: version,
    eventTime: at,
    curatedBucket: 'curated',
    datasetPrefix: `hearing/datasets/${version}/`,
    cleanBucket: 'clean',
    cleanPrefix: 'hearing/records/',
    records,
    published,
  }, LINEAGE_KEYS.records);
  const train = (job: string, version: string, sha: string, at: number) => trainingEvent({
    model: 'hearing-grade',
    trainingJobName: job,
    datasetVersion: version,
    datasetLocation: `s3://curated/hearing/datasets/${version}/`,
    eventTime: at,
    output: { bucket: 'models', key: `hearing-grade/models/${job}/model.onnx`, sha256: sha },
  });
  const events = [
    dataset('v1', V1, true, T - 86_400_000),
    dataset('v2', V2, false, T - 80_000_000),
    train('job-a', 'v1', SHA_A, T - 50_000_000),
    train('job-b', 'v2', SHA_B, T - 40_000_000),
    promotionEvent({ endpoint: 'hearing', modelVersion: '1.0.0', modelBucket: 'models', modelKey: 'hearing-grade/models/job-a/model.onnx', modelSha256: SHA_A, eventTime: T - 3_600_000 }),
  ];
  for (const e of events) written.push((await writeLineageEvent(s3, target, e)).eventKey);
  await putCaptures([capture(inference.other, T + 2001, '1.0.0', SHA_A), capture(inference.hit, T + 1002, '1.0.0', SHA_A)], T, 'c1');
  await putCaptures([capture(inference.big, T + 4005, '0.1.0', SHA_B)], T, 'c4');
  // Made at 10:59:59.999, captured at 11:00:00.010: the capture lies in hour 11.
  await putCaptures([capture(inference.boundary, Date.UTC(2026, 11, 4, 11, 0, 0, 10), '1.0.0', SHA_A)], Date.UTC(2026, 11, 4, 11), 'c2');
}, 120_000);

test('every stored event validates against OpenLineage 2-0-2 and is SSE-KMS with the lake key', async () => {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: store.lineageBucket, Prefix: LINEAGE_KEYS.eventsRoot }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!);
  expect(keys.sort()).toEqual([...written].sort());
  for (const key of keys) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: store.lineageBucket, Key: key }))).Body!.transformToString();
    expectValidRunEvent(JSON.parse(body));
    const head = await s3.send(new HeadObjectCommand({ Bucket: store.lineageBucket, Key: key }));
    expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn });
  }
  // eslint-disable-next-line no-console
  console.log(`lineage: ${keys.length} events stored, all valid against OpenLineage 2-0-2`);
});

test('a prediction\'s lineage: capture → model bytes → training run → dataset version → source record ids (with version ids)', async () => {
  const t0 = performance.now();
  const l = await lineageOfPrediction(store, { inferenceId: inference.hit });
  const ms = performance.now() - t0;
  expect(l.capture).toMatchObject({ endpoint: 'hearing', modelVersion: '1.0.0', modelSha256: SHA_A });
  expect(l.predictedAt).toBe(new Date(T + 1000).toISOString());
  expect(l.models.map((m) => m.trainingJobName)).toEqual(['job-a']);
  expect(l.datasetVersions.map((d) => [d.datasetVersion, d.published, d.recordCount])).toEqual([['v1', true, 30]]);
  expect(l.datasetVersions[0].records).toEqual(V1);
  expect(l.promotions.map((p) => [p.endpoint, p.modelVersion])).toEqual([['hearing', '1.0.0']]);
  const t1 = performance.now();
  const withEndpoint = await lineageOfPrediction(store, { inferenceId: inference.hit.toUpperCase(), endpoint: 'hearing' });
  const ms2 = performance.now() - t1;
  expect(withEndpoint.datasetVersions[0].records).toEqual(V1);
  // eslint-disable-next-line no-console
  console.log(`lineage query time (moto, ${V1.length} records): prediction ${ms.toFixed(0)} ms, with endpoint ${ms2.toFixed(0)} ms`);
});

test('a prediction served by a model trained on a big (blocked) version: its 1,500 records come from the records object', async () => {
  const t0 = performance.now();
  const l = await lineageOfPrediction(store, { inferenceId: inference.big, endpoint: 'hearing' });
  const ms = performance.now() - t0;
  expect(l.models.map((m) => m.trainingJobName)).toEqual(['job-b']);
  expect(l.datasetVersions.map((d) => [d.datasetVersion, d.published, d.recordCount, d.records.length])).toEqual([['v2', false, 1500, 1500]]);
  expect(l.datasetVersions[0].records).toEqual([...V2].sort((a, b) => (a.recordId < b.recordId ? -1 : 1)));
  expect(l.promotions).toEqual([]);
  // eslint-disable-next-line no-console
  console.log(`lineage query time (moto, ${V2.length} records from a records object): prediction ${ms.toFixed(0)} ms`);
});

test('a capture the endpoint\'s own capture line and capture writer put into the lake is found', async () => {
  const id = uuidV7(T + 7000);
  const line = captureLine('hearing', {
    inferenceId: id,
    time: T + 7000,
    modelSha256: SHA_A,
    inputs: { features: [[0.1, 0.2]] },
    body: { modelVersion: '1.0.0', outputs: { probabilities: [[0.2, 0.8]] }, predictions: [{ index: 1, label: 'mild' } as any] },
  });
  const payload = { messageType: 'DATA_MESSAGE', logGroup: '/aws/lambda/predict', logEvents: [{ id: '1', timestamp: T + 7000, message: `${line}\n` }] };
  const writer = createCaptureWriter({
    s3,
    env: { bucket: store.capturesBucket, keyArn, captureName: 'hearing', serviceName: 'predict', metricsNamespace: 'Test' },
    log: () => undefined,
    writeMetrics: () => undefined,
  });
  const r = await writer({ awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } } as any);
  expect(r.delivered).toBe(1);
  const l = await lineageOfPrediction(store, { inferenceId: id });
  expect(l.capture).toMatchObject({ endpoint: 'hearing', modelVersion: '1.0.0', modelSha256: SHA_A });
  expect(l.datasetVersions[0].records.map((x) => x.recordId)).toEqual(V1.map((x) => x.recordId));
});

test('a prediction made in the last moment of an hour is found in the next hour\'s captures', async () => {
  const l = await lineageOfPrediction(store, { inferenceId: inference.boundary, endpoint: 'hearing' });
  expect(l.capture.key).toMatch(/hour=11\/c2\.jsonl$/);
});

test('a subject\'s footprint: records, dataset versions (blocked too), models, endpoints', async () => {
  const t0 = performance.now();
  const f = await subjectFootprint(store, SUBJECT);
  const ms = performance.now() - t0;
  const mine = (rs: LineageSourceRecord[]) => rs.filter((r) => r.subject === SUBJECT);
  expect(f.datasetVersions.map((d) => [d.datasetVersion, d.published, d.recordIds.length])).toEqual([['v1', true, mine(V1).length], ['v2', false, mine(V2).length]]);
  expect(f.records.map((r) => r.recordId)).toEqual(mine(V2).map((r) => r.recordId));
  expect(f.records.find((r) => r.recordId === 'rec-00003')!.datasetVersions).toEqual(['v1', 'v2']);
  expect(f.models.map((m) => [m.trainingJobName, m.sha256]).sort()).toEqual([['job-a', SHA_A], ['job-b', SHA_B]]);
  expect(f.endpoints.map((e) => [e.endpoint, e.modelVersion])).toEqual([['hearing', '1.0.0']]);
  // eslint-disable-next-line no-console
  console.log(`lineage query time (moto): subject footprint ${ms.toFixed(0)} ms (${f.records.length} records, ${f.datasetVersions.length} dataset versions)`);
});

test('unknown ids get clear errors', async () => {
  await expect(lineageOfPrediction(store, { inferenceId: uuidV7(T + 5000) })).rejects.toMatchObject({ name: 'LineageNotFound', message: expect.stringMatching(/no capture of inference id/) });
  await expect(lineageOfPrediction(store, { inferenceId: '123e4567-e89b-42d3-a456-426614174000' })).rejects.toThrow(/not a UUID version 7/);
  await expect(lineageOfPrediction(store, { inferenceId: inference.hit, endpoint: '../x' })).rejects.toThrow(/not a capture name/);
  await expect(subjectFootprint(store, 'hmac:nobody')).rejects.toMatchObject({ name: 'LineageNotFound' });
  // A prediction served by bytes no training event names.
  const orphan = uuidV7(T + 3000);
  await putCaptures([capture(orphan, T + 3001, '9.9.9', 'c'.repeat(64))], T, 'c3');
  await expect(lineageOfPrediction(store, { inferenceId: orphan })).rejects.toThrow(/no training lineage for the model .*sha256 c{64}/);
});

test('writing an event again changes nothing (If-None-Match: every object is found, no new version)', async () => {
  const versionsBefore = await s3.send(new ListObjectVersionsCommand({ Bucket: store.lineageBucket, Prefix: LINEAGE_ROOT }));
  const again = await writeLineageEvent(s3, { bucket: store.lineageBucket, kmsKeyArn: keyArn }, promotionEvent({
    endpoint: 'hearing', modelVersion: '1.0.0', modelBucket: 'models', modelKey: 'hearing-grade/models/job-a/model.onnx', modelSha256: SHA_A, eventTime: T - 3_600_000,
  }));
  expect(again.written).toBe(0);
  expect(again.existing).toBeGreaterThan(0);
  const versionsAfter = await s3.send(new ListObjectVersionsCommand({ Bucket: store.lineageBucket, Prefix: LINEAGE_ROOT }));
  expect(versionsAfter.Versions?.length).toBe(versionsBefore.Versions?.length);
});

test('the CLI: prediction and subject as JSON or a tree; exit 1 not found, 2 usage', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    env: { LINEAGE_BUCKET: store.lineageBucket, CAPTURES_BUCKET: store.capturesBucket },
    s3,
    stdout: (s: string) => out.push(s),
    stderr: (s: string) => err.push(s),
  };
  expect(await runCli(['prediction', inference.hit, '--json'], io)).toBe(0);
  expect(JSON.parse(out.pop()!).datasetVersions[0].records.map((r: LineageSourceRecord) => r.recordId)).toEqual(V1.map((r) => r.recordId));
  expect(await runCli(['prediction', inference.hit, '--endpoint', 'hearing'], io)).toBe(0);
  const tree = out.pop()!;
  expect(tree).toMatch(/trained by job-a/);
  expect(tree).toMatch(/rec-00029 @ ver-29-1/);
  expect(await runCli(['subject', SUBJECT], io)).toBe(0);
  expect(out.pop()).toMatch(/dataset versions \(2\)[\s\S]*v2 \(blocked\)/);
  expect(await runCli(['subject', 'hmac:nobody'], io)).toBe(1);
  expect(err.pop()).toMatch(/LineageNotFound/);
  expect(await runCli(['prediction'], io)).toBe(2);
  expect(await runCli(['subject', SUBJECT, '--bogus', 'x'], io)).toBe(2);
  expect(await runCli(['prediction', inference.hit], { ...io, env: {} })).toBe(2);
  expect(err.pop()).toMatch(/LINEAGE_BUCKET/);
});
