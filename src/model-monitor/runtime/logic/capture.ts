/**
 * The drift job's input, as data: the window (hour-aligned), capture lines and ground-truth lines
 * checked one by one (a bad line is a counted reason, never an exception), the time in a UUID v7
 * inference id, and the bounded per-model row sample. No SDK, no clock.
 */
import { ClassLabel, FeatureValue } from './baseline';
import { SeededRandom } from './random';
import { CAPTURE_NAME_PATTERN, CAPTURE_VERSION } from '../../../contract/monitoring';

const HOUR_MS = 3_600_000;

/** A window of captures: `[start, end)`, whole hours. */
export interface CaptureWindow {
  readonly start: Date;
  readonly end: Date;
  /** The start of every hour of the window, oldest first. */
  readonly hours: Date[];
}

/** The window of `hours` hours that ends at `end` floored to the hour (UTC). */
export function captureWindow(end: Date, hours: number): CaptureWindow {
  if (!Number.isInteger(hours) || hours < 1) throw new Error(`captureWindow: hours must be an integer >= 1, got ${hours}`);
  const endMs = floorToHour(end).getTime();
  const startMs = endMs - hours * HOUR_MS;
  return { start: new Date(startMs), end: new Date(endMs), hours: Array.from({ length: hours }, (_, i) => new Date(startMs + i * HOUR_MS)) };
}

/** The time floored to the UTC hour. */
export function floorToHour(t: Date): Date {
  const ms = t.getTime();
  if (!Number.isFinite(ms)) throw new Error('floorToHour: not a valid time');
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS);
}

