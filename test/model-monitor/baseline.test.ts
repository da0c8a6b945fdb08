import * as fc from 'fast-check';
import { checkProperty } from './property-seed';
import { computeBaseline, DriftBaseline, FeatureValue, InvalidBaselineError, parseBaseline, quantileSorted, SeededRandom } from '../../src/model-monitor/runtime/logic';

const SHA = 'ab'.repeat(32);

function small(): DriftBaseline {
  return computeBaseline({
    modelSha256: SHA,
    features: [{ name: 'x' }, { name: 'device', kind: 'categorical' }],
    rows: [[1, 'a'], [2, 'b'], [3, 'a'], [4, null], [null, 'a']],
    predictions: ['normal', 'loss', 'normal', 'normal'],
    trueClasses: ['normal', 'normal', null, 'normal'],
  });
}

describe('computeBaseline', () => {
  test('hand-computed statistics of a small reference', () => {
    const b = small();
    expect(b.schemaVersion).toBe(1);
    expect(b.rowCount).toBe(5);
    expect(b.sampling).toEqual({ method: 'reservoir', maxSize: 1000, seed: 1, categoryLimit: 20 });
    const [x, device] = b.features;
    expect(x).toMatchObject({ name: 'x', kind: 'numeric', count: 4, missing: 1, distinct: 4 });
    const n = x.numeric!;
    expect(n.mean).toBe(2.5);
    expect(n.std).toBeCloseTo(Math.sqrt(1.25), 15); // population std of 1..4
    expect([n.min, n.max]).toEqual([1, 4]);
    // numpy.quantile([1,2,3,4], [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) (linear)
    const expected = [1.03, 1.15, 1.75, 2.5, 3.25, 3.85, 3.97];
    n.quantiles.forEach((q, i) => expect(q.value).toBeCloseTo(expected[i], 12));
    // 10 equal bins over [1, 4], 0.3 wide: 1 → bin 0, 2 → bin 3 ([1.9, 2.2)), 3 → bin 6 ([2.8, 3.1)), 4 → the closed last bin.
    expect(n.histogram.edges).toHaveLength(11);
    expect(n.histogram.counts).toEqual([1, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
    expect(n.sample).toEqual([1, 2, 3, 4]);
    expect(x.categories).toEqual([{ value: '1', count: 1 }, { value: '2', count: 1 }, { value: '3', count: 1 }, { value: '4', count: 1 }]);
    expect(device).toEqual({ name: 'device', kind: 'categorical', count: 4, missing: 1, distinct: 2, categories: [{ value: 'a', count: 3 }, { value: 'b', count: 1 }] });
    expect(b.prediction).toEqual({ count: 4, categories: [{ value: 'normal', count: 3 }, { value: 'loss', count: 1 }], labeled: 3, accuracy: 2 / 3 });
  });

  test('a constant column has a single bin [c, c]', () => {
    const b = computeBaseline({ modelSha256: SHA, features: [{ name: 'c' }], rows: [[7], [7], [7]], predictions: [] });
    expect(b.features[0].numeric).toMatchObject({ std: 0, min: 7, max: 7, histogram: { edges: [7, 7], counts: [3] } });
    expect(b.prediction).toEqual({ count: 0, categories: [] });
  });

  test('the reservoir sample is bounded, drawn from the values, sorted and reproducible from its seed', () => {
    const random = new SeededRandom(3);
    const rows = Array.from({ length: 20000 }, () => [random.normal() * 10 + 100]);
    const input = { modelSha256: SHA, features: [{ name: 'v' }], rows, predictions: [] };
    const a = computeBaseline(input, { sampleSize: 500, seed: 11 });
    const sample = a.features[0].numeric!.sample;
    expect(sample).toHaveLength(500);
    expect([...sample].sort((p, q) => p - q)).toEqual(sample);
    const values = new Set(rows.map((r) => r[0]));
    expect(sample.every((v) => values.has(v))).toBe(true);
    expect(computeBaseline(input, { sampleSize: 500, seed: 11 })).toEqual(a);
    expect(computeBaseline(input, { sampleSize: 500, seed: 12 }).features[0].numeric!.sample).not.toEqual(sample);
    // Uniform over the rows: the sample's median is near the population's (σ = 10, n = 500).
    expect(Math.abs(quantileSorted(sample, 0.5) - 100)).toBeLessThan(2.5);
    // Late rows are as likely to be kept as early ones.
    const late = new Set(rows.slice(10000).map((r) => r[0]));
    expect(sample.filter((v) => late.has(v)).length).toBeGreaterThan(200);
  });

  test('every value is equally likely to be in the reservoir (Algorithm R)', () => {
    // 10 values, samples of 2, 2000 seeds: each value is kept with probability 1/5 (400 ± 18 times).
    const rows = Array.from({ length: 10 }, (_, i) => [i]);
    const kept = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 2000; seed++) {
      for (const v of computeBaseline({ modelSha256: SHA, features: [{ name: 'v' }], rows, predictions: [] }, { sampleSize: 2, seed }).features[0].numeric!.sample) kept[v]++;
    }
    for (const k of kept) expect(Math.abs(k - 400)).toBeLessThan(90);
  });

  test('fails if a row has the wrong width, the hash is not hex, or a name repeats', () => {
    const base = { modelSha256: SHA, features: [{ name: 'a' }, { name: 'b' }], rows: [[1, 2]] as FeatureValue[][], predictions: [] };
    expect(() => computeBaseline({ ...base, rows: [[1, 2], [3]] })).toThrow('row 1 has 1 values, expected 2 (one per feature)');
    expect(() => computeBaseline({ ...base, modelSha256: 'ABC' })).toThrow('modelSha256 must be 64 lower-case hex digits');
    expect(() => computeBaseline({ ...base, features: [{ name: 'a' }, { name: 'a' }] })).toThrow('feature 1 repeats the name of an earlier feature');
    expect(() => computeBaseline({ ...base, predictions: [NaN] })).toThrow('prediction 0 is not a class label');
    expect(() => computeBaseline({ ...base, predictions: ['x'], trueClasses: [] })).toThrow('trueClasses has 0 entries, predictions 1; they must be aligned');
    expect(() => computeBaseline(base, { sampleSize: 0 })).toThrow('sampleSize must be an integer from 1 to 1000000, got 0');
  });
});

describe('parseBaseline', () => {
  test('a computed baseline survives JSON unchanged', () => {
    const b = small();
    expect(parseBaseline(JSON.parse(JSON.stringify(b)))).toEqual(b);
  });

  const mutate = (f: (doc: any) => void) => {
    const doc = JSON.parse(JSON.stringify(small()));
    f(doc);
    return () => parseBaseline(doc);
  };

  test('fails if the schema version, counts, sample or tables are wrong, naming the field', () => {
    expect(mutate((d) => { d.schemaVersion = 2; })).toThrow('/schemaVersion must be 1 (this code reads schema version 1 only)');
    expect(mutate((d) => { d.features[0].missing = 0; })).toThrow('/features/0/missing must be rowCount − count');
    expect(mutate((d) => { d.features[0].numeric.sample.reverse(); })).toThrow('/features/0/numeric/sample must be in ascending order');
    expect(mutate((d) => { d.features[0].numeric.sample.pop(); })).toThrow('/features/0/numeric/sample must be min(count, sampling.maxSize) values');
    expect(mutate((d) => { d.features[0].numeric.histogram.counts[0] = 2; })).toThrow('/features/0/numeric/histogram/counts must be one count per bin, adding up to count');
    expect(mutate((d) => { delete d.features[1].categories; })).toThrow('/features/1/categories must be present for a categorical feature');
    expect(mutate((d) => { d.prediction.categories[0].count = 1; })).toThrow('/prediction/categories must be counts adding up to the count of values');
    expect(mutate((d) => { d.features[1].name = 'x'; })).toThrow('/features/1/name must be unique among the features');
    expect(() => parseBaseline(null)).toThrow('invalid drift baseline: (document) must be an object');
  });

  test('property: any JSON is either a valid baseline or an InvalidBaselineError', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    checkProperty('parseBaseline arbitrary JSON', fc.property(json, (doc) => {
      try {
        parseBaseline(doc);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidBaselineError);
      }
    }), 500);
  });

  test('property: a valid baseline with one value replaced parses or fails with InvalidBaselineError', () => {
    const valid = JSON.parse(JSON.stringify(small()));
    const paths: Array<Array<string | number>> = [];
    const walk = (v: unknown, path: Array<string | number>) => {
      paths.push(path);
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    };
    walk(valid, []);
    const replacement = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0.5, 1e300, '', '__proto__'));
    checkProperty('parseBaseline mutated', fc.property(fc.integer({ min: 1, max: paths.length - 1 }), replacement, (i, value) => {
      const doc = JSON.parse(JSON.stringify(valid));
      const path = paths[i];
      let target = doc;
      for (const k of path.slice(0, -1)) target = target[k];
      target[path[path.length - 1]] = value;
      try {
        const parsed = parseBaseline(doc);
        expect(parsed.schemaVersion).toBe(1);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidBaselineError);
      }
    }), 500);
  });
});
