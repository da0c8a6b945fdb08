import * as path from 'node:path';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { captureOf, subscriptionEvent } from './capture-fixture';
import { createCaptureWriter, CaptureWriterEnv, readCaptureWriterEnv } from '../../src/serverless-model-endpoint/runtime/capture-writer';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';

/**
 * The capture writer against moto_server (real S3 and KMS over HTTP with the real SDK): objects at
 * the contract's keys, SSE-KMS with the lake's key, JSON Lines; malformed lines counted; a failed
 * PutObject fails the invocation, and the retry completes the delivery with no line lost or doubled.
 */
const aws = useLocalAws();
let bucket: string;
let keyArn: string;

beforeAll(async () => {
  bucket = `models-${Date.now()}`;
  const s3 = aws().s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  keyArn = (await aws().kms().send(new CreateKeyCommand({ Description: 'lake key' }))).KeyMetadata!.Arn!;
});

function writer(s3: S3Client = aws().s3()) {
  const env: CaptureWriterEnv = readCaptureWriterEnv({
    CAPTURE_BUCKET: bucket, CAPTURE_KEY_ARN: keyArn, CAPTURE_NAME: 'hearing', POWERTOOLS_SERVICE_NAME: 'Test/Predict', METRICS_NAMESPACE: 'ns',
  });
  const logs: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const metrics: any[] = [];
  const handler = createCaptureWriter({
    s3, env, log: (level, message, fields) => logs.push({ level, message, fields }), writeMetrics: (l) => metrics.push(JSON.parse(l)),
  });
  return { handler, logs, metrics };
}

async function objects(prefix: string): Promise<Array<{ key: string; lines: any[] }>> {
  const s3 = aws().s3();
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const out = [];
  for (const o of list.Contents ?? []) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))).Body!.transformToString();
    out.push({ key: o.Key!, lines: body.trimEnd().split('\n').map((l) => JSON.parse(l)) });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

const PREFIX = 'monitoring/captures/endpoint=hearing/';

test('one SSE-KMS JSON Lines object per model and hour, at the contract\'s keys; malformed lines are counted, never written', async () => {
  const { handler, metrics, logs } = writer();
  const lines = [
    captureOf({ capturedAt: '2026-03-01T13:05:00.000Z' }),
    captureOf({ capturedAt: '2026-03-01T13:55:00.000Z' }),
    captureOf({ capturedAt: '2026-03-01T14:01:00.000Z' }),
    captureOf({ capturedAt: '2026-03-01T13:30:00.000Z', modelVersion: 'hearing-who-grade@2' }),
  ];
  const event = subscriptionEvent([...lines.map((l) => JSON.stringify(l)), '{"captureVersion":"1","endpoint":"hearing","inputs":"P-0042-AB"}', 'not json P-0042-AB']);
  const result = await handler(event);
  expect(result).toEqual({ objects: 3, delivered: 4, alreadyWritten: 0, dropped: 2 });

  const written = await objects(PREFIX);
  expect(written.map((o) => o.key.replace(/[0-9a-f]{32}\.jsonl$/, '<id>.jsonl'))).toEqual([
    `${PREFIX}model=hearing-who-grade%401/date=2026-03-01/hour=13/<id>.jsonl`,
    `${PREFIX}model=hearing-who-grade%401/date=2026-03-01/hour=14/<id>.jsonl`,
    `${PREFIX}model=hearing-who-grade%402/date=2026-03-01/hour=13/<id>.jsonl`,
  ]);
  expect(written.map((o) => o.lines.map((l) => l.inferenceId))).toEqual([
    [lines[0].inferenceId, lines[1].inferenceId], [lines[2].inferenceId], [lines[3].inferenceId],
  ]);
  expect(written[0].lines[0]).toEqual(lines[0]);
  for (const o of written) {
    const head = await aws().s3().send(new HeadObjectCommand({ Bucket: bucket, Key: o.key }));
    expect([head.ServerSideEncryption, head.SSEKMSKeyId, head.ContentType]).toEqual(['aws:kms', keyArn, 'application/x-ndjson']);
  }
  // counted with reason codes; nothing of a line in logs or metrics
  expect(metrics.filter((m) => m.CapturesDropped).map((m) => [m.captureDropReason, m.CapturesDropped]).sort())
    .toEqual([['INVALID_INFERENCE_ID', 1], ['NOT_JSON', 1]]);
  expect(metrics.find((m) => m.CapturesDelivered)).toMatchObject({ CapturesDelivered: 4, service: 'Test/Predict' });
  expect(JSON.stringify([logs, metrics])).not.toContain('P-0042');
  expect(JSON.stringify([logs, metrics])).not.toContain(lines[0].inferenceId as string);
});

