import { REVIEW_API_CODES } from '../../src/labeling-pipeline/runtime/review-api';
import { ReviewApi } from '../../src/review-console/web/api';

/**
 * The console's review API client against scripted answers of fetch: what it makes of the API's
 * pages (the queue's total from the first page only) and of each answer's status and code.
 */
type Scripted = { status: number; body: unknown };

function withFetch(answers: Scripted[]): { calls: Array<{ url: string; init?: RequestInit }>; restore: () => void } {
  const calls: Array<{ url: string; init?: RequestInit }> = [];
  const original = globalThis.fetch;
  globalThis.fetch = (async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const next = answers.shift();
    if (!next) throw new Error('no scripted answer left');
    return new Response(JSON.stringify(next.body), { status: next.status, headers: { 'Content-Type': 'application/json' } });
  }) as typeof fetch;
  return { calls, restore: () => { globalThis.fetch = original; } };
}

const api = new ReviewApi('https://api.example.com/v1', () => 'id-token');
const item = (recordId: string) => ({ recordId, reasons: ['low-confidence'], votes: [], attempt: 1, requestedAt: '2026-01-01T00:00:00Z', record: {} });

test('list: every page, the total of the first page, the ID token in Authorization', async () => {
  const f = withFetch([
    { status: 200, body: { items: [item('rec-1')], nextToken: 't1', classes: ['a'], total: 7, totalComplete: true } },
    { status: 200, body: { items: [item('rec-2')], classes: ['a'] } },
  ]);
  try {
    const res = await api.list();
    expect(res).toEqual({ items: [item('rec-1'), item('rec-2')], more: false, total: 7 });
    expect(f.calls.map((c) => c.url)).toEqual(['https://api.example.com/v1/reviews?limit=100', 'https://api.example.com/v1/reviews?limit=100&nextToken=t1']);
    expect(f.calls[0].init?.headers).toEqual({ Authorization: 'id-token' });
  } finally {
    f.restore();
  }
});

test('list: an API without a total (older) gives none; a bad total is ignored', async () => {
  for (const total of [undefined, -1, 1.5, '3']) {
    const f = withFetch([{ status: 200, body: { items: [], ...(total === undefined ? {} : { total }) } }]);
    try {
      expect(await api.list()).toEqual({ items: [], more: false, total: undefined });
    } finally {
      f.restore();
    }
  }
});

test.each([
  [200, { status: 'accepted' }, { kind: 'accepted', code: undefined }],
  [202, { status: 'awaiting-second-reviewer', code: REVIEW_API_CODES.awaitingSecondReviewer }, { kind: 'accepted', code: 'awaiting-second-reviewer' }],
  [202, { status: 'awaiting-second-reviewer', code: REVIEW_API_CODES.fourEyesDisagreement }, { kind: 'accepted', code: 'four-eyes-disagreement' }],
  [409, { code: REVIEW_API_CODES.alreadyAnswered, message: 'm' }, { kind: 'gone', status: 409, code: 'already-answered' }],
  [409, { code: REVIEW_API_CODES.answeredByYou, message: 'm' }, { kind: 'gone', status: 409, code: 'answered-by-you' }],
  [409, { code: REVIEW_API_CODES.reviewClosed, message: 'm' }, { kind: 'gone', status: 409, code: 'review-closed' }],
  [409, { message: 'an older API without a code' }, { kind: 'gone', status: 409, code: undefined }],
  [404, { code: REVIEW_API_CODES.notFound, message: 'm' }, { kind: 'gone', status: 404, code: 'not-found' }],
  [401, { message: 'Unauthorized' }, { kind: 'signed-out' }],
  [403, { code: REVIEW_API_CODES.forbidden, message: 'only reviewers may use the review API' }, { kind: 'forbidden' }],
  [429, { code: REVIEW_API_CODES.throttled, message: 'too many requests' }, { kind: 'failed', message: '429: too many requests' }],
])('answer: HTTP %i %j is %j', async (status, body, outcome) => {
  const f = withFetch([{ status, body }]);
  try {
    expect(await api.answer('rec-1', 'mild')).toEqual(outcome);
    expect(f.calls[0].url).toBe('https://api.example.com/v1/reviews/rec-1');
    expect(f.calls[0].init).toMatchObject({ method: 'POST', body: '{"className":"mild"}' });
  } finally {
    f.restore();
  }
});

test('answer: the API unreachable is a failure that says so (nothing was saved)', async () => {
  const original = globalThis.fetch;
  globalThis.fetch = (async () => { throw new TypeError('fetch failed'); }) as typeof fetch;
  try {
    expect(await api.answer('rec-1', 'mild')).toEqual({ kind: 'failed', message: 'The review API could not be reached.' });
  } finally {
    globalThis.fetch = original;
  }
});

test('the codes are distinct (each outcome its own)', () => {
  const codes = Object.values(REVIEW_API_CODES);
  expect(new Set(codes).size).toBe(codes.length);
});
