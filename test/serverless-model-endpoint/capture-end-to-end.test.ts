/**
 * @jest-environment ./test/serverless-model-endpoint/ort-environment.js
 */
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { subscriptionEvent } from './capture-fixture';
import { assetEnv, captureOutput, EXPECTED, loadHandler, METADATA, predictEvent } from './fixture';
import { createCaptureWriter, readCaptureWriterEnv } from '../../src/serverless-model-endpoint/runtime/capture-writer';
import { useLocalAws } from '../support/local-aws';

/**
 * The whole capture path, locally: the predict handler (real onnxruntime, the reference model)
 * writes its stdout; what the subscription filter `{ $.captureVersion = "1" }` would pass goes to
 * the capture writer as a CloudWatch Logs payload; the writer puts it into a KMS-encrypted bucket
 * in moto. The caller's inference id finds its capture in the lake.
 */
const aws = useLocalAws();

/** CloudWatch Logs' JSON filter `{ $.captureVersion = "1" }`: JSON events whose captureVersion is "1". */
const matchesSubscription = (line: string) => {
  try {
    return JSON.parse(line).captureVersion === '1';
  } catch {
    return false;
  }
};

test('a prediction\'s capture reaches the lake under its model and hour, found by the inference id the caller got', async () => {
  const bucket = `e2e-${Date.now()}`;
  await aws().s3().send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
  const keyArn = (await aws().kms().send(new CreateKeyCommand({ Description: 'lake key' }))).KeyMetadata!.Arn!;

  const { mod, error } = await loadHandler(assetEnv({ CAPTURE_PERCENT: '100', CAPTURE_NAME: 'hearing-e2e' }));
  expect(error).toBeUndefined();
  const answers: any[] = [];
  const { lines } = await captureOutput(async () => {
    for (const row of EXPECTED.inputs.features.slice(0, 5)) {
      const res = await mod.handler(predictEvent(JSON.stringify({ inputs: { features: [row] } })), { awsRequestId: 'req-e2e' } as any);
      answers.push(JSON.parse(res.body));
    }
  });
  const passed = lines.filter(matchesSubscription);
  expect(passed).toHaveLength(5);
  expect(lines.length).toBe(10); // and the five EMF records, which the filter leaves out

  const writer = createCaptureWriter({
    s3: aws().s3(),
    env: readCaptureWriterEnv({ CAPTURE_BUCKET: bucket, CAPTURE_KEY_ARN: keyArn, CAPTURE_NAME: 'hearing-e2e', POWERTOOLS_SERVICE_NAME: 's', METRICS_NAMESPACE: 'n' }),
    log: () => undefined,
    writeMetrics: () => undefined,
  });
  const result = await writer(subscriptionEvent(passed));
  expect(result).toMatchObject({ delivered: 5, dropped: 0 });

  const listed = await aws().s3().send(new ListObjectsV2Command({ Bucket: bucket }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!);
  expect(keys.every((k) => k.startsWith(`monitoring/captures/endpoint=hearing-e2e/model=${encodeURIComponent(METADATA.version)}/date=`))).toBe(true);
  const captured = [];
  for (const key of keys) {
    const text = await (await aws().s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    captured.push(...text.trimEnd().split('\n').map((l) => JSON.parse(l)));
  }
  for (const answer of answers) {
    const c = captured.find((x) => x.inferenceId === answer.inferenceId);
    expect(c).toMatchObject({ modelVersion: METADATA.version, modelSha256: METADATA.sha256, outputs: answer.outputs });
    expect(c.predictedClasses).toEqual(answer.predictions.map((p: any) => p.label));
  }
  expect(JSON.stringify(captured)).not.toContain('req-e2e');
});
