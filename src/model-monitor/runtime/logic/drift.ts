/**
 * Drift evaluation of one window of captured predictions against a model's baseline, with
 * Evidently's default tests and thresholds, each configurable per feature:
 *
 * | reference values | feature                                   | test                         | drift when |
 * | ---------------- | ----------------------------------------- | ---------------------------- | ---------- |
 * | ≤ 1000           | numeric, > 5 distinct (reference ∪ window) | two-sample Kolmogorov–Smirnov | p < 0.05   |
 * | ≤ 1000           | categorical, or ≤ 5 distinct              | chi-squared goodness of fit  | p < 0.05   |
 * | > 1000           | numeric, > 5 distinct                     | Wasserstein / σ_reference     | ≥ 0.1      |
 * | > 1000           | categorical, or ≤ 5 distinct              | Jensen–Shannon distance      | ≥ 0.1      |
 *
 * The predicted class is tested as a categorical column (prediction drift). The dataset drifts
 * when the share of drifted features (among those tested) is ≥ 0.5. With ground truth (rows with a
 * true class), the window's accuracy is reported too.
 *
 * Differences from Evidently, on purpose: a binary column with a small reference gets the
 * chi-squared test like any categorical column (Evidently uses a two-proportion z-test there); the
 * reference size is the count of a feature's non-missing values; a feature with no values in the
 * window (or the reference) is reported as skipped and left out of the drift share.
 */
import { ClassLabel, categoryKey, DriftBaseline, FeatureBaseline, FeatureKind, FeatureValue, histogramCounts, numericValue } from './baseline';
import { categoricalChiSquare, categoricalJensenShannon, CategoryCounts, WASSERSTEIN_STD_FLOOR, wassersteinDistance } from './distances';
import { ks2Samp } from './ks';

/** A drift test. */
export type DriftMethod = 'ks' | 'chi-squared' | 'wasserstein' | 'jensen-shannon';

/** Per-feature overrides. */
export interface FeatureDriftConfig {
  /** @default - Evidently's choice (see the table above) */
  readonly method?: DriftMethod;
  /** A p-value for 'ks' and 'chi-squared' (drift below it), a distance otherwise (drift at or above it). @default - the config-wide threshold of the method */
  readonly threshold?: number;
  /** Set false to leave the feature out of the evaluation. @default true */
  readonly enabled?: boolean;
}

/** Drift evaluation settings; every default is Evidently's. */
export interface DriftConfig {
  /** References with at most this many values get the statistical tests (KS, chi-squared), larger ones the distances. @default 1000 */
  readonly referenceSizeLimit?: number;
  /** Numeric features with at most this many distinct values (reference ∪ window) are tested as categorical. @default 5 */
  readonly categoricalDistinctLimit?: number;
  /** @default 0.05 */
  readonly pValueThreshold?: number;
  /** Normalized Wasserstein distance. @default 0.1 */
  readonly wassersteinThreshold?: number;
  /** @default 0.1 */
  readonly jensenShannonThreshold?: number;
  /** Logarithm base of the Jensen–Shannon distance (2 bounds it by 1). @default e */
  readonly jensenShannonBase?: number;
  /** Floor of the reference standard deviation in the normalized Wasserstein distance. @default 0.001 */
  readonly wassersteinStdFloor?: number;
  /** The dataset drifts when at least this share of the tested features drift. @default 0.5 */
  readonly datasetDriftShare?: number;
  /** Overrides by feature name. @default {} */
  readonly features?: Readonly<Record<string, FeatureDriftConfig>>;
  /** Overrides for the predicted class. @default {} */
  readonly prediction?: FeatureDriftConfig;
}

/** One captured prediction of the window. */
export interface WindowRow {
  /** The feature vector, in the baseline's feature order. */
  readonly features: readonly FeatureValue[];
  readonly predictedClass?: ClassLabel | null;
  /** The true class, when ground truth has arrived. */
  readonly trueClass?: ClassLabel | null;
}

