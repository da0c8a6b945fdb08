/**
 * Special functions the drift statistics need: log-gamma, the regularized upper incomplete gamma
 * function and the chi-squared survival function, plus a compensated sum.
 *
 * Written here rather than taken from a library: the only well-kept npm candidates are
 * `@stdlib/math-base-special-gammainc` and friends, each a separate package with its own
 * dependency tree; a handler's libraries are devDependencies declared in `.projenrc.ts`, and these
 * three functions are short, classical (Lanczos; Numerical Recipes' series and Lentz continued
 * fraction) and checked against SciPy (`scipy.special.gammaincc`, `scipy.stats.chi2.sf`) in
 * python-tests/test_drift_statistics.py.
 */

/** Lanczos coefficients, g = 7, n = 9 (Godfrey): relative error about 1e-15 for x > 0. */
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log Γ(x) for x > 0 (NaN otherwise). */
export function logGamma(x: number): number {
  if (!(x > 0)) return NaN;
  if (x === Infinity) return Infinity;
  if (x < 0.5) {
    // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPS = 1e-16;
const TINY = 1e-300;
const MAX_ITERATIONS = 1_000_000;

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), for a > 0 and x ≥ 0
 * (`scipy.special.gammaincc`). Series for x < a + 1 (Q = 1 − P), continued fraction otherwise.
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return clamp01(1 - sum * Math.exp(logPrefix));
  }
  // Modified Lentz for the continued fraction of Γ(a, x).
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return clamp01(Math.exp(logPrefix) * h);
}

/** P(X ≥ x) for a chi-squared variable with `df` > 0 degrees of freedom (`scipy.stats.chi2.sf`). */
export function chiSquaredSurvival(x: number, df: number): number {
  if (!(df > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

/** Clamp to [0, 1] (NaN stays NaN). */
export function clamp01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** x · 2^e without overflowing or underflowing the factor on the way (C's ldexp). */
export function ldexp(x: number, e: number): number {
  let r = x;
  let rest = e;
  while (rest > 1000) { r *= 2 ** 1000; rest -= 1000; }
  while (rest < -1000) { r *= 2 ** -1000; rest += 1000; }
  return r * 2 ** rest;
}

/** Σ values with Neumaier's compensation (as accurate as NumPy's pairwise sum, or more). */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  public add(v: number): void {
    const t = this.sum + v;
    if (Math.abs(this.sum) >= Math.abs(v)) this.compensation += (this.sum - t) + v;
    else this.compensation += (v - t) + this.sum;
    this.sum = t;
  }

  public get value(): number {
    return this.sum + this.compensation;
  }
}

/** NumPy's `np.round` for one number: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
