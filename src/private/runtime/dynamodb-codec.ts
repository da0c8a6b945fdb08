/**
 * The one codec between plain JSON values and DynamoDB attribute values, for every handler that
 * reads or writes items without `@aws-sdk/util-dynamodb` (this module loads no SDK client, so
 * the handler bundles stay small).
 *
 * Encoding (JSON → attribute value), the encoding of `@aws-sdk/util-dynamodb`'s `marshall` with
 * `removeUndefinedValues`: strings `S`, finite numbers `N`, booleans `BOOL`, null `NULL`, arrays
 * `L`, objects `M`; undefined object members are left out. A non-finite number or a value of
 * another type (undefined on its own, bigint, function, symbol) is an error.
 *
 * Decoding (attribute value → JSON): `S` string, `N` number, `BOOL`, `NULL` null, `M` object,
 * `L` array, `SS` string array, `NS` number array, and binary as base64 text: `B` a base64
 * string, `BS` an array of base64 strings. A decoded item is therefore always a JSON value (the
 * handlers' items hold no binary attributes; one written by other means is read as its base64
 * text, never as bytes). An attribute value of no known type decodes to undefined.
 *
 * Keys: every key of an object or item, `__proto__` included, becomes an own enumerable data
 * property (defined, never assigned), so no input can replace an object's prototype; decoded
 * objects keep `Object.prototype`.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** A DynamoDB item: attribute name → attribute value. */
export type DynamoItem = Record<string, AttributeValue>;

/** A JSON value as a DynamoDB attribute value. */
export function toAttributeValue(v: unknown): AttributeValue {
  if (v === null) return { NULL: true };
  switch (typeof v) {
    case 'string': return { S: v };
    case 'boolean': return { BOOL: v };
    case 'number':
      if (!Number.isFinite(v)) throw new Error('ledger: a number to store is not finite');
      return { N: String(v) };
    case 'object':
      if (Array.isArray(v)) return { L: v.map(toAttributeValue) };
      return { M: toItem(v as Record<string, unknown>) };
    default:
      throw new Error(`ledger: cannot store a value of type ${typeof v}`);
  }
}

/** A JSON object as a DynamoDB item (own enumerable members; undefined members left out). */
export function toItem(o: Record<string, unknown>): DynamoItem {
  const out: DynamoItem = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) define(out, k, toAttributeValue(v));
  return out;
}

/** A DynamoDB attribute value as JSON (sets become arrays; binary becomes base64 text). */
export function fromAttributeValue(a: AttributeValue): unknown {
  if (a.S !== undefined) return a.S;
  if (a.N !== undefined) return Number(a.N);
  if (a.BOOL !== undefined) return a.BOOL;
  if (a.NULL !== undefined) return null;
  if (a.M !== undefined) return fromItem(a.M);
  if (a.L !== undefined) return a.L.map(fromAttributeValue);
  if (a.SS !== undefined) return [...a.SS];
  if (a.NS !== undefined) return a.NS.map(Number);
  if (a.B !== undefined) return base64(a.B);
  if (a.BS !== undefined) return a.BS.map(base64);
  return undefined;
}

/** A DynamoDB item as a JSON object (own members only; `__proto__` stays data). */
export function fromItem(item: DynamoItem): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) define(out, k, fromAttributeValue(v));
  return out;
}

function define<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
