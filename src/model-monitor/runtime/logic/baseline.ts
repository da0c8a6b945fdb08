/**
 * The drift baseline: per-feature statistics of a model's reference data (its training split) and
 * the frequency table of its predicted classes (on the validation split), computed when the model
 * is trained and stored beside the artifact as one JSON document (`DriftBaseline`, schema
 * version 1).
 *
 * Per feature: count, missing, distinct values, and for numeric features the mean, the population
 * standard deviation (ddof = 0, as NumPy's `np.std` and Evidently's normalization use), min, max,
 * quantiles (linear interpolation, NumPy's default), a histogram over fixed, equal-width bin edges
 * between min and max (the same edges bin the current window in the report), and a reservoir
 * sample of the values.
 *
 * The sample exists because the KS and Wasserstein tests need values, not a histogram. Its size,
 * 1000 by default, is Evidently's boundary between the two regimes: a reference of ≤ 1000 values
 * (tested with KS) is kept whole, so the KS test is exactly Evidently's; a larger reference (tested
 * with the Wasserstein distance normalized by the standard deviation of all its values) is
 * represented by a uniform sample of 1000 (Vitter's Algorithm R with a seeded generator, so a
 * baseline is reproducible from its inputs and seed). The sampling error of W1 from 1000 values is
 * a few hundredths of a standard deviation, small beside the 0.1 threshold;
 * test/model-monitor/false-alarm.ts measures what it does to the false-alarm rate.
 *
 * Numeric features with at most `categoryLimit` (20) distinct values also keep their exact
 * frequency table: Evidently tests a numeric column with ≤ 5 distinct values as categorical.
 * Declared categorical features always keep it (values are compared as strings: `String(1)` is
 * "1").
 */
import { SeededRandom } from './random';
import { CompensatedSum } from './special';

/** The version of the baseline document this code writes and reads. */
export const BASELINE_SCHEMA_VERSION = 1;

/** How a feature is tested: numeric (KS / Wasserstein) or categorical (chi-squared / Jensen–Shannon). */
export type FeatureKind = 'numeric' | 'categorical';

/** One value of a feature vector; null, undefined and non-finite numbers are missing. */
export type FeatureValue = number | string | null | undefined;

/** A class label as the model reports it. */
export type ClassLabel = string | number;

/** A feature of the model's input vector, in order. */
export interface FeatureSpec {
  readonly name: string;
  /** @default 'numeric' */
  readonly kind?: FeatureKind;
}

/** One category and how often it occurred. */
export interface CategoryCount {
  readonly value: string;
  readonly count: number;
}

/** Counts over fixed bin edges: bin i is [edges[i], edges[i+1]), the last bin closed. */
export interface Histogram {
  readonly edges: number[];
  readonly counts: number[];
}

/** A quantile of the reference values. */
export interface Quantile {
  readonly level: number;
  readonly value: number;
}

/** The numeric summary of one feature. */
export interface NumericSummary {
  readonly mean: number;
  /** Population standard deviation (ddof = 0). */
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly quantiles: Quantile[];
  readonly histogram: Histogram;
  /** Reservoir sample of the values (all of them when there are at most `sampling.maxSize`), ascending. */
  readonly sample: number[];
}

/** The baseline of one feature. */
export interface FeatureBaseline {
  readonly name: string;
  readonly kind: FeatureKind;
  /** Values present. */
  readonly count: number;
  readonly missing: number;
  /** Distinct values present. */
  readonly distinct: number;
  /** For numeric features with at least one value. */
  readonly numeric?: NumericSummary;
  /** For categorical features, and numeric ones with at most `categoryLimit` distinct values; most frequent first. */
  readonly categories?: CategoryCount[];
}

/** The baseline of the model's predictions. */
export interface PredictionBaseline {
  readonly count: number;
  /** Predicted classes, most frequent first. */
  readonly categories: CategoryCount[];
  /** Predictions with a known true class (when the baseline was given them). */
  readonly labeled?: number;
  /** Share of labeled predictions that were right. */
  readonly accuracy?: number;
}

/** The baseline document (JSON), stored beside the model artifact it describes. */
export interface DriftBaseline {
  readonly schemaVersion: 1;
  /** SHA-256 of the model artifact, lower-case hex. */
  readonly modelSha256: string;
  /** Reference rows (feature vectors). */
  readonly rowCount: number;
  readonly sampling: BaselineSampling;
  readonly features: FeatureBaseline[];
  readonly prediction: PredictionBaseline;
}

/** How the samples were drawn. */
export interface BaselineSampling {
  readonly method: 'reservoir';
  readonly maxSize: number;
  readonly seed: number;
  /** Distinct-value limit under which numeric features keep a frequency table. */
  readonly categoryLimit: number;
}

