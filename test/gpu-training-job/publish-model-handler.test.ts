/**
 * The publish-model handler against moto_server over real HTTP: a models zone and a curated zone
 * with SSE-KMS, SageMaker's model.tar.gz built here with tar-stream around the reference app's ONNX
 * model and a drift baseline computed for it (computeBaseline), every way an archive can be wrong,
 * and the training run's lineage event (validated against OpenLineage 2-0-2 and the facet schema).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketEncryptionCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import * as fc from 'fast-check';
import * as tar from 'tar-stream';
import { LINEAGE_FACETS, LINEAGE_KEYS, LINEAGE_ROOT, s3DatasetId } from '../../src/contract/lineage';
import { PublishModelInput, PublishModelResult } from '../../src/gpu-training-job/runtime/contract';
import { lineageInputOf, sha256Hex } from '../../src/gpu-training-job/runtime/logic/publish';
import { createPublishModelHandler, PublishModelEnv, readPublishModelEnv } from '../../src/gpu-training-job/runtime/publish-model';
import { computeBaseline, parseBaseline } from '../../src/model-monitor/runtime/logic';
import { runEventErrors } from '../lineage/openlineage-schema';
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
    CURATED_BUCKET: `curated-${stamp}`,
  });
  for (const bucket of [env.modelsBucket, env.curatedBucket]) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
    await s3.send(new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: env.lakeKeyArn } }] },
    }));
  }
});

/** Upload an archive as a new training job's output; returns the task input (without lineage fields). */
async function trainingOutput(body: Buffer): Promise<{ modelArtifact: string; trainingJobName: string }> {
  const job = `${MODEL}-${(++jobCounter).toString().padStart(32, '0')}`;
  const key = `${MODEL}/training-jobs/${job}/output/model.tar.gz`;
  await s3.send(new PutObjectCommand({ Bucket: env.modelsBucket, Key: key, Body: body }));
  return { modelArtifact: `s3://${env.modelsBucket}/${key}`, trainingJobName: job };
}

/** The dataset version the state machine passes (its state's `datasetVersion`, `location` and entered time). */
const DATASET_VERSION = 'hearing-v12';
const lineageFields = () => ({
  datasetVersion: DATASET_VERSION,
  datasetLocation: `s3://${env.curatedBucket}/hearing/datasets/${DATASET_VERSION}/`,
  eventTime: '2026-03-01T12:05:00.123Z',
});

const NOW = Date.parse('2026-03-02T08:00:00Z');

function handler(over: Partial<PublishModelEnv> = {}, logs: unknown[] = []) {
  return createPublishModelHandler({ s3, env: { ...env, ...over }, log: (message, fields) => logs.push({ message, ...fields }), now: () => NOW });
}

async function text(key: string, bucket = env.modelsBucket): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

