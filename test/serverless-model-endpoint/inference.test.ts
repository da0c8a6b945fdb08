/**
 * @jest-environment ./test/serverless-model-endpoint/ort-environment.js
 */
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { EXPECTED, METADATA, MODEL_PATH } from './fixture';
import { TensorData } from '../../src/serverless-model-endpoint/runtime/model-io';
import { createPredictor, InferenceBackend } from '../../src/serverless-model-endpoint/runtime/predictor';

/**
 * The committed reference model in the real onnxruntime-node: its own metadata is what model.json
 * says, and its outputs are PyTorch's (expected.json) within 1e-5.
 */
let session: ort.InferenceSession;

beforeAll(async () => {
  session = await ort.InferenceSession.create(fs.readFileSync(MODEL_PATH), { intraOpNumThreads: 1 });
});

afterAll(async () => {
  await session?.release();
});

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...expected.map((e, i) => Math.abs(actual[i] - e)));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

test('onnxruntime-node reports the inputs and outputs that model.json declares', () => {
  expect(session.inputNames).toEqual(['features']);
  expect(session.outputNames).toEqual(['logits']);
  expect(session.inputMetadata).toEqual(METADATA.inputs.map((i) => ({ ...i, isTensor: true })));
  expect(session.outputMetadata).toEqual(METADATA.outputs.map((o) => ({ ...o, isTensor: true })));
  expect(EXPECTED.sha256).toBe(METADATA.sha256);
});

test('session.run gives the logits PyTorch computed, within 1e-5', async () => {
  const n = EXPECTED.inputs.features.length;
  const out = await session.run({ features: new ort.Tensor('float32', Float32Array.from(EXPECTED.inputs.features.flat()), [n, 12]) });
  expect(out.logits.dims).toEqual([n, 7]);
  expect(out.logits.type).toBe('float32');
  expectClose(out.logits.data as Float32Array, EXPECTED.outputs.logits.flat(), EXPECTED.tolerance);
});

test('the model learned the WHO rule: its argmax on the fixed examples is the rule grade', () => {
  expect(EXPECTED.argmax).toEqual(EXPECTED.whoRuleGrade);
  // one example of every grade, plus the ends of the range
  expect(new Set(EXPECTED.whoRuleGrade)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
  // the features are the thresholds, scaled as model.json says
  const { offset, divisor } = METADATA.features.scaling;
  expectClose(EXPECTED.inputs.features.flat(), EXPECTED.thresholdsDbHl.flat().map((db) => Math.fround((db - offset) / divisor)), 0);
});

test('the request path (parse, validate, run, serialize) over the real session gives PyTorch\'s outputs and the classes', async () => {
  const backend: InferenceBackend = {
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
    run: async (feeds, fetches) => {
      const f: Record<string, ort.Tensor> = {};
      for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor(t.type as any, t.data as any, t.dims);
      return (await session.run(f, fetches as string[])) as unknown as Record<string, TensorData>;
    },
  };
  const predictor = createPredictor(backend, {
    modelVersion: METADATA.version,
    classNames: METADATA.classNames,
    limits: { maxBodyBytes: 65536, maxBatch: 32 },
  });
  const outcome = await predictor.predict(JSON.stringify({ inputs: EXPECTED.inputs }));
  expect(outcome.batchSize).toBe(EXPECTED.inputs.features.length);
  expect(outcome.inferenceMs).toBeGreaterThan(0);
  const body = outcome.body;
  expect(body.modelVersion).toBe(METADATA.version);
  expect(body.classNames).toEqual(METADATA.classNames);
  expectClose((body.outputs.logits as number[][]).flat(), EXPECTED.outputs.logits.flat(), EXPECTED.tolerance);
  expectClose(body.predictions!.flatMap((p) => p.probabilities), EXPECTED.probabilities.flat(), EXPECTED.tolerance);
  expect(body.predictions!.map((p) => p.index)).toEqual(EXPECTED.argmax);
  expect(body.predictions!.map((p) => p.label)).toEqual(EXPECTED.argmax.map((i) => METADATA.classNames[i]));

  // one example without the batch axis: a batch of one in the response
  const single = await predictor.predict(JSON.stringify({ inputs: { features: EXPECTED.inputs.features[2] } }));
  expect(single.batchSize).toBe(1);
  expectClose((single.body.outputs.logits as number[][])[0], EXPECTED.outputs.logits[2], EXPECTED.tolerance);
  expect(single.body.predictions!.map((p) => p.label)).toEqual(['mild']);
});
