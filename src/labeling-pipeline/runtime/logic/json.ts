/**
 * JSON helpers shared by the labeling pipeline's logic: value types, canonical JSON, SHA-256,
 * dotted path patterns (`thresholds.*.*`) and JSON pointers that are safe to log.
 *
 * Paths: segments separated by `.`; `*` matches every member of an object or element of an array.
 * A key that contains a `.` cannot be addressed (config is validated for it).
 */
import * as crypto from 'node:crypto';

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject { [key: string]: JsonValue }

const hasOwn = Object.prototype.hasOwnProperty;

/** True for a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Set an own, enumerable property, also for keys such as `__proto__` that a plain assignment would
 * treat specially (keys that came from outside).
 */
export function setOwn(target: object, key: string | number, value: unknown): void {
  if (key !== '__proto__') {
    (target as Record<string | number, unknown>)[key] = value;
    return;
  }
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * One-shot `crypto.hash` (Node >= 20.12 / 21.7): several times faster than
 * `createHash().update().digest()` for the short inputs hashed here (record ids, sampling,
 * dataset rows), as it skips the Hash object and its stream machinery.
 */
const oneShotHash: ((algorithm: string, data: string | Uint8Array, encoding: 'hex') => string) | undefined =
  typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** SHA-256 of a string (UTF-8) or bytes, as lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  if (oneShotHash !== undefined) return oneShotHash('sha256', data, 'hex');
  return crypto.createHash('sha256').update(data).digest('hex');
}

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, numbers as
 * `JSON.stringify` writes them. Keys listed in `omitTopLevel` are left out of the top level.
 */
export function canonicalJson(value: JsonValue, omitTopLevel?: ReadonlySet<string>): string {
  return canon(value, omitTopLevel);
}

/**
 * Key order of an object, as `Object.keys` gave it, with the sorted order and the quoted keys.
 * Records of one kind have the same keys in the same order, so the sort and the quoting are done
 * once per shape and looked up afterwards (an exact, element-by-element match of the key list).
 */
interface KeyOrder {
  readonly keys: readonly string[];
  readonly sorted: readonly string[];
  /** `{"key":` per sorted key (the member that opens the object)… */
  readonly first: readonly string[];
  /** …and `,"key":` (any later member). */
  readonly next: readonly string[];
}

/** Key orders seen before, by first key; bounded (entries, keys per entry, key length) so input cannot grow it without limit. */
const ORDERS = new Map<string, KeyOrder>();
const MAX_ORDERS = 512;
const MAX_ORDER_KEYS = 64;
const MAX_ORDER_KEY_LENGTH = 64;

function keyOrder(keys: string[]): KeyOrder {
  const n = keys.length;
  const first = keys[0];
  const seen = ORDERS.get(first);
  if (seen !== undefined && seen.keys.length === n) {
    const k = seen.keys;
    let i = 1;
    while (i < n && k[i] === keys[i]) i++;
    if (i === n) return seen;
  }
  const sorted = keys.slice().sort();
  const quoted = sorted.map((k) => JSON.stringify(k) + ':');
  const order: KeyOrder = { keys, sorted, first: quoted.map((q) => '{' + q), next: quoted.map((q) => ',' + q) };
  if (n <= MAX_ORDER_KEYS && (seen !== undefined || ORDERS.size < MAX_ORDERS) && keys.every((k) => k.length <= MAX_ORDER_KEY_LENGTH)) {
    ORDERS.set(first, order);
  }
  return order;
}