/** What a baseline is computed from. */
export interface BaselineInput {
  readonly modelSha256: string;
  readonly features: readonly FeatureSpec[];
  /** Reference feature vectors (the training split), each in `features` order. */
  readonly rows: ReadonlyArray<readonly FeatureValue[]>;
  /** Predicted classes (on the validation split). */
  readonly predictions: readonly ClassLabel[];
  /** True classes aligned with `predictions` (null where unknown), for the baseline accuracy. */
  readonly trueClasses?: ReadonlyArray<ClassLabel | null>;
}

/** Tuning of the baseline. */
export interface BaselineOptions {
  /** @default 1000 */
  readonly sampleSize?: number;
  /** @default 1 */
  readonly seed?: number;
  /** @default 10 */
  readonly histogramBins?: number;
  /** @default [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] */
  readonly quantiles?: readonly number[];
  /** @default 20 */
  readonly categoryLimit?: number;
}

export const DEFAULT_SAMPLE_SIZE = 1000;
export const DEFAULT_HISTOGRAM_BINS = 10;
export const DEFAULT_QUANTILES: readonly number[] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];
export const DEFAULT_CATEGORY_LIMIT = 20;
const SHA256 = /^[0-9a-f]{64}$/;
/** The largest magnitude of a numeric feature value `computeBaseline` accepts. */
const MAX_MAGNITUDE = 1e150;

/** The value of a numeric feature, or undefined when missing (null, non-finite, not a number). */
export function numericValue(v: FeatureValue): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The category key of a value, or undefined when missing. */
export function categoryKey(v: FeatureValue): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Compute the baseline document. Deterministic: the same input and options give the same document. */
export function computeBaseline(input: BaselineInput, options: BaselineOptions = {}): DriftBaseline {
  const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
  const seed = options.seed ?? 1;
  const bins = options.histogramBins ?? DEFAULT_HISTOGRAM_BINS;
  const levels = options.quantiles ?? DEFAULT_QUANTILES;
  const categoryLimit = options.categoryLimit ?? DEFAULT_CATEGORY_LIMIT;
  checkInteger('sampleSize', sampleSize, 1, 1_000_000);
  checkInteger('histogramBins', bins, 1, 1000);
  checkInteger('categoryLimit', categoryLimit, 0, 100_000);
  checkInteger('seed', seed, 0, 2 ** 32 - 1);
  if (!levels.every((l) => l >= 0 && l <= 1)) throw new Error(`computeBaseline: quantile levels must lie in [0, 1], got [${levels.join(', ')}]`);
  if (!SHA256.test(input.modelSha256)) throw new Error('computeBaseline: modelSha256 must be 64 lower-case hex digits');
  checkFeatureSpecs(input.features);
  const width = input.features.length;
  input.rows.forEach((row, i) => {
    if (row.length !== width) throw new Error(`computeBaseline: row ${i} has ${row.length} values, expected ${width} (one per feature)`);
  });

  const features = input.features.map((spec, f) => {
    const kind = spec.kind ?? 'numeric';
    // A generator per feature, so adding a feature does not change the others' samples.
    const random = new SeededRandom((seed + (f + 1) * 0x9e3779b1) % 2 ** 32);
    return kind === 'numeric'
      ? numericBaseline(spec.name, input.rows, f, { sampleSize, random, bins, levels, categoryLimit })
      : categoricalBaseline(spec.name, input.rows, f);
  });

  return {
    schemaVersion: BASELINE_SCHEMA_VERSION,
    modelSha256: input.modelSha256,
    rowCount: input.rows.length,
    sampling: { method: 'reservoir', maxSize: sampleSize, seed, categoryLimit },
    features,
    prediction: predictionBaseline(input.predictions, input.trueClasses),
  };
}

interface NumericOptions {
  readonly sampleSize: number;
  readonly random: SeededRandom;
  readonly bins: number;
  readonly levels: readonly number[];
  readonly categoryLimit: number;
}

function numericBaseline(name: string, rows: ReadonlyArray<readonly FeatureValue[]>, f: number, o: NumericOptions): FeatureBaseline {
  const values: number[] = [];
  const reservoir: number[] = [];
  let missing = 0;
  for (const row of rows) {
    const v = numericValue(row[f]);
    if (v === undefined) {
      missing++;
      continue;
    }
    // Algorithm R: the i-th value (0-based) replaces a random slot with probability k / (i + 1).
    if (reservoir.length < o.sampleSize) {
      reservoir.push(v);
    } else {
      const j = o.random.int(values.length + 1);
      if (j < o.sampleSize) reservoir[j] = v;
    }
    values.push(v);
  }
  const count = values.length;
  const sorted = Float64Array.from(values).sort();
  const distinct = countDistinctSorted(sorted);
  if (count === 0) return { name, kind: 'numeric', count, missing, distinct };
  // Beyond this magnitude the squared deviations (and sums of many values) overflow to Infinity,
  // which JSON cannot hold: refuse the input instead of writing a document parseBaseline rejects.
  if (Math.max(-sorted[0], sorted[count - 1]) > MAX_MAGNITUDE) {
    throw new Error(`computeBaseline: feature ${f} has a value of magnitude above 1e150: its variance would overflow (scale the feature)`);
  }
  const mean = meanOf(sorted);
  const ss = new CompensatedSum();
  for (const v of sorted) ss.add((v - mean) ** 2);
  const min = sorted[0];
  const max = sorted[count - 1];
  const edges = binEdges(min, max, o.bins);
  const numeric: NumericSummary = {
    mean,
    std: Math.sqrt(ss.value / count),
    min,
    max,
    quantiles: o.levels.map((level) => ({ level, value: quantileSorted(sorted, level) })),
    histogram: { edges, counts: histogramCounts(sorted, edges).counts },
    sample: reservoir.sort((a, b) => a - b),
  };
  const base = { name, kind: 'numeric' as const, count, missing, distinct, numeric };
  return distinct <= o.categoryLimit ? { ...base, categories: frequencyTable(values.map((v) => String(v))) } : base;
}

