/**
 * Labeling: the labeler contract, a declarative rules labeler, combination of labelers by
 * weighted vote, routing to human review, and label records with lineage.
 *
 * Labeler contract (also the JSON contract of a user Lambda labeler):
 *   input  `{ "recordId": "rec-…", "record": { …clean, pseudonymized record… } }`
 *   output `{ "kind": "label", "className": "mild", "confidence": 0.93 }` or
 *          `{ "kind": "abstain", "reason": "missing-input" }`
 * `confidence` is in [0, 1]; `className` must be one of the task's classes.
 */
import { compileLookups, compilePath, forEachMatch, getPath, isObject, JsonObject, JsonValue, PathPattern, sha256Hex } from './json';

/** What a labeler is given. */
export interface LabelInput {
  readonly recordId: string;
  readonly record: JsonObject;
}

/** A labeler's answer. */
export type LabelerOutput =
  | { readonly kind: 'label'; readonly className: string; readonly confidence: number }
  | { readonly kind: 'abstain'; readonly reason: string };

/** A labeler: rules, a model endpoint, or a user function. */
export interface Labeler {
  /** Kind and name, e.g. `rules:who-grade`. */
  readonly id: string;
  readonly version: string;
  label(input: LabelInput): LabelerOutput | Promise<LabelerOutput>;
}

/** `id@version`, as written in lineage. */
export function labelerRef(l: Pick<Labeler, 'id' | 'version'>): string {
  return `${l.id}@${l.version}`;
}

/** A group of numeric fields aggregated to one value. */
export interface RuleGroup {
  readonly id: string;
  /** Paths of numeric fields (wildcards allowed). */
  readonly fields: string[];
}

/** A condition on the record that lowers confidence or makes the labeler abstain. */
export interface RuleCondition {
  readonly id: string;
  /** A numeric field… */
  readonly field?: string;
  /** …or a ratio of two numeric fields (skipped when the denominator is 0). */
  readonly ratio?: { readonly numerator: string; readonly denominator: string };
  /** The condition holds when the value is above this. */
  readonly above: number;
  /** Abstain when it holds. */
  readonly abstain?: boolean;
  /** Multiply confidence by this when it holds. @default 1 */
  readonly confidenceFactor?: number;
}

/**
 * Declarative rules labeler (JSON-serializable):
 * score = `across`(groups, `within`(fields of the group)); class = classes[number of thresholds
 * ≤ score]; confidence = `confidence.max`, falling linearly to `confidence.atBoundary` as the score
 * comes within `boundaryMargin` of a threshold; then conditions.
 */
export interface RulesLabelerConfig {
  readonly id: string;
  readonly version: string;
  readonly classes: string[];
  readonly groups: RuleGroup[];
  /** Aggregate of the fields in a group. @default 'mean' */
  readonly within?: 'mean' | 'min' | 'max';
  /** Aggregate across groups (`min` = the better ear for hearing thresholds). @default 'min' */
  readonly across?: 'mean' | 'min' | 'max';
  /** Ascending; classes.length - 1 of them. A score equal to a threshold falls in the upper class. */
  readonly thresholds: number[];
  /** Distance to a threshold below which confidence drops. @default 0 */
  readonly boundaryMargin?: number;
  readonly confidence?: { readonly max?: number; readonly atBoundary?: number };
  readonly conditions?: RuleCondition[];
}

type Agg = (xs: number[]) => number;
const AGG: Record<string, Agg> = {
  mean: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
  min: (xs) => Math.min(...xs),
  max: (xs) => Math.max(...xs),
};

/** A compiled rules labeler, with the score it computed (for explanations and tests). */
export interface RulesLabeler extends Labeler {
  readonly classes: readonly string[];
  /** The score, or undefined when a field is missing. */
  score(record: JsonObject): number | undefined;
  label(input: LabelInput): LabelerOutput;
}

