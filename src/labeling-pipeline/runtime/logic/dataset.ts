/**
 * Dataset versions: split assignment by subject, augmented-manifest lines (SageMaker Ground Truth
 * format) and a lenient reader, the dataset card and the data-quality report with its gates.
 */
import { isObject, JsonObject, JsonValue, setOwn, sha256Hex } from './json';
import { LabelRecord } from './labeling';

/** A dataset split. */
export type Split = 'train' | 'validation' | 'test';
/** The splits, in manifest order. */
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

/** Fractions of subjects per split (sum 1) and the salt of the hash. */
export interface SplitConfig {
  readonly train: number;
  readonly validation: number;
  readonly test: number;
  /** Changing the salt reshuffles subjects; keep it for the life of a dataset. @default '' */
  readonly salt?: string;
}

/** Compile a split config into a function of the subject pseudonym only. */
export function compileSplitter(c: SplitConfig): (subject: string) => Split {
  const fs = [c.train, c.validation, c.test];
  if (fs.some((f) => !(Number.isFinite(f) && f >= 0)) || Math.abs(fs[0] + fs[1] + fs[2] - 1) > 1e-9) {
    throw new Error(`split: train, validation and test must be >= 0 and sum to 1, got ${fs.join(' + ')}`);
  }
  const salt = c.salt ?? '';
  const a = c.train;
  const b = c.train + c.validation;
  return (subject) => {
    const u = parseInt(sha256Hex(`${salt}\u0000${subject}`).slice(0, 13), 16) / 2 ** 52;
    if (u < a) return 'train';
    return u < b ? 'validation' : 'test';
  };
}

/** Longest manifest line SageMaker accepts, in characters. */
export const MAX_MANIFEST_LINE = 100000;

/** Metadata of a label (`<attribute>-metadata`). */
export interface ManifestMetadata {
  readonly className: string;
  readonly confidence: number;
  readonly type: string;
  readonly jobName: string;
  readonly humanAnnotated: boolean;
  /** ISO-8601 without zone (UTC), e.g. `2026-03-01T12:03:55.118`. */
  readonly creationDate: string;
  readonly labeler?: string;
  readonly datasetVersion?: string;
  /** Other metadata keys, passed through. */
  readonly extra?: Record<string, JsonValue>;
}

/** One manifest line. */
export interface ManifestEntry {
  /** `s3://bucket/key` (or `source` for inline data; one of the two). */
  readonly sourceRef?: string;
  readonly source?: string;
  readonly recordId?: string;
  readonly subjectPseudonym?: string;
  readonly attribute: string;
  /** The label value (class index for classification). */
  readonly label: JsonValue;
  readonly metadata: ManifestMetadata;
  /** Other top-level keys, passed through (e.g. `source-version-id`). */
  readonly extra?: Record<string, JsonValue>;
}

/** Thrown by the writer for an entry that cannot be written. */
export class ManifestError extends Error {}

const TOP_RESERVED = new Set(['source-ref', 'source', 'record-id', 'subject-pseudonym']);
const META_RESERVED = new Set([
  'class-name', 'confidence', 'type', 'job-name', 'human-annotated', 'creation-date', 'labeler', 'dataset-version',
  'job_name', 'creation_date', 'class_name', 'human_annotated',
]);

/** ISO-8601 without zone, UTC. */
export function isoWithoutZone(ms: number): string {
  return new Date(ms).toISOString().slice(0, -1);
}

