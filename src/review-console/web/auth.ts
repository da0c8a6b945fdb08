/// <reference lib="dom" />
/**
 * Sign-in with the Cognito hosted UI: authorization code flow with PKCE (S256). Only the session's
 * tokens are kept, in sessionStorage (gone when the tab closes); the PKCE verifier and state live
 * there only between the redirect and the code exchange.
 */
import { ConsoleConfig, jwtClaims } from './model';

const TOKENS = 'review-console.tokens';
const PENDING = 'review-console.pkce';

export interface Tokens {
  readonly idToken: string;
  readonly accessToken: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The session's tokens, or undefined when absent, unreadable or expired. */
export function currentTokens(now = Date.now()): Tokens | undefined {
  const raw = sessionStorage.getItem(TOKENS);
  if (!raw) return undefined;
  try {
    const t = JSON.parse(raw) as Tokens;
    if (typeof t.idToken !== 'string' || typeof t.expiresAt !== 'number') return undefined;
    if (t.expiresAt <= now + 30_000) return undefined;
    jwtClaims(t.idToken);
    return t;
  } catch {
    return undefined;
  }
}

export function forgetTokens(): void {
  sessionStorage.removeItem(TOKENS);
  sessionStorage.removeItem(PENDING);
}

/** Sends the browser to the hosted UI's authorize endpoint. */
export async function signIn(config: ConsoleConfig): Promise<void> {
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL(`${config.auth.domain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.auth.clientId,
    redirect_uri: config.auth.redirectUri,
    scope: (config.auth.scopes ?? ['openid']).join(' '),
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/** Ends the session here and at the hosted UI. */
export function signOut(config: ConsoleConfig): void {
  forgetTokens();
  const url = new URL(`${config.auth.domain}/logout`);
  url.search = new URLSearchParams({ client_id: config.auth.clientId, logout_uri: config.auth.logoutUri ?? config.auth.redirectUri }).toString();
  location.assign(url.toString());
}

/**
 * On the way back from the hosted UI (`?code=…&state=…`, or `?error=…`): checks the state,
 * exchanges the code with the verifier, keeps the tokens, and removes the query from the address.
 * Returns false when the address carries no callback.
 */
export async function completeSignIn(config: ConsoleConfig): Promise<boolean> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return false;
  history.replaceState(null, '', location.pathname);
  const pendingRaw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (error) throw new Error('Sign-in was not completed. Try again.');
  let pending: { verifier?: unknown; state?: unknown } = {};
  try {
    pending = JSON.parse(pendingRaw ?? '{}');
  } catch {
    pending = {};
  }
  if (typeof pending.verifier !== 'string' || pending.state !== params.get('state')) {
    throw new Error('The sign-in response does not match a sign-in started here. Sign in again.');
  }
  const res = await fetch(`${config.auth.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: config.auth.clientId,
      code: code!,
      redirect_uri: config.auth.redirectUri,
      code_verifier: pending.verifier,
    }).toString(),
  });
  if (!res.ok) throw new Error('The sign-in could not be completed (token exchange refused). Sign in again.');
  const body = await res.json() as { id_token?: unknown; access_token?: unknown; expires_in?: unknown };
  if (typeof body.id_token !== 'string' || typeof body.access_token !== 'string') throw new Error('The sign-in service returned no tokens.');
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 3600;
  const tokens: Tokens = { idToken: body.id_token, accessToken: body.access_token, expiresAt: Date.now() + expiresIn * 1000 };
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  return true;
}
