/**
 * Reading a baseline document back (from the lake, where it is outside input): `parseBaseline`
 * checks every field and its consistency (counts add up, the sample is sorted and as large as the
 * sampling allows, histograms match their edges) and returns a fresh object holding only the
 * fields of schema version 1. Error messages give a JSON pointer and what was expected, never a
 * value from the document.
 */
import {
  BASELINE_SCHEMA_VERSION, CategoryCount, DriftBaseline, FeatureBaseline, FeatureKind, Histogram, NumericSummary, PredictionBaseline, Quantile,
} from './baseline';

/** Thrown when a baseline document is not a valid schema-version-1 baseline. */
export class InvalidBaselineError extends Error {
  public constructor(pointer: string, expected: string) {
    super(`invalid drift baseline: ${pointer || '(document)'} must be ${expected}`);
    this.name = 'InvalidBaselineError';
  }
}

type Json = Record<string, unknown>;

/** Check and copy a parsed JSON baseline document. */
export function parseBaseline(doc: unknown): DriftBaseline {
  const root = object(doc, '');
  if (root.schemaVersion !== BASELINE_SCHEMA_VERSION) {
    throw new InvalidBaselineError('/schemaVersion', `${BASELINE_SCHEMA_VERSION} (this code reads schema version ${BASELINE_SCHEMA_VERSION} only)`);
  }
  const modelSha256 = string(root.modelSha256, '/modelSha256');
  if (!/^[0-9a-f]{64}$/.test(modelSha256)) throw new InvalidBaselineError('/modelSha256', '64 lower-case hex digits');
  const rowCount = count(root.rowCount, '/rowCount');
  const s = object(root.sampling, '/sampling');
  if (s.method !== 'reservoir') throw new InvalidBaselineError('/sampling/method', "'reservoir'");
  const sampling = {
    method: 'reservoir' as const,
    maxSize: count(s.maxSize, '/sampling/maxSize', 1),
    seed: count(s.seed, '/sampling/seed'),
    categoryLimit: count(s.categoryLimit, '/sampling/categoryLimit'),
  };
  const rawFeatures = array(root.features, '/features');
  if (rawFeatures.length === 0) throw new InvalidBaselineError('/features', 'a non-empty array');
  const names = new Set<string>();
  const features = rawFeatures.map((f, i) => {
    const feature = parseFeature(f, `/features/${i}`, rowCount, sampling.maxSize);
    if (names.has(feature.name)) throw new InvalidBaselineError(`/features/${i}/name`, 'unique among the features');
    names.add(feature.name);
    return feature;
  });
  return { schemaVersion: BASELINE_SCHEMA_VERSION, modelSha256, rowCount, sampling, features, prediction: parsePrediction(root.prediction) };
}

function parseFeature(raw: unknown, at: string, rowCount: number, maxSize: number): FeatureBaseline {
  const f = object(raw, at);
  const name = string(f.name, `${at}/name`);
  if (name.length === 0) throw new InvalidBaselineError(`${at}/name`, 'a non-empty string');
  if (f.kind !== 'numeric' && f.kind !== 'categorical') throw new InvalidBaselineError(`${at}/kind`, "'numeric' or 'categorical'");
  const kind: FeatureKind = f.kind;
  const n = count(f.count, `${at}/count`);
  const missing = count(f.missing, `${at}/missing`);
  if (n + missing !== rowCount) throw new InvalidBaselineError(`${at}/missing`, 'rowCount − count');
  const distinct = count(f.distinct, `${at}/distinct`);
  if (distinct > n || (n > 0 && distinct === 0)) throw new InvalidBaselineError(`${at}/distinct`, 'between 1 and count (0 when count is 0)');
  const categories = f.categories === undefined ? undefined : parseCategories(f.categories, `${at}/categories`, n);
  if (categories !== undefined && categories.length !== distinct) throw new InvalidBaselineError(`${at}/categories`, 'one entry per distinct value');
  if (kind === 'categorical') {
    if (categories === undefined) throw new InvalidBaselineError(`${at}/categories`, 'present for a categorical feature');
    if (f.numeric !== undefined) throw new InvalidBaselineError(`${at}/numeric`, 'absent for a categorical feature');
    return { name, kind, count: n, missing, distinct, categories };
  }
  if (n === 0) {
    if (f.numeric !== undefined) throw new InvalidBaselineError(`${at}/numeric`, 'absent when count is 0');
    return { name, kind, count: n, missing, distinct };
  }
  const numeric = parseNumeric(f.numeric, `${at}/numeric`, n, maxSize);
  const feature = { name, kind, count: n, missing, distinct, numeric };
  return categories === undefined ? feature : { ...feature, categories };
}

