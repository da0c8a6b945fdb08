/**
 * Pure logic of the review API: who may review (the reviewer group of a Cognito token, or the
 * reviewer roles of an IAM caller), the settings the construct writes, the record id in the path,
 * the answer body, the page size, the pagination token, when answers decide a review (four-eyes)
 * and the per-reviewer request window. No AWS SDK here.
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

/**
 * Who may call the review routes. With Cognito authorization, the members of one user-pool group
 * (the token's `cognito:groups` claim); with IAM authorization, a list of roles (the caller's
 * role, from the ARN API Gateway verified, never its session name).
 */
export type ReviewerAccess =
  | { readonly kind: 'cognito-group'; readonly group: string }
  | { readonly kind: 'iam-roles'; readonly roleArns: readonly string[] };

/** The review API's settings (`REVIEW_API_SETTINGS`, written by the construct). */
export interface ReviewApiSettings {
  readonly access: ReviewerAccess;
  /** Requests one reviewer may make per window (every route, answered or refused). */
  readonly maxRequestsPerWindow: number;
  /** Length of a request window, seconds. */
  readonly windowSeconds: number;
  /** Quality-sample records need the same answer from two different reviewers. */
  readonly fourEyesQualitySample: boolean;
}

/** A group name the claim parser can tell apart from its neighbours (no `,`, space or brackets). */
export const GROUP_NAME_PATTERN = /^[A-Za-z0-9_.@+=-]{1,128}$/;

/** An IAM role ARN (`arn:<partition>:iam::<account>:role/<path/>name`). */
const ROLE_ARN = /^arn:([a-z-]{1,32}):iam::(\d{12}):role\/(?:[\x21-\x7e]{1,512}\/)?([\w+=,.@-]{1,64})$/;
/** An STS assumed-role ARN (`arn:<partition>:sts::<account>:assumed-role/<name>/<session>`). */
const ASSUMED_ROLE_ARN = /^arn:([a-z-]{1,32}):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[\x21-\x7e]{1,128}$/;

/** Bounds of the request limit and of its window. */
export const REQUEST_LIMITS = { maxRequests: 100_000, minWindowSeconds: 60, maxWindowSeconds: 86_400 } as const;

/**
 * Parse `REVIEW_API_SETTINGS`: `{"access": {"kind": "cognito-group", "group": "reviewers"} | {"kind":
 * "iam-roles", "roleArns": [...]}, "maxRequestsPerWindow": n, "windowSeconds": s,
 * "fourEyesQualitySample": bool}`. Throws at init, naming what is wrong (never a default that
 * would let every signed-in user review).
 */
export function parseReviewApiSettings(text: string | undefined): ReviewApiSettings {
  const invalid = (what: string): never => {
    throw new Error(`REVIEW_API_SETTINGS: ${what}`);
  };
  if (text === undefined || text === '') return invalid('is required (who may review, and the request limit)');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return invalid('is not JSON');
  }
  if (!isPlainObject(v)) return invalid('must be a JSON object');
  const a = v.access;
  let access: ReviewerAccess;
  if (isPlainObject(a) && a.kind === 'cognito-group') {
    if (typeof a.group !== 'string' || !GROUP_NAME_PATTERN.test(a.group)) return invalid('access.group must be a group name of letters, digits and _ . @ + = -');
    access = { kind: 'cognito-group', group: a.group };
  } else if (isPlainObject(a) && a.kind === 'iam-roles') {
    if (!Array.isArray(a.roleArns) || a.roleArns.length === 0 || !a.roleArns.every((r) => typeof r === 'string' && ROLE_ARN.test(r))) {
      return invalid('access.roleArns must be a non-empty array of IAM role ARNs');
    }
    access = { kind: 'iam-roles', roleArns: a.roleArns as string[] };
  } else {
    return invalid('access.kind must be "cognito-group" or "iam-roles"');
  }
  const max = v.maxRequestsPerWindow;
  if (!Number.isSafeInteger(max) || (max as number) < 1 || (max as number) > REQUEST_LIMITS.maxRequests) {
    return invalid(`maxRequestsPerWindow must be an integer from 1 to ${REQUEST_LIMITS.maxRequests}`);
  }
  const window = v.windowSeconds;
  if (!Number.isSafeInteger(window) || (window as number) < REQUEST_LIMITS.minWindowSeconds || (window as number) > REQUEST_LIMITS.maxWindowSeconds) {
    return invalid(`windowSeconds must be an integer from ${REQUEST_LIMITS.minWindowSeconds} to ${REQUEST_LIMITS.maxWindowSeconds}`);
  }
  if (typeof v.fourEyesQualitySample !== 'boolean') return invalid('fourEyesQualitySample must be true or false');
  return { access, maxRequestsPerWindow: max as number, windowSeconds: window as number, fourEyesQualitySample: v.fourEyesQualitySample };
}