/** The start of the hour of a time in milliseconds. */
export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The Unix time in milliseconds a UUID version 7 carries (its first 48 bits), or undefined for anything else. */
export function uuidV7Time(id: string): number | undefined {
  if (!UUID_V7.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** Why a capture line was not used. */
export type InvalidCaptureReason =
  | 'not-json' | 'not-an-object' | 'capture-version' | 'endpoint' | 'inference-id' | 'captured-at' | 'outside-window'
  | 'model-version' | 'model-sha256' | 'inputs' | 'feature-matrix' | 'feature-width' | 'predicted-classes';

/** A capture line that passed validation: one request, one row per example. */
export interface CaptureRecord {
  readonly inferenceId: string;
  readonly capturedAtMs: number;
  readonly modelVersion: string;
  readonly modelSha256: string;
  /** One feature vector per example. */
  readonly rows: FeatureValue[][];
  /** The predicted class of each example (null where unknown); absent without `predictedClasses`. */
  readonly predictedClasses?: Array<ClassLabel | null>;
}

/** What a capture line must agree with. */
export interface CaptureExpectation {
  readonly endpoint: string;
  /** `capturedAt` must lie in `[fromMs, toMs)`. */
  readonly fromMs: number;
  readonly toMs: number;
  /** The feature matrix's `inputs` entry; when absent, the only entry. */
  readonly inputName?: string;
}

export type CaptureParse = { readonly ok: true; readonly record: CaptureRecord } | { readonly ok: false; readonly reason: InvalidCaptureReason };

const bad = (reason: InvalidCaptureReason): CaptureParse => ({ ok: false, reason });
const SHA256 = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Check one capture line (a `PredictionCapture` as JSON). */
export function parseCaptureLine(line: string, expect: CaptureExpectation): CaptureParse {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return bad('not-json');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return bad('not-an-object');
  const c = doc as Record<string, unknown>;
  if (c.captureVersion !== CAPTURE_VERSION) return bad('capture-version');
  if (c.endpoint !== expect.endpoint) return bad('endpoint');
  if (typeof c.inferenceId !== 'string' || c.inferenceId.length === 0 || c.inferenceId.length > 128) return bad('inference-id');
  if (typeof c.capturedAt !== 'string' || !ISO_UTC.test(c.capturedAt)) return bad('captured-at');
  const capturedAtMs = Date.parse(c.capturedAt);
  if (!Number.isFinite(capturedAtMs)) return bad('captured-at');
  if (capturedAtMs < expect.fromMs || capturedAtMs >= expect.toMs) return bad('outside-window');
  if (typeof c.modelVersion !== 'string' || c.modelVersion.length === 0) return bad('model-version');
  if (typeof c.modelSha256 !== 'string' || !SHA256.test(c.modelSha256)) return bad('model-sha256');
  if (typeof c.inputs !== 'object' || c.inputs === null || Array.isArray(c.inputs)) return bad('inputs');
  const inputs = c.inputs as Record<string, unknown>;
  let matrix: unknown;
  if (expect.inputName !== undefined) {
    matrix = Object.prototype.hasOwnProperty.call(inputs, expect.inputName) ? inputs[expect.inputName] : undefined;
  } else {
    const names = Object.keys(inputs);
    matrix = names.length === 1 ? inputs[names[0]] : undefined;
  }
  const rows = featureMatrix(matrix);
  if (rows === undefined) return bad('feature-matrix');
  let predictedClasses: Array<ClassLabel | null> | undefined;
  if (c.predictedClasses !== undefined) {
    const p = c.predictedClasses;
    if (!Array.isArray(p) || p.length !== rows.length || !p.every(isClassOrNull)) return bad('predicted-classes');
    predictedClasses = p as Array<ClassLabel | null>;
  }
  const record = { inferenceId: c.inferenceId, capturedAtMs, modelVersion: c.modelVersion, modelSha256: c.modelSha256, rows };
  return { ok: true, record: predictedClasses ? { ...record, predictedClasses } : record };
}

/** Rows of equal, non-zero width of numbers, strings or nulls; undefined otherwise. */
function featureMatrix(m: unknown): FeatureValue[][] | undefined {
  if (!Array.isArray(m) || m.length === 0) return undefined;
  let width = -1;
  for (const row of m) {
    if (!Array.isArray(row) || row.length === 0) return undefined;
    if (width < 0) width = row.length;
    else if (row.length !== width) return undefined;
    for (const v of row) {
      if (v !== null && typeof v !== 'number' && typeof v !== 'string') return undefined;
    }
  }
  return m as FeatureValue[][];
}

function isClassOrNull(v: unknown): boolean {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** Why a ground-truth line was not used. */
export type InvalidGroundTruthReason = 'not-json' | 'not-an-object' | 'inference-id' | 'example' | 'true-class';

/** A ground-truth line that passed validation. */
export interface GroundTruthRecord {
  readonly inferenceId: string;
  readonly example: number;
  readonly trueClass: ClassLabel;
}

export type GroundTruthParse =
  | { readonly ok: true; readonly record: GroundTruthRecord }
  | { readonly ok: false; readonly reason: InvalidGroundTruthReason };

/** Check one ground-truth line (a `GroundTruthLine` as JSON). */
export function parseGroundTruthLine(line: string): GroundTruthParse {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not-json' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, reason: 'not-an-object' };
  const g = doc as Record<string, unknown>;
  if (typeof g.inferenceId !== 'string' || g.inferenceId.length === 0 || g.inferenceId.length > 128) return { ok: false, reason: 'inference-id' };
  const example = g.example ?? 0;
  if (typeof example !== 'number' || !Number.isSafeInteger(example) || example < 0) return { ok: false, reason: 'example' };
  const t = g.trueClass;
  if (!(typeof t === 'string' || (typeof t === 'number' && Number.isFinite(t)))) return { ok: false, reason: 'true-class' };
  return { ok: true, record: { inferenceId: g.inferenceId, example, trueClass: t } };
}

/** The join key of one example of one prediction. */
export function exampleKey(inferenceId: string, example: number): string {
  return `${inferenceId}#${example}`;
}

/**
 * A uniform sample of at most `capacity` items of a stream (Vitter's Algorithm R with a seeded
 * generator): memory stays bounded whatever the window holds; `seen − items.length` items were
 * left out (counted, reported).
 */
export class Reservoir<T> {
  public readonly items: T[] = [];
  private count = 0;

  constructor(private readonly capacity: number, private readonly random: SeededRandom) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`Reservoir: capacity must be an integer >= 1, got ${capacity}`);
  }

  /** Items offered so far. */
  public get seen(): number {
    return this.count;
  }

  /** Items offered but not kept. */
  public get leftOut(): number {
    return this.count - this.items.length;
  }

  public add(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      const j = this.random.int(this.count + 1);
      if (j < this.capacity) this.items[j] = item;
    }
    this.count++;
  }
}

/** Whether a string is a valid capture name. */
export function isCaptureName(name: string): boolean {
  return CAPTURE_NAME_PATTERN.test(name);
}
