import * as fc from 'fast-check';
import { checkProperty } from './property-seed';
import {
  categoricalChiSquare, categoricalJensenShannon, chiSquaredSurvival, chiSquareTest, durbinCdf, jensenShannonDistance, kolmogorovCdf,
  kolmogorovSurvival, ks2Samp, logGamma, normalizedWassersteinDistance, pomeranzCdf, regularizedGammaQ, roundHalfEven, SeededRandom,
  smirnovSurvival, wassersteinDistance,
} from '../../src/model-monitor/runtime/logic';

const close = (actual: number, expected: number, tol = 1e-12) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol);

describe('two-sample Kolmogorov–Smirnov', () => {
  test('hand-computed: D and the exact p-value by counting paths', () => {
    // a = [1, 2], b = [3]: the ECDFs differ by 1 at x = 2, so D = 1. Of the C(3, 1) = 3 orderings of
    // the pooled sample, only "b above both a" and "b below both a" reach D = 1: p = 2/3.
    const r = ks2Samp([1, 2], [3]);
    expect(r.statistic).toBe(1);
    close(r.pValue, 2 / 3);
    expect(r.method).toBe('exact');
    // n = m = 2, D = 1: only aabb and bbaa of the 6 orderings: p = 1/3.
    close(ks2Samp([0, 1], [5, 6]).pValue, 1 / 3);
  });

  test('ties count all equal values at once, as SciPy does', () => {
    // a = [1, 1, 2], b = [1, 2, 2]: at 1, F_a = 2/3 and F_b = 1/3; at 2 both are 1. D = 1/3.
    close(ks2Samp([1, 1, 2], [1, 2, 2]).statistic, 1 / 3);
    expect(ks2Samp([4, 4, 4], [4, 4]).statistic).toBe(0);
    expect(ks2Samp([4, 4, 4], [4, 4]).pValue).toBe(1);
  });

  // Pinned SciPy 1.17.1 values, each from the Python one-liner beside it.
  test.each([
    // python -c "from scipy import stats; print(stats.ks_2samp([1,2,3,4,5],[2.5,3.5,6,7]))"
    [[1, 2, 3, 4, 5], [2.5, 3.5, 6, 7], 'auto', 0.5, 0.5634920634920635],
    // python -c "from scipy import stats; print(stats.ks_2samp([1,1,2,2,3],[2,3,3,4,4]))"
    [[1, 1, 2, 2, 3], [2, 3, 3, 4, 4], 'auto', 0.6, 0.35714285714285715],
    // python -c "from scipy import stats; print(stats.ks_2samp([0.1*i for i in range(40)],[0.1*i+0.35 for i in range(25)]))"
    [Array.from({ length: 40 }, (_, i) => 0.1 * i), Array.from({ length: 25 }, (_, i) => 0.1 * i + 0.35), 'auto', 0.3, 0.1013339946846],
    // python -c "from scipy import stats; print(stats.ks_2samp([i/12000 for i in range(12000)],[0.05+i/50 for i in range(50)]))"
    [Array.from({ length: 12000 }, (_, i) => i / 12000), Array.from({ length: 50 }, (_, i) => 0.05 + i / 50), 'auto', 0.05008333333333337, 0.998997611024847],
    // python -c "from scipy import stats; print(stats.ks_2samp([(i*7)%101 for i in range(101)],[(i*7)%101+0.5 for i in range(60)],method='asymp'))"
    [Array.from({ length: 101 }, (_, i) => (i * 7) % 101), Array.from({ length: 60 }, (_, i) => ((i * 7) % 101) + 0.5), 'asymp', 0.04158415841584159, 0.9999990183570109],
  ] as const)('pinned SciPy value %#', (a, b, method, statistic, pValue) => {
    const r = ks2Samp(a, b, method);
    close(r.statistic, statistic, 1e-15);
    close(r.pValue, pValue, 1e-9);
  });

  test('above 10,000 values method auto is asymptotic, as in SciPy', () => {
    expect(ks2Samp(Array.from({ length: 10001 }, (_, i) => i), [3]).method).toBe('asymp');
    expect(ks2Samp(Array.from({ length: 10000 }, (_, i) => i), [3]).method).toBe('exact');
  });

  test('fails if a sample is empty or holds a value that is not finite', () => {
    expect(() => ks2Samp([], [1])).toThrow('both samples must be non-empty (got 0 and 1 values)');
    expect(() => ks2Samp([1, NaN], [1])).toThrow('a[1] is not a finite number: drop missing values before testing');
  });

  const sample = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 60 });
  test('property: D and p lie in [0, 1], and the test is symmetric in its samples', () => {
    checkProperty('ks2Samp symmetry', fc.property(sample, sample, (a, b) => {
      const ab = ks2Samp(a, b);
      const ba = ks2Samp(b, a);
      expect(ab.statistic).toBeGreaterThanOrEqual(0);
      expect(ab.statistic).toBeLessThanOrEqual(1);
      expect(ab.pValue).toBeGreaterThanOrEqual(0);
      expect(ab.pValue).toBeLessThanOrEqual(1);
      expect(ba.statistic).toBe(ab.statistic);
      close(ba.pValue, ab.pValue, 1e-12);
    }));
  });

  test('property: identical samples give D = 0 and p = 1; order and a common shift change nothing', () => {
    checkProperty('ks2Samp identity/order', fc.property(sample, sample, fc.integer({ min: -1000, max: 1000 }), (a, b, shift) => {
      expect(ks2Samp(a, [...a].reverse())).toEqual({ statistic: 0, pValue: 1, method: 'exact' });
      const r = ks2Samp(a, b);
      expect(ks2Samp([...b].reverse(), [...a].sort((x, y) => y - x)).statistic).toBe(r.statistic);
      expect(ks2Samp(a.map((v) => v + shift), b.map((v) => v + shift))).toEqual(r);
    }));
  });
});

