/**
 * The publish-model handler against moto_server over real HTTP: a models zone with SSE-KMS,
 * SageMaker's model.tar.gz built here with tar-stream around the reference app's ONNX model and a
 * drift baseline computed for it (computeBaseline), and every way an archive can be wrong.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketEncryptionCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import * as tar from 'tar-stream';
import { PublishModelResult } from '../../src/gpu-training-job/runtime/contract';
import { sha256Hex } from '../../src/gpu-training-job/runtime/logic/publish';
import { createPublishModelHandler, PublishModelEnv, readPublishModelEnv } from '../../src/gpu-training-job/runtime/publish-model';
import { computeBaseline, parseBaseline } from '../../src/model-monitor/runtime/logic';
import { expectAssetLoads } from '../support/assets';
import { REPO_ROOT, useLocalAws } from '../support/local-aws';

jest.setTimeout(120_000);

const aws = useLocalAws();
const ONNX = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'reference-app', 'model', 'hearing-who-grade.onnx'));
const ONNX_SHA = sha256Hex(ONNX);
const MODEL = 'hearing-who-grade';

/** A tar.gz of the given entries (name → bytes, or a link), as SageMaker packs the model directory. */
async function archive(entries: Array<[string, Buffer | { linkname: string }]>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer); })();
  for (const [name, content] of entries) {
    if (Buffer.isBuffer(content)) {
      await new Promise<void>((resolve, reject) => pack.entry({ name, size: content.length }, content, (e) => (e ? reject(e) : resolve())));
    } else {
      await new Promise<void>((resolve, reject) => pack.entry({ name, type: 'symlink', linkname: content.linkname }, (e) => (e ? reject(e) : resolve())));
    }
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

function baselineFor(modelSha256: string, shift = 0): Buffer {
  const rows = Array.from({ length: 200 }, (_, i) => [(i * 7) % 91 + shift, (i * 13) % 57 + 0.5, i % 3 === 0 ? 'left' : 'right']);
  const doc = computeBaseline({
    modelSha256,
    features: [{ name: 'hz500' }, { name: 'hz4000' }, { name: 'ear', kind: 'categorical' }],
    rows,
    predictions: rows.map((_, i) => ['normal', 'mild', 'moderate'][i % 3]),
  });
  return Buffer.from(JSON.stringify(doc, null, 2));
}

let s3: S3Client;
let env: PublishModelEnv;
let jobCounter = 0;

beforeAll(async () => {
  s3 = aws().s3();
  const key = await aws().kms().send(new CreateKeyCommand({ Description: 'lake key' }));
  const stamp = Date.now().toString(36);
  env = readPublishModelEnv({
    MODELS_BUCKET: `models-${stamp}`,
    LAKE_KEY_ARN: key.KeyMetadata!.Arn!,
    MODEL_NAME: MODEL,
    MODEL_FILE_NAME: 'model.onnx',
    BASELINE_FILE_NAME: 'baseline.json',
    REQUIRE_BASELINE: 'false',
    MAX_ARCHIVE_BYTES: String(1024 * 1024),
  });
  await s3.send(new CreateBucketCommand({ Bucket: env.modelsBucket, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
  await s3.send(new PutBucketEncryptionCommand({
    Bucket: env.modelsBucket,
    ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: env.lakeKeyArn } }] },
  }));
});

/** Upload an archive as a new training job's output; returns the task input. */
async function trainingOutput(body: Buffer) {
  const job = `${MODEL}-${(++jobCounter).toString().padStart(32, '0')}`;
  const key = `${MODEL}/training-jobs/${job}/output/model.tar.gz`;
  await s3.send(new PutObjectCommand({ Bucket: env.modelsBucket, Key: key, Body: body }));
  return { modelArtifact: `s3://${env.modelsBucket}/${key}`, trainingJobName: job };
}

function handler(over: Partial<PublishModelEnv> = {}, logs: unknown[] = []) {
  return createPublishModelHandler({ s3, env: { ...env, ...over }, log: (message, fields) => logs.push({ message, ...fields }) });
}