/**
 * The groups of a `cognito:groups` claim as API Gateway hands it to a proxy integration: a REST
 * API's Cognito authorizer flattens every claim to a string (`"a,b"`; an HTTP API writes
 * `"[a b]"`); an array (a test or another front end) is taken as it is. Anything else: none.
 */
export function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === 'string');
  if (typeof claim !== 'string' || claim.length > 16_384) return [];
  const bracketed = /^\[(.*)\]$/s.exec(claim);
  return (bracketed ? bracketed[1].split(/\s+/) : claim.split(',')).map((g) => g.trim()).filter((g) => g.length > 0);
}

/**
 * The role an IAM ARN names, as `<partition>:<account>:<role name>`: from a role ARN (its path
 * dropped; a role's name is unique in its account) or from an STS assumed-role ARN (its session
 * name, which the caller chooses, dropped). Undefined for anything else (an IAM user, a malformed
 * ARN).
 */
export function roleKey(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const m = ROLE_ARN.exec(arn) ?? ASSUMED_ROLE_ARN.exec(arn);
  return m ? `${m[1]}:${m[2]}:${m[3]}` : undefined;
}

/** What the review API knows of a caller from the request context (as API Gateway set it). */
export interface ReviewerClaims {
  /** `requestContext.authorizer.claims['cognito:groups']`. */
  readonly groups?: unknown;
  /** `requestContext.authorizer.claims.sub`. */
  readonly sub?: unknown;
  /** `requestContext.identity.userArn`. */
  readonly userArn?: unknown;
}

/**
 * True when the caller may use the review routes: with Cognito, a token with a `sub` whose
 * `cognito:groups` holds the reviewer group exactly; with IAM, a caller whose role is one of the
 * reviewer roles. Fails closed: a claim of the other kind, or none, is no reviewer.
 */
export function isReviewer(access: ReviewerAccess, claims: ReviewerClaims): boolean {
  if (access.kind === 'cognito-group') {
    return typeof claims.sub === 'string' && claims.sub.length > 0 && groupsOf(claims.groups).includes(access.group);
  }
  const caller = roleKey(claims.userArn);
  return caller !== undefined && access.roleArns.some((arn) => roleKey(arn) === caller);
}

/** A reviewer's answer to one record, as the ledger keeps it. */
export interface RecordedAnswer {
  /** The reviewer's pseudonym. */
  readonly reviewer: string;
  readonly className: string;
}

/**
 * Whether `current` decides the review: when at least `required` different reviewers (current
 * included) gave its class. The deciding reviewers come in the order of `answers`, `current` last.
 * `answers` may include `current` (it is counted once).
 */
export function decideReview(
  answers: readonly RecordedAnswer[], current: RecordedAnswer, required: number,
): { readonly decided: boolean; readonly reviewers: string[] } {
  const agreeing = answers.filter((a) => a.className === current.className && a.reviewer !== current.reviewer).map((a) => a.reviewer);
  const reviewers = [...new Set(agreeing), current.reviewer];
  return { decided: reviewers.length >= required, reviewers };
}

/** The fixed request window that holds `nowMs`: its start and end (epoch seconds). */
export function requestWindow(nowMs: number, windowSeconds: number): { readonly start: number; readonly end: number } {
  const start = Math.floor(nowMs / 1000 / windowSeconds) * windowSeconds;
  return { start, end: start + windowSeconds };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
