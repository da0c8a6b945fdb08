/**
 * Pure validation of the review API's requests: the record id in the path, the answer body, the
 * page size and the pagination token. No AWS SDK here.
 *
 * Messages say what was expected and never echo a received value (they are returned to the
 * caller and may be logged).
 */
import { sha256Hex } from './json';

/** A record id as the cleaning logic writes it (`<prefix><hex>`), bounded. */
export const RECORD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Largest accepted answer body, in characters (after base64 decoding). */
export const MAX_ANSWER_BODY_CHARS = 1024;

/** Page size of `GET /reviews`: default and largest. */
export const PAGE_SIZE = { default: 25, max: 100 } as const;

/** The outcome of validating a request part: a value, or a client error (400) message. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** The record id of `POST /reviews/{recordId}`. */
export function parseRecordId(value: unknown): Parsed<string> {
  if (typeof value !== 'string' || !RECORD_ID_PATTERN.test(value)) {
    return fail('recordId must be a record id: a letter or digit, then up to 127 letters, digits, ".", "_", ":" or "-"');
  }
  return ok(value);
}

/**
 * The body of `POST /reviews/{recordId}`: exactly `{ "className": <one of classes> }`.
 * `isBase64Encoded` as API Gateway reports it.
 */
export function parseReviewAnswer(
  body: string | null | undefined, isBase64Encoded: boolean | undefined, classes: readonly string[],
): Parsed<{ className: string }> {
  const expected = `a JSON object {"className": one of ${classes.map((c) => JSON.stringify(c)).join(', ')}}`;
  if (body === null || body === undefined || body === '') return fail(`request body is required: ${expected}`);
  // 4 base64 characters carry at most 3 bytes; refuse before decoding what cannot fit.
  if (body.length > (isBase64Encoded ? Math.ceil(MAX_ANSWER_BODY_CHARS / 3) * 4 + 4 : MAX_ANSWER_BODY_CHARS)) {
    return fail(`request body is too large: at most ${MAX_ANSWER_BODY_CHARS} characters`);
  }
  let text = body;
  if (isBase64Encoded) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return fail('request body is not valid base64');
    text = Buffer.from(body, 'base64').toString('utf8');
    if (text.length > MAX_ANSWER_BODY_CHARS) return fail(`request body is too large: at most ${MAX_ANSWER_BODY_CHARS} characters`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(`request body is not valid JSON; expected ${expected}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail(`request body must be ${expected}`);
  const keys = Object.keys(parsed);
  if (keys.length !== 1 || keys[0] !== 'className') return fail(`request body must have exactly one field, className: ${expected}`);
  const className = (parsed as Record<string, unknown>).className;
  if (typeof className !== 'string' || !classes.includes(className)) return fail(`className must be one of ${classes.map((c) => JSON.stringify(c)).join(', ')}`);
  return ok({ className });
}

/** `limit` of `GET /reviews`: an integer from 1 to `PAGE_SIZE.max` (absent: `PAGE_SIZE.default`). */
export function parseLimit(value: string | null | undefined): Parsed<number> {
  if (value === undefined || value === null) return ok(PAGE_SIZE.default);
  if (!/^[0-9]{1,3}$/.test(value)) return fail(`limit must be an integer from 1 to ${PAGE_SIZE.max}`);
  const n = Number(value);
  if (n < 1 || n > PAGE_SIZE.max) return fail(`limit must be an integer from 1 to ${PAGE_SIZE.max}`);
  return ok(n);
}

/**
 * The pagination token: `<base64url of {"sk": recordId}>.<16 hex check digits>`. The check digits
 * (SHA-256 of a fixed label and the payload; not a secret) make a corrupted or hand-edited token a
 * clean 400. A forged token could only start a page elsewhere in the same list, which its caller
 * may read anyway.
 */
export function encodeNextToken(lastRecordId: string): string {
  const payload = Buffer.from(JSON.stringify({ sk: lastRecordId }), 'utf8').toString('base64url');
  return `${payload}.${check(payload)}`;
}

const TOKEN_PATTERN = /^([A-Za-z0-9_-]{1,400})\.([0-9a-f]{16})$/;

/** The record id to continue after, from a token `encodeNextToken` wrote. */
export function decodeNextToken(token: string | null | undefined): Parsed<string | undefined> {
  if (token === undefined || token === null) return ok(undefined);
  const invalid = () => fail<string | undefined>('nextToken is not a token this API issued');
  const m = TOKEN_PATTERN.exec(token);
  if (!m || check(m[1]) !== m[2]) return invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
  } catch {
    return invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return invalid();
  const keys = Object.keys(parsed);
  const sk = (parsed as Record<string, unknown>).sk;
  if (keys.length !== 1 || typeof sk !== 'string' || !RECORD_ID_PATTERN.test(sk)) return invalid();
  return ok(sk);
}

function check(payload: string): string {
  return sha256Hex(`cdk-secure-mlops/review-api/next-token/v1\u0000${payload}`).slice(0, 16);
}