function parseNumeric(raw: unknown, at: string, n: number, maxSize: number): NumericSummary {
  const o = object(raw, at);
  const mean = finite(o.mean, `${at}/mean`);
  const std = finite(o.std, `${at}/std`);
  if (std < 0) throw new InvalidBaselineError(`${at}/std`, '>= 0');
  const min = finite(o.min, `${at}/min`);
  const max = finite(o.max, `${at}/max`);
  if (min > max) throw new InvalidBaselineError(`${at}/max`, '>= min');
  const quantiles: Quantile[] = array(o.quantiles, `${at}/quantiles`).map((q, i) => {
    const qo = object(q, `${at}/quantiles/${i}`);
    const level = finite(qo.level, `${at}/quantiles/${i}/level`);
    if (level < 0 || level > 1) throw new InvalidBaselineError(`${at}/quantiles/${i}/level`, 'within [0, 1]');
    return { level, value: finite(qo.value, `${at}/quantiles/${i}/value`) };
  });
  const h = object(o.histogram, `${at}/histogram`);
  const edges = array(h.edges, `${at}/histogram/edges`).map((e, i) => finite(e, `${at}/histogram/edges/${i}`));
  if (edges.length < 2 || edges.some((e, i) => i > 0 && e < edges[i - 1])) {
    throw new InvalidBaselineError(`${at}/histogram/edges`, 'at least 2 non-decreasing numbers');
  }
  const counts = array(h.counts, `${at}/histogram/counts`).map((c, i) => count(c, `${at}/histogram/counts/${i}`));
  if (counts.length !== edges.length - 1 || counts.reduce((a, b) => a + b, 0) !== n) {
    throw new InvalidBaselineError(`${at}/histogram/counts`, 'one count per bin, adding up to count');
  }
  const histogram: Histogram = { edges, counts };
  const sample = array(o.sample, `${at}/sample`).map((v, i) => finite(v, `${at}/sample/${i}`));
  if (sample.length !== Math.min(n, maxSize)) throw new InvalidBaselineError(`${at}/sample`, 'min(count, sampling.maxSize) values');
  if (sample.some((v, i) => i > 0 && v < sample[i - 1])) throw new InvalidBaselineError(`${at}/sample`, 'in ascending order');
  return { mean, std, min, max, quantiles, histogram, sample };
}

function parseCategories(raw: unknown, at: string, total: number): CategoryCount[] {
  const seen = new Set<string>();
  let sum = 0;
  const out = array(raw, at).map((c, i) => {
    const o = object(c, `${at}/${i}`);
    const value = string(o.value, `${at}/${i}/value`);
    if (seen.has(value)) throw new InvalidBaselineError(`${at}/${i}/value`, 'unique within the table');
    seen.add(value);
    const n = count(o.count, `${at}/${i}/count`, 1);
    sum += n;
    return { value, count: n };
  });
  if (sum !== total) throw new InvalidBaselineError(at, 'counts adding up to the count of values');
  return out;
}

function parsePrediction(raw: unknown): PredictionBaseline {
  const o = object(raw, '/prediction');
  const n = count(o.count, '/prediction/count');
  const categories = parseCategories(o.categories, '/prediction/categories', n);
  if (o.labeled === undefined) {
    if (o.accuracy !== undefined) throw new InvalidBaselineError('/prediction/accuracy', 'absent without labeled');
    return { count: n, categories };
  }
  const labeled = count(o.labeled, '/prediction/labeled');
  if (labeled > n) throw new InvalidBaselineError('/prediction/labeled', '<= count');
  if (o.accuracy === undefined) {
    if (labeled > 0) throw new InvalidBaselineError('/prediction/accuracy', 'present when labeled > 0');
    return { count: n, categories, labeled };
  }
  const accuracy = finite(o.accuracy, '/prediction/accuracy');
  if (labeled === 0 || accuracy < 0 || accuracy > 1) throw new InvalidBaselineError('/prediction/accuracy', 'within [0, 1], with labeled > 0');
  return { count: n, categories, labeled, accuracy };
}

function object(v: unknown, at: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidBaselineError(at, 'an object');
  return v as Json;
}

function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new InvalidBaselineError(at, 'an array');
  return v;
}

function string(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new InvalidBaselineError(at, 'a string');
  return v;
}

function finite(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidBaselineError(at, 'a finite number');
  return v;
}

function count(v: unknown, at: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidBaselineError(at, `an integer >= ${min}`);
  return v;
}
