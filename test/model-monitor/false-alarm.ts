/**
 * The drift evaluation's false-alarm rate and throughput.
 *
 * False alarms: many windows drawn from the baseline's own distribution (the synthetic
 * hearing-test population of synthetic.ts: 11 numeric features in 5 dB steps or whole years, one
 * categorical feature, three predicted classes), each evaluated against the baseline; every flag
 * is a false alarm. The windows are spread over several baselines (each drawn afresh from the
 * population), because the rate given one fixed baseline varies with how closely that baseline
 * happens to match the population; the per-baseline spread is printed too. Reported per feature, for the predicted class, for "any feature" and for the
 * dataset (≥ 50 % of the features), under Evidently's defaults with a small reference (≤ 1000
 * rows: KS and chi-squared) and a large one (> 1000 rows: normalized Wasserstein and
 * Jensen–Shannon), plus the large reference with KS forced on every numeric feature.
 *
 * Throughput: captured predictions per second that evaluateDrift handles on one core (Node runs
 * it on one thread) for 12 features, by window size.
 *
 *   node_modules/.bin/ts-node --transpile-only --project tsconfig.dev.json test/model-monitor/false-alarm.ts \
 *     [--windows 1000] [--rows 200] [--baselines 5] [--sample-size 1000] [--seed 1]
 */
import { drawRows, FEATURES } from './synthetic';
import { computeBaseline, DriftBaseline, DriftConfig, evaluateDrift, SeededRandom } from '../../src/model-monitor/runtime/logic';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return v;
}

const WINDOWS = arg('windows', 1000);
const ROWS = arg('rows', 200);
const SEED = arg('seed', 1);
const BASELINES = arg('baselines', 5);
const SAMPLE_SIZE = arg('sample-size', 1000);

function baselineOf(seed: number, n: number): DriftBaseline {
  const rows = drawRows(new SeededRandom(seed), n);
  return computeBaseline({
    modelSha256: '0'.repeat(64),
    features: FEATURES,
    rows: rows.map((r) => r.features),
    predictions: rows.map((r) => r.predictedClass),
    trueClasses: rows.map((r) => r.trueClass),
  }, { sampleSize: SAMPLE_SIZE });
}

interface Rates {
  readonly perFeature: number[];
  readonly prediction: number;
  readonly anyFeature: number;
  readonly dataset: number;
  readonly methods: string[];
}

interface Scenario {
  readonly title: string;
  readonly referenceRows: number;
  readonly config?: DriftConfig;
}

/** Windows spread evenly over BASELINES baselines, each drawn afresh. */
function falseAlarms(scenario: Scenario, seed: number): Rates & { readonly perBaseline: number[] } {
  const perFeature = new Array<number>(FEATURES.length).fill(0);
  const perBaseline: number[] = [];
  let prediction = 0;
  let anyFeature = 0;
  let dataset = 0;
  let methods: string[] = [];
  for (let b = 0; b < BASELINES; b++) {
    const baseline = baselineOf(seed * 1000 + b, scenario.referenceRows);
    const random = new SeededRandom(seed * 1000 + 500 + b);
    const windows = Math.floor(WINDOWS / BASELINES) + (b < WINDOWS % BASELINES ? 1 : 0);
    let flags = 0;
    for (let w = 0; w < windows; w++) {
      const r = evaluateDrift(baseline, drawRows(random, ROWS), scenario.config);
      methods = r.features.map((f) => f.method);
      r.features.forEach((f, i) => {
        if (f.drifted) {
          perFeature[i]++;
          flags++;
        }
      });
      if (r.prediction.drifted) prediction++;
      if (r.features.some((f) => f.drifted)) anyFeature++;
      if (r.dataset.drifted) dataset++;
    }
    perBaseline.push(flags / (windows * FEATURES.length));
  }
  return {
    perFeature: perFeature.map((c) => c / WINDOWS),
    prediction: prediction / WINDOWS,
    anyFeature: anyFeature / WINDOWS,
    dataset: dataset / WINDOWS,
    methods,
    perBaseline,
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`.padStart(8);
}

function report(title: string, r: Rates & { readonly perBaseline: number[] }): void {
  console.log(`\n${title}`);
  FEATURES.forEach((f, i) => console.log(`  ${f.name.padEnd(14)} ${r.methods[i].padEnd(15)} ${pct(r.perFeature[i])}`));
  const mean = r.perFeature.reduce((a, b) => a + b, 0) / r.perFeature.length;
  console.log(`  ${'mean feature'.padEnd(30)} ${pct(mean)}   (by baseline: ${r.perBaseline.map((x) => pct(x).trim()).join(', ')})`);
  console.log(`  ${'prediction'.padEnd(30)} ${pct(r.prediction)}`);
  console.log(`  ${'any feature'.padEnd(30)} ${pct(r.anyFeature)}`);
  console.log(`  ${'dataset (>= 50 % of features)'.padEnd(30)} ${pct(r.dataset)}`);
}

function throughput(baseline: DriftBaseline, rows: number, label: string): void {
  const window = drawRows(new SeededRandom(SEED + 99), rows);
  evaluateDrift(baseline, window); // warm-up (JIT)
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1.5 || n < 3) {
    evaluateDrift(baseline, window);
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const perSecond = (rows * n) / elapsed;
  console.log(`  ${label.padEnd(44)} ${String(rows).padStart(7)} rows  ${(1000 * elapsed / n).toFixed(2).padStart(8)} ms/window  ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} rows/s`);
}

const ksEverywhere: DriftConfig = { features: Object.fromEntries(FEATURES.filter((f) => f.kind !== 'categorical').map((f) => [f.name, { method: 'ks' as const }])) };
const scenarios: Scenario[] = [
  { title: 'Reference of 800 rows (Evidently: KS p < 0.05, chi-squared p < 0.05)', referenceRows: 800 },
  { title: `Reference of 20,000 rows (Evidently: Wasserstein/σ >= 0.1 on a ${SAMPLE_SIZE}-value sample, Jensen–Shannon >= 0.1)`, referenceRows: 20000 },
  { title: `Reference of 20,000 rows, KS forced on the numeric features (${SAMPLE_SIZE}-value sample)`, referenceRows: 20000, config: ksEverywhere },
];
console.log(`false alarms: ${WINDOWS} windows of ${ROWS} rows drawn from the baseline distribution, over ${BASELINES} baselines `
  + `(reservoir samples of ${SAMPLE_SIZE}; seed ${SEED})`);
scenarios.forEach((sc, i) => report(sc.title, falseAlarms(sc, SEED + i)));

console.log('\nthroughput of evaluateDrift, 12 features, one core:');
const small = baselineOf(SEED, 800);
const large = baselineOf(SEED + 1, 20000);
for (const rows of [200, 1000, 10000, 100000]) {
  throughput(small, rows, 'reference 800 rows (KS, chi-squared)');
  throughput(large, rows, 'reference 20,000 rows (Wasserstein, JS)');
}
