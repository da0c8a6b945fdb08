/**
 * The two-sample Kolmogorov–Smirnov test, two-sided, as SciPy computes it
 * (`scipy.stats.ks_2samp(a, b, alternative='two-sided', method=...)`, SciPy 1.17).
 *
 * Written here because no well-kept npm library has it: `simple-statistics` has no two-sample KS
 * test, and `@stdlib/stats-kstest` is one-sample only. The algorithms are the published ones SciPy
 * uses, so the results agree with SciPy to within rounding (python-tests/test_drift_statistics.py
 * compares them on randomized inputs):
 * - statistic: D = max |F_a(x) − F_b(x)| over the pooled values, each ECDF counting the values
 *   ≤ x, so ties between and within the samples are handled exactly as SciPy does;
 * - exact p-value (method 'exact', and 'auto' while max(n_a, n_b) ≤ 10,000): P(D ≥ d) under H0
 *   by counting lattice paths: for n_a = n_b the closed alternating sum of Hodges (1958)
 *   evaluated in Horner form, otherwise the "inside" recursion of Hodges in Viehmann's
 *   numerically stable form that computes 1 − p directly (Viehmann 2021, arXiv:2102.08037);
 *   D is first rounded to the lattice, h / lcm(n_a, n_b);
 * - asymptotic p-value (method 'asymp', 'auto' above 10,000, or when the exact computation fails):
 *   P(D_en ≥ d) of the one-sample distribution with en = round(n_a n_b / (n_a + n_b))
 *   (`kolmogorovSurvival`).
 */
import { kolmogorovSurvival } from './kolmogorov';
import { clamp01, roundHalfEven } from './special';

/** How the p-value is computed: as SciPy's `method` argument. */
export type KsMethod = 'auto' | 'exact' | 'asymp';

/** The result of a two-sample Kolmogorov–Smirnov test. */
export interface KsResult {
  /** D, the largest distance between the two empirical CDFs, in [0, 1]. */
  readonly statistic: number;
  /** P(D ≥ statistic) under the hypothesis that both samples come from one distribution. */
  readonly pValue: number;
  /** The method actually used ('exact' may fall back to 'asymp', as in SciPy). */
  readonly method: 'exact' | 'asymp';
}

/** Above this sample size method 'auto' is asymptotic (SciPy's MAX_AUTO_N). */
export const KS_MAX_EXACT_AUTO_N = 10000;
const INT32_MAX = 2147483647;

/**
 * Two-sided two-sample Kolmogorov–Smirnov test (`scipy.stats.ks_2samp(a, b, method=method)`).
 * Both samples must be non-empty and finite. `sorted` says that both are already in ascending
 * order (they are then not copied).
 */
export function ks2Samp(a: ArrayLike<number>, b: ArrayLike<number>, method: KsMethod = 'auto', sorted = false): KsResult {
  const x = sorted ? a : sortedCopy(a, 'a');
  const y = sorted ? b : sortedCopy(b, 'b');
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new Error(`ks2Samp: both samples must be non-empty (got ${n1} and ${n2} values)`);
  let d = ksStatisticSorted(x, y);

  const g = gcd(n1, n2);
  let mode: 'exact' | 'asymp';
  if (method === 'auto') mode = Math.max(n1, n2) <= KS_MAX_EXACT_AUTO_N ? 'exact' : 'asymp';
  else if (method === 'exact') mode = n1 / g >= INT32_MAX / (n2 / g) ? 'asymp' : 'exact';
  else mode = 'asymp';

  let prob = NaN;
  if (mode === 'exact') {
    const exact = exactTwoSided(n1, n2, g, d);
    d = exact.d;
    if (exact.ok) prob = exact.prob;
    else mode = 'asymp';
  }
  if (mode === 'asymp') {
    const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
    const en = (m * n) / (m + n);
    prob = kolmogorovSurvival(roundHalfEven(en), d);
  }
  return { statistic: d, pValue: clamp01(prob), method: mode };
}

/** D for two samples already sorted in ascending order (ties as SciPy: ECDFs count values ≤ x). */
export function ksStatisticSorted(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n1 = x.length;
  const n2 = y.length;
  let i = 0;
  let j = 0;
  let maxDiff = 0;
  let minDiff = 0;
  while (i < n1 || j < n2) {
    // The next pooled value, and every copy of it in both samples.
    const v = j >= n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j];
    while (i < n1 && x[i] <= v) i++;
    while (j < n2 && y[j] <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  return minS > maxDiff ? minS : maxDiff;
}

function exactTwoSided(n1: number, n2: number, g: number, d: number): { ok: boolean; d: number; prob: number } {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const dl = h / lcm;
  if (h === 0) return { ok: true, d: dl, prob: 1 };
  const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
  return { ok: Number.isFinite(prob) && prob >= 0 && prob <= 1, d: dl, prob };
}

/**
 * P(D_{n,n} ≥ h/n): the share of lattice paths that touch x − y = ±h,
 * 2 (A0 − A0A1 + A0A1A2 − …) with A_k ratios of binomial coefficients, in Horner form.
 */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * The share of monotone lattice paths from (0, 0) to (m, n) that leave the band
 * |x/m − y/n| < h / lcm(m, n), column by column over a sliding window, computed directly as the
 * complement (Viehmann's recursion), so no large binomial coefficient ever appears.
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const a = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj && j < lenA; j++) a[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    const shift = minj - lastminj;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (a[jj + shift] * i + val * j) / (i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      const end = Math.min(maxj - minj + (lastlen - curlen), lenA);
      for (let jj = maxj - minj; jj < end; jj++) a[jj] = 1;
    }
  }
  return a[maxj - minj - 1];
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** An ascending Float64Array copy; throws on a value that is not a finite number. */
export function sortedCopy(values: ArrayLike<number>, label: string): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`${label}[${i}] is not a finite number: drop missing values before testing`);
    }
    out[i] = v;
  }
  return out.sort();
}
