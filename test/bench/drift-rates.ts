/**
 * How often the reference app's drift settings raise drift on undrifted data, and find the
 * calibration offset of the local run (+10 dB at 4 and 8 kHz, both ears), over many random
 * references and windows drawn from the local run's generator (one session per person, so the rows
 * are independent, as the tests assume):
 *
 *   npx ts-node --project tsconfig.dev.json test/bench/drift-rates.ts [trials=60] [windowRows=1000]
 *
 * Prints, per reference size: windows with any undrifted feature flagged, with dataset drift (the
 * alarm and the event), and offset windows with dataset drift and with exactly the 4 shifted
 * features. Seeds are fixed (1000 + trial, ...): the figures repeat.
 */
import { DRIFT_THRESHOLDS, MODEL } from '../../examples/reference-app/app';
import { generateUploads } from '../../examples/reference-app/local/generate';
import { featuresOf } from '../../examples/reference-app/local/loop';
import { computeBaseline, DriftConfig, evaluateDrift } from '../../src/model-monitor/runtime/logic';

const NAMES: string[] = MODEL.features.order;
const SHIFTED = ['left.4000', 'left.8000', 'right.4000', 'right.8000'];
const CONFIG: DriftConfig = { pValueThreshold: DRIFT_THRESHOLDS.pValueThreshold, datasetDriftShare: DRIFT_THRESHOLDS.datasetDriftShare };

function rows(seed: number, n: number, offset: boolean): number[][] {
  return generateUploads({ count: n, seed, invalidShare: 0, duplicateShare: 0, subjects: n, now: Date.parse('2026-12-01T00:00:00Z') }).map((u) => {
    const r = JSON.parse(u.body.toString());
    if (offset) for (const ear of ['left', 'right']) for (const f of ['4000', '8000']) r.thresholds[ear][f] = Math.min(120, r.thresholds[ear][f] + 10);
    return featuresOf(r);
  });
}

const trials = Number(process.argv[2] ?? 60);
const windowRows = Number(process.argv[3] ?? 1000);
for (const referenceRows of [167, 330, 660, 1200]) {
  const count = { anyFalse: 0, falseDataset: 0, offsetDataset: 0, exact: 0 };
  for (let t = 1; t <= trials; t++) {
    const ref = rows(1000 + t, referenceRows, false);
    const baseline = computeBaseline({ modelSha256: 'a'.repeat(64), features: NAMES.map((name) => ({ name })), rows: ref, predictions: ref.map(() => 'x') });
    const window = (seed: number, offset: boolean) => evaluateDrift(baseline, rows(seed, windowRows, offset).map((features) => ({ features, predictedClass: 'x' })), CONFIG);
    const quiet = window(2000 + t, false);
    const shifted = window(3000 + t, true);
    const drifted = shifted.features.filter((f) => f.drifted).map((f) => f.name);
    if (quiet.features.some((f) => f.drifted)) count.anyFalse++;
    if (quiet.dataset.drifted) count.falseDataset++;
    if (shifted.dataset.drifted) count.offsetDataset++;
    if (drifted.length === SHIFTED.length && SHIFTED.every((f) => drifted.includes(f))) count.exact++;
  }
  // eslint-disable-next-line no-console
  console.log(`reference ${referenceRows} rows, windows of ${windowRows}, ${trials} trials: undrifted windows with a feature flagged ${count.anyFalse}, `
    + `with dataset drift ${count.falseDataset}; offset windows with dataset drift ${count.offsetDataset}, with exactly the 4 shifted features ${count.exact}`);
}
