/**
 * Plain-JSON DynamoDB attribute values and error names, for every labeling-pipeline handler
 * (this module loads no SDK client, so the review API bundle stays small).
 *
 * Attribute encoding: JSON objects are maps (`M`), arrays lists (`L`), numbers `N`, strings `S`,
 * booleans `BOOL`, null `NULL`; undefined members are left out (the encoding of
 * `@aws-sdk/util-dynamodb`'s `marshall` with `removeUndefinedValues`, written out here to keep
 * the bundles small). `RecordItem.label` is stored as such a map.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** A JSON value as a DynamoDB attribute value. */
export function toAttr(v: unknown): AttributeValue {
  if (v === null) return { NULL: true };
  switch (typeof v) {
    case 'string': return { S: v };
    case 'boolean': return { BOOL: v };
    case 'number':
      if (!Number.isFinite(v)) throw new Error('ledger: a number to store is not finite');
      return { N: String(v) };
    case 'object':
      if (Array.isArray(v)) return { L: v.map(toAttr) };
      return { M: toItem(v as Record<string, unknown>) };
    default:
      throw new Error(`ledger: cannot store a value of type ${typeof v}`);
  }
}

/** A JSON object as a DynamoDB item (undefined members left out). */
export function toItem(o: Record<string, unknown>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = toAttr(v);
  return out;
}

/** A DynamoDB attribute value as JSON (sets become arrays; binary becomes base64). */
export function fromAttr(a: AttributeValue): unknown {
  if (a.S !== undefined) return a.S;
  if (a.N !== undefined) return Number(a.N);
  if (a.BOOL !== undefined) return a.BOOL;
  if (a.NULL !== undefined) return null;
  if (a.L !== undefined) return a.L.map(fromAttr);
  if (a.M !== undefined) return fromItem(a.M);
  if (a.SS !== undefined) return [...a.SS];
  if (a.NS !== undefined) return a.NS.map(Number);
  if (a.B !== undefined) return Buffer.from(a.B).toString('base64');
  return undefined;
}

/** A DynamoDB item as a JSON object. */
export function fromItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = fromAttr(v);
  return out;
}

/** Error name only (SDK messages may quote request parameters). */
export function errorName(e: unknown): string {
  return e instanceof Error ? e.name : 'non-error thrown';
}