function categoricalBaseline(name: string, rows: ReadonlyArray<readonly FeatureValue[]>, f: number): FeatureBaseline {
  const keys: string[] = [];
  let missing = 0;
  for (const row of rows) {
    const k = categoryKey(row[f]);
    if (k === undefined) missing++;
    else keys.push(k);
  }
  const categories = frequencyTable(keys);
  return { name, kind: 'categorical', count: keys.length, missing, distinct: categories.length, categories };
}

function predictionBaseline(predictions: readonly ClassLabel[], trueClasses?: ReadonlyArray<ClassLabel | null>): PredictionBaseline {
  const keys = predictions.map((p, i) => {
    const k = categoryKey(p);
    if (k === undefined) throw new Error(`computeBaseline: prediction ${i} is not a class label (a string or a finite number)`);
    return k;
  });
  const base = { count: keys.length, categories: frequencyTable(keys) };
  if (trueClasses === undefined) return base;
  if (trueClasses.length !== predictions.length) {
    throw new Error(`computeBaseline: trueClasses has ${trueClasses.length} entries, predictions ${predictions.length}; they must be aligned`);
  }
  let labeled = 0;
  let correct = 0;
  trueClasses.forEach((t, i) => {
    const k = t === null ? undefined : categoryKey(t);
    if (k === undefined) return;
    labeled++;
    if (k === keys[i]) correct++;
  });
  return labeled > 0 ? { ...base, labeled, accuracy: correct / labeled } : { ...base, labeled };
}

/** Counts per distinct key, most frequent first (ties: in order of first appearance). */
export function frequencyTable(keys: Iterable<string>): CategoryCount[] {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts.entries()].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count);
}

/** `bins` equal-width edges from min to max (the last exactly max); a single bin [min, max] when min = max. */
export function binEdges(min: number, max: number, bins: number): number[] {
  if (min === max) return [min, max];
  const edges: number[] = [];
  for (let i = 0; i < bins; i++) edges.push(min + ((max - min) * i) / bins);
  edges.push(max);
  return edges;
}

/** Counts of sorted or unsorted values over edges, with those below the first and above the last edge. */
export function histogramCounts(values: ArrayLike<number>, edges: readonly number[]): { counts: number[]; below: number; above: number } {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  let below = 0;
  let above = 0;
  const last = edges[bins];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < edges[0]) {
      below++;
    } else if (v > last) {
      above++;
    } else {
      // The last edge e with e <= v, by binary search; v = last belongs to the last bin.
      let lo = 0;
      let hi = bins - 1;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (edges[mid] <= v) lo = mid;
        else hi = mid - 1;
      }
      counts[lo]++;
    }
  }
  return { counts, below, above };
}

/** The quantile at `level` of ascending values, linearly interpolated (NumPy's default method). */
export function quantileSorted(sorted: ArrayLike<number>, level: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * level;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo];
  const b = sorted[hi];
  return a + (h - lo) * (b - a);
}

function meanOf(values: ArrayLike<number>): number {
  const s = new CompensatedSum();
  for (let i = 0; i < values.length; i++) s.add(values[i]);
  return s.value / values.length;
}

function countDistinctSorted(sorted: ArrayLike<number>): number {
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  }
  return distinct;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new Error(`computeBaseline: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function checkFeatureSpecs(features: readonly FeatureSpec[]): void {
  if (features.length === 0) throw new Error('computeBaseline: at least one feature is required');
  const seen = new Set<string>();
  features.forEach((f, i) => {
    if (typeof f.name !== 'string' || f.name.length === 0) throw new Error(`computeBaseline: feature ${i} needs a non-empty name`);
    if (seen.has(f.name)) throw new Error(`computeBaseline: feature ${i} repeats the name of an earlier feature; names must be unique`);
    if (f.kind !== undefined && f.kind !== 'numeric' && f.kind !== 'categorical') {
      throw new Error(`computeBaseline: feature ${i} has kind ${JSON.stringify(f.kind)}; use 'numeric' or 'categorical'`);
    }
    seen.add(f.name);
  });
}
