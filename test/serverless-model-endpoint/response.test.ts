import { createMetrics, metricRecorder } from '../../src/private/runtime/metrics';
import { ENDPOINT_METRIC as METRIC } from '../../src/serverless-model-endpoint/runtime/contract';
import { ModelInitError } from '../../src/serverless-model-endpoint/runtime/errors';
import { outputSpecs } from '../../src/serverless-model-endpoint/runtime/model-io';
import { argmax, classifierSpec, classify, serializePrediction, softmax, toNestedArray } from '../../src/serverless-model-endpoint/runtime/response';

const CLASSES = ['normal', 'mild', 'moderate'];

describe('toNestedArray', () => {
  test('rebuilds the shape of a tensor', () => {
    expect(toNestedArray({ type: 'float32', data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] })).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(toNestedArray({ type: 'float32', data: new Float32Array([1, 2, 3, 4]), dims: [2, 1, 2] })).toEqual([[[1, 2]], [[3, 4]]]);
    expect(toNestedArray({ type: 'float32', data: new Float32Array([7]), dims: [] })).toBe(7);
    expect(toNestedArray({ type: 'float32', data: new Float32Array(0), dims: [0, 7] })).toEqual([]);
  });

  test('64-bit integers become numbers when safe and decimal strings beyond; bools become booleans', () => {
    const big = BigInt(Number.MAX_SAFE_INTEGER) + 2n;
    expect(toNestedArray({ type: 'int64', data: new BigInt64Array([1n, -2n, big]), dims: [3] })).toEqual([1, -2, big.toString()]);
    expect(toNestedArray({ type: 'bool', data: new Uint8Array([1, 0]), dims: [2] })).toEqual([true, false]);
    expect(JSON.stringify(toNestedArray({ type: 'int64', data: new BigInt64Array([big]), dims: [1] }))).toBe(`["${big}"]`);
  });
});

describe('softmax and argmax', () => {
  test('softmax is stable for large logits and sums to 1', () => {
    const p = softmax([1000, 1001, 999]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[1]).toBeCloseTo(Math.exp(1) / (1 + Math.exp(1) + Math.exp(-1)), 12);
    expect(softmax([0, 0])).toEqual([0.5, 0.5]);
  });

  test('argmax takes the first maximum and copes with -Infinity and NaN', () => {
    expect(argmax([0.1, 0.7, 0.7])).toBe(1);
    expect(argmax([-Infinity, -Infinity])).toBe(0);
    expect(argmax([NaN, 2, NaN])).toBe(1);
    expect(argmax([NaN, NaN])).toBe(-1);
  });
});

describe('classifierSpec', () => {
  test('picks the one float output of shape [batch, classes]', () => {
    const outputs = outputSpecs([
      { name: 'label', isTensor: true, type: 'int64', shape: ['batch'] },
      { name: 'logits', isTensor: true, type: 'float32', shape: ['batch', 3] },
    ]);
    expect(classifierSpec(outputs, CLASSES, 'logits')).toEqual({ output: 'logits', classNames: CLASSES, scores: 'logits' });
  });

  test('fails if no output fits the class names, describing the outputs', () => {
    const outputs = outputSpecs([{ name: 'logits', isTensor: true, type: 'float32', shape: ['batch', 7] }]);
    expect(() => classifierSpec(outputs, CLASSES, 'logits')).toThrow(ModelInitError);
    expect(() => classifierSpec(outputs, CLASSES, 'logits'))
      .toThrow('CLASS_NAMES has 3 classes, but no model output is a float tensor of shape [batch, 3] (outputs: logits: float32[batch, 7])');
  });

  test('fails if several outputs fit', () => {
    const outputs = outputSpecs([
      { name: 'a', isTensor: true, type: 'float32', shape: ['batch', 3] },
      { name: 'b', isTensor: true, type: 'float32', shape: ['batch', 3] },
    ]);
    expect(() => classifierSpec(outputs, CLASSES, 'logits')).toThrow('several model outputs have shape [batch, 3]');
  });
});

