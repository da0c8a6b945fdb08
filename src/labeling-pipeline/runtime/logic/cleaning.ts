/**
 * Cleaning of one raw record: size and encoding limits, JSON parse (refusing repeated member names
 * and lone surrogates), JSON Schema validation (Ajv), unit normalization, declarative checks,
 * pseudonymization of identifier fields, removal of fields and a content-derived record id.
 *
 * Everything about the data is configuration (`CleaningConfig`, JSON-serializable); a handler
 * compiles it once per execution environment with `compileCleaner` and calls `clean` per record.
 *
 * `clean` never throws for anything in the input: a bad record is a `quarantine` result with
 * reasons. It throws only when the injected `mac` function fails (a transient dependency: the
 * caller retries) or returns something that is not hex (a programming error).
 *
 * Reason messages name the rule, the configured limits and a JSON pointer whose segments are
 * names the schema or config declares (any other key is written as `*`); they never contain a
 * value from the input.
 *
 * Repeated member names (`duplicate-key`): `JSON.parse` keeps the last of them, so the record
 * would mean something other than what was sent. The exact check (`hasDuplicateMembers`) walks
 * the parsed value, about half the cost of `JSON.parse`; it runs for records quarantined for
 * another reason (their reasons are replaced: they were found on the collapsed object) and for
 * text with a `\`. A clean record without a `\` gets the same answer for free from its canonical
 * JSON, which the record id needs anyway: the text's colons must equal the canonical JSON's plus
 * those of what cleaning took out or replaced (`Edits`); see `hasDuplicateMembers` for why that is
 * exact. Lone surrogates (`ill-formed-text`) only come from `\u` escapes in UTF-8 input.
 */