/** Write one manifest line (hyphenated keys). Throws ManifestError when it breaks the format. */
export function writeManifestLine(e: ManifestEntry): string {
  if ((e.sourceRef === undefined) === (e.source === undefined)) throw new ManifestError('manifest entry: set exactly one of sourceRef and source');
  if (typeof e.attribute !== 'string' || e.attribute.length === 0 || e.attribute.startsWith('$') || TOP_RESERVED.has(e.attribute) || e.attribute.endsWith('-metadata')) {
    throw new ManifestError('manifest entry: the label attribute must be a non-empty name, not starting with $, not reserved, not ending in -metadata');
  }
  const m = e.metadata;
  if (!Number.isFinite(m.confidence)) throw new ManifestError('manifest entry: confidence must be a finite number');
  const meta: JsonObject = {
    'class-name': m.className,
    'confidence': m.confidence,
    'type': m.type,
    'job-name': m.jobName,
    'human-annotated': m.humanAnnotated ? 'yes' : 'no',
    'creation-date': m.creationDate,
  };
  if (m.labeler !== undefined) meta.labeler = m.labeler;
  if (m.datasetVersion !== undefined) meta['dataset-version'] = m.datasetVersion;
  for (const [k, v] of Object.entries(m.extra ?? {})) {
    if (META_RESERVED.has(k) || k.startsWith('$')) throw new ManifestError('manifest entry: a metadata extra key is reserved or starts with $');
    setOwn(meta, k, v);
  }
  const line: JsonObject = {};
  if (e.sourceRef !== undefined) line['source-ref'] = e.sourceRef;
  if (e.source !== undefined) line.source = e.source;
  if (e.recordId !== undefined) line['record-id'] = e.recordId;
  if (e.subjectPseudonym !== undefined) line['subject-pseudonym'] = e.subjectPseudonym;
  for (const [k, v] of Object.entries(e.extra ?? {})) {
    if (TOP_RESERVED.has(k) || k === e.attribute || k === `${e.attribute}-metadata` || k.startsWith('$')) {
      throw new ManifestError('manifest entry: an extra key is reserved, collides with the label attribute, or starts with $');
    }
    setOwn(line, k, v);
  }
  setOwn(line, e.attribute, e.label);
  setOwn(line, `${e.attribute}-metadata`, meta);
  const text = JSON.stringify(line);
  if (text.length > MAX_MANIFEST_LINE) throw new ManifestError(`manifest entry: the line is ${text.length} characters; the limit is ${MAX_MANIFEST_LINE}`);
  return text;
}

/** Result of reading one line. Reasons never contain values from the line. */
export type ManifestReadResult = { readonly ok: true; readonly entry: ManifestEntry } | { readonly ok: false; readonly reason: string };

/**
 * Read one manifest line leniently: hyphenated or underscored metadata keys (`job-name` /
 * `job_name`, `creation-date` / `creation_date`, `class-name` / `class_name`), `human-annotated`
 * as `yes`/`no` or a boolean, confidence as a number or numeric string. The label attribute is the
 * one given, or the single key K with an object at `K-metadata`. Never throws.
 */
