/**
 * JSON helpers shared by the labeling pipeline's logic: value types, canonical JSON, SHA-256,
 * dotted path patterns (`thresholds.*.*`) and JSON pointers that are safe to log.
 *
 * Paths: segments separated by `.`; `*` matches every member of an object or element of an array.
 * A key that contains a `.` cannot be addressed (config is validated for it).
 */
import { createHash } from 'node:crypto';

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

/** SHA-256 of a string (UTF-8) or bytes, as lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, numbers as
 * `JSON.stringify` writes them. Keys listed in `omitTopLevel` are left out of the top level.
 */
export function canonicalJson(value: JsonValue, omitTopLevel?: ReadonlySet<string>): string {
  return canon(value, omitTopLevel);
}

/** Quoted keys seen before (keys repeat from record to record); bounded so input cannot grow it without limit. */
const QUOTED = new Map<string, string>();

function quoteKey(k: string): string {
  let q = QUOTED.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (QUOTED.size < 4096 && k.length <= 64) QUOTED.set(k, q);
  }
  return q;
}

function canon(v: JsonValue, omit?: ReadonlySet<string>): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  if (v === null || typeof v !== 'object') return v === null ? 'null' : v ? 'true' : 'false';
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + canon(v[i]);
    return s + ']';
  }
  const keys = Object.keys(v).sort();
  let s = '{';
  for (const k of keys) {
    if (omit !== undefined && omit.has(k)) continue;
    s += (s.length > 1 ? ',' : '') + quoteKey(k) + ':' + canon(v[k]);
  }
  return s + '}';
}

/** Depth of nesting of a parsed JSON value (a scalar is 0), stopping early above `limit`. */
export function depthExceeds(value: unknown, limit: number): boolean {
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
  const walk = (node: JsonValue, i: number, at: (string | number)[]) => {
    const seg = pattern[i];
    const last = i === pattern.length - 1;
    const visit = (parent: JsonObject | JsonValue[], key: string | number, child: JsonValue) => {
      const here = [...at, key];
      if (last) out.push({ parent, key, value: child, at: here });
      else walk(child, i + 1, here);
    };
    if (Array.isArray(node)) {
      if (seg === '*') node.forEach((c, idx) => visit(node, idx, c));
      else if (/^\d+$/.test(seg) && Number(seg) < node.length) visit(node, Number(seg), node[Number(seg)]);
    } else if (isObject(node)) {
      if (seg === '*') {
        for (const k of Object.keys(node)) visit(node, k, node[k]);
      } else if (hasOwn.call(node, seg)) {
        visit(node, seg, node[seg]);
      }
    }
  };
  walk(root, 0, []);
  return out;
}

/** The value at a path without wildcards, or undefined. */
export function getPath(root: JsonValue, pattern: PathPattern): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const seg of pattern) {
    if (Array.isArray(node)) {
      node = /^\d+$/.test(seg) ? node[Number(seg)] : undefined;
    } else if (isObject(node)) {
      node = hasOwn.call(node, seg) ? node[seg] : undefined;
    } else {
      return undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
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
