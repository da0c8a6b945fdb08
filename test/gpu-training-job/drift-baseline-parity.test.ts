/**
 * The training script's drift baseline (examples/training/hearing-who-grade/drift_baseline.py,
 * standard-library Python) against the library's `computeBaseline`: for the same input and options
 * the Python document is byte for byte `JSON.stringify(computeBaseline(...))`, and `parseBaseline`
 * accepts it. Randomized with fast-check (ties, constant columns, missing values, categorical
 * features, tiny and large numbers, more rows than the sample size, predictions with and without
 * true classes) against one long-lived Python process (a case per JSON line on stdin, its document
 * per line on stdout), so a counterexample shrinks.
 *
 * Needs a Python 3 (BASELINE_PYTHON, default `python3` on PATH); no package beyond the standard
 * library.
 */
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as fc from 'fast-check';
import { TRAINING_DIR } from '../../examples/training/hearing-dataset';
import {
  BaselineInput, BaselineOptions, ClassLabel, computeBaseline, FeatureKind, FeatureValue, parseBaseline, SeededRandom,
} from '../../src/model-monitor/runtime/logic';

const PYTHON = process.env.BASELINE_PYTHON ?? 'python3';
const MODULE = path.join(TRAINING_DIR, 'drift_baseline.py');
const SHA = 'c0ffee'.padEnd(64, '0');

interface Case {
  readonly input: BaselineInput;
  readonly options?: BaselineOptions;
}

/** drift_baseline.py as a line-in, line-out service. */
class PythonBaseline {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Array<(line: string) => void> = [];
  private stderr = '';

  public constructor() {
    this.child = spawn(PYTHON, [MODULE], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d) => (this.stderr += d));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.pending.shift()?.(line));
    this.child.on('exit', (code) => {
      const waiting = this.pending.splice(0);
      waiting.forEach((resolve) => resolve(JSON.stringify({ exited: code, stderr: this.stderr.slice(-2000) })));
    });
  }

  /** The Python output line of a case (its document, or {"error": ...}; draws of the generator for a `random` case). */
  public compute(c: Case | { random: { seed: number; draws: number } }): Promise<string> {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.child.stdin.write(JSON.stringify(c) + '\n');
    });
  }

  public async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
  }
}

/** What the TypeScript makes of a case after the same JSON transport (undefined, NaN and ±Infinity become null). */
function typescript(c: Case): string {
  const { input, options } = JSON.parse(JSON.stringify(c)) as Case;
  try {
    return JSON.stringify(computeBaseline(input, options ?? {}));
  } catch (e) {
    return JSON.stringify({ error: (e as Error).message });
  }
}

let python: PythonBaseline;