export function readManifestLine(line: string, attribute?: string): ManifestReadResult {
  if (typeof line !== 'string') return { ok: false, reason: 'not a string' };
  if (line.length > MAX_MANIFEST_LINE) return { ok: false, reason: `line longer than ${MAX_MANIFEST_LINE} characters` };
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (!isObject(o)) return { ok: false, reason: 'not a JSON object' };
  const keys = Object.keys(o);
  if (keys.some((k) => k.startsWith('$'))) return { ok: false, reason: 'an attribute name starts with $' };
  let attr = attribute;
  if (attr === undefined) {
    const candidates = keys.filter((k) => k.endsWith('-metadata') && isObject(o[k]) && Object.prototype.hasOwnProperty.call(o, k.slice(0, -9)));
    if (candidates.length !== 1) return { ok: false, reason: `expected one label attribute with -metadata, found ${candidates.length}` };
    attr = candidates[0].slice(0, -9);
  }
  if (!Object.prototype.hasOwnProperty.call(o, attr)) return { ok: false, reason: 'the label attribute is missing' };
  const meta = o[`${attr}-metadata`];
  if (!isObject(meta)) return { ok: false, reason: 'the label metadata is missing or not an object' };
  const sourceRef = o['source-ref'];
  const source = o.source;
  if ((sourceRef === undefined) === (source === undefined)) return { ok: false, reason: 'expected exactly one of source-ref and source' };
  if ((sourceRef !== undefined && typeof sourceRef !== 'string') || (source !== undefined && typeof source !== 'string')) return { ok: false, reason: 'source-ref/source must be a string' };
  const pick = (...names: string[]) => {
    for (const n of names) if (Object.prototype.hasOwnProperty.call(meta, n)) return meta[n];
    return undefined;
  };
  const className = pick('class-name', 'class_name');
  const rawConf = pick('confidence');
  const confidence = typeof rawConf === 'string' && rawConf.trim() !== '' ? Number(rawConf) : rawConf;
  const type = pick('type');
  const jobName = pick('job-name', 'job_name');
  const human = pick('human-annotated', 'human_annotated');
  const creationDate = pick('creation-date', 'creation_date');
  if (typeof className !== 'string') return { ok: false, reason: 'class-name missing or not a string' };
  if (typeof confidence !== 'number' || !Number.isFinite(confidence)) return { ok: false, reason: 'confidence missing or not a number' };
  if (typeof type !== 'string') return { ok: false, reason: 'type missing or not a string' };
  if (typeof jobName !== 'string') return { ok: false, reason: 'job-name missing or not a string' };
  if (typeof creationDate !== 'string') return { ok: false, reason: 'creation-date missing or not a string' };
  let humanAnnotated: boolean;
  if (human === 'yes' || human === true) humanAnnotated = true;
  else if (human === 'no' || human === false) humanAnnotated = false;
  else return { ok: false, reason: 'human-annotated must be yes or no' };
  const labeler = pick('labeler');
  const datasetVersion = pick('dataset-version', 'dataset_version');
  if (labeler !== undefined && typeof labeler !== 'string') return { ok: false, reason: 'labeler must be a string' };
  if (datasetVersion !== undefined && typeof datasetVersion !== 'string') return { ok: false, reason: 'dataset-version must be a string' };
  const metaExtra: Record<string, JsonValue> = {};
  for (const k of Object.keys(meta)) if (!META_RESERVED.has(k) && k !== 'dataset_version') setOwn(metaExtra, k, meta[k]);
  const recordId = o['record-id'];
  const subject = o['subject-pseudonym'];
  const extra: Record<string, JsonValue> = {};
  for (const k of keys) {
    if (k === attr || k === `${attr}-metadata`) continue;
    if ((k === 'record-id' && typeof recordId === 'string') || (k === 'subject-pseudonym' && typeof subject === 'string')) continue;
    if (k === 'source-ref' || k === 'source') continue;
    setOwn(extra, k, o[k]);
  }
  const entry: ManifestEntry = {
    ...(sourceRef !== undefined ? { sourceRef: sourceRef as string } : { source: source as string }),
    ...(typeof recordId === 'string' ? { recordId } : {}),
    ...(typeof subject === 'string' ? { subjectPseudonym: subject } : {}),
    attribute: attr,
    label: o[attr],
    metadata: {
      className,
      confidence,
      type,
      jobName,
      humanAnnotated,
      creationDate,
      ...(labeler !== undefined ? { labeler } : {}),
      ...(datasetVersion !== undefined ? { datasetVersion } : {}),
      ...(Object.keys(metaExtra).length ? { extra: metaExtra } : {}),
    },
    ...(Object.keys(extra).length ? { extra } : {}),
  };
  return { ok: true, entry };
}

/** Read a JSON Lines manifest; blank lines are skipped, bad lines reported by number (1-based). */
export function readManifest(text: string, attribute?: string): { entries: ManifestEntry[]; errors: Array<{ line: number; reason: string }> } {
  const entries: ManifestEntry[] = [];
  const errors: Array<{ line: number; reason: string }> = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    const r = readManifestLine(l.replace(/\r$/, ''), attribute);
    if (r.ok) entries.push(r.entry);
    else errors.push({ line: i + 1, reason: r.reason });
  });
  return { entries, errors };
}

/** The default `type` of a classification label. */
export const LABEL_TYPE = 'labeling-pipeline/classification';

/** A clean record as the dataset builder sees it. */
export interface DatasetRecord {
  readonly recordId: string;
  readonly subject: string;
  readonly sourceRef: string;
  /**
   * The clean record inline, as JSON text (one line). When set, the manifest line carries it as
   * `source` instead of `sourceRef` as `source-ref` (a self-contained channel); a line that then
   * exceeds MAX_MANIFEST_LINE is a row failure `manifest-line`.
   * @default - the line references the record (`source-ref`)
   */
  readonly source?: string;
  /** The current label; absent while the record waits for review. */
  readonly label?: LabelRecord;
  /** Top-level keys to pass through (e.g. `source-version-id`). */
  readonly extra?: Record<string, JsonValue>;
}

/** A quarantined record as a row-level failure (its record id or `sha256:<input hash>`, codes). */
export interface RowFailure {
  readonly id: string;
  readonly codes: string[];
}

