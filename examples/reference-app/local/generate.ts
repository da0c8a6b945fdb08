/**
 * A seeded generator of hearing-test uploads for the local end-to-end run: valid sessions of a
 * population of subjects, plus a known share of invalid records (each of a known quarantine
 * reason), re-uploads of the same session (duplicates) and borderline cases (a better-ear average
 * within a few dB of a WHO grade boundary, or unreliable catch trials), which go to human review.
 *
 * Every upload carries its ground truth (`expect`), so the run can reconcile where each one ended.
 */
import { FREQUENCIES, GRADE_LOWER_BOUNDS, prng } from '../../training/hearing-dataset';

/** Where an upload is expected to end. */
export type ExpectedOutcome = 'clean' | 'quarantine' | 'duplicate';

/** One upload: the bytes the client sends and what should happen to them. */
export interface GeneratedUpload {
  /** Index in the generated sequence (upload order). */
  readonly index: number;
  readonly body: Buffer;
  readonly expect: ExpectedOutcome;
  /** The quarantine code the cleaning step should give (for invalid uploads). */
  readonly expectCode?: string;
  /** The true WHO grade (0..6) of a valid upload. */
  readonly grade?: number;
  /** A borderline or unreliable case (expected to go to review). */
  readonly borderline?: boolean;
  /** Index of the upload this one duplicates. */
  readonly duplicateOf?: number;
  /** The raw identifiers in the body (patient id, session id): the run's identifier census looks for them. */
  readonly patientId: string;
  readonly sessionId: string;
}

/** Shares of the generated uploads (the rest are plain valid sessions). */
export interface GenerateOptions {
  readonly count: number;
  readonly seed: number;
  /** @default 0.1 */
  readonly invalidShare?: number;
  /** @default 0.05 */
  readonly duplicateShare?: number;
  /** @default 0.08 */
  readonly borderlineShare?: number;
  /** Subjects (several sessions each). @default count / 3 */
  readonly subjects?: number;
  /** "Now" for timestamps (epoch ms). @default Date.now() */
  readonly now?: number;
}

/** Invalid kinds, each with the quarantine code the hearing cleaning rules give it. */
const INVALID_KINDS: ReadonlyArray<{ kind: string; code: string; make: (r: Record<string, any>, now: number) => Buffer }> = [
  { kind: 'invalid-json', code: 'invalid-json', make: (r) => Buffer.from(JSON.stringify(r).slice(0, -7)) },
  { kind: 'schema-extra', code: 'schema', make: (r) => json({ ...r, diagnosis: 'unexpected field' }) },
  { kind: 'schema-missing', code: 'schema', make: (r) => json(omit(r, 'age')) },
  { kind: 'out-of-range', code: 'range', make: (r) => json(withThreshold(r, 'left', '1000', 135)) },
  { kind: 'off-step', code: 'step', make: (r) => json(withThreshold(r, 'right', '2000', 37)) },
  { kind: 'noisy', code: 'range', make: (r) => json({ ...r, ambientNoiseDbA: 58.5 }) },
  { kind: 'future', code: 'future-timestamp', make: (r, now) => json({ ...r, takenAt: new Date(now + 3 * 86400_000).toISOString().replace(/\.\d+Z$/, 'Z') }) },
  { kind: 'catch-trials', code: 'ratio', make: (r) => json({ ...r, catchTrials: { presented: 6, falsePositives: 4 } }) },
];

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const omit = (r: Record<string, any>, k: string) => Object.fromEntries(Object.entries(r).filter(([x]) => x !== k));
function withThreshold(r: Record<string, any>, ear: string, f: string, v: number) {
  return { ...r, thresholds: { ...r.thresholds, [ear]: { ...r.thresholds[ear], [f]: v } } };
}

/** Round to the audiometer's 5 dB steps within -10..120 dB HL. */
const step5 = (x: number) => Math.min(120, Math.max(-10, Math.round(x / 5) * 5));