/** Compile a rules labeler configuration. Throws an Error naming the problem when it is invalid. */
export function compileRulesLabeler(c: RulesLabelerConfig): RulesLabeler {
  const what = `rules labeler ${JSON.stringify(c?.id)}`;
  if (!isObject(c as unknown)) throw new Error('rules labeler: expected an object');
  if (typeof c.id !== 'string' || !c.id || typeof c.version !== 'string' || !c.version) throw new Error(`${what}: id and version must be non-empty strings`);
  if (!Array.isArray(c.classes) || c.classes.length < 2 || new Set(c.classes).size !== c.classes.length) throw new Error(`${what}: classes must be at least 2 distinct names`);
  if (!Array.isArray(c.thresholds) || c.thresholds.length !== c.classes.length - 1) {
    throw new Error(`${what}: expected ${c.classes.length - 1} thresholds for ${c.classes.length} classes, got ${Array.isArray(c.thresholds) ? c.thresholds.length : 'none'}`);
  }
  for (let i = 0; i < c.thresholds.length; i++) {
    if (!Number.isFinite(c.thresholds[i]) || (i > 0 && !(c.thresholds[i] > c.thresholds[i - 1]))) throw new Error(`${what}: thresholds must be finite and strictly ascending`);
  }
  if (!Array.isArray(c.groups) || c.groups.length === 0) throw new Error(`${what}: at least one group is required`);
  const within = AGG[c.within ?? 'mean'];
  const across = AGG[c.across ?? 'min'];
  if (!within || !across) throw new Error(`${what}: within/across must be mean, min or max`);
  const groups = c.groups.map((g, i) => {
    if (!Array.isArray(g.fields) || g.fields.length === 0) throw new Error(`${what}: groups[${i}] needs fields`);
    const fields = g.fields.map((f) => {
      const p = compilePath(f, `${what} groups[${i}]`);
      return { p, wildcard: p.includes('*') };
    });
    return { fields, lookups: compileLookups(fields.filter((f) => !f.wildcard).map((f) => f.p)) };
  });
  const margin = c.boundaryMargin ?? 0;
  const cMax = c.confidence?.max ?? 1;
  const cBoundary = c.confidence?.atBoundary ?? cMax;
  for (const [n, v] of [['boundaryMargin', margin], ['confidence.max', cMax], ['confidence.atBoundary', cBoundary]] as const) {
    if (!Number.isFinite(v) || v < 0 || (n !== 'boundaryMargin' && v > 1)) throw new Error(`${what}: ${n} must be ${n === 'boundaryMargin' ? '>= 0' : 'in [0, 1]'}, got ${v}`);
  }
  const conditions = (c.conditions ?? []).map((k, i) => {
    const w = `${what} conditions[${i}]`;
    if (!Number.isFinite(k.above)) throw new Error(`${w}: above must be a finite number`);
    const factor = k.confidenceFactor ?? 1;
    if (!Number.isFinite(factor) || factor < 0 || factor > 1) throw new Error(`${w}: confidenceFactor must be in [0, 1]`);
    let value: (r: JsonObject) => number | undefined;
    if (k.field !== undefined && k.ratio === undefined) {
      const p = compilePath(k.field, w);
      value = (r) => num(getPath(r, p));
    } else if (k.ratio !== undefined && k.field === undefined) {
      const n = compilePath(k.ratio.numerator, w);
      const d = compilePath(k.ratio.denominator, w);
      value = (r) => {
        const a = num(getPath(r, n));
        const b = num(getPath(r, d));
        return a === undefined || b === undefined || b === 0 ? undefined : a / b;
      };
    } else {
      throw new Error(`${w}: set exactly one of field or ratio`);
    }
    return { id: k.id, value, above: k.above, abstain: k.abstain === true, factor };
  });

  const score = (record: JsonObject): number | undefined => {
    const perGroup: number[] = [];
    for (const g of groups) {
      const xs: number[] = [];
      const values = g.lookups(record);
      let e = 0;
      for (const { p, wildcard } of g.fields) {
        if (!wildcard) {
          const v = values[e++];
          if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
          xs.push(v);
        } else if (!pushNumbers(record, p, xs)) {
          return undefined;
        }
      }
      perGroup.push(within(xs));
    }
    return across(perGroup);
  };

  return {
    id: c.id,
    version: c.version,
    classes: [...c.classes],
    score,
    label({ record }) {
      const s = score(record);
      if (s === undefined) return { kind: 'abstain', reason: 'missing-input' };
      let k = 0;
      let distance = Infinity;
      for (const t of c.thresholds) {
        if (s >= t) k++;
        distance = Math.min(distance, Math.abs(s - t));
      }
      let confidence = margin > 0 && distance < margin ? cBoundary + (cMax - cBoundary) * (distance / margin) : cMax;
      for (const cond of conditions) {
        const v = cond.value(record);
        if (v === undefined || !(v > cond.above)) continue;
        if (cond.abstain) return { kind: 'abstain', reason: `condition:${cond.id}` };
        confidence *= cond.factor;
      }
      return { kind: 'label', className: c.classes[k], confidence: round6(confidence) };
    },
  };
}

