/**
 * A synthetic, hearing-test-like population for the drift tests, the report tests and
 * false-alarm.ts: 12 features (pure-tone thresholds in 5 dB steps for both ears at 500 Hz to
 * 8 kHz, the age, and the device model, categorical) and a predicted class derived from the
 * thresholds. A calibration offset (dB added at chosen frequencies, optionally on one device
 * model) simulates the drift the monitor must catch.
 */
import { FeatureSpec, FeatureValue, SeededRandom } from '../../src/model-monitor/runtime/logic';

export const FREQUENCIES = [500, 1000, 2000, 4000, 8000] as const;
export const DEVICES = ['phone-a', 'phone-b', 'headset-c', 'tablet-d'] as const;
export const CLASSES = ['normal', 'mild', 'moderate'] as const;

export const FEATURES: FeatureSpec[] = [
  ...FREQUENCIES.map((f) => ({ name: `left_${f}hz` })),
  ...FREQUENCIES.map((f) => ({ name: `right_${f}hz` })),
  { name: 'age' },
  { name: 'device_model', kind: 'categorical' as const },
];

/** Offsets in dB by frequency, applied to both ears (on `device` only, when given). */
export interface Calibration {
  readonly offsetDb: Partial<Record<(typeof FREQUENCIES)[number], number>>;
  readonly device?: (typeof DEVICES)[number];
}

/** One person: features in FEATURES order, the model's prediction and the true class (a WindowRow). */
export interface SyntheticRow {
  readonly features: FeatureValue[];
  readonly predictedClass: string;
  readonly trueClass: string;
}

/** One person, drawn from the population (shifted by `calibration` when given). */
export function drawRow(random: SeededRandom, calibration?: Calibration): SyntheticRow {
  const age = Math.round(20 + 60 * random.next());
  const device = DEVICES[random.int(DEVICES.length)];
  const loss = Math.max(0, (age - 35) * 0.4) + 6 * random.normal();
  const thresholds: number[] = [];
  for (const ear of [0, 1]) {
    for (const [i, f] of FREQUENCIES.entries()) {
      const slope = 1 + i * 0.35; // higher frequencies lose more with age
      let db = loss * slope + 8 * random.normal() + ear;
      if (calibration && (calibration.device === undefined || calibration.device === device)) db += calibration.offsetDb[f] ?? 0;
      thresholds.push(Math.min(120, Math.max(-10, 5 * Math.round(db / 5))));
    }
  }
  const pta = (thresholds[1] + thresholds[2] + thresholds[3] + thresholds[6] + thresholds[7] + thresholds[8]) / 6;
  const trueClass = pta < 20 ? 'normal' : pta < 40 ? 'mild' : 'moderate';
  // The model is right 90 % of the time.
  const predictedClass = random.next() < 0.9 ? trueClass : CLASSES[random.int(CLASSES.length)];
  return { features: [...thresholds, age, device], predictedClass, trueClass };
}

/** n rows from one seeded stream. */
export function drawRows(random: SeededRandom, n: number, calibration?: Calibration): SyntheticRow[] {
  return Array.from({ length: n }, () => drawRow(random, calibration));
}
