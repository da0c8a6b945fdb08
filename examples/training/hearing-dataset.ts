/**
 * A seeded synthetic hearing-test dataset, written as SageMaker training channels of augmented
 * manifests (docs/formats.md), for the local training runs of the example script.
 *
 * Audiograms are drawn as in test/fixtures/models/make_reference_model.py (a level per subject, a
 * high-frequency slope, ear asymmetry, noise; 5 dB steps within -10..120 dB HL) and labelled with
 * the WHO 2021 rule (four-frequency pure-tone average of the better ear).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const FREQUENCIES = [250, 500, 1000, 2000, 4000, 8000];
export const PTA_FREQUENCIES = [500, 1000, 2000, 4000];
export const CLASS_NAMES = ['normal', 'mild', 'moderate', 'moderately severe', 'severe', 'profound', 'complete'];
/** Lower bounds (dB HL) of the grades mild..complete. */
export const GRADE_LOWER_BOUNDS = [20, 35, 50, 65, 80, 95];
export const LABEL_ATTRIBUTE = 'who-grade';

export interface Audiogram {
  readonly left: number[];
  readonly right: number[];
}

/** WHO 2021 grade 0..6 from the better ear's average at 500, 1000, 2000 and 4000 Hz. */
export function whoGrade(a: Audiogram): number {
  const idx = PTA_FREQUENCIES.map((f) => FREQUENCIES.indexOf(f));
  const pta = (ear: number[]) => idx.reduce((s, i) => s + ear[i], 0) / idx.length;
  const better = Math.min(pta(a.left), pta(a.right));
  return GRADE_LOWER_BOUNDS.filter((b) => better >= b).length;
}

/** The model's 12 features: (dB HL - 50) / 50, left then right. */
export function features(a: Audiogram): number[] {
  return [...a.left, ...a.right].map((db) => (db - 50) / 50);
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
/* eslint-disable no-bitwise -- a PRNG is bit arithmetic */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

export function syntheticAudiograms(seed: number, n: number): Audiogram[] {
  const rand = prng(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const normal = (sd: number) => sd * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const snap = (db: number) => Math.min(120, Math.max(-10, Math.round(db / 5) * 5));
  const out: Audiogram[] = [];
  for (let i = 0; i < n; i++) {
    const level = uniform(-10, 112);
    const slope = uniform(-2, 12);
    const asym = normal(6) + [0, 0, 0, 25, -25][Math.floor(rand() * 5)];
    const base = FREQUENCIES.map((f) => level + slope * (Math.log2(f / 250) - 2.5));
    out.push({
      left: base.map((b) => snap(b + normal(4))),
      right: base.map((b) => snap(b + asym + normal(4))),
    });
  }
  return out;
}

/** A clean record (docs/formats.md), pseudonymized. */
export function cleanRecord(a: Audiogram, id: string): Record<string, unknown> {
  const byFrequency = (ear: number[]) => Object.fromEntries(FREQUENCIES.map((f, i) => [String(f), ear[i]]));
  return {
    schemaVersion: '1',
    sessionId: id,
    subjectPseudonym: `hmac:${id}`,
    thresholds: { left: byFrequency(a.left), right: byFrequency(a.right) },
    catchTrials: { presented: 6, falsePositives: 0 },
  };
}

/** How a manifest line carries its record. */
export type RecordForm = 'relative-ref' | 'file-ref' | 's3-ref' | 'inline-source' | 'inline-features';

export interface ChannelOptions {
  readonly seed: number;
  readonly count: number;
  /** Record forms, used in turn line by line. @default ['relative-ref'] */
  readonly forms?: RecordForm[];
  readonly datasetVersion?: string;
}

/**
 * Writes one channel: `<dir>/dataset.manifest` plus, for referenced records, the clean records
 * under `<dir>/records/` (and `<dir>/<key>` for s3:// references). Returns the audiograms.
 */
export function writeChannel(dir: string, options: ChannelOptions): Audiogram[] {
  const audiograms = syntheticAudiograms(options.seed, options.count);
  const forms = options.forms ?? ['relative-ref'];
  fs.mkdirSync(path.join(dir, 'records'), { recursive: true });
  const lines = audiograms.map((a, i) => {
    const id = `rec-${options.seed}-${i}`;
    const grade = whoGrade(a);
    const form = forms[i % forms.length];
    const record = cleanRecord(a, id);
    const file = path.join(dir, 'records', `${id}.json`);
    const ref: Record<string, unknown> = {};
    if (form === 'inline-features') {
      ref.features = features(a);
    } else if (form === 'inline-source') {
      ref.source = JSON.stringify(record);
    } else {
      fs.writeFileSync(file, JSON.stringify(record));
      ref['source-ref'] = form === 'relative-ref' ? `records/${id}.json`
        : form === 'file-ref' ? `file://${path.resolve(file)}`
          : `s3://lake-clean/records/${id}.json`;
    }
    return JSON.stringify({
      ...ref,
      'record-id': id,
      'subject-pseudonym': `hmac:${id}`,
      [LABEL_ATTRIBUTE]: grade,
      [`${LABEL_ATTRIBUTE}-metadata`]: {
        'class-name': CLASS_NAMES[grade],
        'confidence': 1,
        'type': 'labeling-pipeline/classification',
        'job-name': 'labeling-pipeline/hearing/synthetic',
        'human-annotated': 'no',
        'creation-date': '2026-03-01T12:00:00.000000',
        'labeler': 'rules:who-grade@1',
        'dataset-version': options.datasetVersion ?? 'hearing-synthetic',
      },
    });
  });
  fs.writeFileSync(path.join(dir, 'dataset.manifest'), lines.join('\n') + '\n');
  return audiograms;
}

/** The example script's directory and its metric definitions. */
export const TRAINING_DIR = path.join(__dirname, 'hearing-who-grade');
export const TRAIN_SCRIPT = path.join(TRAINING_DIR, 'train.py');
export const METRIC_DEFINITIONS: { name: string; regex: string }[] = JSON.parse(
  fs.readFileSync(path.join(TRAINING_DIR, 'metric-definitions.json'), 'utf8'));