async function text(key: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: env.modelsBucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** The error a call fails with (name and message). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: env.modelsBucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

describe('a model archive with the ONNX file and its baseline', () => {
  let input: { modelArtifact: string; trainingJobName: string };
  let result: PublishModelResult;
  const baseline = baselineFor(ONNX_SHA);
  const logs: any[] = [];

  beforeAll(async () => {
    input = await trainingOutput(await archive([
      ['./code/train.py', Buffer.from('print("hi")\n')],
      ['./model.json', Buffer.from('{"classes": ["normal"]}')],
      ['./model.onnx', ONNX],
      ['./baseline.json', baseline],
    ]));
    result = await handler({}, logs)(input);
  });

  test('publishes the plain ONNX file under the job, SSE-KMS with the lake key, with its SHA-256', async () => {
    const modelKey = `${MODEL}/models/${input.trainingJobName}/model.onnx`;
    expect(result).toMatchObject({
      modelSha256: ONNX_SHA, modelKey, modelBytes: ONNX.length, model: { key: modelKey, sha256: ONNX_SHA, bytes: ONNX.length },
    });
    expect((await text(modelKey)).equals(ONNX)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: env.modelsBucket, Key: modelKey, ChecksumMode: 'ENABLED' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toContain(env.lakeKeyArn.split('/').pop());
    // (moto keeps no x-amz-checksum-sha256; S3 verifies and keeps the one sent)
  });

  test('publishes the checked baseline at monitoring/baselines/<model sha256>.json', async () => {
    const key = `monitoring/baselines/${ONNX_SHA}.json`;
    expect(result.baselineKey).toBe(key);
    expect(result.baseline).toEqual({ key, sha256: result.baselineSha256 });
    const stored = await text(key);
    expect(sha256Hex(stored)).toBe(result.baselineSha256);
    expect(parseBaseline(JSON.parse(stored.toString()))).toEqual(parseBaseline(JSON.parse(baseline.toString())));
    const head = await s3.send(new HeadObjectCommand({ Bucket: env.modelsBucket, Key: key }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
  });

  test('logs names and figures only', () => {
    expect(logs).toEqual([expect.objectContaining({
      message: 'model published', modelSha256: ONNX_SHA, modelBytes: ONNX.length, model: 'written', baseline: 'written',
    })]);
  });

  test('a retry of the same job is idempotent: same keys, same result, the objects unchanged', async () => {
    const again: any[] = [];
    expect(await handler({}, again)(input)).toEqual(result);
    expect(again[0]).toMatchObject({ model: 'same', baseline: 'same' });
    expect(await keysUnder(`${MODEL}/models/${input.trainingJobName}/`)).toEqual([result.modelKey]);
  });

  test('the same model bytes trained again (another job) keep the first baseline and name it', async () => {
    const other = await trainingOutput(await archive([['model.onnx', ONNX], ['baseline.json', baselineFor(ONNX_SHA, 5)]]));
    const seen: any[] = [];
    const r = await handler({}, seen)(other);
    expect(seen[0]).toMatchObject({ model: 'written', baseline: 'different' });
    expect(r.baselineKey).toBe(result.baselineKey);
    expect(r.baselineSha256).toBe(result.baselineSha256);
    expect(sha256Hex(await text(result.baselineKey!))).toBe(result.baselineSha256);
  });
});

describe('optional baseline', () => {
  test('no baseline: the model is published, the baseline fields are null', async () => {
    const input = await trainingOutput(await archive([['model.onnx', ONNX]]));
    const r = await handler()(input);
    expect(r).toMatchObject({ modelSha256: ONNX_SHA, baselineKey: null, baselineSha256: null, baseline: null });
  });

  test('no baseline with requireBaseline: BaselineMissing, nothing published', async () => {
    const input = await trainingOutput(await archive([['model.onnx', ONNX]]));
    const e = await failure(handler({ requireBaseline: true })(input));
    expect(e.name).toBe('BaselineMissing');
    expect(await keysUnder(`${MODEL}/models/${input.trainingJobName}/`)).toEqual([]);
  });

  test('configurable file names', async () => {
    const input = await trainingOutput(await archive([['net.onnx', ONNX], ['drift.json', baselineFor(ONNX_SHA)]]));
    const r = await handler({ modelFileName: 'net.onnx', baselineFileName: 'drift.json' })(input);
    expect(r.modelSha256).toBe(ONNX_SHA);
    expect(r.baselineKey).toBe(`monitoring/baselines/${ONNX_SHA}.json`);
  });
});

describe('bad archives fail with a clear error name and publish nothing', () => {
  async function refused(body: Buffer, name: string, over: Partial<PublishModelEnv> = {}): Promise<Error> {
    const input = await trainingOutput(body);
    const e = await failure(handler(over)(input));
    expect(e.name).toBe(name);
    expect(await keysUnder(`${MODEL}/models/${input.trainingJobName}/`)).toEqual([]);
    return e;
  }

  test('a baseline of another model (its modelSha256 is not the ONNX file\'s)', async () => {
    const e = await refused(await archive([['model.onnx', ONNX], ['baseline.json', baselineFor('a'.repeat(64))]]), 'BaselineModelMismatch');
    expect(e.message).toContain(ONNX_SHA);
    expect(await keysUnder(`monitoring/baselines/${'a'.repeat(64)}`)).toEqual([]);
  });

  test('an invalid baseline (not JSON; not schema version 1)', async () => {
    await refused(await archive([['model.onnx', ONNX], ['baseline.json', Buffer.from('{not json')]]), 'InvalidBaseline');
    const e = await refused(await archive([['model.onnx', ONNX], ['baseline.json', Buffer.from('{"schemaVersion": 2}')]]), 'InvalidBaseline');
    expect(e.message).toContain('/schemaVersion');
  });

  test('no model file', async () => {
    const e = await refused(await archive([['model.pt', Buffer.from('weights')], ['baseline.json', baselineFor(ONNX_SHA)]]), 'ModelFileMissing');
    expect(e.message).toContain('model.onnx');
  });

  test('a model file that is a link', async () => {
    await refused(await archive([['model.onnx', { linkname: '/etc/passwd' }]]), 'InvalidModelArchive');
  });

  test('the model file twice', async () => {
    await refused(await archive([['model.onnx', ONNX], ['./model.onnx', Buffer.from('other')]]), 'InvalidModelArchive');
  });

  test('corrupt gzip', async () => {
    const good = await archive([['model.onnx', ONNX]]);
    const corrupt = Buffer.from(good);
    corrupt.fill(0x55, 20, 60);
    await refused(corrupt, 'InvalidModelArchive');
    await refused(Buffer.from('not gzip at all'), 'InvalidModelArchive');
    await refused(good.subarray(0, good.length - 30), 'InvalidModelArchive');
  });

  test('an entry beyond the maximum, and many small entries beyond it (a gzip bomb)', async () => {
    const e = await refused(await archive([['model.onnx', ONNX], ['checkpoint.bin', Buffer.alloc(2 * 1024 * 1024)]]), 'ModelArchiveTooLarge');
    expect(e.message).toContain(String(1024 * 1024));
    const many = Array.from({ length: 40 }, (_, i): [string, Buffer] => [`shard-${i}.bin`, Buffer.alloc(40 * 1024, i)]);
    await refused(await archive([...many, ['model.onnx', ONNX]]), 'ModelArchiveTooLarge');
  });

  test('a model file larger than the maximum', async () => {
    await refused(await archive([['model.onnx', ONNX]]), 'ModelArchiveTooLarge', { maxArchiveBytes: 4096 });
  });

  test('no archive at all, and an input naming another object', async () => {
    const job = `${MODEL}-${'f'.repeat(32)}`;
    const missing = await failure(handler()({ modelArtifact: `s3://${env.modelsBucket}/${MODEL}/training-jobs/${job}/output/model.tar.gz`, trainingJobName: job }));
    expect(missing.name).toBe('ModelArchiveMissing');
    const other = await failure(handler()({ modelArtifact: `s3://${env.modelsBucket}/other/training-jobs/${job}/output/model.tar.gz`, trainingJobName: job }));
    expect(other.name).toBe('InvalidPublishInput');
    const badJob = await failure(handler()({ modelArtifact: 'x', trainingJobName: '../x' }));
    expect(badJob.name).toBe('InvalidPublishInput');
  });

  test('another object at the model key is never overwritten', async () => {
    const input = await trainingOutput(await archive([['model.onnx', ONNX]]));
    const key = `${MODEL}/models/${input.trainingJobName}/model.onnx`;
    await s3.send(new PutObjectCommand({ Bucket: env.modelsBucket, Key: key, Body: 'planted', ChecksumAlgorithm: 'SHA256' }));
    const e = await failure(handler()(input));
    expect(e.name).toBe('PublishedModelConflict');
    expect((await text(key)).toString()).toBe('planted');
  });
});

test('the environment reader names what is missing or malformed', () => {
  expect(() => readPublishModelEnv({})).toThrow(/MODELS_BUCKET.*GpuTrainingJob/);
  const good = {
    MODELS_BUCKET: 'b', LAKE_KEY_ARN: 'k', MODEL_NAME: 'm', MODEL_FILE_NAME: 'model.onnx', BASELINE_FILE_NAME: 'baseline.json', REQUIRE_BASELINE: 'false', MAX_ARCHIVE_BYTES: '10',
  };
  expect(readPublishModelEnv(good).maxArchiveBytes).toBe(10);
  expect(() => readPublishModelEnv({ ...good, MAX_ARCHIVE_BYTES: 'lots' })).toThrow(/MAX_ARCHIVE_BYTES/);
  expect(() => readPublishModelEnv({ ...good, REQUIRE_BASELINE: 'yes' })).toThrow(/REQUIRE_BASELINE/);
});

describe('on S3, a retry compares the checksum S3 verified (moto keeps none): a stub client', () => {
  /** An S3 stand-in: the archive, then PutObject refused (If-None-Match), then HeadObject with a checksum. */
  function stub(archiveBody: Buffer, storedChecksum: (key: string) => string | undefined) {
    const sent: string[] = [];
    const s3Stub = {
      send: async (command: any) => {
        const name = command.constructor.name;
        sent.push(`${name} ${command.input.Key}`);
        if (name === 'GetObjectCommand' && command.input.Key.endsWith('model.tar.gz')) return { Body: Readable.from([archiveBody]) };
        if (name === 'PutObjectCommand') throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
        if (name === 'HeadObjectCommand') return { ChecksumSHA256: storedChecksum(command.input.Key), ChecksumType: 'FULL_OBJECT', ContentLength: 1 };
        throw new Error(`unexpected ${name}`);
      },
    };
    return { s3Stub: s3Stub as unknown as S3Client, sent };
  }
  const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

  test('the same checksum: the retry succeeds without reading the object back', async () => {
    const body = await archive([['model.onnx', ONNX]]);
    const { s3Stub, sent } = stub(body, () => b64(ONNX_SHA));
    const job = `${MODEL}-${'a'.repeat(32)}`;
    const r = await createPublishModelHandler({ s3: s3Stub, env, log: () => undefined })({
      modelArtifact: `s3://${env.modelsBucket}/${MODEL}/training-jobs/${job}/output/model.tar.gz`, trainingJobName: job,
    });
    expect(r.modelSha256).toBe(ONNX_SHA);
    expect(sent.map((x) => x.split(' ')[0])).toEqual(['GetObjectCommand', 'PutObjectCommand', 'HeadObjectCommand']);
  });

  test('another checksum: PublishedModelConflict', async () => {
    const body = await archive([['model.onnx', ONNX]]);
    const { s3Stub } = stub(body, () => b64('ef'.repeat(32)));
    const job = `${MODEL}-${'b'.repeat(32)}`;
    const e = await failure(createPublishModelHandler({ s3: s3Stub, env, log: () => undefined })({
      modelArtifact: `s3://${env.modelsBucket}/${MODEL}/training-jobs/${job}/output/model.tar.gz`, trainingJobName: job,
    }));
    expect(e.name).toBe('PublishedModelConflict');
  });
});

describe('the bundle', () => {
  const ASSET_DIR = path.join(REPO_ROOT, 'assets', 'gpu-training-job', 'runtime', 'publish-model.handler');
  const vars = {
    MODELS_BUCKET: 'b',
    LAKE_KEY_ARN: 'arn:aws:kms:eu-central-1:111111111111:key/k',
    MODEL_NAME: MODEL,
    MODEL_FILE_NAME: 'model.onnx',
    BASELINE_FILE_NAME: 'baseline.json',
    REQUIRE_BASELINE: 'false',
    MAX_ARCHIVE_BYTES: '1048576',
  };
  test('loads as Lambda loads it (tar-stream bundled, only the SDK external) and exports the handler', () => {
    expectAssetLoads(ASSET_DIR, { env: vars });
  });
  test('fails its init with the missing variable named', () => {
    expect(() => expectAssetLoads(ASSET_DIR, { env: { ...vars, MAX_ARCHIVE_BYTES: undefined as unknown as string } })).toThrow(/MAX_ARCHIVE_BYTES/);
  });
});
