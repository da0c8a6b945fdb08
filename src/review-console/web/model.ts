/**
 * The review console's pure logic (no DOM, no network): its configuration (`config.json`), the
 * review API's list items, the reviewer's claims, and what the screens show of them. Runs in the
 * browser (bundled by esbuild) and in the unit tests (Node).
 */

/** A labeler's vote: a class with its confidence, or an abstention with its reason. */
export interface Vote {
  readonly labeler: string;
  readonly className?: string;
  readonly confidence?: number;
  readonly abstainReason?: string;
}

/** A pending review as `GET /reviews` lists it (mirrors the review API's `ReviewListItem`). */
export interface ReviewItem {
  readonly recordId: string;
  readonly reasons: readonly string[];
  readonly proposal?: { readonly className: string; readonly confidence: number };
  readonly votes: ReadonlyArray<Vote>;
  readonly attempt: number;
  readonly requestedAt: string;
  /** The clean, pseudonymized record. */
  readonly record: unknown;
}

/** A view registered in config.json: an ES module served beside the console. */
export interface ViewEntry {
  /** Shown in the view switcher, e.g. `Audiogram`. */
  readonly name: string;
  /** Path relative to the console (same origin only), e.g. `views/audiogram.js`. */
  readonly module: string;
}

/** `config.json`, served beside index.html. */
export interface ConsoleConfig {
  /** Base URL of the review API (the console calls `<apiUrl>/reviews`). */
  readonly apiUrl: string;
  /** The Cognito hosted UI (authorization code flow with PKCE). */
  readonly auth: {
    /** `https://<domain>.auth.<region>.amazoncognito.com` (or a custom domain). */
    readonly domain: string;
    readonly clientId: string;
    /** Where the hosted UI sends the reviewer back: the console's own URL. */
    readonly redirectUri: string;
    /** Where sign-out lands. @default redirectUri */
    readonly logoutUri?: string;
    /** The group whose members may review (the ID token's `cognito:groups`). @default 'reviewers' */
    readonly reviewerGroup?: string;
    /** OAuth scopes. @default ['openid', 'email'] */
    readonly scopes?: readonly string[];
  };
  /** The label task's classes, in order (keys 1..9 choose the first nine). */
  readonly classes: readonly string[];
  /** Heading of the console. @default 'Review console' */
  readonly title?: string;
  /** Views for record types, tried in order; the generic table view is always there. @default [] */
  readonly views?: readonly ViewEntry[];
}

/** Why a record is in the queue, as a reviewer reads it. */
export const REASON_TEXT: Readonly<Record<string, string>> = {
  'low-confidence': 'Low confidence',
  'disagreement': 'Labelers disagree',
  'tie': 'Tie between classes',
  'all-abstained': 'All labelers abstained',
  'quality-sample': 'Quality sample',
};

