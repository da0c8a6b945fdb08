/**
 * The pure half of a promotion: model record parsing, gates, the endpoint variables and their
 * merge (what the state machine's States.JsonMerge computes), and the contract's keys.
 */
import * as fc from 'fast-check';
import { PROMOTION_KEYS } from '../../src/contract/promotion';
import { PROMOTED_MODEL_ENV } from '../../src/model-promotion/runtime/contract';
import {
  evaluateGates, InvalidCandidateError, mergeModelEnvironment, parseGates, parseModelRecord, promotedModelEnvironment, recordKeyOf,
} from '../../src/model-promotion/runtime/logic/candidate';
import { ENDPOINT_ENV } from '../../src/serverless-model-endpoint/runtime/contract';

const SHA = 'f'.repeat(64);
const record = (over: Record<string, unknown> = {}) => JSON.stringify({
  modelName: 'm',
  model: { key: 'm/models/job-1/model.onnx', sha256: SHA, bytes: 10 },
  baseline: null,
  modelPackageArn: 'arn:aws:sagemaker:eu-central-1:111111111111:model-package/m/12',
  trainingJobName: 'job-1',
  metrics: [{ MetricName: 'acc', Value: 0.9 }, { MetricName: 'bad', Value: 'x' }],
  ...over,
});

test('the endpoint variables a promotion sets are the endpoint\'s own names', () => {
  expect(PROMOTED_MODEL_ENV).toEqual({
    modelSource: ENDPOINT_ENV.modelSource,
    modelBucket: ENDPOINT_ENV.modelBucket,
    modelKey: ENDPOINT_ENV.modelKey,
    modelObjectVersion: ENDPOINT_ENV.modelObjectVersion,
    modelSha256: ENDPOINT_ENV.modelSha256,
    modelVersion: ENDPOINT_ENV.modelVersion,
  });
});

test('a record names its model file, SHA-256, registry version and metrics', () => {
  const r = parseModelRecord(record(), 'm');
  expect(r).toMatchObject({ model: 'm', modelVersion: 'm@12', modelKey: 'm/models/job-1/model.onnx', modelSha256: SHA, modelBytes: 10, baselineKey: null });
  expect([...r.metrics]).toEqual([['acc', 0.9]]);
  expect(parseModelRecord(record({ modelPackageArn: undefined }), 'm').modelVersion).toBe('m@job-1');
});

test.each([
  ['not JSON', '{'],
  ['another model', record({ modelName: 'n' })],
  ['a model file outside the model\'s folder', record({ model: { key: 'n/models/x.onnx', sha256: SHA } })],
  ['a model key climbing out', record({ model: { key: 'm/models/../../n/x.onnx', sha256: SHA } })],
  ['an upper-case SHA-256', record({ model: { key: 'm/models/x.onnx', sha256: SHA.toUpperCase() } })],
  ['no version', record({ modelPackageArn: undefined, trainingJobName: undefined })],
])('a record with %s is an InvalidCandidate', (_, text) => {
  expect(() => parseModelRecord(text, 'm')).toThrow(InvalidCandidateError);
});

test('record URIs: only <model>/records/<job>.json of the models bucket', () => {
  expect(recordKeyOf('s3://b/m/records/job-1.json', 'b', 'm')).toBe('m/records/job-1.json');
  for (const bad of ['s3://c/m/records/job-1.json', 's3://b/n/records/job-1.json', 's3://b/m/records/a/b.json', 's3://b/m/records/.json', 's3://b/m/records/job-1.json.tmp', 42, undefined]) {
    expect(() => recordKeyOf(bad, 'b', 'm')).toThrow(InvalidCandidateError);
  }
});

test('gates: each comparison, and a missing metric fails its gate', () => {
  const metrics = new Map([['a', 0.9]]);
  const results = evaluateGates(parseGates(JSON.stringify([
    { metricName: 'a', comparison: 'GREATER_THAN_OR_EQUAL', threshold: 0.9 },
    { metricName: 'a', comparison: 'GREATER_THAN', threshold: 0.9 },
    { metricName: 'a', comparison: 'LESS_THAN_OR_EQUAL', threshold: 0.9 },
    { metricName: 'a', comparison: 'LESS_THAN', threshold: 0.9 },
    { metricName: 'missing', comparison: 'LESS_THAN', threshold: 1 },
  ])), metrics);
  expect(results.map((g) => g.passed)).toEqual([true, false, true, false, false]);
  expect(results[4].value).toBeNull();
  expect(() => parseGates('[{"metricName":"a","comparison":"EQUAL","threshold":1}]')).toThrow(/GATES\[0\]/);
});

test('property: a gate passes exactly when its comparison holds', () => {
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
  fc.assert(fc.property(finite, finite, (value, threshold) => {
    const [ge, gt, le, lt] = evaluateGates(['GREATER_THAN_OR_EQUAL', 'GREATER_THAN', 'LESS_THAN_OR_EQUAL', 'LESS_THAN']
      .map((comparison) => ({ metricName: 'm', comparison, threshold })), new Map([['m', value]]));
    expect([ge.passed, gt.passed, le.passed, lt.passed]).toEqual([value >= threshold, value > threshold, value <= threshold, value < threshold]);
  }));
});

test('property: the merge replaces exactly the model\'s variables and keeps every other one', () => {
  const name = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,20}$/);
  fc.assert(fc.property(fc.dictionary(name, fc.string({ maxLength: 30 })), fc.string({ minLength: 1, maxLength: 20 }), (current, objectVersion) => {
    const promoted = promotedModelEnvironment({ bucket: 'b', key: 'm/models/j/model.onnx', sha256: SHA, modelVersion: 'm@3', objectVersion });
    const merged = mergeModelEnvironment(current, promoted);
    for (const [k, v] of Object.entries(merged)) expect(v).toBe(k in promoted ? promoted[k] : current[k]);
    expect(Object.keys(merged).sort()).toEqual([...new Set([...Object.keys(current), ...Object.keys(promoted)])].sort());
  }));
});

test('contract keys: one folder per version, every version of a model under its prefix', () => {
  fc.assert(fc.property(fc.stringMatching(/^[a-z0-9](-?[a-z0-9]){0,20}$/), fc.integer({ min: 1, max: 1e6 }), (model, n) => {
    const v = `${model}@${n}`;
    expect(PROMOTION_KEYS.claim(v).startsWith(PROMOTION_KEYS.modelPrefix(model))).toBe(true);
    expect(PROMOTION_KEYS.audit(v, '2026-03-02T10:30:00Z', 'promoted')).toBe(`${PROMOTION_KEYS.versionPrefix(v)}2026-03-02T10:30:00Z-promoted.json`);
    // a model whose name extends another's has its own prefix
    expect(PROMOTION_KEYS.claim(`${model}-x@${n}`).startsWith(PROMOTION_KEYS.modelPrefix(model))).toBe(false);
  }));
});