describe('Kolmogorov distribution', () => {
  test.each([
    // python -c "from scipy import stats; print(stats.kstwo.sf(0.05, 500))"  (n > 140, Durbin)
    [500, 0.05, 0.15866260223815387],
    // python -c "from scipy import stats; print(stats.kstwo.sf(0.2, 30))"  (n x² in (0.75, 4]: Pomeranz)
    [30, 0.2, 0.15796916101547398],
    // python -c "from scipy import stats; print(stats.kstwo.sf(0.1, 30))"  (n x² ≤ 0.754693: Durbin)
    [30, 0.1, 0.8960782680050898],
    // python -c "from scipy import stats; print(stats.kstwo.sf(0.6, 10))"  (x ≥ 0.5: 2 × smirnov)
    [10, 0.6, 0.0005681672000000003],
    // python -c "from scipy import stats; print(stats.kstwo.sf(0.03, 5000))"  (n x² ≥ 2.2: 2 × smirnov)
    [5000, 0.03, 0.00024159234422666817],
    // python -c "from scipy import stats; print(stats.kstwo.sf(0.01, 200000))"
    [200000, 0.01, 8.433125699870092e-18],
  ])('pinned SciPy kstwo.sf(d=%#)', (n, d, sf) => {
    close(kolmogorovSurvival(n, d), sf, 1e-12);
  });

  test('hand-computed ends of the support (Ruben–Gambino)', () => {
    // n = 1: P(D ≤ d) = 2d − 1 on [1/2, 1].
    close(kolmogorovCdf(1, 0.75), 0.5);
    // x ≥ 1 − 1/n: P(D ≥ x) = 2 (1 − x)^n.
    close(kolmogorovSurvival(4, 0.8), 2 * 0.2 ** 4);
    expect(kolmogorovSurvival(7, 0)).toBe(1);
    expect(kolmogorovSurvival(7, 1)).toBe(0);
    expect(kolmogorovSurvival(7, 0.5 / 7)).toBe(1);
    expect(kolmogorovSurvival(2.5, 0.3)).toBeNaN();
  });

  test('Durbin and Pomeranz agree where both apply', () => {
    for (const [n, d] of [[10, 0.2], [25, 0.15], [60, 0.1], [100, 0.08]]) close(durbinCdf(n, d), pomeranzCdf(n, d), 1e-12);
  });

  test('smirnov: pinned SciPy value and hand-computed n = 1, 2', () => {
    // python -c "from scipy import special; print(special.smirnov(20, 0.3))"
    close(smirnovSurvival(20, 0.3), 0.021533604376327058, 1e-14);
    close(smirnovSurvival(1, 0.3), 0.7);
    // n = 2, x ≥ 1/2: P(D+ ≥ x) = (1 − x)^2.
    close(smirnovSurvival(2, 0.6), 0.16);
  });

  test('property: the survival function lies in [0, 1] and never increases with d', () => {
    checkProperty('kolmogorovSurvival monotone', fc.property(fc.integer({ min: 1, max: 400 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n, x, y) => {
      const [lo, hi] = x <= y ? [x, y] : [y, x];
      const a = kolmogorovSurvival(n, lo);
      const b = kolmogorovSurvival(n, hi);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThanOrEqual(1);
      expect(b).toBeLessThanOrEqual(a + 1e-12);
      close(kolmogorovCdf(n, lo) + a, 1, 1e-12);
    }));
  });
});

describe('Wasserstein distance', () => {
  test('hand-computed values', () => {
    // Every mass moves by 5.
    expect(wassersteinDistance([0, 1, 3], [5, 6, 8])).toBe(5);
    // python -c "from scipy import stats; print(stats.wasserstein_distance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4]))"
    close(wassersteinDistance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4]), 2.7);
    // Half the mass moves from 0 to 1.
    close(wassersteinDistance([0, 0], [0, 1]), 0.5);
  });

  test("Evidently's normalization: by the reference's population std, floored at 0.001", () => {
    // reference [0, 2]: std 1; W([0, 2], [1, 3]) = 1.
    close(normalizedWassersteinDistance([0, 2], [1, 3]), 1);
    // A constant reference: σ = 0, floored at 0.001; a shift of 0.0005 of a third of the mass scores 1/6.
    close(normalizedWassersteinDistance([2, 2, 2], [2, 2, 2.0005]), 0.0005 / 3 / 0.001, 1e-9);
    expect(normalizedWassersteinDistance([2, 2, 2], [2, 2])).toBe(0);
    // The std of the whole reference can be given when the reference is a sample of it.
    close(normalizedWassersteinDistance([0, 2], [1, 3], 4), 0.25);
  });

  const sample = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 80 });
  test('property: symmetric, zero on identical samples, order-invariant, a shift moves it by the shift', () => {
    checkProperty('wasserstein symmetry', fc.property(sample, sample, fc.integer({ min: -50, max: 50 }), (u, v, c) => {
      const w = wassersteinDistance(u, v);
      expect(w).toBeGreaterThanOrEqual(0);
      close(wassersteinDistance(v, u), w, 1e-9);
      expect(wassersteinDistance(u, [...u].reverse())).toBe(0);
      close(wassersteinDistance([...v].sort((a, b) => b - a), u), w, 1e-9);
      close(wassersteinDistance(u, u.map((x) => x + c)), Math.abs(c), 1e-9);
    }));
  });
});