async function curatedKeys(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: env.curatedBucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!);
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
  let input: PublishModelInput;
  let result: PublishModelResult;
  const baseline = baselineFor(ONNX_SHA);
  const logs: any[] = [];

  beforeAll(async () => {
    input = {
      ...await trainingOutput(await archive([
        ['./code/train.py', Buffer.from('print("hi")\n')],
        ['./model.json', Buffer.from('{"classes": ["normal"]}')],
        ['./model.onnx', ONNX],
        ['./baseline.json', baseline],
      ])),
      ...lineageFields(),
    };
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
      message: 'model published',
      modelSha256: ONNX_SHA,
      modelBytes: ONNX.length,
      model: 'written',
      baseline: 'written',
      lineageObjectsWritten: 4,
      lineageObjectsExisting: 0,
    })]);
  });

  describe('the training run\'s lineage event', () => {
    let event: any;
    beforeAll(async () => {
      event = JSON.parse((await text(result.lineageEventKey!, env.curatedBucket)).toString());
    });

    test('is stored in the curated zone under lineage/events/, dated by the state\'s entered time, SSE-KMS with the lake key', async () => {
      expect(result.lineageEventKey).toMatch(/^lineage\/events\/date=2026-03-01\/[0-9a-f-]{36}-COMPLETE\.json$/);
      expect(result.lineageEventKey).toBe(LINEAGE_KEYS.event(new Date('2026-03-01T12:05:00.123Z'), event.run.runId, 'COMPLETE'));
      const head = await s3.send(new HeadObjectCommand({ Bucket: env.curatedBucket, Key: result.lineageEventKey! }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toContain(env.lakeKeyArn.split('/').pop());
    });

    test('validates against the OpenLineage 2-0-2 schema and the library\'s facet schema', () => {
      expect(runEventErrors(event)).toEqual([]);
      expect(event).toMatchObject({ eventType: 'COMPLETE', eventTime: '2026-03-01T12:05:00.123Z', job: { name: `gpu-training-job.${MODEL}.training` } });
    });

    test('its input is the dataset version\'s location, its output the published model with its SHA-256 and model record', () => {
      expect(event.inputs).toEqual([s3DatasetId(env.curatedBucket!, `hearing/datasets/${DATASET_VERSION}/`)]);
      expect(event.outputs).toHaveLength(1);
      const [output] = event.outputs;
      expect({ namespace: output.namespace, name: output.name }).toEqual({ namespace: `s3://${env.modelsBucket}`, name: result.modelKey });
      const facet = output.outputFacets[LINEAGE_FACETS.modelVersion];
      expect(facet).toMatchObject({
        model: MODEL,
        sha256: ONNX_SHA,
        trainingJobName: input.trainingJobName,
        datasetVersion: DATASET_VERSION,
        modelRecord: `s3://${env.modelsBucket}/${MODEL}/records/${input.trainingJobName}.json`,
      });
      // Registration comes after this task: the package ARN is in the model record, not here.
      expect(facet.modelPackageArn).toBeUndefined();
    });

    test('its index objects find it from the dataset version, the model object and the model\'s SHA-256', async () => {
      const runId = event.run.runId;
      const index = [
        LINEAGE_KEYS.producedBy(s3DatasetId(env.modelsBucket, result.modelKey)),
        LINEAGE_KEYS.consumedBy(s3DatasetId(env.curatedBucket!, `hearing/datasets/${DATASET_VERSION}/`)),
        LINEAGE_KEYS.modelSha256(ONNX_SHA),
      ].map((prefix) => LINEAGE_KEYS.indexEntry(prefix, runId));
      for (const key of index) {
        const entry = JSON.parse((await text(key, env.curatedBucket)).toString());
        expect(entry).toMatchObject({ runId, eventType: 'COMPLETE', eventKey: result.lineageEventKey });
      }
    });
  });

  test('a retry of the same job is idempotent: same keys, same result, the objects unchanged, the same lineage event', async () => {
    const before = await curatedKeys(LINEAGE_ROOT);
    const eventBefore = await text(result.lineageEventKey!, env.curatedBucket);
    const again: any[] = [];
    expect(await handler({}, again)(input)).toEqual(result);
    expect(again[0]).toMatchObject({ model: 'same', baseline: 'same', lineageObjectsWritten: 0, lineageObjectsExisting: 4 });
    expect(await keysUnder(`${MODEL}/models/${input.trainingJobName}/`)).toEqual([result.modelKey]);
    expect(await curatedKeys(LINEAGE_ROOT)).toEqual(before);
    expect((await text(result.lineageEventKey!, env.curatedBucket)).equals(eventBefore)).toBe(true);
  });

  test('the same model bytes trained again (another job) keep the first baseline and name it', async () => {
    const other = { ...await trainingOutput(await archive([['model.onnx', ONNX], ['baseline.json', baselineFor(ONNX_SHA, 5)]])), ...lineageFields() };
    const seen: any[] = [];
    const r = await handler({}, seen)(other);
    expect(seen[0]).toMatchObject({ model: 'written', baseline: 'different', lineageObjectsWritten: 4 });
    // Its own run (another job, the same time): the model's SHA-256 now leads to both runs.
    expect(r.lineageEventKey).not.toBe(result.lineageEventKey);
    expect(await curatedKeys(LINEAGE_KEYS.modelSha256(ONNX_SHA))).toHaveLength(2);
    expect(r.baselineKey).toBe(result.baselineKey);
    expect(r.baselineSha256).toBe(result.baselineSha256);
    expect(sha256Hex(await text(result.baselineKey!))).toBe(result.baselineSha256);
  });
});

