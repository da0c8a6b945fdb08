/**
 * The review console on your machine: an HTTP server on 127.0.0.1 that serves the built console
 * (assets/review-console/web/), the reference app's views and a generated config.json, and
 * stands in for the two AWS services the console talks to:
 *
 * - **Cognito's hosted UI** (`/oauth2/authorize`, `/oauth2/token`, `/logout`): the authorization
 *   code flow with PKCE as the console runs it against Cognito. The sign-in page lists the local
 *   users (no passwords: a button per user); the token endpoint checks the client id, the
 *   redirect URI, the one-time code and the PKCE verifier (S256), and issues ID and access tokens
 *   (JWTs signed HS256 with a key made at start; not Cognito's RS256 keys).
 * - **API Gateway with a Cognito user pool authorizer** (`/reviews`, `/reviews/{recordId}`): a
 *   request without a valid, unexpired ID token of this pool is a 401; otherwise the token's
 *   claims go into `requestContext.authorizer.claims` (strings, as API Gateway passes them) of
 *   an API Gateway proxy event, which the review API handler you give answers.
 *
 * So sign-in is emulated by the server issuing tokens, through the same redirects and PKCE checks
 * the console does in production; the browser keeps them in sessionStorage as it would there.
 *
 * Every response carries the console's security headers (a CSP without 'unsafe-inline'), so a
 * browser run shows any violation.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** A user of the local user pool. */
export interface LocalUser {
  readonly username: string;
  /** Cognito's `sub` (a UUID). @default - a random UUID */
  readonly sub?: string;
  /** `cognito:groups`. @default [] */
  readonly groups?: readonly string[];
}

export interface LocalConsoleOptions {
  /** The built console: index.html, console.js, console.css (assets/review-console/web/). */
  readonly webDir: string;
  /** The review API handler (API Gateway proxy events). */
  readonly handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
  /** The label task's classes (config.json). */
  readonly classes: readonly string[];
  readonly users: readonly LocalUser[];
  /** Folder served as `views/` (e.g. build-views.ts's output `<dir>/views`). @default - none */
  readonly viewsDir?: string;
  /** config.json `views` entries. @default [] */
  readonly views?: ReadonlyArray<{ name: string; module: string }>;
  /** The reviewer group. @default 'reviewers' */
  readonly reviewerGroup?: string;
  /**
   * Refuse (403) a caller outside the reviewer group before the handler runs, as an authorizer
   * with a group check would. The review API handler refuses such callers itself.
   * @default false
   */
  readonly authorizerRefusesNonReviewers?: boolean;
  /** Headers on every response. @default - localSecurityHeaders() */
  readonly securityHeaders?: Readonly<Record<string, string>>;
  /** Port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
  /** config.json `title`. @default 'Review console (local)' */
  readonly title?: string;
  /** Lifetime of issued tokens, seconds. @default 3600 */
  readonly tokenLifetimeSeconds?: number;
}

export interface LocalConsole {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly origin: string;
  /** Requests the API stand-in answered, in order (method, path, status). */
  readonly apiCalls: Array<{ method: string; path: string; status: number; username?: string }>;
  /** A valid ID token of a local user (to call the API as that user from a script or test). */
  idToken(username: string): string;
  close(): Promise<void>;
}

const CLIENT_ID = 'local-review-console';