/** Dataset-level gates; any that fails blocks publishing. */
export interface QualityGates {
  /** Fewest labelled records in the version. @default 1 */
  readonly minRecords?: number;
  /** Highest quarantined / (quarantined + clean). @default 1 */
  readonly maxQuarantineRate?: number;
  /** Fewest records in each split with a non-zero fraction. @default 0 */
  readonly minPerSplit?: number;
  /** Highest fraction of clean records still unlabelled (waiting for review). @default 1 */
  readonly maxUnlabelledRate?: number;
}

/** Everything needed to build one dataset version. */
export interface DatasetVersionInput {
  readonly datasetVersion: string;
  readonly jobName: string;
  /** Epoch ms. */
  readonly now: number;
  readonly attribute: string;
  readonly classes: string[];
  readonly records: readonly DatasetRecord[];
  readonly quarantined: readonly RowFailure[];
  readonly split: SplitConfig;
  readonly schemaSha256: string;
  /** Versions to record (cleaning config, labelers, library…). */
  readonly versions: Record<string, string>;
  readonly gates?: QualityGates;
  readonly labelType?: string;
}

/** One gate's outcome. */
export interface GateResult {
  readonly id: keyof QualityGates;
  readonly passed: boolean;
  readonly actual: number;
  readonly limit: number;
}

/** The dataset card. */
export interface DatasetCard {
  readonly datasetVersion: string;
  /**
   * Whether the version passed its quality gates and was published: what a consumer checks
   * before it acts on an event that names the version (the event may be forged; the card is
   * written only by the dataset handler, last, after the manifests).
   */
  readonly published: boolean;
  readonly createdAt: string;
  readonly attribute: string;
  readonly classes: string[];
  readonly counts: Record<Split | 'total', number>;
  readonly subjects: Record<Split, number>;
  readonly classBalance: Record<Split, Record<string, number>>;
  readonly humanLabelled: number;
  readonly schemaSha256: string;
  readonly split: SplitConfig;
  readonly versions: Record<string, string>;
  /** SHA-256 of each split's manifest text. */
  readonly manifestSha256: Record<Split, string>;
}

/** The data-quality report. Row-level entries are record ids only. */
export interface QualityReport {
  readonly datasetVersion: string;
  readonly createdAt: string;
  readonly totals: {
    readonly clean: number; readonly labelled: number; readonly unlabelled: number; readonly quarantined: number; readonly duplicates: number;
  };
  readonly quarantineRate: number;
  readonly quarantineByCode: Record<string, number>;
  readonly rowFailures: RowFailure[];
  readonly unlabelled: string[];
  readonly gates: GateResult[];
  readonly publish: boolean;
  readonly blockedReasons: string[];
}

/** A built dataset version. */
export interface DatasetVersion {
  /** Manifest text (JSON Lines, trailing newline) per split. */
  readonly manifests: Record<Split, string>;
  readonly card: DatasetCard;
  readonly report: QualityReport;
}