test('a control message and an empty batch write nothing; a payload that is not one is counted, not retried', async () => {
  const { handler, metrics } = writer();
  expect(await handler(subscriptionEvent([], { messageType: 'CONTROL_MESSAGE' }))).toEqual({ objects: 0, delivered: 0, alreadyWritten: 0, dropped: 0 });
  expect(await handler({ awslogs: { data: 'garbage' } })).toEqual({ objects: 0, delivered: 0, alreadyWritten: 0, dropped: 1 });
  expect(metrics).toMatchObject([{ CapturesDropped: 1, captureDropReason: 'MALFORMED_PAYLOAD' }]);
});

test('fault injection: a failed PutObject fails the invocation; the retry writes what is missing and nothing twice', async () => {
  const real = aws().s3();
  let failNext = 1;
  const flaky = {
    send: async (command: any) => {
      if (command.input?.Key?.includes('hour=09') && failNext > 0) {
        failNext--;
        throw Object.assign(new Error('injected'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 }, $fault: 'server' });
      }
      return real.send(command);
    },
  } as unknown as S3Client;
  const { handler, metrics, logs } = writer(flaky);
  const lines = ['08', '09', '09', '10'].map((h, i) => captureOf({ capturedAt: `2026-03-02T${h}:0${i}:00.000Z` }));
  const event = subscriptionEvent(lines.map((l) => JSON.stringify(l)));

  await expect(handler(event)).rejects.toThrow('1 of 3 capture objects were not written (SlowDown); the invocation fails so that Lambda retries it');
  expect(metrics.find((m) => m.CaptureDeliveryFailures)).toMatchObject({ CaptureDeliveryFailures: 1 });
  expect(logs.find((l) => l.message === 'capture object not written')?.fields).toMatchObject({ error: 'SlowDown', status: 503, lines: 2 });
  const prefix = `${PREFIX}model=hearing-who-grade%401/date=2026-03-02/`;
  expect((await objects(prefix)).map((o) => o.key.split('/')[5])).toEqual(['hour=08', 'hour=10']);

  // Lambda retries the same payload: the two objects already written answer 412 and stay as they are
  expect(await handler(event)).toEqual({ objects: 3, delivered: 2, alreadyWritten: 2, dropped: 0 });
  const all = await objects(prefix);
  expect(all.map((o) => o.key.split('/')[5])).toEqual(['hour=08', 'hour=09', 'hour=10']);
  const delivered = all.flatMap((o) => o.lines.map((l) => l.inferenceId)).sort();
  expect(delivered).toEqual(lines.map((l) => l.inferenceId).sort());
  // and a third delivery of the same payload changes nothing
  expect(await handler(event)).toEqual({ objects: 3, delivered: 0, alreadyWritten: 3, dropped: 0 });
  expect((await objects(prefix)).flatMap((o) => o.lines)).toHaveLength(4);
});

test('the environment is checked at init, naming what is missing', () => {
  expect(() => readCaptureWriterEnv({ CAPTURE_BUCKET: 'b' })).toThrow(
    'missing environment variable(s): CAPTURE_KEY_ARN, CAPTURE_NAME, POWERTOOLS_SERVICE_NAME, METRICS_NAMESPACE (set by the ServerlessModelEndpoint construct)');
});

test('the bundled handler (assets/, as deployed) writes a capture to moto', async () => {
  const bundle = require.resolve('../../assets/serverless-model-endpoint/runtime/capture-writer.handler/index.js');
  const restore = aws().applyEnv();
  const saved = { ...process.env };
  Object.assign(process.env, {
    CAPTURE_BUCKET: bucket,
    CAPTURE_KEY_ARN: keyArn,
    CAPTURE_NAME: 'bundled',
    POWERTOOLS_SERVICE_NAME: 'Test/Predict',
    METRICS_NAMESPACE: 'ns',
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
  });
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    let mod: any;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(bundle);
    });
    const c = captureOf({ endpoint: 'bundled' });
    expect(await mod.handler(subscriptionEvent([JSON.stringify(c)]))).toMatchObject({ objects: 1, delivered: 1 });
  } finally {
    out.mockRestore();
    process.env = saved;
    restore();
  }
  const written = await objects('monitoring/captures/endpoint=bundled/');
  expect(written).toHaveLength(1);
  expect(written[0].lines[0].endpoint).toBe('bundled');
});

test('the bundle loads in a fresh node with only the runtime\'s SDK beside it; a missing variable fails its init, named', () => {
  const dir = path.join('assets', 'serverless-model-endpoint', 'runtime', 'capture-writer.handler');
  const env = { CAPTURE_BUCKET: 'b', CAPTURE_KEY_ARN: 'arn:k', CAPTURE_NAME: 'e', POWERTOOLS_SERVICE_NAME: 's', METRICS_NAMESPACE: 'n', AWS_REGION: 'eu-central-1' };
  expect(expectAssetLoads(dir, { env }).exports).toEqual(['handler']);
  expect(() => expectAssetLoads(dir, { env: { ...env, CAPTURE_KEY_ARN: undefined as unknown as string } })).toThrow(/CAPTURE_KEY_ARN/);
});