/** The console's security headers for a same-origin API and hosted UI. */
export function localSecurityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Starts the local console. */
export async function startLocalConsole(options: LocalConsoleOptions): Promise<LocalConsole> {
  const key = randomBytes(32);
  const group = options.reviewerGroup ?? 'reviewers';
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const headers = options.securityHeaders ?? localSecurityHeaders();
  const users = new Map(options.users.map((u) => [u.username, { ...u, sub: u.sub ?? randomUUID(), groups: u.groups ?? [] }]));
  const codes = new Map<string, { username: string; challenge: string; redirectUri: string; expires: number }>();
  const apiCalls: LocalConsole['apiCalls'] = [];
  let origin = '';

  const sign = (claims: Record<string, unknown>) => {
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'local' }));
    const body = b64url(JSON.stringify(claims));
    return `${head}.${body}.${b64url(createHmac('sha256', key).update(`${head}.${body}`).digest())}`;
  };
  const verify = (token: string): Record<string, unknown> | undefined => {
    const [head, body, sig] = token.split('.');
    if (!head || !body || !sig) return undefined;
    const expected = createHmac('sha256', key).update(`${head}.${body}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return undefined;
    return claims;
  };
  const tokensFor = (username: string) => {
    const u = users.get(username)!;
    const now = Math.floor(Date.now() / 1000);
    const common = { sub: u.sub, iss: `${origin}/local-user-pool`, iat: now, exp: now + lifetime, ...(u.groups.length ? { 'cognito:groups': [...u.groups] } : {}) };
    return {
      id_token: sign({ ...common, 'aud': CLIENT_ID, 'token_use': 'id', 'cognito:username': u.username, 'auth_time': now }),
      access_token: sign({ ...common, client_id: CLIENT_ID, token_use: 'access', scope: 'openid email', username: u.username }),
      expires_in: lifetime,
      token_type: 'Bearer',
    };
  };

  const send = (res: http.ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...headers, 'Content-Type': type, ...extra });
    res.end(body);
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => send(res, status, JSON.stringify(body), 'application/json', { 'Cache-Control': 'no-store' });
  const readBody = (req: http.IncomingMessage) => new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
  const serveFile = (res: http.ServerResponse, dir: string, rel: string) => {
    const file = path.resolve(dir, rel);
    if (!file.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return send(res, 404, 'not found', 'text/plain');
    return send(res, 200, fs.readFileSync(file), TYPES[path.extname(file)] ?? 'application/octet-stream', { 'Cache-Control': 'no-cache' });
  };

  const authorize = (res: http.ServerResponse, q: URLSearchParams) => {
    const problems: string[] = [];
    if (q.get('response_type') !== 'code') problems.push('response_type must be code');
    if (q.get('client_id') !== CLIENT_ID) problems.push('unknown client_id');
    if (q.get('redirect_uri') !== `${origin}/`) problems.push('redirect_uri is not a callback URL of this client');
    if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '')) problems.push('PKCE (S256) is required');
    if (!q.get('state')) problems.push('state is required');
    if (problems.length) return send(res, 400, problems.join('; '), 'text/plain');
    const hidden = ['redirect_uri', 'state', 'code_challenge'].map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(q.get(k)!)}">`).join('');
    const buttons = [...users.values()].map((u) =>
      `<button type="submit" name="username" value="${escapeHtml(u.username)}">${escapeHtml(u.username)}${u.groups.length ? ` (${escapeHtml(u.groups.join(', '))})` : ' (no group)'}</button>`).join('\n');
    return send(res, 200, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in (local user pool)</title><link rel="stylesheet" href="/console.css"></head>
<body><main><h1>Sign in</h1><p>Local user pool: choose a user.</p>
<form method="post" action="/login" class="queue-actions">${hidden}${buttons}</form></main></body></html>`, 'text/html; charset=utf-8');
  };

  const login = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const f = new URLSearchParams(await readBody(req));
    const username = f.get('username') ?? '';
    if (!users.has(username) || f.get('redirect_uri') !== `${origin}/`) return send(res, 400, 'bad sign-in', 'text/plain');
    const code = randomBytes(16).toString('hex');
    codes.set(code, { username, challenge: f.get('code_challenge') ?? '', redirectUri: f.get('redirect_uri')!, expires: Date.now() + 60_000 });
    const to = new URL(f.get('redirect_uri')!);
    to.search = new URLSearchParams({ code, state: f.get('state') ?? '' }).toString();
    res.writeHead(302, { ...headers, Location: to.toString() });
    return res.end();
  };

  const token = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const f = new URLSearchParams(await readBody(req));
    const grant = codes.get(f.get('code') ?? '');
    codes.delete(f.get('code') ?? '');
    if (f.get('grant_type') !== 'authorization_code' || f.get('client_id') !== CLIENT_ID || !grant || grant.expires < Date.now()
      || grant.redirectUri !== f.get('redirect_uri')
      || b64url(createHash('sha256').update(f.get('code_verifier') ?? '').digest()) !== grant.challenge) {
      return json(res, 400, { error: 'invalid_grant' });
    }
    return json(res, 200, tokensFor(grant.username));
  };

  const api = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const record = (status: number, username?: string) => apiCalls.push({ method: req.method ?? '', path: url.pathname, status, username });
    const raw = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    const claims = raw ? verify(raw) : undefined;
    // API Gateway's Cognito authorizer: a valid, unexpired ID token of this pool and client.
    if (!claims || claims.token_use !== 'id' || claims.aud !== CLIENT_ID) {
      record(401);
      return json(res, 401, { message: 'Unauthorized' });
    }
    const username = String(claims['cognito:username']);
    const groups = Array.isArray(claims['cognito:groups']) ? claims['cognito:groups'] as string[] : [];
    // The review API handler itself refuses non-reviewers (from the claims' cognito:groups); this
    // optional early refusal only stands in for an authorizer that would check the group too.
    if ((options.authorizerRefusesNonReviewers ?? false) && !groups.includes(group)) {
      record(403, username);
      return json(res, 403, { message: 'User is not authorized to access this resource' });
    }
    const answer = url.pathname.match(/^\/reviews\/([^/]+)$/);
    const body = req.method === 'POST' ? await readBody(req) : '';
    const q = Object.fromEntries(url.searchParams);
    const event = {
      resource: answer ? '/reviews/{recordId}' : url.pathname === '/reviews' ? '/reviews' : url.pathname,
      path: url.pathname,
      httpMethod: req.method ?? 'GET',
      headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'authorization').map(([k, v]) => [k, String(v)])),
      multiValueHeaders: {},
      queryStringParameters: Object.keys(q).length ? q : null,
      multiValueQueryStringParameters: null,
      pathParameters: answer ? { recordId: decodeURIComponent(answer[1]) } : null,
      stageVariables: null,
      body: body || null,
      isBase64Encoded: false,
      requestContext: {
        // API Gateway passes the claims on as strings (a list as "a,b").
        authorizer: { claims: Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])) },
        identity: {},
      },
    } as unknown as APIGatewayProxyEvent;
    const out = await options.handler(event);
    record(out.statusCode, username);
    res.writeHead(out.statusCode, { ...headers, ...(out.headers as Record<string, string> | undefined) });
    return res.end(out.body);
  };

  const config = () => ({
    apiUrl: origin,
    auth: { domain: origin, clientId: CLIENT_ID, redirectUri: `${origin}/`, reviewerGroup: group },
    classes: options.classes,
    title: options.title ?? 'Review console (local)',
    views: options.views ?? [],
  });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const route = async () => {
      if (url.pathname === '/reviews' || url.pathname.startsWith('/reviews/')) return api(req, res, url);
      if (req.method === 'POST' && url.pathname === '/login') return login(req, res);
      if (req.method === 'POST' && url.pathname === '/oauth2/token') return token(req, res);
      if (req.method !== 'GET') return send(res, 405, 'method not allowed', 'text/plain');
      if (url.pathname === '/oauth2/authorize') return authorize(res, url.searchParams);
      if (url.pathname === '/logout') {
        res.writeHead(302, { ...headers, Location: url.searchParams.get('logout_uri') === `${origin}/` ? `${origin}/` : '/' });
        return res.end();
      }
      if (url.pathname === '/config.json') return json(res, 200, config());
      if (url.pathname === '/') return serveFile(res, options.webDir, 'index.html');
      if (url.pathname.startsWith('/views/') && options.viewsDir) return serveFile(res, options.viewsDir, url.pathname.slice('/views/'.length));
      return serveFile(res, options.webDir, url.pathname.slice(1));
    };
    route().catch(() => {
      if (!res.headersSent) json(res, 500, { message: 'local console error' });
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    apiCalls,
    idToken: (username: string) => {
      if (!users.has(username)) throw new Error(`no local user ${JSON.stringify(username)}`);
      return tokensFor(username).id_token;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