describe('lineage fields in the input', () => {
  test('absent (an older state machine): the model is published, no lineage event is written, and that is logged', async () => {
    const input = await trainingOutput(await archive([['model.onnx', ONNX]]));
    const before = await curatedKeys(LINEAGE_ROOT);
    const logs: any[] = [];
    const r = await handler({}, logs)(input);
    expect(r).toMatchObject({ modelSha256: ONNX_SHA, lineageEventKey: null });
    expect(logs[0]).toEqual({ message: expect.stringMatching(/^no lineage event written/), trainingJobName: input.trainingJobName });
    expect(logs[1]).toMatchObject({ message: 'model published', lineageObjectsWritten: 0 });
    expect(await curatedKeys(LINEAGE_ROOT)).toEqual(before);
  });

  test('a handler built without a curated bucket (not the construct\'s: it always sets one) writes no lineage, and logs it', async () => {
    const input = { ...await trainingOutput(await archive([['model.onnx', ONNX]])), ...lineageFields() };
    const before = await curatedKeys(LINEAGE_ROOT);
    const logs: any[] = [];
    const r = await handler({ curatedBucket: undefined }, logs)(input);
    expect(r).toMatchObject({ modelSha256: ONNX_SHA, lineageEventKey: null });
    expect(logs[0].message).toMatch(/no curated bucket/);
    expect(await curatedKeys(LINEAGE_ROOT)).toEqual(before);
  });

  test('without an event time: the handler\'s clock dates the event', async () => {
    const { eventTime: _, ...fields } = lineageFields();
    const input = { ...await trainingOutput(await archive([['model.onnx', ONNX]])), ...fields };
    const r = await handler()(input);
    expect(r.lineageEventKey).toMatch(/^lineage\/events\/date=2026-03-02\//);
    const event = JSON.parse((await text(r.lineageEventKey!, env.curatedBucket)).toString());
    expect(event.eventTime).toBe(new Date(NOW).toISOString());
    expect(runEventErrors(event)).toEqual([]);
  });

  test.each([
    ['only datasetVersion', { datasetVersion: DATASET_VERSION }],
    ['only datasetLocation', { datasetLocation: 's3://curated/hearing/datasets/v1/' }],
    ['a location that is no s3:// URI', { datasetVersion: DATASET_VERSION, datasetLocation: '/hearing/datasets/v1/' }],
    ['an empty version', { datasetVersion: '', datasetLocation: 's3://curated/hearing/datasets/v1/' }],
    ['a time without a zone', { datasetVersion: DATASET_VERSION, datasetLocation: 's3://curated/hearing/datasets/v1/', eventTime: '2026-03-01T12:05:00' }],
    ['a time that is no date', { datasetVersion: DATASET_VERSION, datasetLocation: 's3://curated/hearing/datasets/v1/', eventTime: 'yesterday' }],
    ['a time as a number', { datasetVersion: DATASET_VERSION, datasetLocation: 's3://curated/hearing/datasets/v1/', eventTime: 1772366700000 }],
  ])('%s: InvalidPublishInput, nothing published or written', async (_, fields) => {
    const input = { ...await trainingOutput(await archive([['model.onnx', ONNX]])), ...fields };
    const before = await curatedKeys(LINEAGE_ROOT);
    const e = await failure(handler()(input as PublishModelInput));
    expect(e.name).toBe('InvalidPublishInput');
    expect(e.message).toMatch(/datasetVersion|datasetLocation|eventTime/);
    expect(await keysUnder(`${MODEL}/models/${input.trainingJobName}/`)).toEqual([]);
    expect(await curatedKeys(LINEAGE_ROOT)).toEqual(before);
  });

  test('property: any input is either accepted (both fields, checked) or refused as InvalidPublishInput, never another error', () => {
    const field = fc.oneof(fc.constant(undefined), fc.string(), fc.integer(), fc.constant(null), fc.constant('s3://curated-b/hearing/datasets/v1/'));
    const time = fc.oneof(fc.constant(undefined), fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.integer());
    fc.assert(fc.property(field, field, time, (datasetVersion, datasetLocation, eventTime) => {
      let out;
      try {
        out = lineageInputOf({ datasetVersion, datasetLocation, eventTime });
      } catch (e) {
        expect((e as Error).name).toBe('InvalidPublishInput');
        return;
      }
      if (out === null) {
        expect(datasetVersion === undefined && datasetLocation === undefined).toBe(true);
        return;
      }
      expect(out.datasetVersion).toBe(datasetVersion);
      expect(out.datasetLocation).toBe(datasetLocation);
      if (eventTime === undefined) expect(out.eventTime).toBeUndefined();
      else expect(out.eventTime).toBe(Date.parse(eventTime as string));
    }));
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
    MODELS_BUCKET: 'b',
    LAKE_KEY_ARN: 'k',
    MODEL_NAME: 'm',
    MODEL_FILE_NAME: 'model.onnx',
    BASELINE_FILE_NAME: 'baseline.json',
    REQUIRE_BASELINE: 'false',
    MAX_ARCHIVE_BYTES: '10',
    CURATED_BUCKET: 'c',
  };
  expect(readPublishModelEnv(good).maxArchiveBytes).toBe(10);
  expect(readPublishModelEnv(good).curatedBucket).toBe('c');
  expect(() => readPublishModelEnv({ ...good, CURATED_BUCKET: undefined })).toThrow(/CURATED_BUCKET/);
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
    CURATED_BUCKET: 'c',
  };
  test('loads as Lambda loads it (tar-stream bundled, only the SDK external) and exports the handler', () => {
    expectAssetLoads(ASSET_DIR, { env: vars });
  });
  test('fails its init with the missing variable named', () => {
    expect(() => expectAssetLoads(ASSET_DIR, { env: { ...vars, MAX_ARCHIVE_BYTES: undefined as unknown as string } })).toThrow(/MAX_ARCHIVE_BYTES/);
  });
});