export function reasonText(reason: string): string {
  return REASON_TEXT[reason] ?? reason;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Validates `config.json`; throws an Error that names the field that is wrong. */
export function parseConfig(value: unknown): ConsoleConfig {
  const fail = (what: string): never => {
    throw new Error(`config.json: ${what}`);
  };
  if (!isObject(value)) fail('must be a JSON object');
  const v = value as Record<string, unknown>;
  if (!nonEmpty(v.apiUrl) || !/^https?:\/\//.test(v.apiUrl)) fail('apiUrl must be an http(s) URL');
  const auth = v.auth;
  if (!isObject(auth)) fail('auth must be an object with domain, clientId and redirectUri');
  const a = auth as Record<string, unknown>;
  for (const k of ['domain', 'clientId', 'redirectUri'] as const) if (!nonEmpty(a[k])) fail(`auth.${k} must be a non-empty string`);
  if (!/^https?:\/\//.test(a.domain as string)) fail('auth.domain must be an http(s) URL');
  if (a.reviewerGroup !== undefined && !nonEmpty(a.reviewerGroup)) fail('auth.reviewerGroup must be a non-empty string');
  if (a.scopes !== undefined && (!Array.isArray(a.scopes) || !a.scopes.every(nonEmpty))) fail('auth.scopes must be an array of strings');
  if (!Array.isArray(v.classes) || v.classes.length === 0 || !v.classes.every(nonEmpty)) fail('classes must be a non-empty array of strings');
  if (new Set(v.classes as string[]).size !== (v.classes as string[]).length) fail('classes must not repeat');
  if (v.title !== undefined && !nonEmpty(v.title)) fail('title must be a non-empty string');
  if (v.views !== undefined) {
    if (!Array.isArray(v.views)) fail('views must be an array');
    for (const view of v.views as unknown[]) {
      if (!isObject(view) || !nonEmpty(view.name) || !nonEmpty(view.module)) fail('each view needs a name and a module path');
      const m = (view as Record<string, string>).module;
      // Same origin only (CSP script-src 'self'): a relative path without a scheme or `//`.
      if (/^[a-z][a-z0-9+.-]*:/i.test(m) || m.startsWith('//') || !m.endsWith('.js')) fail('a view module must be a relative path to a .js file on the console\'s origin');
    }
  }
  return {
    apiUrl: (v.apiUrl as string).replace(/\/+$/, ''),
    auth: {
      domain: (a.domain as string).replace(/\/+$/, ''),
      clientId: a.clientId as string,
      redirectUri: a.redirectUri as string,
      ...(nonEmpty(a.logoutUri) ? { logoutUri: a.logoutUri } : {}),
      reviewerGroup: (a.reviewerGroup as string | undefined) ?? 'reviewers',
      scopes: (a.scopes as string[] | undefined) ?? ['openid', 'email'],
    },
    classes: v.classes as string[],
    title: (v.title as string | undefined) ?? 'Review console',
    views: (v.views as ViewEntry[] | undefined) ?? [],
  };
}

/** Decodes a JWT's payload (no signature check: the API's authorizer verifies the token). */
export function jwtClaims(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a JWT');
  const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (!isObject(claims)) throw new Error('JWT payload is not an object');
  return claims;
}

/**
 * The groups of an ID token's `cognito:groups` claim: an array in the token itself; a string
 * (comma- or space-separated, possibly in brackets) as API Gateway passes claims on.
 */
export function groupsOf(claims: Record<string, unknown>): string[] {
  const g = claims['cognito:groups'];
  if (Array.isArray(g)) return g.filter((x): x is string => typeof x === 'string');
  if (typeof g === 'string') return g.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
  return [];
}

export function isReviewer(claims: Record<string, unknown>, group: string): boolean {
  return groupsOf(claims).includes(group);
}

/** How long ago, shortly: `just now`, `5 min`, `3 h`, `2 d`. */
export function ageText(requestedAt: string, now: number): string {
  const t = Date.parse(requestedAt);
  if (Number.isNaN(t)) return 'unknown';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}

/** A confidence (0..1) as a percentage. */
export function percent(confidence: number | undefined): string {
  return typeof confidence === 'number' && Number.isFinite(confidence) ? `${Math.round(confidence * 100)} %` : '–';
}

/** Oldest first (longest waiting), then by record id. */
export function queueOrder(items: readonly ReviewItem[]): ReviewItem[] {
  return [...items].sort((a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.recordId.localeCompare(b.recordId));
}

/** The class a key chooses: '1'..'9' → the first nine classes. */
export function classForKey(key: string, classes: readonly string[]): string | undefined {
  if (!/^[1-9]$/.test(key)) return undefined;
  return classes[Number(key) - 1];
}

/** A value that is a keyed pseudonym (`hmac:<hex>`) is never shown, not even the pseudonym. */
export const PSEUDONYM = /^hmac:[0-9a-f]{8,}$/i;

/** One row of the generic view. */
export interface Row {
  readonly path: string;
  readonly value: string;
}

/**
 * The record as rows of dotted paths and values, in document order, at most `max` rows (the
 * last row then says how many were left out). Pseudonyms are replaced by a placeholder.
 */
export function flatten(record: unknown, max = 500): Row[] {
  const rows: Row[] = [];
  let omitted = 0;
  const push = (path: string, value: string) => {
    if (rows.length < max) rows.push({ path: path || '(record)', value });
    else omitted++;
  };
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) {
      if (v.length === 0) push(path, '[]');
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else if (isObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0) push(path, '{}');
      for (const k of keys) walk(v[k], path ? `${path}.${k}` : k);
    } else if (typeof v === 'string') {
      push(path, PSEUDONYM.test(v) ? '(pseudonym, hidden)' : v);
    } else {
      push(path, v === null ? 'null' : String(v));
    }
  };
  walk(record, '');
  if (omitted > 0) rows.push({ path: '…', value: `${omitted} more value(s) not shown` });
  return rows;
}
