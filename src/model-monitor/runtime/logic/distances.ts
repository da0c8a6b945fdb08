/**
 * Distances and the chi-squared goodness-of-fit test used by the drift tests, each matching its
 * SciPy counterpart (python-tests/test_drift_statistics.py compares them on randomized inputs):
 * - `wassersteinDistance`: `scipy.stats.wasserstein_distance(u, v)` (unweighted samples);
 * - `normalizedWassersteinDistance`: Evidently's "Wasserstein distance (normed)";
 * - `jensenShannonDistance`: `scipy.spatial.distance.jensenshannon(p, q, base)`;
 * - `chiSquareTest`: `scipy.stats.chisquare(f_obs, f_exp)`.
 * `simple-statistics` has none of these in SciPy's definitions (its chi-squared test looks the
 * p-value up in a table), so they are written here; each is a few lines over `special.ts`.
 */
import { sortedCopy } from './ks';
import { chiSquaredSurvival, CompensatedSum } from './special';

/**
 * The first Wasserstein (earth mover's) distance between the empirical distributions of two
 * samples: ∫ |F_u(x) − F_v(x)| dx (`scipy.stats.wasserstein_distance(u, v)`). Both samples must
 * be non-empty and finite; `sorted` says that both are already ascending.
 */
export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>, sorted = false): number {
  const x = sorted ? u : sortedCopy(u, 'u');
  const y = sorted ? v : sortedCopy(v, 'v');
  const nu = x.length;
  const nv = y.length;
  if (nu === 0 || nv === 0) throw new Error(`wassersteinDistance: both samples must be non-empty (got ${nu} and ${nv} values)`);
  const total = new CompensatedSum();
  let i = 0;
  let j = 0;
  // Walk the pooled values in order; between two consecutive pooled values both ECDFs are flat.
  let current = Math.min(x[0], y[0]);
  while (i < nu || j < nv) {
    while (i < nu && x[i] <= current) i++;
    while (j < nv && y[j] <= current) j++;
    if (i >= nu && j >= nv) break;
    const next = j >= nv || (i < nu && x[i] <= y[j]) ? x[i] : y[j];
    total.add(Math.abs(i / nu - j / nv) * (next - current));
    current = next;
  }
  return total.value;
}

/** Evidently's floor for the reference standard deviation of the normalized Wasserstein distance. */
export const WASSERSTEIN_STD_FLOOR = 0.001;

/**
 * Evidently's normalized Wasserstein distance: W1(reference, current) / max(σ, floor), σ the
 * population standard deviation of the reference (NumPy's `np.std`, ddof = 0) and floor 0.001 by
 * default, as Evidently has it (`norm = max(np.std(reference_data), 0.001)`). The floor keeps a
 * constant reference (σ = 0) meaningful: the distance is then the mean absolute shift of the
 * current values from the constant, in thousandths, so any visible change counts as drift and an
 * unchanged constant column scores 0.
 *
 * `referenceStd` lets a caller pass σ of the whole reference when `reference` is a sample of it
 * (the baseline keeps a bounded sample but σ of every row).
 */
export function normalizedWassersteinDistance(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  referenceStd?: number,
  stdFloor: number = WASSERSTEIN_STD_FLOOR,
): number {
  const std = referenceStd ?? populationStd(reference);
  return wassersteinDistance(reference, current) / Math.max(std, stdFloor);
}

/** Population standard deviation (ddof = 0), two-pass. */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  const mean = new CompensatedSum();
  for (let i = 0; i < n; i++) mean.add(values[i]);
  const m = mean.value / n;
  const ss = new CompensatedSum();
  for (let i = 0; i < n; i++) ss.add((values[i] - m) ** 2);
  return Math.sqrt(ss.value / n);
}