describe('serializePrediction', () => {
  const logits = { type: 'float32', data: new Float32Array([2, 0, 0, 0, 0, 3]), dims: [2, 3] };

  test('a classifier response carries outputs, the model version, class names and per-example predictions', () => {
    const body = serializePrediction({ logits }, 'm@1', { output: 'logits', classNames: CLASSES, scores: 'logits' });
    expect(body.modelVersion).toBe('m@1');
    expect(body.outputs).toEqual({ logits: [[2, 0, 0], [0, 0, 3]] });
    expect(body.classNames).toEqual(CLASSES);
    expect(body.predictions).toHaveLength(2);
    expect(body.predictions![0]).toMatchObject({ label: 'normal', index: 0 });
    expect(body.predictions![1]).toMatchObject({ label: 'moderate', index: 2 });
    expect(body.predictions![0].probabilities).toEqual(softmax([2, 0, 0]));
  });

  test('probabilities from the model are passed through; other models get outputs only', () => {
    const probs = { type: 'float32', data: new Float32Array([0.25, 0.5, 0.25]), dims: [1, 3] };
    const body = serializePrediction({ probs }, 'm@2', { output: 'probs', classNames: CLASSES, scores: 'probabilities' });
    expect(body.predictions).toEqual([{ label: 'mild', index: 1, probabilities: [0.25, 0.5, 0.25] }]);
    expect(serializePrediction({ logits }, 'm@3')).toEqual({ modelVersion: 'm@3', outputs: { logits: [[2, 0, 0], [0, 0, 3]] } });
  });

  test('classify names no class when every score is NaN', () => {
    const nan = { type: 'float32', data: new Float32Array([NaN, NaN, NaN]), dims: [1, 3] };
    expect(classify(nan, { output: 'x', classNames: CLASSES, scores: 'probabilities' })[0]).toMatchObject({ label: null, index: -1 });
  });
});

describe('metricRecorder (Powertools Metrics)', () => {
  const T = 1700000000000;
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(T));
  afterEach(() => jest.restoreAllMocks());

  test('writes one line of JSON in the embedded metric format', () => {
    const lines: string[] = [];
    const record = metricRecorder(createMetrics('NS', 'svc'), [
      { name: METRIC.requestLatency, unit: 'Milliseconds' },
      { name: METRIC.batchSize, unit: 'Count' },
    ], (l) => lines.push(l));
    record([1.5, 3], { modelVersion: 'm@1', service: 'ignored', statusCode: 200 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(JSON.parse(lines[0])).toEqual({
      modelVersion: 'm@1',
      statusCode: 200,
      service: 'svc',
      RequestLatency: 1.5,
      BatchSize: 3,
      _aws: {
        Timestamp: T,
        CloudWatchMetrics: [{
          Namespace: 'NS',
          Dimensions: [['service']],
          Metrics: [{ Name: 'RequestLatency', Unit: 'Milliseconds' }, { Name: 'BatchSize', Unit: 'Count' }],
        }],
      },
    });
  });

  test('each record carries only its own values and properties; a non-finite value is written as 0', () => {
    const lines: string[] = [];
    const record = metricRecorder(createMetrics('NS', 'svc'), [{ name: METRIC.serverErrors, unit: 'Count' }], (l) => lines.push(l));
    record([1], { outcome: 'failed', ServerErrors: 7, _aws: 'x' });
    record([NaN]);
    const [first, second] = lines.map((l) => JSON.parse(l));
    expect(first).toEqual({ outcome: 'failed', service: 'svc', ServerErrors: 1, _aws: expect.any(Object) });
    expect(second).toEqual({ service: 'svc', ServerErrors: 0, _aws: expect.any(Object) });
  });

  test('without a writer, Powertools publishes the record as one line on stdout', () => {
    const written: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      written.push(String(chunk));
      return true;
    });
    metricRecorder(createMetrics('NS', 'svc'), [{ name: METRIC.clientErrors, unit: 'Count' }])([1], { code: 'SHAPE_MISMATCH' });
    expect(written.join('').trim().split('\n').map((l) => JSON.parse(l))).toEqual([{
      code: 'SHAPE_MISMATCH',
      service: 'svc',
      ClientErrors: 1,
      _aws: { Timestamp: T, CloudWatchMetrics: [{ Namespace: 'NS', Dimensions: [['service']], Metrics: [{ Name: 'ClientErrors', Unit: 'Count' }] }] },
    }]);
  });
});