/** Baseline and window side by side, for a chart. */
export type DistributionComparison = HistogramComparison | CategoryComparison;

/** Counts over the baseline's bin edges. */
export interface HistogramComparison {
  readonly type: 'histogram';
  readonly edges: number[];
  readonly reference: number[];
  readonly current: number[];
  /** Window values below the first edge / above the last. */
  readonly currentBelow: number;
  readonly currentAbove: number;
}

/** Counts per category over the union of categories (reference order, then new ones). */
export interface CategoryComparison {
  readonly type: 'categories';
  readonly categories: string[];
  readonly reference: number[];
  readonly current: number[];
}

/** The drift result of one feature (or of the predicted class). */
export interface ColumnDrift {
  readonly name: string;
  /** 'tested', or 'skipped' when the window (or the reference) has no value of it. */
  readonly status: 'tested' | 'skipped';
  /** How it was tested. */
  readonly kind: FeatureKind;
  readonly method: DriftMethod;
  /** KS D, the chi-squared statistic (null when infinite: a category the reference never had), W1 in the feature's units, or the JS distance. */
  readonly statistic: number | null;
  /** For 'ks' and 'chi-squared'. */
  readonly pValue: number | null;
  /** For 'wasserstein' (normalized) and 'jensen-shannon'. */
  readonly distance: number | null;
  readonly threshold: number;
  readonly drifted: boolean;
  readonly referenceCount: number;
  readonly currentCount: number;
  readonly currentMissing: number;
  readonly distribution: DistributionComparison;
}

/** The share of drifted features. */
export interface DatasetDrift {
  readonly testedFeatures: number;
  readonly driftedFeatures: number;
  readonly share: number;
  readonly threshold: number;
  readonly drifted: boolean;
}

/** Accuracy over the rows that have a true class. */
export interface AccuracyResult {
  readonly labeled: number;
  readonly correct: number;
  /** null when no row is labeled. */
  readonly accuracy: number | null;
  /** The baseline's accuracy on its validation split, when it has one. */
  readonly baselineAccuracy: number | null;
}

/** The result of a drift evaluation. */
export interface DriftResult {
  readonly schemaVersion: 1;
  readonly modelSha256: string;
  readonly rowCount: number;
  readonly features: ColumnDrift[];
  readonly prediction: ColumnDrift;
  readonly dataset: DatasetDrift;
  readonly accuracy: AccuracyResult;
}

interface Settings {
  readonly referenceSizeLimit: number;
  readonly categoricalDistinctLimit: number;
  readonly pValueThreshold: number;
  readonly wassersteinThreshold: number;
  readonly jensenShannonThreshold: number;
  readonly jensenShannonBase: number | undefined;
  readonly wassersteinStdFloor: number;
  readonly datasetDriftShare: number;
}

const METHODS: readonly DriftMethod[] = ['ks', 'chi-squared', 'wasserstein', 'jensen-shannon'];

/** Check a config against a baseline; throws an Error that names the setting and what is allowed. */
export function validateDriftConfig(baseline: DriftBaseline, config: DriftConfig = {}): void {
  const s = settingsOf(config);
  if (s.categoricalDistinctLimit > baseline.sampling.categoryLimit) {
    throw new Error(`drift config: categoricalDistinctLimit is ${s.categoricalDistinctLimit}, but the baseline kept frequency tables only up to ${baseline.sampling.categoryLimit} distinct values; use at most ${baseline.sampling.categoryLimit} or recompute the baseline with a larger categoryLimit`);
  }
  const names = new Set(baseline.features.map((f) => f.name));
  for (const [name, fc] of Object.entries(config.features ?? {})) {
    if (!names.has(name)) throw new Error(`drift config: features.${name} names no feature of the baseline (features: ${[...names].join(', ')})`);
    checkFeatureConfig(fc, `features.${name}`);
    const feature = baseline.features.find((f) => f.name === name)!;
    if (fc.method !== undefined && !methodFits(feature, fc.method)) {
      throw new Error(`drift config: features.${name}.method is '${fc.method}', but the baseline has no ${needs(fc.method)} for this feature`);
    }
  }
  if (config.prediction) {
    checkFeatureConfig(config.prediction, 'prediction');
    if (config.prediction.method === 'ks' || config.prediction.method === 'wasserstein') {
      throw new Error(`drift config: prediction.method is '${config.prediction.method}'; the predicted class is categorical: use 'chi-squared' or 'jensen-shannon'`);
    }
  }
}