/** Appends every value at a wildcard path to `xs`; false when there is none or one is not a finite number. */
function pushNumbers(record: JsonObject, p: PathPattern, xs: number[]): boolean {
  let found = false;
  let ok = true;
  forEachMatch(record, p, (_parent, _key, v: JsonValue) => {
    found = true;
    if (typeof v !== 'number' || !Number.isFinite(v)) ok = false;
    else if (ok) xs.push(v);
  });
  return found && ok;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** How labelers are combined and when a human reviews (JSON-serializable). */
export interface LabelTaskConfig {
  /** Label attribute name in manifests, e.g. `who-grade`. */
  readonly attribute: string;
  /** Class names; the manifest's label value is the index in this list. */
  readonly classes: string[];
  /** Weight per labeler ref (`id@version`) or id; labelers not listed weigh 1. */
  readonly weights?: Record<string, number>;
  readonly review: {
    /** Combined confidence below this goes to review. */
    readonly minConfidence: number;
    /** Fraction of auto-accepted records also sent to review (quality control). @default 0 */
    readonly sampleRate?: number;
    /** Salt of the sampling hash (change it to draw a different sample). @default '' */
    readonly sampleSalt?: string;
    /** Send to review when non-abstaining labelers disagree. @default true */
    readonly onDisagreement?: boolean;
  };
}

/** One labeler's vote, as kept in lineage. */
export interface Vote {
  readonly labeler: string;
  readonly className?: string;
  readonly confidence?: number;
  readonly abstainReason?: string;
}

/** Why a record goes to review. */
export type ReviewReason = 'low-confidence' | 'disagreement' | 'all-abstained' | 'tie' | 'quality-sample';

/** An append-only label record with lineage. */
export interface LabelRecord {
  readonly recordId: string;
  readonly attribute: string;
  readonly classIndex: number;
  readonly className: string;
  readonly confidence: number;
  readonly human: boolean;
  /** `id@version` of the single labeler, `vote:<refs joined by +>` for a combination, or `human:<reviewer>`. */
  readonly labeler: string;
  /** ISO-8601 UTC. */
  readonly createdAt: string;
  readonly votes: Vote[];
}

/** The outcome of combining labelers for one record. */
export interface LabelDecision {
  readonly route: 'auto' | 'review';
  readonly reasons: ReviewReason[];
  /** The machine label (absent when every labeler abstained). With route `review` it is a proposal. */
  readonly label?: LabelRecord;
  readonly votes: Vote[];
}

/** Combines the outputs of the labelers for one record (`now`: epoch ms). */
export type LabelCombiner = (recordId: string, outputs: Array<{ labeler: Labeler; output: LabelerOutput }>, now: number) => LabelDecision;

/** Validate a task config and return a combiner. */
export function compileLabelTask(task: LabelTaskConfig): LabelCombiner {
  const what = `label task ${JSON.stringify(task?.attribute)}`;
  if (typeof task.attribute !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(task.attribute) || task.attribute.endsWith('-metadata')) {
    throw new Error(`${what}: attribute must match [A-Za-z0-9][A-Za-z0-9_-]* (no leading '$', not ending in -metadata)`);
  }
  if (!Array.isArray(task.classes) || task.classes.length < 2 || new Set(task.classes).size !== task.classes.length) throw new Error(`${what}: classes must be at least 2 distinct names`);
  const r = task.review;
  if (!r || !(r.minConfidence >= 0 && r.minConfidence <= 1)) throw new Error(`${what}: review.minConfidence must be in [0, 1]`);
  const rate = r.sampleRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new Error(`${what}: review.sampleRate must be in [0, 1]`);
  for (const [k, w] of Object.entries(task.weights ?? {})) if (!(Number.isFinite(w) && w >= 0)) throw new Error(`${what}: weight of '${k}' must be >= 0`);
  const index = new Map(task.classes.map((c, i) => [c, i]));
  const salt = r.sampleSalt ?? '';
  const onDisagreement = r.onDisagreement ?? true;
  const weightOf = (l: Labeler, ref: string) => task.weights?.[ref] ?? task.weights?.[l.id] ?? 1;
  // The last labeler's ref, kept while its id and version stay the same strings: one string (and
  // one property key to look up in weights) instead of a new concatenation per record.
  let last = { id: '', version: '', ref: '' };
  const refOf = (l: Labeler): string => {
    const { id, version } = l;
    if (id === last.id && version === last.version && last.ref !== '') return last.ref;
    const ref = labelerRef({ id, version });
    if (typeof id === 'string' && typeof version === 'string') last = { id, version, ref };
    return ref;
  };

  return (recordId, outputs, now) => {
    const votes: Vote[] = [];
    const score = new Map<string, number>();
    let totalWeight = 0;
    for (const { labeler, output } of outputs) {
      const ref = refOf(labeler);
      const valid = output && output.kind === 'label' && index.has(output.className)
        && Number.isFinite(output.confidence) && output.confidence >= 0 && output.confidence <= 1;
      if (!valid) {
        const reason = output?.kind === 'abstain' ? String(output.reason) : 'invalid-output';
        votes.push({ labeler: ref, abstainReason: reason });
        continue;
      }
      const o = output as { className: string; confidence: number };
      votes.push({ labeler: ref, className: o.className, confidence: o.confidence });
      const w = weightOf(labeler, ref);
      totalWeight += w;
      score.set(o.className, (score.get(o.className) ?? 0) + w * o.confidence);
    }
    if (score.size === 0) return { route: 'review', reasons: ['all-abstained'], votes };
    const ranked: Array<[string, number]> = [];
    score.forEach((v, k) => ranked.push([k, v]));
    if (ranked.length > 1) ranked.sort((a, b) => b[1] - a[1] || index.get(a[0])! - index.get(b[0])!);
    const [className, best] = ranked[0];
    const confidence = totalWeight > 0 ? round6(best / totalWeight) : 0;
    const reasons: ReviewReason[] = [];
    if (confidence < r.minConfidence) reasons.push('low-confidence');
    if (onDisagreement && score.size > 1) reasons.push('disagreement');
    if (ranked.length > 1 && ranked[1][1] === best) reasons.push('tie');
    if (reasons.length === 0 && rate > 0 && sampleFraction(salt, recordId) < rate) reasons.push('quality-sample');
    const voters = votes.filter((v) => v.className !== undefined).map((v) => v.labeler);
    const label: LabelRecord = {
      recordId,
      attribute: task.attribute,
      classIndex: index.get(className)!,
      className,
      confidence,
      human: false,
      labeler: voters.length === 1 ? voters[0] : `vote:${voters.join('+')}`,
      createdAt: isoTimestamp(now),
      votes,
    };
    return { route: reasons.length ? 'review' : 'auto', reasons, label, votes };
  };
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/**
 * `new Date(ms).toISOString()`, computed directly for 1970-01-01 to 9999-12-31 (the native one
 * costs over a microsecond, more than the rest of the combination); anything else (before 1970,
 * extended years, NaN: RangeError) goes to the native one.
 */
function isoTimestamp(ms: number): string {
  if (!(ms >= 0 && ms < 253402300800000)) return new Date(ms).toISOString();
  const t = Math.floor(ms); // TimeClip truncates; for ms >= 0 that is floor
  const days = Math.floor(t / 86400000);
  let rest = t - days * 86400000;
  // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-compatible low-level date algorithms").
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(rest / 3600000);
  rest -= h * 3600000;
  const m = Math.floor(rest / 60000);
  rest -= m * 60000;
  const sec = Math.floor(rest / 1000);
  const milli = rest - sec * 1000;
  return String(year) + '-' + pad2(month) + '-' + pad2(day)
    + 'T' + pad2(h) + ':' + pad2(m) + ':' + pad2(sec) + '.' + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}

/** A deterministic number in [0, 1) from a salt and a record id (SHA-256, first 52 bits). */
export function sampleFraction(salt: string, id: string): number {
  return parseInt(sha256Hex(`${salt}\u0000${id}`).slice(0, 13), 16) / 2 ** 52;
}

/** A label given by a human reviewer (confidence 1). `reviewer` must be a pseudonym, not a name. */
export function humanLabel(
  task: LabelTaskConfig, recordId: string, className: string, reviewer: string, now: number, votes: Vote[] = [],
): LabelRecord {
  const classIndex = task.classes.indexOf(className);
  if (classIndex < 0) throw new Error(`human label: class is not one of the ${task.classes.length} classes of '${task.attribute}'`);
  return {
    recordId,
    attribute: task.attribute,
    classIndex,
    className,
    confidence: 1,
    human: true,
    labeler: `human:${reviewer}`,
    createdAt: new Date(now).toISOString(),
    votes,
  };
}

/** The latest label per record from an append-only list (human labels win over machine labels). */
export function currentLabels(records: readonly LabelRecord[]): Map<string, LabelRecord> {
  const out = new Map<string, LabelRecord>();
  for (const l of records) {
    const prev = out.get(l.recordId);
    if (!prev || (l.human && !prev.human) || (l.human === prev.human && l.createdAt >= prev.createdAt)) out.set(l.recordId, l);
  }
  return out;
}
