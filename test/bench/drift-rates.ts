/**
 * How often the reference app's drift settings raise drift on undrifted data, and find the
 * calibration offset of the local run (+10 dB at 4 and 8 kHz, both ears), over many random
 * references and windows drawn from the local run's generator. Two settings:
 * 1. new people: reference and windows are independent people of the same distribution (one session
 *    per person, so the rows are independent, as the tests assume);
 * 2. the local run's: the reference is the training share of a run's 800 uploads (about 270 people,
 *    several sessions each), the windows later sessions of the same people.
 *
 *   npx ts-node --project tsconfig.dev.json test/bench/drift-rates.ts [trials=60] [windowRows=1000]
 *
 * Prints, per setting: windows with any undrifted feature flagged, with dataset drift (the alarm
 * and the event), and offset windows with dataset drift and with exactly the 4 shifted features.
 * Seeds are fixed: the figures repeat.
 */
import { createHash } from 'node:crypto';
import { DRIFT_THRESHOLDS, MODEL } from '../../examples/reference-app/app';
import { generateUploads } from '../../examples/reference-app/local/generate';
import { featuresOf } from '../../examples/reference-app/local/loop';
import { computeBaseline, DriftConfig, evaluateDrift } from '../../src/model-monitor/runtime/logic';

const NAMES: string[] = MODEL.features.order;
const SHIFTED = ['left.4000', 'left.8000', 'right.4000', 'right.8000'];
const CONFIG: DriftConfig = { pValueThreshold: DRIFT_THRESHOLDS.pValueThreshold, datasetDriftShare: DRIFT_THRESHOLDS.datasetDriftShare };

function offsetOf(r: { thresholds: Record<string, Record<string, number>> }): void {
  for (const ear of ['left', 'right']) for (const f of ['4000', '8000']) r.thresholds[ear][f] = Math.min(120, r.thresholds[ear][f] + 10);
}

function rows(seed: number, n: number, offset: boolean): number[][] {
  return generateUploads({ count: n, seed, invalidShare: 0, duplicateShare: 0, subjects: n, now: Date.parse('2026-12-01T00:00:00Z') }).map((u) => {
    const r = JSON.parse(u.body.toString());
    if (offset) offsetOf(r);
    return featuresOf(r);
  });
}

interface Tally { anyFalse: number; falseDataset: number; offsetDataset: number; exact: number }

function tally(count: Tally, ref: number[][], quietRows: number[][], offsetRows: number[][]): void {
  const specs = NAMES.map((name) => ({ name }));
  const baseline = computeBaseline({ modelSha256: 'a'.repeat(64), features: specs, rows: ref, predictions: ref.map(() => 'x') });
  const window = (r: number[][]) => evaluateDrift(baseline, r.map((features) => ({ features, predictedClass: 'x' })), CONFIG);
  const quiet = window(quietRows);
  const shifted = window(offsetRows);
  const drifted = shifted.features.filter((f) => f.drifted).map((f) => f.name);
  if (quiet.features.some((f) => f.drifted)) count.anyFalse++;
  if (quiet.dataset.drifted) count.falseDataset++;
  if (shifted.dataset.drifted) count.offsetDataset++;
  if (drifted.length === SHIFTED.length && SHIFTED.every((f) => drifted.includes(f))) count.exact++;
}

const line = (what: string, trials: number, c: Tally) =>
  `${what}, ${trials} trials: undrifted windows with a feature flagged ${c.anyFalse}, with dataset drift ${c.falseDataset}; `
  + `offset windows with dataset drift ${c.offsetDataset}, with exactly the 4 shifted features ${c.exact}`;

const trials = Number(process.argv[2] ?? 60);
const windowRows = Number(process.argv[3] ?? 1000);
for (const referenceRows of [167, 330, 660, 1200]) {
  const count: Tally = { anyFalse: 0, falseDataset: 0, offsetDataset: 0, exact: 0 };
  for (let t = 1; t <= trials; t++) {
    tally(count, rows(1000 + t, referenceRows, false), rows(2000 + t, windowRows, false), rows(3000 + t, windowRows, true));
  }
  // eslint-disable-next-line no-console
  console.log(line(`new people: reference ${referenceRows} rows, windows of ${windowRows}`, trials, count));
}

// The local run's setting: 800 uploads of ceil(800 / 3) people, the clean ones of three in four
// people as the reference (the pipeline splits by person), later sessions of the same people.
const local: Tally = { anyFalse: 0, falseDataset: 0, offsetDataset: 0, exact: 0 };
for (let t = 1; t <= trials; t++) {
  const uploads = generateUploads({ count: 800 + 2600, seed: t, now: 0, subjects: Math.ceil(800 / 3) });
  const inReference = (u: { patientId: string }) => createHash('sha256').update(`${t}:${u.patientId}`).digest()[0] < 192;
  const ref = uploads.slice(0, 800).filter((u) => u.expect === 'clean' && !u.borderline && inReference(u)).map((u) => featuresOf(JSON.parse(u.body.toString())));
  const later = uploads.slice(800).filter((u) => u.expect === 'clean').slice(0, 2 * windowRows).map((u) => JSON.parse(u.body.toString()));
  const shifted = later.slice(windowRows).map((r) => {
    offsetOf(r);
    return featuresOf(r);
  });
  tally(local, ref, later.slice(0, windowRows).map(featuresOf), shifted);
}
// eslint-disable-next-line no-console
console.log(line(`the local run's setting: later sessions of the same people, windows of ${windowRows}`, trials, local));
