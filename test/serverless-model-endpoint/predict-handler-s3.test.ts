/**
 * @jest-environment ./test/serverless-model-endpoint/ort-environment.js
 */
import * as fs from 'node:fs';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { assetEnv, captureOutput, emfRecords, EXPECTED, loadHandler, logRecords, METADATA, MODEL_PATH, predictEvent } from './fixture';
import { useLocalAws } from '../support/local-aws';

/**
 * The model downloaded at init from a KMS-encrypted bucket (the models zone) in moto_server, over
 * real HTTP with the real SDK, integrity-checked against MODEL_SHA256.
 */
const aws = useLocalAws({ setEnv: true });
const MODEL_BYTES = fs.readFileSync(MODEL_PATH);
let bucket: string;
let keyArn: string;

function s3Env(key: string): Record<string, string | undefined> {
  return {
    ...assetEnv(),
    MODEL_SOURCE: 's3',
    MODEL_PATH: undefined,
    MODEL_BUCKET: bucket,
    MODEL_KEY: key,
  };
}

async function putModel(key: string, body: Uint8Array): Promise<void> {
  await aws().s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
}

beforeAll(async () => {
  bucket = `models-${Date.now()}`;
  await aws().s3().send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
  keyArn = (await aws().kms().send(new CreateKeyCommand({ Description: 'models zone key' }))).KeyMetadata!.Arn!;
  await putModel('hearing/1/model.onnx', MODEL_BYTES);
});

test('loads the SSE-KMS model from S3 at init, checks its hash, and serves PyTorch\'s outputs', async () => {
  const head = await aws().s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'hearing/1/model.onnx' }));
  expect(head.ServerSideEncryption).toBe('aws:kms');
  expect(head.SSEKMSKeyId).toBe(keyArn);

  const { mod, lines, error } = await loadHandler(s3Env('hearing/1/model.onnx'));
  expect(error).toBeUndefined();
  expect(logRecords(lines).find((r) => r.message === 'model object fetched')).toMatchObject({ serverSideEncryption: 'aws:kms', contentLength: METADATA.bytes });
  expect(logRecords(lines).find((r) => r.message === 'model loaded')).toMatchObject({
    source: `s3://${bucket}/hearing/1/model.onnx`, sha256: METADATA.sha256, bytes: METADATA.bytes,
  });

  const { result } = await captureOutput(() => mod.handler(predictEvent(JSON.stringify({ inputs: EXPECTED.inputs }))));
  expect(result.statusCode).toBe(200);
  const body = JSON.parse(result.body);
  expect(body.modelVersion).toBe(METADATA.version);
  const worst = Math.max(...EXPECTED.outputs.logits.flat().map((e, i) => Math.abs(body.outputs.logits.flat()[i] - e)));
  expect(worst).toBeLessThanOrEqual(EXPECTED.tolerance);
  expect(body.predictions.map((p: any) => p.index)).toEqual(EXPECTED.whoRuleGrade);
});

test('fails init clearly if the object in S3 is not the model with MODEL_SHA256 (corrupted or replaced)', async () => {
  const tampered = Buffer.from(MODEL_BYTES);
  tampered[tampered.length - 10] = (tampered[tampered.length - 10] + 16) % 256;
  await putModel('hearing/1/tampered.onnx', tampered);
  const { mod, lines, error } = await loadHandler(s3Env('hearing/1/tampered.onnx'));
  expect(error).toMatchObject({ name: 'ModelInitError', reason: 'INTEGRITY' });
  expect((error as Error).message).toMatch(new RegExp(
    `^model integrity check failed for s3://${bucket}/hearing/1/tampered.onnx: expected SHA-256 ${METADATA.sha256}, got [0-9a-f]{64} \\(${METADATA.bytes} bytes\\)`));
  expect(logRecords(lines).find((r) => r.message === 'model load failed')).toMatchObject({ level: 'ERROR', reason: 'INTEGRITY' });
  const { result } = await captureOutput(() => mod.handler(predictEvent(JSON.stringify({ inputs: EXPECTED.inputs }))));
  expect(result.statusCode).toBe(500);
  expect(JSON.parse(result.body)).toEqual({ message: 'the model is not available', modelVersion: METADATA.version });
});

test('a model that cannot be read yet (READ) is retried by the next request, and then served', async () => {
  const key = 'hearing/2/model.onnx';
  const { mod, lines, error } = await loadHandler(s3Env(key));
  expect(error).toMatchObject({ name: 'ModelInitError', reason: 'READ' });
  expect((error as Error).message).toMatch(new RegExp(`^could not read the model from s3://${bucket}/${key}: NoSuchKey`));
  expect(emfRecords(lines)).toMatchObject([{ outcome: 'model-load-failed', reason: 'READ', ServerErrors: 1 }]);

  const first = await captureOutput(() => mod.handler(predictEvent(JSON.stringify({ inputs: EXPECTED.inputs }))));
  expect(first.result.statusCode).toBe(500);
  await putModel(key, MODEL_BYTES);
  const second = await captureOutput(() => mod.handler(predictEvent(JSON.stringify({ inputs: EXPECTED.inputs }))));
  expect(second.result.statusCode).toBe(200);
  expect(logRecords(second.lines).filter((r) => r.message === 'model loaded')).toHaveLength(1);
});
