import * as fc from 'fast-check';
import { checkProperty } from './property-seed';
import { drawRows, FEATURES } from './synthetic';
import {
  computeBaseline, DriftBaseline, evaluateDrift, FeatureValue, ks2Samp, SeededRandom, validateDriftConfig, wassersteinDistance, WindowRow,
} from '../../src/model-monitor/runtime/logic';

const SHA = 'cd'.repeat(32);

function baselineOf(rows: Array<{ features: FeatureValue[]; predictedClass: string; trueClass: string }>): DriftBaseline {
  return computeBaseline({
    modelSha256: SHA,
    features: FEATURES,
    rows: rows.map((r) => r.features),
    predictions: rows.map((r) => r.predictedClass),
    trueClasses: rows.map((r) => r.trueClass),
  });
}

const SHIFTED = ['left_4000hz', 'left_8000hz', 'right_4000hz', 'right_8000hz'];
const small = baselineOf(drawRows(new SeededRandom(101), 800));
const large = baselineOf(drawRows(new SeededRandom(102), 5000));

describe('evaluateDrift: test selection (Evidently defaults)', () => {
  test('reference ≤ 1000 values: KS for numeric features, chi-squared for categorical ones and the predicted class', () => {
    const r = evaluateDrift(small, drawRows(new SeededRandom(1), 200));
    expect(r.features.map((f) => f.method)).toEqual([...Array(11).fill('ks'), 'chi-squared']);
    expect(r.prediction.method).toBe('chi-squared');
    expect(r.features.every((f) => f.threshold === 0.05)).toBe(true);
  });

  test('reference > 1000 values: normalized Wasserstein for numeric features, Jensen–Shannon for categorical ones', () => {
    const r = evaluateDrift(large, drawRows(new SeededRandom(2), 200));
    expect(r.features.map((f) => f.method)).toEqual([...Array(11).fill('wasserstein'), 'jensen-shannon']);
    expect(r.prediction.method).toBe('jensen-shannon');
    expect(r.features.every((f) => f.threshold === 0.1)).toBe(true);
  });

  test('a numeric feature with ≤ 5 distinct values (reference ∪ window) is tested as categorical', () => {
    const rows = Array.from({ length: 300 }, (_, i) => [i % 2, i % 3]);
    const b = computeBaseline({ modelSha256: SHA, features: [{ name: 'ear' }, { name: 'level' }], rows, predictions: ['a'] });
    const window: WindowRow[] = Array.from({ length: 60 }, (_, i) => ({ features: [i % 2, i % 7] }));
    const r = evaluateDrift(b, window);
    expect(r.features[0]).toMatchObject({ method: 'chi-squared', kind: 'categorical', drifted: false });
    expect(r.features[0].distribution).toEqual({ type: 'categories', categories: ['0', '1'], reference: [150, 150], current: [30, 30] });
    // 'level' has 3 values in the reference but 7 in reference ∪ window: KS.
    expect(r.features[1]).toMatchObject({ method: 'ks', kind: 'numeric', drifted: true });
  });

  test('the statistics are those of the baseline sample and the window', () => {
    const window = drawRows(new SeededRandom(3), 150);
    const current = window.map((w) => w.features[3] as number);
    const ks = ks2Samp(small.features[3].numeric!.sample, current);
    expect(evaluateDrift(small, window).features[3]).toMatchObject({ statistic: ks.statistic, pValue: ks.pValue, distance: null });
    const numeric = large.features[3].numeric!;
    const w = wassersteinDistance(numeric.sample, current);
    const r = evaluateDrift(large, window).features[3];
    expect(r.statistic).toBeCloseTo(w, 12);
    expect(r.distance).toBeCloseTo(w / numeric.std, 12);
  });
});

