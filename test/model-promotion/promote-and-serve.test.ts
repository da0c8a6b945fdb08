/**
 * @jest-environment ./test/serverless-model-endpoint/ort-environment.js
 */
/**
 * The candidate check against moto_server over real HTTP (a versioned, SSE-KMS models zone; the
 * claim is a real If-None-Match write), then the promotion in-process as the state machine does
 * it (`mergeModelEnvironment` of the function's variables with the candidate's), and the real
 * predict handler serving one request before and one after: the endpoint switches models by
 * configuration alone. Also: a second event for the version is a duplicate, and a record whose
 * SHA-256 is not the object's is rejected. Then the promotion's lineage: the recorder writes the
 * event to a curated bucket in moto (valid OpenLineage 2-0-2, SSE-KMS with the lake key, a retry
 * writes nothing new), and a captured prediction's lineage finds the promotion through the
 * training event of the same model object.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LINEAGE_KEYS } from '../../src/contract/lineage';
import { CAPTURE_VERSION, MONITORING_KEYS, PredictionCapture } from '../../src/contract/monitoring';
import { datasetBuildEvent, trainingEvent, uuidV7 } from '../../src/lineage/runtime/events';
import { lineageOfPrediction } from '../../src/lineage/runtime/query';
import { writeLineageEvent } from '../../src/lineage/runtime/writer';
import { createCheckCandidateHandler } from '../../src/model-promotion/runtime/check-candidate';
import { CANDIDATE_STATUS, CheckCandidateResult } from '../../src/model-promotion/runtime/contract';
import { mergeModelEnvironment } from '../../src/model-promotion/runtime/logic/candidate';
import { createRecordLineageHandler } from '../../src/model-promotion/runtime/record-lineage';
import { expectValidRunEvent } from '../lineage/openlineage-schema';
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

describe('the promotion\'s lineage', () => {
  const ENDPOINT = 'hearing-who-grade';
  const PROMOTED_AT = Date.UTC(2026, 2, 2, 10, 30, 0);
  const PREDICTED_AT = PROMOTED_AT + 3_600_000 + 1234;
  const inferenceId = uuidV7(PREDICTED_AT);
  let curated: string;
  let candidate: CheckCandidateResult;
  const input = () => ({
    modelVersion: candidate.modelVersion,
    modelSha256: candidate.modelSha256,
    modelBucket: candidate.modelBucket,
    modelKey: candidate.modelKey,
    previousEnvironment: { MODEL_VERSION: `${MODEL}@1`, MODEL_SHA256: 'a'.repeat(64), CLASS_NAMES: '["a"]' },
    promotedAt: new Date(PROMOTED_AT).toISOString(),
  });
  const recorder = () => createRecordLineageHandler({
    s3: aws().s3(), env: { curatedBucket: curated, kmsKeyArn: keyArn, endpointName: ENDPOINT }, log: () => undefined,
  });

  beforeAll(async () => {
    curated = `curated-${Date.now()}`;
    await aws().s3().send(new CreateBucketCommand({ Bucket: curated, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
    await aws().s3().send(new PutBucketVersioningCommand({ Bucket: curated, VersioningConfiguration: { Status: 'Enabled' } }));
    candidate = await checker()({ modelRecord: `s3://${bucket}/${MODEL}/records/${JOB}.json`, execution: 'arn:aws:states:eu-central-1:111111111111:execution:Promotion:e1' });
    // what the dataset build and the training run wrote, and a prediction served after the promotion
    await writeLineageEvent(aws().s3(), { bucket: curated, kmsKeyArn: keyArn }, datasetBuildEvent({
      pipeline: 'hearing',
      datasetVersion: 'v1',
      eventTime: PROMOTED_AT - 2 * 86_400_000,
      curatedBucket: 'curated',
      datasetPrefix: 'hearing/datasets/v1/',
      cleanBucket: 'clean',
      cleanPrefix: 'hearing/records/',
      records: [{ recordId: 'rec-1', subject: 'hmac:s1', cleanRef: 's3://clean/hearing/records/rec-1.json', source: 's3://raw/uploads/1.json', sourceVersionId: 'v1' }],
      published: true,
    }, LINEAGE_KEYS.records));
    await writeLineageEvent(aws().s3(), { bucket: curated, kmsKeyArn: keyArn }, trainingEvent({
      model: MODEL,
      trainingJobName: JOB,
      datasetVersion: 'v1',
      datasetLocation: 's3://curated/hearing/datasets/v1/',
      eventTime: PROMOTED_AT - 86_400_000,
      output: { bucket, key: `${MODEL}/models/${JOB}/model.onnx`, sha256: SHA, modelRecord: `s3://${bucket}/${MODEL}/records/${JOB}.json` },
    }));
    const line: PredictionCapture = {
      captureVersion: CAPTURE_VERSION,
      endpoint: ENDPOINT,
      inferenceId,
      capturedAt: new Date(PREDICTED_AT + 5).toISOString(),
      modelVersion: `${MODEL}@7`,
      modelSha256: SHA,
      inputs: { features: [[1, 2]] },
      outputs: { probabilities: [[0.1, 0.9]] },
      predictedClasses: ['mild'],
    };
    await put(MONITORING_KEYS.captureObject(ENDPOINT, `${MODEL}@7`, new Date(PREDICTED_AT), 'c1'), JSON.stringify(line) + '\n');
  });

  test('the event lands in the curated zone, SSE-KMS with the lake key, valid OpenLineage 2-0-2; a retry writes nothing new', async () => {
    const first = await recorder()(input());
    expect(first).toMatchObject({ status: 'WRITTEN', existing: 0 });
    expect(first.eventKey).toMatch(/^lineage\/events\/date=2026-03-02\/[0-9a-f-]{36}-COMPLETE\.json$/);
    const body = JSON.parse(await (await aws().s3().send(new GetObjectCommand({ Bucket: curated, Key: first.eventKey }))).Body!.transformToString());
    expectValidRunEvent(body);
    expect(body).toMatchObject({
      eventType: 'COMPLETE',
      eventTime: new Date(PROMOTED_AT).toISOString(),
      run: { runId: first.runId },
      job: { name: `serverless-model-endpoint.${ENDPOINT}.promotion` },
      inputs: [{ namespace: `s3://${bucket}`, name: `${MODEL}/models/${JOB}/model.onnx` }],
      outputs: [{ name: `${ENDPOINT}/${MODEL}@7` }],
    });
    expect(body.outputs[0].outputFacets.cdkSecureMlops_endpointVersion).toMatchObject({ endpoint: ENDPOINT, modelVersion: `${MODEL}@7`, modelSha256: SHA, previousModelVersion: `${MODEL}@1` });
    expect(await aws().s3().send(new HeadObjectCommand({ Bucket: curated, Key: first.eventKey }))).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn });
    const again = await recorder()(input());
    expect(again).toEqual({ ...first, written: 0, existing: first.written + first.existing });
  });

  test('a captured prediction\'s lineage finds the promotion (model object → training run → promotion)', async () => {
    const l = await lineageOfPrediction({ s3: aws().s3(), lineageBucket: curated, capturesBucket: bucket }, { inferenceId, endpoint: ENDPOINT });
    expect(l.models.map((m) => m.trainingJobName)).toEqual([JOB]);
    expect(l.datasetVersions.map((d) => d.datasetVersion)).toEqual(['v1']);
    expect(l.promotions).toEqual([expect.objectContaining({ endpoint: ENDPOINT, modelVersion: `${MODEL}@7`, modelSha256: SHA })]);
    expect(l.promotions[0].promotion).toMatchObject({ eventType: 'COMPLETE', eventTime: new Date(PROMOTED_AT).toISOString() });
  });

  test('a malformed input is a LineageInputError (the state machine does not retry it)', async () => {
    await expect(recorder()({ ...input(), modelSha256: 'not-a-sha', promotedAt: new Date(PROMOTED_AT + 1).toISOString() })).rejects.toMatchObject({ name: 'LineageInputError' });
    await expect(recorder()({ ...input(), promotedAt: 'yesterday' })).rejects.toMatchObject({ name: 'LineageInputError' });
  });
});