/** `String(i)` for the small non-negative integers records are full of (ages, levels in dB, counts). */
const SMALL_INTS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** A string that `JSON.stringify` writes as itself in quotes: no `"`, backslash, control character or surrogate. */
const PLAIN_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function canon(v: JsonValue, omit?: ReadonlySet<string>): string {
  if (typeof v === 'string') return PLAIN_STRING.test(v) ? '"' + v + '"' : JSON.stringify(v);
  if (typeof v === 'number') return v >= 0 && v < SMALL_INTS.length && Number.isInteger(v) ? SMALL_INTS[v] : String(v);
  if (v === null || typeof v !== 'object') return v === null ? 'null' : v ? 'true' : 'false';
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + canon(v[i]);
    return s + ']';
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  const { sorted, first, next } = keyOrder(keys);
  let s: string;
  if (omit === undefined) {
    s = first[0] + canon(v[sorted[0]]);
    for (let i = 1; i < sorted.length; i++) s += next[i] + canon(v[sorted[i]]);
    return s + '}';
  }
  s = '';
  for (let i = 0; i < sorted.length; i++) {
    const k = sorted[i];
    if (omit.has(k)) continue;
    s += (s === '' ? first[i] : next[i]) + canon(v[k]);
  }
  return s === '' ? '{}' : s + '}';
}

/** Depth of nesting of a parsed JSON value (a scalar is 0), stopping early above `limit`. */
export function depthExceeds(value: unknown, limit: number): boolean {
  if (limit <= 1000) return exceeds(value, 0, limit);
  // Deep limits: an explicit stack instead of recursion.
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > limit) return true;
    if (Array.isArray(v)) {
      for (const e of v) if (typeof e === 'object' && e !== null) stack.push([e, d + 1]);
    } else {
      for (const k in v) {
        const e = (v as JsonObject)[k];
        if (typeof e === 'object' && e !== null) stack.push([e, d + 1]);
      }
    }
  }
  return false;
}

/** True when `v`, found at depth `d`, nests deeper than `limit` (recursion depth is at most limit + 1). */
function exceeds(v: unknown, d: number, limit: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (d + 1 > limit) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      if (typeof e === 'object' && e !== null && exceeds(e, d + 1, limit)) return true;
    }
  } else {
    for (const k in v) {
      const e = (v as JsonObject)[k];
      if (typeof e === 'object' && e !== null && exceeds(e, d + 1, limit)) return true;
    }
  }
  return false;
}

/**
 * True when an object in the JSON `text` has two members with the same name (at any depth; two
 * spellings of one name, such as `"a"` and `"\u0061"`, are the same name). `parsed` is what
 * `JSON.parse(text)` returned, unchanged: `JSON.parse` keeps the last of such members silently, so
 * the record would mean something other than what was sent (`{"age": -1, "age": 67}`).
 *
 * Why hand-written: the well-kept npm parsers that see duplicates (`@humanwhocodes/momoa`,
 * `jsonc-parser`) build a syntax tree or call back per token, several times the cost of
 * `JSON.parse`. This needs only counts, and no second parse: in valid JSON every `:` outside a
 * string literal separates one member, so the text has as many members as such colons, and the
 * parsed value has fewer exactly when names were repeated.
 *
 * Without a `\` in the text, a string literal's characters are those of the parsed string, so
 * `colons(text) = members(text) + colons in the parsed strings + colons in the members JSON.parse
 * dropped`: the text repeats no name exactly when `colons(text) = jsonWeight(parsed)` (counted with
 * the native `indexOf`). With a `\` (an escape may spell a colon, `\u003a`) the colons outside
 * string literals are counted by a scan. Either way this walks `parsed` once (about half the cost
 * of `JSON.parse`); the cleaner avoids the walk for clean records (see `logic/cleaning.ts`).
 */
export function hasDuplicateMembers(text: string, parsed: unknown): boolean {
  if (text.indexOf('\\') < 0) return countColons(text) !== jsonWeight(parsed);
  return colonsOutsideStrings(text) !== memberCount(parsed);
}

/** Colons in a string (native `indexOf`). */
export function countColons(s: string): number {
  let n = 0;
  for (let i = s.indexOf(':'); i >= 0; i = s.indexOf(':', i + 1)) n++;
  return n;
}

/**
 * The colons a JSON serialization of `v` has: one per object member, plus those in keys and
 * string values (`JSON.stringify` escapes no colon).
 */
