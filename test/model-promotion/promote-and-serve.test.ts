/**
 * @jest-environment ./test/serverless-model-endpoint/ort-environment.js
 */
/**
 * The candidate check against moto_server over real HTTP (a versioned, SSE-KMS models zone; the
 * claim is a real If-None-Match write), then the promotion in-process as the state machine does
 * it (`mergeModelEnvironment` of the function's variables with the candidate's), and the real
 * predict handler serving one request before and one after: the endpoint switches models by
 * configuration alone. Also: a second event for the version is a duplicate, and a record whose
 * SHA-256 is not the object's is rejected.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createCheckCandidateHandler } from '../../src/model-promotion/runtime/check-candidate';
import { CANDIDATE_STATUS, CheckCandidateResult } from '../../src/model-promotion/runtime/contract';
import { mergeModelEnvironment } from '../../src/model-promotion/runtime/logic/candidate';
import { assetEnv, captureOutput, EXPECTED, loadHandler, METADATA, MODEL_PATH, predictEvent } from '../serverless-model-endpoint/fixture';
import { useLocalAws } from '../support/local-aws';

jest.setTimeout(120_000);

const aws = useLocalAws({ setEnv: true });
const MODEL = 'hearing-who-grade';
const JOB = 'hearing-who-grade-0123456789abcdef0123456789abcdef';
const BYTES = fs.readFileSync(MODEL_PATH);
const SHA = createHash('sha256').update(BYTES).digest('hex');
let bucket: string;
let keyArn: string;

async function put(key: string, body: string | Buffer): Promise<string | undefined> {
  const r = await aws().s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
  return r.VersionId;
}

function record(job: string, sha: string, registryVersion: number): string {
  return JSON.stringify({
    schemaVersion: '1',
    modelName: MODEL,
    model: { key: `${MODEL}/models/${job}/model.onnx`, sha256: sha, bytes: BYTES.length },
    baseline: { key: `monitoring/baselines/${SHA}.json`, sha256: 'b'.repeat(64) },
    modelSha256: sha,
    trainingJobName: job,
    modelPackageArn: `arn:aws:sagemaker:eu-central-1:111111111111:model-package/${MODEL}/${registryVersion}`,
    metrics: [{ MetricName: 'validation:accuracy', Value: 0.94 }],
  });
}

function checker() {
  return createCheckCandidateHandler({
    s3: aws().s3(),
    env: { modelsBucket: bucket, modelName: MODEL, requireBaseline: true, gates: [{ metricName: 'validation:accuracy', comparison: 'GREATER_THAN_OR_EQUAL', threshold: 0.9 }] },
    log: () => undefined,
  });
}

let modelObjectVersion: string | undefined;
beforeAll(async () => {
  bucket = `models-${Date.now()}`;
  await aws().s3().send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
  await aws().s3().send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  keyArn = (await aws().kms().send(new CreateKeyCommand({ Description: 'models zone key' }))).KeyMetadata!.Arn!;
  modelObjectVersion = await put(`${MODEL}/models/${JOB}/model.onnx`, BYTES);
  await put(`${MODEL}/records/${JOB}.json`, record(JOB, SHA, 7));
  await put(`monitoring/baselines/${SHA}.json`, JSON.stringify({ schemaVersion: '1', modelSha256: SHA, rowCount: 50 }));
});

describe('promote, then serve', () => {
  let candidate: CheckCandidateResult;
  beforeAll(async () => {
    candidate = await checker()({ modelRecord: `s3://${bucket}/${MODEL}/records/${JOB}.json`, execution: 'arn:aws:states:eu-central-1:111111111111:execution:Promotion:e1' });
  });

  test('the check accepts the version and pins the exact object it hashed', async () => {
    expect(candidate).toMatchObject({ status: CANDIDATE_STATUS.accepted, modelVersion: `${MODEL}@7`, modelSha256: SHA, reasons: [] });
    expect(candidate.environment).toEqual({
      MODEL_SOURCE: 's3',
      MODEL_BUCKET: bucket,
      MODEL_KEY: `${MODEL}/models/${JOB}/model.onnx`,
      MODEL_OBJECT_VERSION: modelObjectVersion,
      MODEL_SHA256: SHA,
      MODEL_VERSION: `${MODEL}@7`,
    });
    const claim = await aws().s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'monitoring/promotions/model=hearing-who-grade%407/claim.json' }));
    expect(JSON.parse(await claim.Body!.transformToString())).toMatchObject({ modelVersion: `${MODEL}@7`, modelSha256: SHA, execution: expect.stringContaining(':e1') });
  });

  test('the endpoint serves the old version, then the promoted one, with the merged configuration only', async () => {
    const before = assetEnv({ MODEL_VERSION: `${MODEL}@1` });
    const after = mergeModelEnvironment(before as Record<string, string>, candidate.environment);
    const request = predictEvent(JSON.stringify({ inputs: { features: EXPECTED.inputs.features.slice(0, 1) } }));
    const answers: any[] = [];
    for (const env of [before, after]) {
      const { mod, error } = await loadHandler(env);
      expect(error).toBeUndefined();
      const { result } = await captureOutput(() => mod.handler(request));
      expect(result.statusCode).toBe(200);
      answers.push(JSON.parse(result.body));
    }
    console.log([
      `served before the promotion: ${answers[0].modelVersion} → ${answers[0].predictions[0].label}`,
      `served after the promotion:  ${answers[1].modelVersion} → ${answers[1].predictions[0].label} (model s3://${bucket}/${candidate.environment.MODEL_KEY}, version id ${modelObjectVersion})`,
    ].join('\n'));
    expect(answers.map((a) => a.modelVersion)).toEqual([`${MODEL}@1`, `${MODEL}@7`]);
    expect(answers[1].predictions[0].index).toBe(EXPECTED.whoRuleGrade[0]);
    expect(METADATA.sha256).toBe(SHA);
  });

  test('a second "Model Trained" for the version (another execution) is a duplicate; a retry of the first goes on', async () => {
    const check = checker();
    const uri = `s3://${bucket}/${MODEL}/records/${JOB}.json`;
    expect((await check({ modelRecord: uri, execution: 'arn:aws:states:eu-central-1:111111111111:execution:Promotion:e2' })).status).toBe(CANDIDATE_STATUS.duplicate);
    expect((await check({ modelRecord: uri, execution: 'arn:aws:states:eu-central-1:111111111111:execution:Promotion:e1' })).status).toBe(CANDIDATE_STATUS.accepted);
  });
});

test('a record whose SHA-256 is not the model object\'s is rejected (HASH_MISMATCH), the object\'s hash reported', async () => {
  const job = 'hearing-who-grade-ffffffffffffffffffffffffffffffff';
  await put(`${MODEL}/models/${job}/model.onnx`, Buffer.concat([BYTES, Buffer.from([0])]));
  await put(`${MODEL}/records/${job}.json`, record(job, SHA, 8));
  const r = await checker()({ modelRecord: `s3://${bucket}/${MODEL}/records/${job}.json`, execution: 'e3' });
  expect(r.status).toBe(CANDIDATE_STATUS.rejected);
  expect(r.reasons).toEqual(['HASH_MISMATCH']);
  expect(r.checks.sha256.actual).toBe(createHash('sha256').update(Buffer.concat([BYTES, Buffer.from([0])])).digest('hex'));
});

test('a record that does not exist is an InvalidCandidate error, and nothing is claimed', async () => {
  await expect(checker()({ modelRecord: `s3://${bucket}/${MODEL}/records/${MODEL}-missing.json`, execution: 'e4' })).rejects.toMatchObject({ name: 'InvalidCandidate' });
});
