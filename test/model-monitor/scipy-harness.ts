/**
 * Runs the drift statistics on cases read as JSON from stdin and writes the results as JSON to
 * stdout, for python-tests/test_drift_statistics.py to compare with SciPy:
 *
 *   node_modules/.bin/ts-node --transpile-only --project tsconfig.dev.json test/model-monitor/scipy-harness.ts < cases.json
 *
 * Input: `[{ "op": "ks", "a": [...], "b": [...], "method": "auto" }, ...]`; output: one object
 * per case, in order (`{ "statistic": ..., "pValue": ... }` or `{ "value": ... }`), or
 * `{ "error": "..." }` for a case that threw.
 */
import { readFileSync } from 'node:fs';
import {
  categoricalChiSquare, categoricalJensenShannon, chiSquaredSurvival, chiSquareTest, jensenShannonDistance,
  kolmogorovSurvival, ks2Samp, KsMethod, normalizedWassersteinDistance, regularizedGammaQ, smirnovSurvival, wassersteinDistance,
} from '../../src/model-monitor/runtime/logic';

type Case =
  | { op: 'ks'; a: number[]; b: number[]; method?: KsMethod }
  | { op: 'wasserstein'; u: number[]; v: number[] }
  | { op: 'wasserstein-normed'; reference: number[]; current: number[] }
  | { op: 'js'; p: number[]; q: number[]; base?: number }
  | { op: 'js-categorical'; reference: Record<string, number>; current: Record<string, number>; base?: number }
  | { op: 'chisquare'; observed: number[]; expected: number[] }
  | { op: 'chi-categorical'; reference: Record<string, number>; current: Record<string, number> }
  | { op: 'kstwo-sf'; n: number; d: number }
  | { op: 'smirnov'; n: number; d: number }
  | { op: 'chi2-sf'; x: number; df: number }
  | { op: 'gammaincc'; a: number; x: number };

function run(c: Case): Record<string, unknown> {
  switch (c.op) {
    case 'ks': {
      const r = ks2Samp(c.a, c.b, c.method ?? 'auto');
      return { statistic: r.statistic, pValue: r.pValue, method: r.method };
    }
    case 'wasserstein': return { value: wassersteinDistance(c.u, c.v) };
    case 'wasserstein-normed': return { value: normalizedWassersteinDistance(c.reference, c.current) };
    case 'js': return { value: jensenShannonDistance(c.p, c.q, c.base) };
    case 'js-categorical': return { value: categoricalJensenShannon(new Map(Object.entries(c.reference)), new Map(Object.entries(c.current)), c.base) };
    case 'chisquare': {
      const r = chiSquareTest(c.observed, c.expected);
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'chi-categorical': {
      const r = categoricalChiSquare(new Map(Object.entries(c.reference)), new Map(Object.entries(c.current)));
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'kstwo-sf': return { value: kolmogorovSurvival(c.n, c.d) };
    case 'smirnov': return { value: smirnovSurvival(c.n, c.d) };
    case 'chi2-sf': return { value: chiSquaredSurvival(c.x, c.df) };
    case 'gammaincc': return { value: regularizedGammaQ(c.a, c.x) };
  }
}

const cases = JSON.parse(readFileSync(0, 'utf8')) as Case[];
const started = process.hrtime.bigint();
const results = cases.map((c) => {
  try {
    return run(c);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
// Infinity and NaN are not JSON: spell them as strings Python's float() reads.
process.stdout.write(JSON.stringify({ seconds, results }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