/** Evaluate a window against a baseline. Validates the config first (see `validateDriftConfig`). */
export function evaluateDrift(baseline: DriftBaseline, rows: readonly WindowRow[], config: DriftConfig = {}): DriftResult {
  validateDriftConfig(baseline, config);
  const s = settingsOf(config);
  const width = baseline.features.length;
  rows.forEach((r, i) => {
    if (r.features.length !== width) throw new Error(`evaluateDrift: row ${i} has ${r.features.length} feature values, the baseline ${width}`);
  });

  const features: ColumnDrift[] = [];
  baseline.features.forEach((feature, f) => {
    const fc = config.features?.[feature.name] ?? {};
    if (fc.enabled === false) return;
    features.push(featureDrift(feature, rows, f, fc, s));
  });

  const predicted = new Map<string, number>();
  let predictedMissing = 0;
  let labeled = 0;
  let correct = 0;
  for (const r of rows) {
    const p = r.predictedClass == null ? undefined : categoryKey(r.predictedClass);
    if (p === undefined) predictedMissing++;
    else predicted.set(p, (predicted.get(p) ?? 0) + 1);
    const t = r.trueClass == null ? undefined : categoryKey(r.trueClass);
    if (t !== undefined && p !== undefined) {
      labeled++;
      if (t === p) correct++;
    }
  }
  const predictionReference = new Map(baseline.prediction.categories.map((c) => [c.value, c.count]));
  const prediction = categoricalDrift('prediction', predictionReference, baseline.prediction.count, predicted, predictedMissing, config.prediction ?? {}, s);

  const tested = features.filter((c) => c.status === 'tested');
  const drifted = tested.filter((c) => c.drifted).length;
  const share = tested.length === 0 ? 0 : drifted / tested.length;
  return {
    schemaVersion: 1,
    modelSha256: baseline.modelSha256,
    rowCount: rows.length,
    features,
    prediction,
    dataset: {
      testedFeatures: tested.length,
      driftedFeatures: drifted,
      share,
      threshold: s.datasetDriftShare,
      drifted: tested.length > 0 && share >= s.datasetDriftShare,
    },
    accuracy: { labeled, correct, accuracy: labeled === 0 ? null : correct / labeled, baselineAccuracy: baseline.prediction.accuracy ?? null },
  };
}