beforeAll(() => {
  const r = spawnSync(PYTHON, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the drift baseline parity tests run ${PYTHON} (set BASELINE_PYTHON to another Python 3): ${r.error?.message ?? r.stderr}`);
  python = new PythonBaseline();
});
afterAll(async () => {
  await python?.close();
});

async function expectParity(c: Case): Promise<string> {
  const ts = typescript(c);
  const py = await python.compute(c);
  expect(py).toBe(ts);
  return py;
}

// ---- arbitraries ---------------------------------------------------------------------------------

/** Hearing features as the training script scales them: (dB HL − 50) / 50 in 5 dB steps (many ties). */
const hearing = fc.integer({ min: -2, max: 24 }).map((k) => (k * 5 - 50) / 50);
/** Numbers whose JavaScript string form is unusual (exponents, 21 digits, -0). */
const oddNumbers = fc.constantFrom(1e-7, 1.5e-7, 1e21, 1.25e21, 123456789012345680000, 1e20, 5e-324, 2 ** 53 + 2, -0, 0.1, 1 / 3, -1e-300);
const numeric: fc.Arbitrary<FeatureValue> = fc.oneof(
  { weight: 4, arbitrary: hearing },
  { weight: 3, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 1, arbitrary: fc.double({ min: -1e-300, max: 1e-300, noNaN: true }) },
  { weight: 1, arbitrary: fc.double({ min: -1e150, max: 1e150, noNaN: true }) },
  { weight: 1, arbitrary: oddNumbers },
  { weight: 1, arbitrary: fc.constantFrom<FeatureValue>(null, undefined, NaN, Infinity, -Infinity, 'n/a') },
);
const label = fc.oneof(fc.constantFrom('normal', 'mild', 'moderate', 'a"b\\c', 'é\u0001', '1'), fc.integer({ min: 0, max: 3 }), fc.constantFrom(2.5, 1e21, 1e-7));
const categorical: fc.Arbitrary<FeatureValue> = fc.oneof(
  { weight: 4, arbitrary: label },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom<FeatureValue>(null, undefined, NaN) },
);

/** A column of n values: any values, a constant, or mostly missing. */
function column(kind: FeatureKind | undefined, n: number): fc.Arbitrary<FeatureValue[]> {
  const value = kind === 'categorical' ? categorical : numeric;
  return fc.oneof(
    { weight: 5, arbitrary: fc.array(value, { minLength: n, maxLength: n }) },
    { weight: 1, arbitrary: value.map((v) => Array.from({ length: n }, () => v)) },
    { weight: 1, arbitrary: fc.array(fc.option(value, { nil: null, freq: 4 }), { minLength: n, maxLength: n }) },
  );
}

const featureSpecs = fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }).chain((names) =>
  fc.tuple(...names.map((name) => fc.constantFrom<FeatureKind | undefined>(undefined, 'numeric', 'categorical').map((kind) => (kind ? { name, kind } : { name })))));

const options: fc.Arbitrary<BaselineOptions> = fc.record({
  sampleSize: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constant(1000)),
  seed: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 2 ** 32 - 1)),
  histogramBins: fc.integer({ min: 1, max: 15 }),
  quantiles: fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 0.5, 0.01, 0.99)), { maxLength: 8 }),
  categoryLimit: fc.integer({ min: 0, max: 25 }),
}, { requiredKeys: [] });

const cases: fc.Arbitrary<Case> = fc.tuple(featureSpecs, fc.nat({ max: 80 }), fc.nat({ max: 30 })).chain(([features, n, m]) => fc.record({
  input: fc.record({
    modelSha256: fc.constant(SHA),
    features: fc.constant(features),
    rows: fc.tuple(...features.map((f) => column(f.kind, n))).map((cols) => Array.from({ length: n }, (_, i) => cols.map((c) => c[i]))),
    predictions: fc.array(label, { minLength: m, maxLength: m }),
    trueClasses: fc.option(fc.array(fc.option(label, { nil: null }), { minLength: m, maxLength: m }), { nil: undefined }),
  }, { requiredKeys: ['modelSha256', 'features', 'rows', 'predictions'] }),
  options,
}));

// ---- tests ---------------------------------------------------------------------------------------

describe('drift_baseline.py computes the same document as computeBaseline', () => {
  test('on randomized inputs, byte for byte, and parseBaseline accepts it', async () => {
    await fc.assert(fc.asyncProperty(cases, async (c) => {
      const doc = JSON.parse(await expectParity(c));
      expect(doc.error).toBeUndefined();
      expect(parseBaseline(doc)).toEqual(doc);
    }), { numRuns: 300 });
  });

  test('on the small hand-computed reference of the library tests', async () => {
    const doc = JSON.parse(await expectParity({
      input: {
        modelSha256: SHA,
        features: [{ name: 'x' }, { name: 'device', kind: 'categorical' }],
        rows: [[1, 'a'], [2, 'b'], [3, 'a'], [4, null], [null, 'a']],
        predictions: ['normal', 'loss', 'normal', 'normal'],
        trueClasses: ['normal', 'normal', null, 'normal'],
      },
    }));
    expect(doc.features[0].numeric.mean).toBe(2.5);
    expect(doc.prediction).toEqual({ count: 4, categories: [{ value: 'normal', count: 3 }, { value: 'loss', count: 1 }], labeled: 3, accuracy: 2 / 3 });
  });

  test('with many more rows than the sample (the reservoir replaces values), default options', async () => {
    const random = new SeededRandom(5);
    const rows = Array.from({ length: 6000 }, (_, i) => [
      random.normal() * 10 + 100, // all distinct
      Math.floor(random.next() * 27) * 0.1 - 0.2, // ties
      i % 7 === 0 ? null : random.next() < 0.5 ? 'left' : 'right',
    ]);
    const predictions = rows.map((_, i) => ['normal', 'mild', 'moderate'][i % 3]);
    const doc = JSON.parse(await expectParity({
      input: { modelSha256: SHA, features: [{ name: 'v' }, { name: 't' }, { name: 'ear', kind: 'categorical' }], rows, predictions, trueClasses: predictions.map((p, i) => (i % 5 ? p : 'severe')) },
    }));
    expect(doc.features[0].numeric.sample).toHaveLength(1000);
    expect(parseBaseline(doc)).toEqual(doc);
    // and a smaller reservoir, another seed
    await expectParity({ input: { modelSha256: SHA, features: [{ name: 'v' }, { name: 't' }, { name: 'ear', kind: 'categorical' }], rows, predictions }, options: { sampleSize: 37, seed: 2 ** 32 - 1 } });
  });

  test('the 32-bit generator draws what SeededRandom draws, bit for bit', async () => {
    const seeds = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 0x9e3779b9, 2 ** 31, 2 ** 32 - 1));
    await fc.assert(fc.asyncProperty(seeds, async (seed) => {
      const bits = new SeededRandom(seed);
      const uniform = new SeededRandom(seed);
      const draws = 200;
      const expected = { uint32: Array.from({ length: draws }, () => bits.nextUint32()), next: Array.from({ length: draws }, () => uniform.next()) };
      expect(await python.compute({ random: { seed, draws } })).toBe(JSON.stringify(expected));
    }), { numRuns: 100 });
  });

  test('the reservoir matches over many draws', async () => {
    // One numeric column of 0..n−1 with a reservoir of 1: the sample is the last value whose draw
    // was 0, so the documents agree only if the draws do; many seeds, many draws each.
    for (const seed of [0, 1, 2, 0x9e3779b9, 2 ** 31, 2 ** 32 - 1]) {
      await expectParity({ input: { modelSha256: SHA, features: [{ name: 'i' }], rows: Array.from({ length: 5000 }, (_, i) => [i]), predictions: [] }, options: { sampleSize: 1, seed } });
      await expectParity({ input: { modelSha256: SHA, features: [{ name: 'i' }], rows: Array.from({ length: 3000 }, (_, i) => [i]), predictions: [] }, options: { sampleSize: 10, seed } });
    }
  });

  test('numbers as JavaScript writes them, in keys and in the JSON', async () => {
    const values = [1e-7, 1e21, 123456789012345680000, 1.5e-7, 0.000001, 5e-324, 2 ** 53, -0, 0.1 + 0.2];
    const doc = JSON.parse(await expectParity({
      input: { modelSha256: SHA, features: [{ name: 'n' }, { name: 'c', kind: 'categorical' }], rows: values.map((v) => [v, v]), predictions: values },
    }));
    expect(doc.features[1].categories.map((c: { value: string }) => c.value)).toEqual(
      ['1e-7', '1e+21', '123456789012345680000', '1.5e-7', '0.000001', '5e-324', '9007199254740992', '0', '0.30000000000000004']);
  });

  test('magnitudes above 1e150 are refused with the same message (their variance would overflow); 1e150 itself is fine', async () => {
    for (const rows of [[[-1e308], [1e308], [0]], [[1e200], [-1e200]], [[0], [1.0000000000000001e150 * 2]]]) {
      const input: BaselineInput = { modelSha256: SHA, features: [{ name: 'y' }, { name: 'x' }], rows: rows.map((r) => [1, r[0]]), predictions: [] };
      expect(() => computeBaseline(input)).toThrow('computeBaseline: feature 1 has a value of magnitude above 1e150: its variance would overflow (scale the feature)');
      await expectParity({ input });
    }
    const out = await expectParity({ input: { modelSha256: SHA, features: [{ name: 'x' }], rows: [[-1e150], [1e150], [0]], predictions: [] } });
    expect(() => parseBaseline(JSON.parse(out))).not.toThrow();
  });

  test('invalid input: the same error message, no document', async () => {
    const input: BaselineInput = { modelSha256: SHA, features: [{ name: 'x' }], rows: [[1]], predictions: ['a'] };
    const bad: Case[] = [
      { input: { ...input, modelSha256: 'ABC' } },
      { input: { ...input, features: [] } },
      { input: { ...input, features: [{ name: 'x' }, { name: 'x' }] } },
      { input: { ...input, features: [{ name: '' }] } },
      { input: { ...input, features: [{ name: 'x', kind: 'ordinal' as FeatureKind }] } },
      { input: { ...input, rows: [[1], [1, 2]] } },
      { input: { ...input, predictions: ['a', null as unknown as ClassLabel] } },
      { input: { ...input, trueClasses: [] } },
      { input, options: { sampleSize: 0 } },
      { input, options: { seed: 2 ** 32 } },
      { input, options: { seed: 1.5 } },
      { input, options: { histogramBins: 1001 } },
      { input, options: { categoryLimit: -1 } },
      { input, options: { quantiles: [0.5, 1.5] } },
    ];
    for (const c of bad) {
      const out = JSON.parse(await expectParity(c));
      expect(Object.keys(out)).toEqual(['error']);
      expect(out.error).toMatch(/^computeBaseline: /);
    }
  });
});