export function jsonWeight(v: unknown): number {
  if (typeof v === 'string') return v.indexOf(':') >= 0 ? countColons(v) : 0;
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n += jsonWeight(v[i]);
    return n;
  }
  for (const k in v) n += 1 + (k.indexOf(':') >= 0 ? countColons(k) : 0) + jsonWeight((v as Record<string, unknown>)[k]);
  return n;
}

/** Members of every object in `v`. */
function memberCount(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n += memberCount(v[i]);
    return n;
  }
  for (const k in v) n += 1 + memberCount((v as Record<string, unknown>)[k]);
  return n;
}

/** Colons outside string literals of valid JSON text (a string ends at a `"` not escaped by `\`). */
function colonsOutsideStrings(text: string): number {
  let n = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 58 /* : */) {
      n++;
    }
  }
  return n;
}

/** A lone UTF-16 surrogate (a `\ud800` escape without its pair): with the `u` flag, pairs are one code point. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * True when a key or string value anywhere in `v` is not well-formed UTF-16 (it holds a lone
 * surrogate). Such a string has no UTF-8 encoding: encoders replace the surrogate with U+FFFD,
 * so two different strings would become the same bytes (and the same pseudonym).
 */
export function hasIllFormedText(v: unknown): boolean {
  if (typeof v === 'string') return LONE_SURROGATE.test(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (hasIllFormedText(v[i])) return true;
    return false;
  }
  if (typeof v !== 'object' || v === null) return false;
  for (const k in v) {
    if (LONE_SURROGATE.test(k) || hasIllFormedText((v as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/** A compiled dotted path pattern. */
export type PathPattern = readonly string[];

/** Split and check a dotted path (`a.b.*`). Throws on an empty path or an empty segment. */
export function compilePath(path: string, what: string): PathPattern {
  if (typeof path !== 'string' || path.length === 0) throw new Error(`${what}: a path must be a non-empty dotted string, got ${JSON.stringify(path)}`);
  const segments = path.split('.');
  if (segments.some((s) => s.length === 0)) throw new Error(`${what}: path '${path}' has an empty segment; use 'a.b' or 'a.*'`);
  return segments;
}

/** One value found by a path pattern, with its concrete location. */
export interface Match {
  readonly parent: JsonObject | JsonValue[];
  readonly key: string | number;
  readonly value: JsonValue;
  /** Concrete segments (wildcards replaced by keys or indices). */
  readonly at: readonly (string | number)[];
}

/** Every existing value at a path pattern. */
export function findAll(root: JsonValue, pattern: PathPattern): Match[] {
  const out: Match[] = [];
  forEachMatch(root, pattern, (parent, key, value, at) => {
    out.push({ parent, key, value, at: at.slice() });
  });
  return out;
}

/**
 * Visitor of one value found by a path pattern. `at` (concrete segments) is reused from call to
 * call: copy it to keep it. The visitor must not add or remove members of the nodes being walked.
 * @internal
 */
export type MatchVisitor = (parent: JsonObject | JsonValue[], key: string | number, value: JsonValue, at: readonly (string | number)[]) => void;

const DIGITS = /^\d+$/;

/**
 * Calls `visit` for every existing value at a path pattern, in the order of `findAll`, without
 * building a match (or its segments) per value: for checks that only read.
 * @internal
 */
export function forEachMatch(root: JsonValue, pattern: PathPattern, visit: MatchVisitor): void {
  walkMatches(root, pattern, 0, [], visit);
}

function walkMatches(node: JsonValue, pattern: PathPattern, i: number, at: (string | number)[], visit: MatchVisitor): void {
  const seg = pattern[i];
  const last = i === pattern.length - 1;
  if (Array.isArray(node)) {
    if (seg === '*') {
      for (let idx = 0; idx < node.length; idx++) {
        // Like forEach: holes (never in parsed JSON) are skipped.
        if (idx in node) visitChild(node, idx, node[idx], pattern, i, last, at, visit);
      }
    } else if (DIGITS.test(seg) && Number(seg) < node.length) {
      const idx = Number(seg);
      visitChild(node, idx, node[idx], pattern, i, last, at, visit);
    }
  } else if (isObject(node)) {
    if (seg === '*') {
      const keys = Object.keys(node);
      for (let k = 0; k < keys.length; k++) visitChild(node, keys[k], node[keys[k]], pattern, i, last, at, visit);
    } else if (hasOwn.call(node, seg)) {
      visitChild(node, seg, node[seg], pattern, i, last, at, visit);
    }
  }
}

function visitChild(
  parent: JsonObject | JsonValue[], key: string | number, child: JsonValue,
  pattern: PathPattern, i: number, last: boolean, at: (string | number)[], visit: MatchVisitor,
): void {
  at.push(key);
  if (last) visit(parent, key, child, at);
  else walkMatches(child, pattern, i + 1, at, visit);
  at.pop();
}

/** The value at a path without wildcards, or undefined. */
export function getPath(root: JsonValue, pattern: PathPattern): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (let i = 0; i < pattern.length; i++) {
    if (typeof node !== 'object' || node === null) return undefined;
    const seg = pattern[i];
    if (Array.isArray(node)) {
      node = DIGITS.test(seg) ? node[Number(seg)] : undefined;
    } else {
      node = hasOwn.call(node, seg) ? node[seg] : undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
}

/**
 * The values at exact paths (no wildcards), in order, as `getPath` gives them: consecutive paths
 * with the same parent path (`thresholds.left.500`, `thresholds.left.1000`) look the parent up once.
 * @internal
 */
export function compileLookups(patterns: readonly PathPattern[]): (root: JsonValue) => Array<JsonValue | undefined> {
  const parents: Array<PathPattern | undefined> = [];
  const leaves: PathPattern[] = [];
  let previous: PathPattern | undefined;
  for (const p of patterns) {
    const parent = p.slice(0, -1);
    const same = previous !== undefined && previous.length === parent.length && parent.every((s, i) => s === previous![i]);
    parents.push(same ? undefined : parent);
    leaves.push(p.slice(-1));
    previous = parent;
  }
  return (root) => {
    const out = new Array<JsonValue | undefined>(leaves.length);
    let node: JsonValue | undefined = root;
    for (let i = 0; i < leaves.length; i++) {
      const parent = parents[i];
      if (parent !== undefined) node = getPath(root, parent);
      out[i] = node === undefined ? undefined : getPath(node, leaves[i]);
    }
    return out;
  };
}

/**
 * Builds JSON pointers that are safe to log: a segment is kept when it is a name the
 * configuration or schema declares, or a short decimal number (array index, frequency); any other
 * segment (a key that came only from the input) is written as `*`.
 */
export class PointerRedactor {
  private readonly known: ReadonlySet<string>;

  /** `known` is kept by reference: names added later are known too. */
  constructor(known: ReadonlySet<string>) {
    this.known = known;
  }

  /** Pointer (`/a/b/0`) from concrete segments. */
  fromSegments(at: readonly (string | number)[]): string {
    let s = '';
    for (const seg of at) s += '/' + this.segment(String(seg));
    return s;
  }

  /** Redact an already-built JSON pointer (as Ajv's `instancePath`). */
  fromPointer(pointer: string): string {
    if (pointer === '') return '';
    return this.fromSegments(pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));
  }

  private segment(seg: string): string {
    if (/^\d{1,6}$/.test(seg) || this.known.has(seg)) return seg.replace(/~/g, '~0').replace(/\//g, '~1');
    return '*';
  }
}

/** Every key and every string inside a `required` array found anywhere in a JSON document. */
export function collectNames(doc: unknown, into: Set<string>): void {
  const stack: unknown[] = [doc];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const e of v) stack.push(e);
    } else if (isObject(v)) {
      for (const k of Object.keys(v)) {
        into.add(k);
        const e = v[k];
        if (k === 'required' && Array.isArray(e)) for (const r of e) if (typeof r === 'string') into.add(r);
        stack.push(e);
      }
    }
  }
}