// Ajv is bundled into the handler by esbuild, so it is a devDependency (conventions: Handlers).
import Ajv, { ErrorObject, FormatDefinition, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import {
  canonicalJson, collectNames, compileLookups, compilePath, countColons, depthExceeds, findAll, forEachMatch, getPath,
  hasDuplicateMembers, hasIllFormedText, isObject, jsonWeight, JsonObject, PathPattern, PointerRedactor, setOwn, sha256Hex,
} from './json';

/** Code of a quarantine reason. */
export type QuarantineCode =
  | 'too-large' | 'invalid-utf8' | 'invalid-json' | 'not-an-object' | 'too-deep'
  /** An object has two members with the same name (JSON.parse would keep the last one silently). */
  | 'duplicate-key'
  /** A key or string holds a lone UTF-16 surrogate (no UTF-8 form: two identifiers could share a pseudonym). */
  | 'ill-formed-text'
  | 'schema' | 'missing' | 'type' | 'range' | 'step' | 'not-allowed'
  | 'timestamp-invalid' | 'future-timestamp' | 'ratio' | 'ratio-denominator'
  | 'unit-unknown' | 'identifier-type'
  /** Set by the cleaning handler: the uploaded object version is gone when the record is processed. */
  | 'source-missing'
  /** Set by the cleaning handler: the upload was deleted (its current version is a delete marker) before it was processed. */
  | 'source-deleted'
  /**
   * Set by the cleaning handler: another version of the same upload key was processed first (a
   * presigned POST replayed before it expired); one upload grant gives one record.
   */
  | 'replayed-upload';

/** Why a record was quarantined. Never contains an input value. */
export interface QuarantineReason {
  readonly code: QuarantineCode;
  /** `parse`, `schema:<keyword>`, or the id of a configured rule. */
  readonly ruleId: string;
  readonly message: string;
}

/** Every path exists and is not null (wildcards: at least one match, none null). */
export interface RequiredCheck { readonly id: string; readonly type: 'required'; readonly paths: string[] }
/** Every value at `path` is a number within [min, max], and `min + k × step` when step is set. */
export interface RangeCheck {
  readonly id: string;
  readonly type: 'range';
  readonly path: string;
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
}
/** Every value at `path` is one of `values` (strict equality). */
export interface AllowedCheck {
  readonly id: string;
  readonly type: 'allowed';
  readonly path: string;
  readonly values: Array<string | number | boolean | null>;
}
/** Every value at `path` is an RFC 3339 date-time no later than now + toleranceSeconds (default 300). */
export interface NotInFutureCheck {
  readonly id: string; readonly type: 'notInFuture'; readonly path: string; readonly toleranceSeconds?: number;
}
/**
 * numerator / denominator is at most `max`. When `minDenominator` is set, a smaller denominator is
 * itself a reason (too few trials to judge); otherwise a zero denominator skips the check.
 * Missing or non-numeric operands skip the check (use `required` and the schema for presence).
 */
export interface RatioCheck {
  readonly id: string;
  readonly type: 'ratio';
  readonly numerator: string;
  readonly denominator: string;
  readonly max: number;
  readonly minDenominator?: number;
}
/** A declarative check. */
export type CheckRule = RequiredCheck | RangeCheck | AllowedCheck | NotInFutureCheck | RatioCheck;

/**
 * Linear unit conversion: when the string at `unitPath` names a unit in `conversions`, every
 * number at `path` becomes `value × scale + offset` and the unit field becomes `target`. A unit
 * that is neither `target` nor listed is a reason (`unit-unknown`); an absent unit field means
 * the values are already in `target`.
 */
export interface NormalizeRule {
  readonly id: string;
  readonly path: string;
  readonly unitPath: string;
  readonly target: string;
  readonly conversions: Record<string, { readonly scale: number; readonly offset?: number }>;
}

/** Configuration of the cleaning step (JSON-serializable). */
export interface CleaningConfig {
  /** Version of this configuration, recorded in lineage. @default '0' */
  readonly version?: string;
  /** Largest accepted raw object in bytes. @default 262144 */
  readonly maxBytes?: number;
  /** Deepest accepted nesting of objects and arrays. @default 32 */
  readonly maxDepth?: number;
  /** JSON Schema (draft-07 / 2019 subset that Ajv 8 compiles in strict mode). @default - none */
  readonly schema?: JsonObject;
  /** Unit normalizations, applied after the schema and before the checks. */
  readonly normalize?: NormalizeRule[];
  /** Declarative checks, all evaluated (every reason is reported). */
  readonly checks?: CheckRule[];
  /** Paths of identifier fields, replaced by `hmac:<hex of mac(value)>`. */
  readonly pseudonymize?: string[];
  /** Path of the (pseudonymized) subject identifier, returned as `subject`. @default - none */
  readonly subjectField?: string;
  /** Paths of fields removed from the clean record. */
  readonly remove?: string[];
  /** Record id: `<prefix><first hexChars of SHA-256 of the canonical clean record minus volatileFields>`. */
  readonly recordId?: { readonly prefix?: string; readonly hexChars?: number; readonly volatileFields?: string[] };
  /** Most reasons reported per record (the rest are counted in one more reason). @default 20 */
  readonly maxReasons?: number;
}

/** Per-call context. */
export interface CleanContext {
  /** Current time, epoch milliseconds (injected clock). */
  readonly now: number;
}

/** Keyed MAC of an identifier (the handler calls KMS GenerateMac), lowercase hex. */
export type MacFunction = (value: string) => Promise<string> | string;

/** A record that passed. */
export interface CleanRecord {
  readonly kind: 'clean';
  readonly recordId: string;
  readonly record: JsonObject;
  /** The value at `subjectField` after pseudonymization, when configured and present. */
  readonly subject?: string;
}

/** A record that was rejected. */
export interface QuarantinedRecord {
  readonly kind: 'quarantine';
  readonly reasons: QuarantineReason[];
  readonly inputSha256: string;
}

/** Result of cleaning one record. */
export type CleanResult = CleanRecord | QuarantinedRecord;

/** A compiled cleaner, built once per execution environment. */
export interface Cleaner {
  /** Version of the configuration. */
  readonly configVersion: string;
  /** SHA-256 of the canonical JSON of the schema ('' without one), for dataset cards. */
  readonly schemaSha256: string;
  clean(raw: Uint8Array | string, context: CleanContext): Promise<CleanResult>;
}

type CompiledCheck = (record: JsonObject, ctx: CleanContext, out: QuarantineReason[]) => void;

/**
 * What cleaning changed in a record, in `jsonWeight` terms (members plus colons in keys and
 * strings): the parsed value's weight minus the record's now. Every step that replaces a string,
 * removes a member or leaves one out of the canonical JSON adds its part.
 */
interface Edits { weight: number }

/** What validation gave: the record (and the text it came from), or reasons. */
type Validated =
  | { readonly kind: 'record'; readonly record: JsonObject; readonly text: string; readonly escaped: boolean }
  /** `text`: the JSON text, when it parsed to an object within the depth limit (a duplicate check is meaningful). */
  | { readonly kind: 'reasons'; readonly reasons: QuarantineReason[]; readonly text?: string };

const DUPLICATE_KEY: QuarantineReason = { code: 'duplicate-key', ruleId: 'parse', message: 'an object has two members with the same name' };
const ILL_FORMED: QuarantineReason = {
  code: 'ill-formed-text', ruleId: 'parse', message: 'a key or string holds a lone UTF-16 surrogate (not well-formed Unicode text)',
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const HEX = /^[0-9a-f]+$/;

function finite(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${what}: expected a finite number, got ${JSON.stringify(n)}`);
  return n;
}

/** Compile a cleaning configuration. Throws an Error that names the problem when the config is invalid. */
export function compileCleaner(config: CleaningConfig, mac: MacFunction): Cleaner {
  if (!isObject(config as unknown)) throw new Error('cleaning config: expected an object');
  const maxBytes = config.maxBytes ?? 262144;
  const maxDepth = config.maxDepth ?? 32;
  const maxReasons = config.maxReasons ?? 20;
  if (!(Number.isInteger(maxBytes) && maxBytes > 0)) throw new Error(`cleaning config: maxBytes must be a positive integer, got ${JSON.stringify(maxBytes)}`);
  if (!(Number.isInteger(maxDepth) && maxDepth > 0 && maxDepth <= 1000)) throw new Error(`cleaning config: maxDepth must be an integer from 1 to 1000, got ${JSON.stringify(maxDepth)}`);
  if (!(Number.isInteger(maxReasons) && maxReasons > 0)) throw new Error(`cleaning config: maxReasons must be a positive integer, got ${JSON.stringify(maxReasons)}`);

  const known = new Set<string>();
  const path = (p: string, what: string): PathPattern => {
    const compiled = compilePath(p, what);
    for (const s of compiled) known.add(s);
    return compiled;
  };

  let validate: ValidateFunction | undefined;
  if (config.schema !== undefined) {
    const ajv = new Ajv({ allErrors: true, strict: true, messages: false });
    addFormats(ajv);
    ajv.addFormat('date-time', DATE_TIME);
    try {
      validate = ajv.compile(config.schema);
    } catch (e) {
      throw new Error(`cleaning config: the JSON Schema does not compile in Ajv strict mode: ${(e as Error).message}`);
    }
    collectNames(config.schema, known);
  }

  const ids = new Set<string>();
  const ruleId = (id: unknown, what: string) => {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(id)) throw new Error(`${what}: id must match [A-Za-z0-9_.:-]{1,64}, got ${JSON.stringify(id)}`);
    if (ids.has(id)) throw new Error(`${what}: duplicate rule id '${id}'`);
    ids.add(id);
    return id;
  };

  const redactor = new PointerRedactor(known);
  const normalizers = (config.normalize ?? []).map((n, i) => compileNormalizer(n, i, path, ruleId, redactor));
  const checks = (config.checks ?? []).map((c, i) => compileCheck(c, i, path, ruleId, redactor));
  const pseudonymize = (config.pseudonymize ?? []).map((p, i) => path(p, `pseudonymize[${i}]`));
  const remove = (config.remove ?? []).map((p, i) => path(p, `remove[${i}]`));
  const subject = config.subjectField !== undefined ? path(config.subjectField, 'subjectField') : undefined;
  const idPrefix = config.recordId?.prefix ?? 'rec-';
  const idHex = config.recordId?.hexChars ?? 24;
  if (!(Number.isInteger(idHex) && idHex >= 16 && idHex <= 64)) throw new Error(`cleaning config: recordId.hexChars must be an integer from 16 to 64, got ${JSON.stringify(idHex)}`);
  const volatile = new Set(config.recordId?.volatileFields ?? []);
  const schemaSha256 = config.schema !== undefined ? sha256Hex(canonicalJson(config.schema)) : '';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const encoder = new TextEncoder();

  const quarantine = (raw: Uint8Array | string, reasons: QuarantineReason[]): QuarantinedRecord => {
    const inputSha256 = sha256Hex(typeof raw === 'string' ? encoder.encode(raw) : raw);
    if (reasons.length > maxReasons) {
      const more = reasons.length - maxReasons;
      reasons = reasons.slice(0, maxReasons);
      reasons.push({ code: reasons[0].code, ruleId: 'limit', message: `${more} more reason(s) not listed` });
    }
    return { kind: 'quarantine', reasons, inputSha256 };
  };

  /** A record quarantined after it parsed: a repeated member name is the reason (the others were found on the collapsed object). */
  const quarantineParsed = (raw: Uint8Array | string, text: string, reasons: QuarantineReason[]): QuarantinedRecord => {
    // Parsed again: the first parse may have been changed by normalization or pseudonymization.
    if (text.indexOf('\\') < 0 && hasDuplicateMembers(text, JSON.parse(text))) reasons = [DUPLICATE_KEY];
    return quarantine(raw, reasons);
  };

  /** Synchronous part: everything up to the checks. */
  const validateSync = (bytes: Uint8Array | string, ctx: CleanContext, edits: Edits): Validated => {
    const fail = (reason: QuarantineReason): Validated => ({ kind: 'reasons', reasons: [reason] });
    const size = typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.byteLength;
    if (size > maxBytes) return fail({ code: 'too-large', ruleId: 'parse', message: `object is ${size} bytes; the limit is ${maxBytes}` });
    let text: string;
    if (typeof bytes === 'string') {
      text = bytes;
    } else {
      try {
        text = decoder.decode(bytes);
      } catch {
        return fail({ code: 'invalid-utf8', ruleId: 'parse', message: 'object is not valid UTF-8' });
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return fail({ code: 'invalid-json', ruleId: 'parse', message: 'object is not valid JSON' });
    }
    if (!isObject(parsed)) return fail({ code: 'not-an-object', ruleId: 'parse', message: 'the top level must be a JSON object' });
    if (!fewContainers(text, maxDepth) && depthExceeds(parsed, maxDepth)) return fail({ code: 'too-deep', ruleId: 'parse', message: `nesting is deeper than ${maxDepth}` });
    // Text with escapes is checked here (exactly, with a walk); text without them at the end.
    const escaped = text.indexOf('\\') >= 0;
    if (escaped && hasDuplicateMembers(text, parsed)) return fail(DUPLICATE_KEY);
    // A lone surrogate (in UTF-8 input only a \u escape gives one) has no UTF-8 form: refused, so
    // that pseudonymization stays injective (two identifiers never share a MAC message).
    if ((escaped || typeof bytes === 'string') && hasIllFormedText(parsed)) return fail(ILL_FORMED);
    const reasons: QuarantineReason[] = [];
    if (validate && !validate(parsed)) {
      for (const e of validate.errors ?? []) reasons.push(schemaReason(e, redactor));
      return { kind: 'reasons', reasons, text };
    }
    for (const n of normalizers) n(parsed, reasons, edits);
    if (reasons.length) return { kind: 'reasons', reasons, text };
    for (const c of checks) c(parsed, ctx, reasons);
    return reasons.length ? { kind: 'reasons', reasons, text } : { kind: 'record', record: parsed, text, escaped };
  };

  return {
    configVersion: config.version ?? '0',
    schemaSha256,
    async clean(raw, ctx) {
      const edits: Edits = { weight: 0 };
      let result: Validated;
      try {
        result = validateSync(raw, ctx, edits);
      } catch {
        // Defensive: a bug in a check must not crash the batch or leak the input.
        result = { kind: 'reasons', reasons: [{ code: 'schema', ruleId: 'internal', message: 'the record could not be evaluated' }] };
      }
      if (result.kind === 'reasons') return result.text === undefined ? quarantine(raw, result.reasons) : quarantineParsed(raw, result.text, result.reasons);
      const { record, text, escaped } = result;
      const reasons: QuarantineReason[] = [];
      for (const p of pseudonymize) {
        for (const m of findAll(record, p)) {
          const v = m.value;
          if ((typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isFinite(v))) {
            // A MAC function may answer synchronously: no await (and no extra turn) for a plain string.
            let h = mac(typeof v === 'string' ? v : String(v));
            if (typeof h !== 'string') h = await h;
            setOwn(m.parent, m.key, 'hmac:' + checkHex(h));
            edits.weight += jsonWeight(v) - 1; // `hmac:<hex>` has one colon
          } else {
            reasons.push({
              code: 'identifier-type',
              ruleId: 'pseudonymize',
              message: `${redactor.fromSegments(m.at)} is an identifier and must be a non-empty string or a number`,
            });
          }
        }
      }
      if (reasons.length) return quarantineParsed(raw, text, reasons);
      for (const p of remove) {
        for (const m of findAll(record, p).reverse()) {
          edits.weight += jsonWeight(m.value);
          if (Array.isArray(m.parent)) {
            m.parent.splice(m.key as number, 1);
          } else {
            delete m.parent[m.key as string];
            edits.weight += 1 + countColons(m.key as string);
          }
        }
      }
      const canonical = canonicalJson(record, volatile);
      if (!escaped) {
        for (const k of volatile) {
          if (Object.prototype.hasOwnProperty.call(record, k)) edits.weight += 1 + countColons(k) + jsonWeight(record[k]);
        }
        // Exact without escapes (see hasDuplicateMembers): no second walk of the record.
        if (countColons(text) !== countColons(canonical) + edits.weight) return quarantine(raw, [DUPLICATE_KEY]);
      }
      const recordId = idPrefix + sha256Hex(canonical).slice(0, idHex);
      const s = subject ? getPath(record, subject) : undefined;
      return typeof s === 'string' ? { kind: 'clean', recordId, record, subject: s } : { kind: 'clean', recordId, record };
    },
  };
}

/** ajv-formats' (full) `date-time`, with a fast path for the common shape; see `isCommonDateTime`. */
const DATE_TIME: FormatDefinition<string> = ((full) => {
  const validate = full.validate as (s: string) => boolean;
  return { ...full, validate: (s: string) => isCommonDateTime(s) || validate(s) };
})(fullFormats['date-time'] as FormatDefinition<string>);

/** True when the UTF-16 unit at `i` is an ASCII digit. */
function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/**
 * True for `YYYY-MM-DDTHH:mm:ssZ` and `YYYY-MM-DDTHH:mm:ss.<digits>Z` with month 1–12, a day of
 * that month, hour ≤ 23, minute ≤ 59 and second ≤ 59: ajv-formats' full `date-time` accepts all of
 * these (one `T`, a valid date, a time below 24:00:00 with zone `Z`). False says nothing: the
 * caller asks ajv-formats (other separators and zones, leap seconds, invalid strings).
 */
function isCommonDateTime(s: string): boolean {
  const n = s.length;
  if (n < 20 || s.charCodeAt(10) !== 84 /* T */ || s.charCodeAt(n - 1) !== 90 /* Z */) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  for (const i of COMMON_DIGITS) if (!isDigit(s, i)) return false;
  if (n > 20) {
    if (n < 22 || s.charCodeAt(19) !== 46 /* . */) return false;
    for (let i = 20; i < n - 1; i++) if (!isDigit(s, i)) return false;
  }
  const d2 = (i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;
  const month = d2(5);
  const day = d2(8);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(d2(0) * 100 + d2(2), month) && d2(11) <= 23 && d2(14) <= 59 && d2(17) <= 59;
}
const COMMON_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

/** Days in a month of the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * `Date.parse(v)` for a string that matched RFC3339. The common `YYYY-MM-DDTHH:mm:ssZ` and
 * `YYYY-MM-DDTHH:mm:ss.sssZ` with fields in range are computed directly (days from the civil
 * date, H. Hinnant's algorithm); everything else (other separators, offsets, fraction lengths,
 * out-of-range fields that Date.parse rolls over or rejects) goes to Date.parse.
 */
function parseTimestamp(v: string): number {
  const n = v.length;
  if ((n === 20 || n === 24) && v.charCodeAt(10) === 84 /* T */ && v.charCodeAt(n - 1) === 90 /* Z */) {
    // RFC3339 matched: digits where these read them, and a '.' at 19 when the length is 24.
    const d2 = (i: number) => (v.charCodeAt(i) - 48) * 10 + v.charCodeAt(i + 1) - 48;
    const year = d2(0) * 100 + d2(2);
    const month = d2(5);
    const day = d2(8);
    const hour = d2(11);
    const minute = d2(14);
    const second = d2(17);
    const milli = n === 24 ? d2(20) * 10 + v.charCodeAt(22) - 48 : 0;
    if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59) {
      const y = month <= 2 ? year - 1 : year;
      const era = Math.floor(y / 400);
      const yoe = y - era * 400;
      const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
      const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
      const days = era * 146097 + doe - 719468;
      return days * 86400000 + hour * 3600000 + minute * 60000 + second * 1000 + milli;
    }
  }
  return Date.parse(v);
}

/**
 * True when `text` has at most `limit` `{` and `[` characters. Every object and array parsed from
 * it starts with one of them (those inside strings only add to the count), so nothing parsed from
 * it nests deeper than `limit` and the walk of `depthExceeds` can be skipped.
 */
function fewContainers(text: string, limit: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) if (++n > limit) return false;
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) if (++n > limit) return false;
  return true;
}

function checkHex(h: string): string {
  if (typeof h !== 'string' || !HEX.test(h)) throw new Error('mac function must return lowercase hex');
  return h;
}

/** Ajv error → reason. Only schema-derived parameters are included, never data. */
function schemaReason(e: ErrorObject, redactor: PointerRedactor): QuarantineReason {
  const at = redactor.fromPointer(e.instancePath) || '/';
  const p = e.params as Record<string, unknown>;
  let detail = '';
  switch (e.keyword) {
    case 'required': detail = ` (missing '${String(p.missingProperty)}')`; break;
    case 'type': detail = ` (must be ${String(p.type)})`; break;
    case 'format': detail = ` (must be format '${String(p.format)}')`; break;
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
    case 'minLength': case 'maxLength': case 'minItems': case 'maxItems':
    case 'minProperties': case 'maxProperties': case 'multipleOf':
      detail = ` (${String(p.comparison ?? e.keyword)} ${String(p.limit ?? p.multipleOf)})`; break;
    default: break;
  }
  return { code: 'schema', ruleId: `schema:${e.keyword}`, message: `${at} fails schema rule '${e.keyword}' at ${e.schemaPath}${detail}` };
}

function compileNormalizer(
  n: NormalizeRule, i: number, path: (p: string, w: string) => PathPattern,
  ruleId: (id: unknown, w: string) => string, redactor: PointerRedactor,
): (record: JsonObject, out: QuarantineReason[], edits: Edits) => void {
  const what = `normalize[${i}]`;
  const id = ruleId(n.id, what);
  const values = path(n.path, what);
  const unit = path(n.unitPath, what);
  if (unit.includes('*')) throw new Error(`${what}: unitPath must not contain '*'`);
  if (typeof n.target !== 'string') throw new Error(`${what}: target must be a string`);
  const conv = new Map<string, { scale: number; offset: number }>();
  for (const [u, c] of Object.entries(n.conversions ?? {})) {
    conv.set(u, { scale: finite(c.scale, `${what}.conversions.${u}.scale`), offset: finite(c.offset ?? 0, `${what}.conversions.${u}.offset`) });
  }
  return (record, out, edits) => {
    const u = getPath(record, unit);
    if (u === undefined || u === n.target) return;
    const c = typeof u === 'string' ? conv.get(u) : undefined;
    if (!c || !Object.prototype.hasOwnProperty.call(n.conversions, u as string)) {
      out.push({ code: 'unit-unknown', ruleId: id, message: `${redactor.fromSegments(unit)} is not '${n.target}' or a unit with a configured conversion` });
      return;
    }
    for (const m of findAll(record, values)) {
      if (typeof m.value === 'number') setOwn(m.parent, m.key, m.value * c.scale + c.offset);
    }
    const parent = getPath(record, unit.slice(0, -1)) as JsonObject;
    setOwn(parent, unit[unit.length - 1], n.target);
    edits.weight += jsonWeight(u) - jsonWeight(n.target);
  };
}

function compileCheck(
  c: CheckRule, i: number, path: (p: string, w: string) => PathPattern,
  ruleId: (id: unknown, w: string) => string, redactor: PointerRedactor,
): CompiledCheck {
  const what = `checks[${i}]`;
  if (!isObject(c as unknown)) throw new Error(`${what}: expected an object`);
  const id = ruleId(c.id, what);
  const ptr = (at: readonly (string | number)[]) => redactor.fromSegments(at) || '/';
  switch (c.type) {
    case 'required': {
      if (!Array.isArray(c.paths) || c.paths.length === 0) throw new Error(`${what}: paths must be a non-empty array`);
      const paths = c.paths.map((p) => {
        const pattern = path(p, what);
        return { pattern, text: p, exact: !pattern.includes('*') };
      });
      const exact = paths.filter((p) => p.exact);
      const lookups = compileLookups(exact.map((p) => p.pattern));
      return (record, _ctx, out) => {
        const values = lookups(record);
        let e = 0;
        for (const p of paths) {
          if (p.exact) {
            // At most one match: present and not null is the common case, and needs no match list.
            const v = values[e++];
            if (v !== undefined && v !== null) continue;
          }
          const ms = findAll(record, p.pattern);
          if (ms.length === 0) out.push({ code: 'missing', ruleId: id, message: `'${p.text}' is required` });
          for (const m of ms) if (m.value === null) out.push({ code: 'missing', ruleId: id, message: `${ptr(m.at)} is required and must not be null` });
        }
      };
    }
    case 'range': {
      const p = path(c.path, what);
      const min = c.min === undefined ? undefined : finite(c.min, `${what}.min`);
      const max = c.max === undefined ? undefined : finite(c.max, `${what}.max`);
      const step = c.step === undefined ? undefined : finite(c.step, `${what}.step`);
      if (step !== undefined && step <= 0) throw new Error(`${what}: step must be > 0, got ${step}`);
      if (min !== undefined && max !== undefined && min > max) throw new Error(`${what}: min ${min} is above max ${max}`);
      const base = min ?? 0;
      const bounds = `${min ?? '-∞'}..${max ?? '∞'}${step !== undefined ? ` in steps of ${step}` : ''}`;
      return (record, _ctx, out) => {
        forEachMatch(record, p, (_parent, _key, v, at) => {
          if (typeof v !== 'number') {
            out.push({ code: 'type', ruleId: id, message: `${ptr(at)} must be a number in ${bounds}` });
          } else if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
            out.push({ code: 'range', ruleId: id, message: `${ptr(at)} is outside ${bounds}` });
          } else if (step !== undefined) {
            const k = (v - base) / step;
            if (Math.abs(k - Math.round(k)) > 1e-9) out.push({ code: 'step', ruleId: id, message: `${ptr(at)} is not on the grid ${bounds}` });
          }
        });
      };
    }
    case 'allowed': {
      const p = path(c.path, what);
      if (!Array.isArray(c.values)) throw new Error(`${what}: values must be an array`);
      const allowed = new Set<unknown>(c.values);
      return (record, _ctx, out) => {
        forEachMatch(record, p, (_parent, _key, v, at) => {
          if (!allowed.has(v)) out.push({ code: 'not-allowed', ruleId: id, message: `${ptr(at)} is not one of the ${allowed.size} allowed values` });
        });
      };
    }
    case 'notInFuture': {
      const p = path(c.path, what);
      const toleranceMs = finite(c.toleranceSeconds ?? 300, `${what}.toleranceSeconds`) * 1000;
      return (record, ctx, out) => {
        forEachMatch(record, p, (_parent, _key, v, at) => {
          const t = typeof v === 'string' && RFC3339.test(v) ? parseTimestamp(v) : NaN;
          if (Number.isNaN(t)) out.push({ code: 'timestamp-invalid', ruleId: id, message: `${ptr(at)} must be an RFC 3339 date-time` });
          else if (t > ctx.now + toleranceMs) out.push({ code: 'future-timestamp', ruleId: id, message: `${ptr(at)} is more than ${toleranceMs / 1000} s in the future` });
        });
      };
    }
    case 'ratio': {
      const num = path(c.numerator, what);
      const den = path(c.denominator, what);
      if (num.includes('*') || den.includes('*')) throw new Error(`${what}: ratio paths must not contain '*'`);
      const max = finite(c.max, `${what}.max`);
      const minDen = c.minDenominator === undefined ? undefined : finite(c.minDenominator, `${what}.minDenominator`);
      return (record, _ctx, out) => {
        const n = getPath(record, num);
        const d = getPath(record, den);
        if (typeof n !== 'number' || typeof d !== 'number') return;
        if (minDen !== undefined && d < minDen) {
          out.push({ code: 'ratio-denominator', ruleId: id, message: `'${c.denominator}' is below the minimum ${minDen}` });
        } else if (d !== 0 && n / d > max) {
          out.push({ code: 'ratio', ruleId: id, message: `'${c.numerator}' / '${c.denominator}' is above ${max}` });
        }
      };
    }
    default:
      throw new Error(`${what}: unknown check type ${JSON.stringify((c as { type?: unknown }).type)}; expected required, range, allowed, notInFuture or ratio`);
  }
}
