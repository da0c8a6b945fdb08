/// <reference lib="dom" />
/** The review API client: `GET /reviews` (all pages, bounded) and `POST /reviews/{recordId}`. */
import { ReviewItem } from './model';

/** The outcome of an answer, as the console treats it. */
export type AnswerOutcome =
  /** 200; or 202 under four-eyes (`code`: awaiting-second-reviewer or four-eyes-disagreement). */
  | { readonly kind: 'accepted'; readonly code?: string }
  /**
   * 409 (`code`: already-answered, answered-by-you, review-closed) or 404 (not-found): nothing
   * was saved.
   */
  | { readonly kind: 'gone'; readonly status: number; readonly code?: string }
  | { readonly kind: 'signed-out' }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'failed'; readonly message: string };

export class ApiError extends Error {
  constructor(public readonly status: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Largest number of pages the console reads for one queue (100 items each). */
export const MAX_PAGES = 10;

export class ReviewApi {
  constructor(private readonly apiUrl: string, private readonly idToken: () => string | undefined) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = this.idToken();
    // API Gateway's Cognito user pool authorizer reads the ID token from Authorization.
    return { ...(token ? { Authorization: token } : {}), ...extra };
  }

  /**
   * The whole queue (up to MAX_PAGES pages); `more` when it is longer; `total`: pending reviews
   * of every reviewer (the API's count on the first page), when the API gives it.
   */
  async list(): Promise<{ items: ReviewItem[]; more: boolean; total?: number }> {
    const items: ReviewItem[] = [];
    let nextToken: string | undefined;
    let total: number | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = new URLSearchParams({ limit: '100', ...(nextToken ? { nextToken } : {}) });
      const res = await fetch(`${this.apiUrl}/reviews?${q}`, { headers: this.headers(), cache: 'no-store' });
      if (!res.ok) throw new ApiError(res.status, await messageOf(res));
      const body = await res.json() as { items?: ReviewItem[]; nextToken?: string; total?: unknown };
      items.push(...(body.items ?? []));
      if (page === 0 && typeof body.total === 'number' && Number.isSafeInteger(body.total) && body.total >= 0) total = body.total;
      nextToken = body.nextToken;
      if (!nextToken) return { items, more: false, total };
    }
    return { items, more: true, total };
  }

  async answer(recordId: string, className: string): Promise<AnswerOutcome> {
    let res: Response;
    try {
      res = await fetch(`${this.apiUrl}/reviews/${encodeURIComponent(recordId)}`, {
        method: 'POST',
        headers: this.headers({ 'Content-Type': 'application/json' }),
        body: JSON.stringify({ className }),
        cache: 'no-store',
      });
    } catch {
      return { kind: 'failed', message: 'The review API could not be reached.' };
    }
    if (res.ok) return { kind: 'accepted', code: res.status === 202 ? await codeOf(res) : undefined };
    if (res.status === 409 || res.status === 404) return { kind: 'gone', status: res.status, code: await codeOf(res) };
    if (res.status === 401) return { kind: 'signed-out' };
    if (res.status === 403) return { kind: 'forbidden' };
    return { kind: 'failed', message: await messageOf(res) };
  }
}

/** The review API's machine-readable `code`, when the body has one. */
async function codeOf(res: Response): Promise<string | undefined> {
  try {
    const body = await res.json() as { code?: unknown };
    return typeof body.code === 'string' ? body.code : undefined;
  } catch {
    return undefined;
  }
}

async function messageOf(res: Response): Promise<string> {
  try {
    const body = await res.json() as { message?: unknown };
    if (typeof body.message === 'string') return `${res.status}: ${body.message}`;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}
