/**
 * The promotion's handlers as deployed: the esbuild bundles (`npx projen bundle`) load in a fresh
 * Node process with only the runtime's SDK clients external, configured through the environment
 * the construct sets; the check bundle, its S3 client built from the environment (moto), checks a
 * candidate end to end; a missing variable fails the init with its name.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';

const ASSETS = path.join(__dirname, '..', '..', 'assets', 'model-promotion', 'runtime');
const aws = useLocalAws({ setEnv: true });
const CHECK_ENV = { MODELS_BUCKET: 'models-bundle', MODEL_NAME: 'm', REQUIRE_BASELINE: 'false', GATES: '[{"metricName":"acc","comparison":"GREATER_THAN","threshold":0.5}]' };

test.each([
  ['check-candidate.handler', CHECK_ENV, ['@aws-sdk/client-s3', '@aws-sdk/client-sfn']],
  ['approve.handler', { MODELS_BUCKET: 'models-bundle', MODEL_NAME: 'm' }, ['@aws-sdk/client-s3', '@aws-sdk/client-sfn']],
  ['record-lineage.handler', { CURATED_BUCKET: 'curated-bundle', LAKE_KEY_ARN: 'arn:aws:kms:eu-central-1:111111111111:key/k', ENDPOINT_NAME: 'e' }, ['@aws-sdk/client-s3']],
])('%s loads with only the SDK clients external', (name, env, externals) => {
  const result = expectAssetLoads(path.join(ASSETS, name), { env });
  expect(result.externals).toEqual(externals);
  expect(result.bytes).toBeLessThan(1_000_000);
});

test('a missing variable fails the lineage recorder\'s init, naming it', () => {
  expect(() => expectAssetLoads(path.join(ASSETS, 'record-lineage.handler'), { env: { CURATED_BUCKET: 'b', ENDPOINT_NAME: 'e' } })).toThrow(/LAKE_KEY_ARN/);
});

test('a missing variable fails the check\'s init, naming it', () => {
  expect(() => expectAssetLoads(path.join(ASSETS, 'check-candidate.handler'), { env: { MODELS_BUCKET: 'b', MODEL_NAME: 'm', REQUIRE_BASELINE: 'false' } })).toThrow(/GATES/);
});

test('the check bundle accepts a candidate in moto', async () => {
  const s3 = aws().s3();
  await s3.send(new CreateBucketCommand({ Bucket: 'models-bundle', CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
  const bytes = Buffer.from('model');
  const sha = createHash('sha256').update(bytes).digest('hex');
  await s3.send(new PutObjectCommand({ Bucket: 'models-bundle', Key: 'm/models/j/model.onnx', Body: bytes }));
  await s3.send(new PutObjectCommand({
    Bucket: 'models-bundle',
    Key: 'm/records/j.json',
    Body: JSON.stringify({ modelName: 'm', model: { key: 'm/models/j/model.onnx', sha256: sha, bytes: 5 }, trainingJobName: 'j', metrics: [{ MetricName: 'acc', Value: 0.7 }] }),
  }));
  Object.assign(process.env, CHECK_ENV);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(path.join(ASSETS, 'check-candidate.handler', 'index.js'));
    const r = await handler({ modelRecord: 's3://models-bundle/m/records/j.json', execution: 'e1' });
    expect(r).toMatchObject({ status: 'ACCEPTED', modelVersion: 'm@j', modelSha256: sha, reasons: [] });
  } finally {
    for (const k of Object.keys(CHECK_ENV)) delete process.env[k];
  }
});