/** Generate the uploads, in upload order. */
export function generateUploads(options: GenerateOptions): GeneratedUpload[] {
  const rand = prng(options.seed);
  const now = options.now ?? Date.now();
  const subjects = Math.max(1, options.subjects ?? Math.ceil(options.count / 3));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const uuid = () => 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
    const n = Math.floor(rand() * 16);
    return (c === 'x' ? n : (n % 4) + 8).toString(16);
  });
  // Each subject has a hearing level and slope; sessions vary around them.
  const people = Array.from({ length: subjects }, (_, i) => ({
    id: `P-${String(i + 1).padStart(4, '0')}-${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + ((i * 7) % 26))}`,
    age: 18 + Math.floor(rand() * 72),
    level: -5 + rand() * 95,
    slope: rand() * 8,
    asymmetry: (rand() - 0.5) * 20,
  }));

  const session = (person: typeof people[number], borderline: boolean): { record: Record<string, any>; grade: number } => {
    let level = person.level + (rand() - 0.5) * 6;
    if (borderline) {
      // Aim the four-frequency average at a grade boundary (±2 dB), before rounding to steps.
      level = pick(GRADE_LOWER_BOUNDS) + (rand() - 0.5) * 4;
    }
    const ear = (offset: number) => Object.fromEntries(FREQUENCIES.map((f, k) => {
      const tilt = (k - 2.5) * person.slope;
      const v = borderline && f >= 500 && f <= 4000 ? level + offset : level + offset + tilt + (rand() - 0.5) * 10;
      return [String(f), step5(v)];
    }));
    const left = ear(borderline ? 0 : person.asymmetry / 2);
    const right = ear(borderline ? 0 : -person.asymmetry / 2);
    const pta = (e: Record<string, number>) => (e['500'] + e['1000'] + e['2000'] + e['4000']) / 4;
    const better = Math.min(pta(left), pta(right));
    const grade = GRADE_LOWER_BOUNDS.filter((b) => better >= b).length;
    const takenAt = new Date(now - Math.floor(rand() * 180 * 86400_000)).toISOString().replace(/\.\d+Z$/, 'Z');
    const record = {
      schemaVersion: '1',
      sessionId: uuid(),
      patientId: person.id,
      age: person.age,
      device: { model: pick(['phone-x', 'phone-y', 'tablet-z']), headphones: pick(['hp-200', 'hp-300']), calibrationId: 'cal-2026-03' },
      ambientNoiseDbA: Math.round((20 + rand() * 18) * 10) / 10,
      takenAt,
      thresholds: { left, right },
      catchTrials: { presented: 6, falsePositives: rand() < 0.85 ? 0 : 1 },
    };
    return { record, grade };
  };

  const out: GeneratedUpload[] = [];
  const validIndexes: number[] = [];
  const invalidShare = options.invalidShare ?? 0.1;
  const duplicateShare = options.duplicateShare ?? 0.05;
  const borderlineShare = options.borderlineShare ?? 0.08;
  for (let index = 0; index < options.count; index++) {
    const r = rand();
    if (r < duplicateShare && validIndexes.length > 0) {
      const of = pick(validIndexes);
      const original = out[of];
      out.push({
        index, body: original.body, expect: 'duplicate', duplicateOf: of, grade: original.grade, borderline: original.borderline,
        patientId: original.patientId, sessionId: original.sessionId,
      });
      continue;
    }
    const person = pick(people);
    if (r < duplicateShare + invalidShare) {
      const kind = INVALID_KINDS[index % INVALID_KINDS.length];
      const { record } = session(person, false);
      out.push({ index, body: kind.make(record, now), expect: 'quarantine', expectCode: kind.code, patientId: person.id, sessionId: record.sessionId });
      continue;
    }
    const borderline = r < duplicateShare + invalidShare + borderlineShare;
    const { record, grade } = session(person, borderline);
    out.push({ index, body: json(record), expect: 'clean', grade, borderline, patientId: person.id, sessionId: record.sessionId });
    validIndexes.push(index);
  }
  return out;
}