describe('Jensen–Shannon distance', () => {
  test('hand-computed: disjoint distributions are sqrt(ln 2) apart (1 in base 2)', () => {
    close(jensenShannonDistance([1, 0, 0], [0, 1, 0]), Math.sqrt(Math.LN2));
    close(jensenShannonDistance([1, 0, 0], [0, 1, 0], 2), 1);
    expect(jensenShannonDistance([2, 4], [1, 2])).toBe(0);
  });

  test('pinned SciPy values', () => {
    // python -c "from scipy.spatial import distance; print(distance.jensenshannon([1,2,3],[3,2,1]))"
    close(jensenShannonDistance([1, 2, 3], [3, 2, 1]), 0.29531004717204934, 1e-15);
    // python -c "from scipy.spatial import distance; print(distance.jensenshannon([1,2,3],[3,2,1],base=2))"
    close(jensenShannonDistance([1, 2, 3], [3, 2, 1], 2), 0.35470351519813204, 1e-15);
  });

  test('over the union of categories, a new category counting as 0 in the reference', () => {
    const ref = new Map([['a', 1]]);
    const cur = new Map([['b', 1]]);
    close(categoricalJensenShannon(ref, cur, 2), 1);
  });

  test('fails if the tables are not aligned or hold a negative weight', () => {
    expect(() => jensenShannonDistance([1], [1, 2])).toThrow('p has 1 categories, q has 2; they must be aligned');
    expect(() => jensenShannonDistance([1, -1], [1, 2])).toThrow('weights must be finite and >= 0 (category 1)');
    expect(() => jensenShannonDistance([1], [1], 1)).toThrow('base must be > 0 and != 1, got 1');
  });

  const weights = fc.array(fc.nat({ max: 100 }), { minLength: 1, maxLength: 12 });
  test('property: symmetric, within [0, 1] in base 2, zero between proportional tables', () => {
    checkProperty('jensenShannon symmetry', fc.property(weights, weights, fc.integer({ min: 1, max: 9 }), (p0, q0, k) => {
      const n = Math.min(p0.length, q0.length);
      const p = p0.slice(0, n).map((v, i) => v + (i === 0 ? 1 : 0));
      const q = q0.slice(0, n).map((v, i) => v + (i === n - 1 ? 1 : 0));
      const d = jensenShannonDistance(p, q, 2);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(1 + 1e-12);
      close(jensenShannonDistance(q, p, 2), d, 1e-12);
      expect(jensenShannonDistance(p, p.map((v) => v * k))).toBeLessThan(1e-7);
    }));
  });
});