function featureDrift(feature: FeatureBaseline, rows: readonly WindowRow[], f: number, fc: FeatureDriftConfig, s: Settings): ColumnDrift {
  if (feature.kind === 'categorical') {
    const counts = new Map<string, number>();
    let missing = 0;
    for (const r of rows) {
      const k = categoryKey(r.features[f]);
      if (k === undefined) missing++;
      else counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return categoricalDrift(feature.name, categoryMap(feature), feature.count, counts, missing, fc, s);
  }

  const column = new Float64Array(rows.length);
  let n = 0;
  for (const r of rows) {
    const v = numericValue(r.features[f]);
    if (v !== undefined) column[n++] = v;
  }
  const current = column.subarray(0, n).sort();
  const missing = rows.length - n;

  let method = fc.method;
  if (method === undefined && feature.categories !== undefined && unionDistinct(feature, current) <= s.categoricalDistinctLimit) {
    method = feature.count <= s.referenceSizeLimit ? 'chi-squared' : 'jensen-shannon';
  }
  if (method === 'chi-squared' || method === 'jensen-shannon') {
    const counts = new Map<string, number>();
    for (const v of current) {
      const k = String(v);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return categoricalDrift(feature.name, categoryMap(feature), feature.count, counts, missing, { ...fc, method }, s);
  }
  method ??= feature.count <= s.referenceSizeLimit ? 'ks' : 'wasserstein';
  const threshold = fc.threshold ?? (method === 'ks' ? s.pValueThreshold : s.wassersteinThreshold);
  const numeric = feature.numeric;
  const edges = numeric?.histogram.edges ?? [0, 0];
  const binned = histogramCounts(current, edges);
  const base = {
    name: feature.name,
    kind: 'numeric' as const,
    method,
    threshold,
    referenceCount: feature.count,
    currentCount: n,
    currentMissing: missing,
    distribution: {
      type: 'histogram' as const,
      edges,
      reference: numeric?.histogram.counts ?? [0],
      current: binned.counts,
      currentBelow: binned.below,
      currentAbove: binned.above,
    },
  };
  if (numeric === undefined || n === 0) return { ...base, status: 'skipped', statistic: null, pValue: null, distance: null, drifted: false };
  const reference = sortedSample(numeric.sample);
  if (method === 'ks') {
    const ks = ks2Samp(reference, current, 'auto', true);
    return { ...base, status: 'tested', statistic: ks.statistic, pValue: ks.pValue, distance: null, drifted: ks.pValue < threshold };
  }
  const w = wassersteinDistance(reference, current, true);
  const normalized = w / Math.max(numeric.std, s.wassersteinStdFloor);
  return { ...base, status: 'tested', statistic: w, pValue: null, distance: normalized, drifted: normalized >= threshold };
}

function categoricalDrift(
  name: string,
  reference: CategoryCounts,
  referenceCount: number,
  current: CategoryCounts,
  missing: number,
  fc: FeatureDriftConfig,
  s: Settings,
): ColumnDrift {
  const method = fc.method ?? (referenceCount <= s.referenceSizeLimit ? 'chi-squared' : 'jensen-shannon');
  const threshold = fc.threshold ?? (method === 'chi-squared' ? s.pValueThreshold : s.jensenShannonThreshold);
  const categories = [...reference.keys()];
  for (const k of current.keys()) if (!reference.has(k)) categories.push(k);
  let currentCount = 0;
  for (const c of current.values()) currentCount += c;
  const base = {
    name,
    kind: 'categorical' as const,
    method,
    threshold,
    referenceCount,
    currentCount,
    currentMissing: missing,
    distribution: {
      type: 'categories' as const,
      categories,
      reference: categories.map((k) => reference.get(k) ?? 0),
      current: categories.map((k) => current.get(k) ?? 0),
    },
  };
  if (currentCount === 0 || referenceCount === 0) return { ...base, status: 'skipped', statistic: null, pValue: null, distance: null, drifted: false };
  if (method === 'chi-squared') {
    const chi = categoricalChiSquare(reference, current);
    return {
      ...base,
      status: 'tested',
      statistic: Number.isFinite(chi.statistic) ? chi.statistic : null,
      pValue: chi.pValue,
      distance: null,
      drifted: chi.pValue < threshold,
    };
  }
  const js = categoricalJensenShannon(reference, current, s.jensenShannonBase);
  return { ...base, status: 'tested', statistic: js, pValue: null, distance: js, drifted: js >= threshold };
}

/** Distinct values of reference ∪ window for a numeric feature that kept its frequency table. */
function unionDistinct(feature: FeatureBaseline, currentSorted: Float64Array): number {
  const reference = new Set((feature.categories ?? []).map((c) => Number(c.value)));
  let union = reference.size;
  for (let i = 0; i < currentSorted.length; i++) {
    const v = currentSorted[i];
    if ((i === 0 || v !== currentSorted[i - 1]) && !reference.has(v)) union++;
  }
  return union;
}

function categoryMap(feature: FeatureBaseline): Map<string, number> {
  return new Map((feature.categories ?? []).map((c) => [c.value, c.count]));
}

/** The baseline sample as a sorted Float64Array, converted once per sample array. */
const SAMPLES = new WeakMap<readonly number[], Float64Array>();
function sortedSample(sample: readonly number[]): Float64Array {
  let out = SAMPLES.get(sample);
  if (out === undefined) {
    out = Float64Array.from(sample).sort();
    SAMPLES.set(sample, out);
  }
  return out;
}

function methodFits(feature: FeatureBaseline, method: DriftMethod): boolean {
  if (method === 'ks' || method === 'wasserstein') return feature.kind === 'numeric' && feature.numeric !== undefined;
  return feature.categories !== undefined;
}

function needs(method: DriftMethod): string {
  return method === 'ks' || method === 'wasserstein' ? 'numeric sample (it is categorical, or has no values)' : 'frequency table (too many distinct values)';
}

function checkFeatureConfig(fc: FeatureDriftConfig, at: string): void {
  if (fc.method !== undefined && !METHODS.includes(fc.method)) {
    throw new Error(`drift config: ${at}.method is ${JSON.stringify(fc.method)}; use one of ${METHODS.join(', ')}`);
  }
  if (fc.threshold !== undefined && !(Number.isFinite(fc.threshold) && fc.threshold > 0)) {
    throw new Error(`drift config: ${at}.threshold must be a finite number > 0, got ${fc.threshold}`);
  }
  if ((fc.method === 'ks' || fc.method === 'chi-squared') && fc.threshold !== undefined && fc.threshold > 1) {
    throw new Error(`drift config: ${at}.threshold is a p-value for '${fc.method}' and must be at most 1, got ${fc.threshold}`);
  }
}

function settingsOf(c: DriftConfig): Settings {
  const s: Settings = {
    referenceSizeLimit: c.referenceSizeLimit ?? 1000,
    categoricalDistinctLimit: c.categoricalDistinctLimit ?? 5,
    pValueThreshold: c.pValueThreshold ?? 0.05,
    wassersteinThreshold: c.wassersteinThreshold ?? 0.1,
    jensenShannonThreshold: c.jensenShannonThreshold ?? 0.1,
    jensenShannonBase: c.jensenShannonBase,
    wassersteinStdFloor: c.wassersteinStdFloor ?? WASSERSTEIN_STD_FLOOR,
    datasetDriftShare: c.datasetDriftShare ?? 0.5,
  };
  const check = (name: string, ok: boolean, allowed: string, got: unknown) => {
    if (!ok) throw new Error(`drift config: ${name} must be ${allowed}, got ${String(got)}`);
  };
  check('referenceSizeLimit', Number.isInteger(s.referenceSizeLimit) && s.referenceSizeLimit >= 0, 'an integer >= 0', s.referenceSizeLimit);
  check('categoricalDistinctLimit', Number.isInteger(s.categoricalDistinctLimit) && s.categoricalDistinctLimit >= 0, 'an integer >= 0', s.categoricalDistinctLimit);
  check('pValueThreshold', s.pValueThreshold > 0 && s.pValueThreshold <= 1, 'in (0, 1]', s.pValueThreshold);
  check('wassersteinThreshold', Number.isFinite(s.wassersteinThreshold) && s.wassersteinThreshold > 0, 'a finite number > 0', s.wassersteinThreshold);
  check('jensenShannonThreshold', Number.isFinite(s.jensenShannonThreshold) && s.jensenShannonThreshold > 0, 'a finite number > 0', s.jensenShannonThreshold);
  check('jensenShannonBase', s.jensenShannonBase === undefined || (s.jensenShannonBase > 0 && s.jensenShannonBase !== 1), 'a number > 0 other than 1', s.jensenShannonBase);
  check('wassersteinStdFloor', s.wassersteinStdFloor > 0 && Number.isFinite(s.wassersteinStdFloor), 'a finite number > 0', s.wassersteinStdFloor);
  check('datasetDriftShare', s.datasetDriftShare > 0 && s.datasetDriftShare <= 1, 'in (0, 1]', s.datasetDriftShare);
  return s;
}