/** Build the manifests, card and data-quality report of one dataset version. */
export function buildDatasetVersion(input: DatasetVersionInput): DatasetVersion {
  const splitter = compileSplitter(input.split);
  const createdAt = new Date(input.now).toISOString();
  const lines: Record<Split, string[]> = { train: [], validation: [], test: [] };
  const subjects: Record<Split, Set<string>> = { train: new Set(), validation: new Set(), test: new Set() };
  const balance: Record<Split, Record<string, number>> = { train: {}, validation: {}, test: {} };
  for (const s of SPLITS) for (const c of input.classes) balance[s][c] = 0;
  const seen = new Set<string>();
  const unlabelled: string[] = [];
  const rowFailures: RowFailure[] = [...input.quarantined].map((f) => ({ id: f.id, codes: [...f.codes] }));
  const byCode: Record<string, number> = {};
  for (const f of input.quarantined) for (const c of new Set(f.codes)) byCode[c] = (byCode[c] ?? 0) + 1;
  let duplicates = 0;
  let humanLabelled = 0;
  const sorted = [...input.records].sort((a, b) => (a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0));
  for (const r of sorted) {
    if (seen.has(r.recordId)) {
      duplicates++;
      continue;
    }
    seen.add(r.recordId);
    if (!r.label) {
      unlabelled.push(r.recordId);
      continue;
    }
    const split = splitter(r.subject);
    let line: string;
    try {
      line = writeManifestLine(toManifestEntry(r, input));
    } catch {
      rowFailures.push({ id: r.recordId, codes: ['manifest-line'] });
      byCode['manifest-line'] = (byCode['manifest-line'] ?? 0) + 1;
      continue;
    }
    lines[split].push(line);
    subjects[split].add(r.subject);
    balance[split][r.label.className] = (balance[split][r.label.className] ?? 0) + 1;
    if (r.label.human) humanLabelled++;
  }
  const counts = { train: lines.train.length, validation: lines.validation.length, test: lines.test.length, total: 0 };
  counts.total = counts.train + counts.validation + counts.test;
  const manifests = { train: joinLines(lines.train), validation: joinLines(lines.validation), test: joinLines(lines.test) };

  const clean = seen.size;
  const quarantined = input.quarantined.length;
  const quarantineRate = clean + quarantined === 0 ? 0 : quarantined / (clean + quarantined);
  const unlabelledRate = clean === 0 ? 0 : unlabelled.length / clean;
  const g = input.gates ?? {};
  const gates: GateResult[] = [
    { id: 'minRecords', passed: counts.total >= (g.minRecords ?? 1), actual: counts.total, limit: g.minRecords ?? 1 },
    { id: 'maxQuarantineRate', passed: quarantineRate <= (g.maxQuarantineRate ?? 1), actual: quarantineRate, limit: g.maxQuarantineRate ?? 1 },
    { id: 'maxUnlabelledRate', passed: unlabelledRate <= (g.maxUnlabelledRate ?? 1), actual: unlabelledRate, limit: g.maxUnlabelledRate ?? 1 },
  ];
  const minPer = g.minPerSplit ?? 0;
  const smallest = Math.min(...SPLITS.filter((s) => input.split[s] > 0).map((s) => counts[s]));
  gates.push({ id: 'minPerSplit', passed: smallest >= minPer, actual: smallest, limit: minPer });
  const blockedReasons = gates.filter((x) => !x.passed).map((x) => `${x.id}: ${fmt(x.actual)} ${x.id.startsWith('max') ? 'is above' : 'is below'} the limit ${fmt(x.limit)}`);

  return {
    manifests,
    card: {
      datasetVersion: input.datasetVersion,
      published: blockedReasons.length === 0,
      createdAt,
      attribute: input.attribute,
      classes: [...input.classes],
      counts,
      subjects: { train: subjects.train.size, validation: subjects.validation.size, test: subjects.test.size },
      classBalance: balance,
      humanLabelled,
      schemaSha256: input.schemaSha256,
      split: input.split,
      versions: { ...input.versions },
      manifestSha256: { train: sha256Hex(manifests.train), validation: sha256Hex(manifests.validation), test: sha256Hex(manifests.test) },
    },
    report: {
      datasetVersion: input.datasetVersion,
      createdAt,
      totals: { clean, labelled: counts.total, unlabelled: unlabelled.length, quarantined, duplicates },
      quarantineRate,
      quarantineByCode: byCode,
      rowFailures,
      unlabelled,
      gates,
      publish: blockedReasons.length === 0,
      blockedReasons,
    },
  };
}

/** The manifest entry of a labelled record. */
export function toManifestEntry(r: DatasetRecord, v: Pick<DatasetVersionInput, 'datasetVersion' | 'jobName' | 'attribute' | 'labelType'>): ManifestEntry {
  const l = r.label!;
  return {
    ...(r.source !== undefined ? { source: r.source } : { sourceRef: r.sourceRef }),
    recordId: r.recordId,
    subjectPseudonym: r.subject,
    attribute: v.attribute,
    label: l.classIndex,
    metadata: {
      className: l.className,
      confidence: l.confidence,
      type: v.labelType ?? LABEL_TYPE,
      jobName: v.jobName,
      humanAnnotated: l.human,
      creationDate: isoWithoutZone(Date.parse(l.createdAt)),
      labeler: l.labeler,
      datasetVersion: v.datasetVersion,
    },
    ...(r.extra ? { extra: r.extra } : {}),
  };
}

function joinLines(ls: string[]): string {
  return ls.length ? ls.join('\n') + '\n' : '';
}

function fmt(x: number): string {
  return String(Number(x.toFixed(4)));
}