describe('evaluateDrift: what drifts', () => {
  test('a +10 dB calibration offset at 4 and 8 kHz drifts exactly those four features (large reference)', () => {
    const r = evaluateDrift(large, drawRows(new SeededRandom(4), 2000, { offsetDb: { 4000: 10, 8000: 10 } }));
    expect(r.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(SHIFTED);
    expect(r.dataset).toEqual({ testedFeatures: 12, driftedFeatures: 4, share: 4 / 12, threshold: 0.5, drifted: false });
  });

  test('with a small reference the shifted features have KS p-values far below 0.05', () => {
    const r = evaluateDrift(small, drawRows(new SeededRandom(5), 500, { offsetDb: { 4000: 10, 8000: 10 } }));
    for (const name of SHIFTED) {
      const f = r.features.find((x) => x.name === name)!;
      expect(f.drifted).toBe(true);
      expect(f.pValue).toBeLessThan(1e-6);
    }
    expect(r.dataset.drifted).toBe(false);
  });

  test('the dataset drifts when at least half of the tested features drift', () => {
    const shiftAll = { offsetDb: { 500: 15, 1000: 15, 2000: 15, 4000: 15, 8000: 15 } };
    const r = evaluateDrift(large, drawRows(new SeededRandom(6), 1000, shiftAll));
    expect(r.dataset.driftedFeatures).toBeGreaterThanOrEqual(10);
    expect(r.dataset.drifted).toBe(true);
    // exactly half: 1 of 2 tested features
    const two = evaluateDrift(large, drawRows(new SeededRandom(6), 1000, { offsetDb: { 500: 15 } }), {
      features: Object.fromEntries(FEATURES.filter((f) => !['left_500hz', 'left_1000hz'].includes(f.name)).map((f) => [f.name, { enabled: false }])),
    });
    expect(two.dataset).toMatchObject({ testedFeatures: 2, driftedFeatures: 1, share: 0.5, drifted: true });
    const oneShifted = drawRows(new SeededRandom(6), 1000, { offsetDb: { 500: 15 } });
    expect(evaluateDrift(large, oneShifted, { datasetDriftShare: 0.6 }).dataset.drifted).toBe(false);
  });

  test('prediction drift, a category never seen, accuracy against ground truth', () => {
    const window: WindowRow[] = drawRows(new SeededRandom(7), 300).map((r, i) => ({
      features: i < 30 ? [...r.features.slice(0, 11), 'new-phone'] : r.features,
      predictedClass: 'moderate',
      trueClass: i % 3 === 0 ? 'moderate' : i % 3 === 1 ? 'normal' : null,
    }));
    const r = evaluateDrift(small, window);
    expect(r.prediction).toMatchObject({ drifted: true, method: 'chi-squared' });
    const device = r.features[11];
    expect(device).toMatchObject({ drifted: true, statistic: null, pValue: 0 });
    expect(device.distribution.type === 'categories' && device.distribution.categories.includes('new-phone')).toBe(true);
    expect(r.accuracy).toEqual({ labeled: 200, correct: 100, accuracy: 0.5, baselineAccuracy: small.prediction.accuracy });
  });

  test('a feature without values in the window is skipped and left out of the share', () => {
    const window: WindowRow[] = drawRows(new SeededRandom(8), 100)
      .map((r) => ({ features: [null, ...r.features.slice(1)], predictedClass: r.predictedClass }));
    const r = evaluateDrift(small, window);
    expect(r.features[0]).toMatchObject({ status: 'skipped', drifted: false, statistic: null, currentCount: 0, currentMissing: 100 });
    expect(r.dataset.testedFeatures).toBe(11);
    expect(r.accuracy).toMatchObject({ labeled: 0, accuracy: null });
    expect(evaluateDrift(small, []).prediction.status).toBe('skipped');
  });
});

describe('evaluateDrift: configuration', () => {
  test('per-feature method, threshold and enabled override the defaults', () => {
    const window = drawRows(new SeededRandom(9), 400);
    const r = evaluateDrift(large, window, {
      features: { left_500hz: { method: 'ks', threshold: 0.01 }, age: { threshold: 5 }, device_model: { enabled: false } },
      prediction: { method: 'chi-squared' },
      jensenShannonBase: 2,
    });
    expect(r.features).toHaveLength(11);
    expect(r.features[0]).toMatchObject({ method: 'ks', threshold: 0.01 });
    expect(r.features[10]).toMatchObject({ name: 'age', method: 'wasserstein', threshold: 5, drifted: false });
    expect(r.prediction.method).toBe('chi-squared');
  });

  test('fails if the config names an unknown feature, a test the baseline cannot support or a bad threshold', () => {
    expect(() => validateDriftConfig(small, { features: { left_500: {} } })).toThrow('features.left_500 names no feature of the baseline');
    expect(() => validateDriftConfig(small, { features: { device_model: { method: 'ks' } } }))
      .toThrow("features.device_model.method is 'ks', but the baseline has no numeric sample (it is categorical, or has no values) for this feature");
    expect(() => validateDriftConfig(small, { features: { age: { method: 'ks', threshold: 2 } } }))
      .toThrow("features.age.threshold is a p-value for 'ks' and must be at most 1, got 2");
    expect(() => validateDriftConfig(small, { prediction: { method: 'wasserstein' } })).toThrow("prediction.method is 'wasserstein'; the predicted class is categorical");
    expect(() => validateDriftConfig(small, { pValueThreshold: 0 })).toThrow('pValueThreshold must be in (0, 1], got 0');
    expect(() => validateDriftConfig(small, { categoricalDistinctLimit: 50 })).toThrow('categoricalDistinctLimit is 50, but the baseline kept frequency tables only up to 20 distinct values');
    expect(() => evaluateDrift(small, [{ features: [1, 2] }])).toThrow('row 0 has 2 feature values, the baseline 12');
  });
});

describe('evaluateDrift: properties', () => {
  test('property: the order of the window rows does not matter', () => {
    const rows = drawRows(new SeededRandom(10), 120);
    checkProperty('evaluateDrift order', fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 120, maxLength: 120 }), (keys) => {
      const shuffled = rows.map((r, i) => ({ r, k: keys[i] })).sort((a, b) => a.k - b.k).map((x) => x.r);
      expect(evaluateDrift(small, shuffled)).toEqual(evaluateDrift(small, rows));
    }), 30);
  });

  test('property: a window equal to a small reference never drifts (D = 0, p = 1 for every feature)', () => {
    checkProperty('evaluateDrift identity', fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 6, max: 300 }), (seed, n) => {
      const rows = drawRows(new SeededRandom(seed), n);
      const r = evaluateDrift(baselineOf(rows), rows);
      expect(r.features.every((f) => !f.drifted && (f.pValue === 1 || f.status === 'skipped'))).toBe(true);
      expect(r.prediction.pValue).toBe(1);
      expect(r.dataset.drifted).toBe(false);
    }), 25);
  });
});