/**
 * The Jensen–Shannon distance between two discrete distributions given as non-negative weights
 * over the same categories (`scipy.spatial.distance.jensenshannon(p, q, base)`): each is
 * normalized to sum to 1, then √((KL(p‖m) + KL(q‖m)) / 2) with m = (p + q) / 2, in nats by
 * default or in the given base (base 2 gives a value in [0, 1]). A sum that rounds below 0 is
 * taken as 0 (SciPy would return NaN there).
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[], base?: number): number {
  if (p.length !== q.length) throw new Error(`jensenShannonDistance: p has ${p.length} categories, q has ${q.length}; they must be aligned`);
  if (base !== undefined && !(base > 0 && base !== 1)) throw new Error(`jensenShannonDistance: base must be > 0 and != 1, got ${base}`);
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] >= 0 && q[i] >= 0 && Number.isFinite(p[i]) && Number.isFinite(q[i]))) {
      throw new Error(`jensenShannonDistance: weights must be finite and >= 0 (category ${i})`);
    }
    sp += p[i];
    sq += q[i];
  }
  if (!(sp > 0 && sq > 0)) throw new Error('jensenShannonDistance: both distributions need a positive total weight');
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] / sp;
    const qi = q[i] / sq;
    const mi = (pi + qi) / 2;
    if (pi > 0) left += pi * Math.log(pi / mi);
    if (qi > 0) right += qi * Math.log(qi / mi);
  }
  let js = left + right;
  if (base !== undefined) js /= Math.log(base);
  return Math.sqrt(Math.max(js, 0) / 2);
}

/** Counts per category, as the drift tests take them. */
export type CategoryCounts = ReadonlyMap<string, number>;

/**
 * The two count tables aligned over the union of their categories (first the reference's in its
 * order, then categories seen only in the current window), as Evidently aligns them.
 */
export function alignCategories(reference: CategoryCounts, current: CategoryCounts): { keys: string[]; reference: number[]; current: number[] } {
  const keys = [...reference.keys()];
  for (const k of current.keys()) if (!reference.has(k)) keys.push(k);
  return { keys, reference: keys.map((k) => reference.get(k) ?? 0), current: keys.map((k) => current.get(k) ?? 0) };
}

/** The result of a chi-squared goodness-of-fit test. */
export interface ChiSquareResult {
  readonly statistic: number;
  readonly pValue: number;
  readonly degreesOfFreedom: number;
}

/**
 * Pearson's chi-squared goodness-of-fit test of observed counts against expected counts
 * (`scipy.stats.chisquare(f_obs, f_exp)`): Σ (o − e)² / e with k − 1 degrees of freedom. A category
 * expected 0 but observed makes the statistic infinite and p 0, as in SciPy. With a single category
 * there is nothing to test: statistic 0, p 1 (SciPy returns NaN there). The two totals must agree
 * to a relative 1e-8, as SciPy requires.
 */
export function chiSquareTest(observed: readonly number[], expected: readonly number[]): ChiSquareResult {
  const k = observed.length;
  if (k !== expected.length || k === 0) {
    throw new Error(`chiSquareTest: observed (${k}) and expected (${expected.length}) must have the same, non-zero length`);
  }
  let so = 0;
  let se = 0;
  for (let i = 0; i < k; i++) {
    if (!(observed[i] >= 0 && expected[i] >= 0 && Number.isFinite(observed[i]) && Number.isFinite(expected[i]))) {
      throw new Error(`chiSquareTest: counts must be finite and >= 0 (category ${i})`);
    }
    so += observed[i];
    se += expected[i];
  }
  if (Math.abs(so - se) / Math.min(so, se) > 1e-8) {
    throw new Error(`chiSquareTest: observed total ${so} and expected total ${se} differ by more than a relative 1e-8`);
  }
  if (k === 1) return { statistic: 0, pValue: 1, degreesOfFreedom: 0 };
  let stat = 0;
  for (let i = 0; i < k; i++) {
    const diff = observed[i] - expected[i];
    if (diff === 0) continue;
    stat += (diff * diff) / expected[i];
  }
  return { statistic: stat, pValue: chiSquaredSurvival(stat, k - 1), degreesOfFreedom: k - 1 };
}

/**
 * Evidently's chi-squared drift test for a categorical column: the current counts against the
 * reference proportions scaled to the current total, over the union of categories.
 */
export function categoricalChiSquare(reference: CategoryCounts, current: CategoryCounts): ChiSquareResult {
  const aligned = alignCategories(reference, current);
  const refTotal = sum(aligned.reference);
  const curTotal = sum(aligned.current);
  if (refTotal === 0 || curTotal === 0) throw new Error('categoricalChiSquare: both tables need at least one count');
  const scale = curTotal / refTotal;
  return chiSquareTest(aligned.current, aligned.reference.map((c) => c * scale));
}

/** Jensen–Shannon distance between two count tables over the union of their categories. */
export function categoricalJensenShannon(reference: CategoryCounts, current: CategoryCounts, base?: number): number {
  const aligned = alignCategories(reference, current);
  return jensenShannonDistance(aligned.reference, aligned.current, base);
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