describe('chi-squared', () => {
  test('hand-computed: observed [10, 30] against expected [20, 20]', () => {
    // (10 − 20)²/20 + (30 − 20)²/20 = 10 with 1 degree of freedom: p = erfc(√5).
    const r = chiSquareTest([10, 30], [20, 20]);
    expect(r.statistic).toBe(10);
    expect(r.degreesOfFreedom).toBe(1);
    close(r.pValue, 0.0015654022580025488, 1e-15);
  });

  test('pinned SciPy values', () => {
    // python -c "from scipy import stats; print(stats.chisquare([16,18,16,14,12,12],[16,16,16,16,16,8]))"
    const r = chiSquareTest([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8]);
    close(r.statistic, 3.5);
    close(r.pValue, 0.6233876277495822, 1e-14);
    // python -c "from scipy import stats; print(stats.chi2.sf(3.84, 1))"
    close(chiSquaredSurvival(3.84, 1), 0.05004352124870519, 1e-14);
  });

  test("Evidently's categorical test: current counts against the reference proportions", () => {
    // reference 3:1, current 2:2 → expected 3, 1; (2−3)²/3 + (2−1)²/1 = 4/3.
    const r = categoricalChiSquare(new Map([['a', 75], ['b', 25]]), new Map([['a', 2], ['b', 2]]));
    close(r.statistic, 4 / 3);
    // A category the reference never saw: infinite statistic, p = 0.
    const unseen = categoricalChiSquare(new Map([['a', 5]]), new Map([['a', 1], ['new', 1]]));
    expect(unseen.statistic).toBe(Infinity);
    expect(unseen.pValue).toBe(0);
    // A single category: nothing to test.
    expect(categoricalChiSquare(new Map([['a', 5]]), new Map([['a', 2]]))).toEqual({ statistic: 0, pValue: 1, degreesOfFreedom: 0 });
  });

  test('fails if the totals differ (SciPy refuses them too)', () => {
    expect(() => chiSquareTest([1, 2], [1, 1])).toThrow('observed total 3 and expected total 2 differ by more than a relative 1e-8');
  });

  test('property: p lies in [0, 1]; observed = expected gives 0 and 1', () => {
    checkProperty('chiSquare bounds', fc.property(fc.array(fc.nat({ max: 500 }), { minLength: 2, maxLength: 10 }), fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 10, maxLength: 10 }), (obs0, w) => {
      const obs = obs0.map((v, i) => v + (i === 0 ? 1 : 0));
      const total = obs.reduce((a, b) => a + b, 0);
      const ws = w.slice(0, obs.length);
      const wsum = ws.reduce((a, b) => a + b, 0);
      const r = chiSquareTest(obs, ws.map((x) => (x / wsum) * total));
      expect(r.statistic).toBeGreaterThanOrEqual(0);
      expect(r.pValue).toBeGreaterThanOrEqual(0);
      expect(r.pValue).toBeLessThanOrEqual(1);
      expect(chiSquareTest(obs, obs)).toEqual({ statistic: 0, pValue: 1, degreesOfFreedom: obs.length - 1 });
    }));
  });
});

describe('special functions', () => {
  test('hand-computed values', () => {
    close(logGamma(1), 0);
    close(logGamma(5), Math.log(24), 1e-13);
    close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-14);
    // Q(1, x) = e^−x; chi-squared with 2 df: sf(x) = e^(−x/2).
    close(regularizedGammaQ(1, 3), Math.exp(-3), 1e-15);
    close(chiSquaredSurvival(7, 2), Math.exp(-3.5), 1e-15);
    expect(chiSquaredSurvival(Infinity, 3)).toBe(0);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(-2.5)).toBe(-2);
  });

  test('the seeded generator is reproducible and uniform enough', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const xs = Array.from({ length: 10000 }, () => a.next());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    close(xs.reduce((s, x) => s + x, 0) / xs.length, 0.5, 0.02);
    expect(new SeededRandom(43).next()).not.toBe(new SeededRandom(42).next());
  });
});
