import { createHash, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import * as fc from 'fast-check';
import { LABELING } from './hearing';
import {
  borderlineReviewInput, captureOutput, createLake, FakeTaskApi, hearingConfig, Lake, placeBorderlineRecord, Placed, writeConfigFile,
} from './label-handler-support';
import { LEDGER, ReviewAnswer, ReviewExecutionInput } from '../../src/labeling-pipeline/runtime/contract';
import { decodeNextToken, encodeNextToken, parseLimit, parseReviewAnswer } from '../../src/labeling-pipeline/runtime/logic/review-request';
import { createReviewApiHandler, readAllowedOrigins } from '../../src/labeling-pipeline/runtime/review-api';
import { createReviewRecordHandler } from '../../src/labeling-pipeline/runtime/review-record';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';

/**
 * The review API handler against moto_server over real HTTP (DynamoDB: the pending items are put
 * by the review-record handler's `request`). SendTaskSuccess goes to a recording fake: moto 5.2.5
 * accepts any token and does nothing, so it cannot show the payload nor raise TaskTimedOut.
 */
const aws = useLocalAws();
const SUB = '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1';
const ORIGIN = 'https://review.example.com';
const CLASSES = LABELING.task.classes;

let lake: Lake;
let tasks: FakeTaskApi;
let api: (event: any) => Promise<APIGatewayProxyResult>;
const pending: Array<{ placed: Placed; token: string; input: ReviewExecutionInput }> = [];

const claims = (sub = SUB) => ({ authorizer: { claims: { sub } }, identity: {} });
function event(over: Record<string, unknown> = {}) {
  return {
    httpMethod: 'GET',
    resource: '/reviews',
    path: '/reviews',
    headers: {},
    queryStringParameters: null,
    pathParameters: null,
    body: null,
    isBase64Encoded: false,
    requestContext: claims(),
    ...over,
  };
}
const list = (q: Record<string, string> | null = null) => api(event({ queryStringParameters: q }));
const submit = (recordId: string, body: unknown, over: Record<string, unknown> = {}) => api(event({
  httpMethod: 'POST',
  resource: '/reviews/{recordId}',
  path: `/reviews/${recordId}`,
  pathParameters: { recordId },
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ...over,
}));
const json = (res: APIGatewayProxyResult) => JSON.parse(res.body);

async function seed(n: number): Promise<void> {
  const recorder = createReviewRecordHandler({ s3: lake.s3, ddb: lake.ddb, events: lake.events, env: lake.env, config: hearingConfig() });
  for (let i = 0; i < n; i++) {
    const placed = await placeBorderlineRecord(lake);
    const input = borderlineReviewInput(placed);
    const token = `AAAAKgAAAAIAAAAAAAAAA-secret-token-${randomUUID()}`;
    await recorder({ action: 'request', taskToken: token, attempt: 1, input });
    pending.push({ placed, token, input });
  }
}

async function reviewItemExists(recordId: string): Promise<boolean> {
  const Key = { pk: { S: LEDGER.reviewPk }, sk: { S: recordId } };
  const res = await lake.ddb.send(new GetItemCommand({ TableName: lake.table, Key, ConsistentRead: true }));
  return res.Item !== undefined;
}

beforeAll(async () => {
  lake = await createLake(aws());
  tasks = new FakeTaskApi();
  api = createReviewApiHandler({
    ddb: lake.ddb, sfn: tasks.asClient(), env: lake.env, allowedOrigins: [ORIGIN], config: hearingConfig(), writeMetrics: () => undefined,
  });
  await seed(5);
});

describe('GET /reviews', () => {
  test('lists pending reviews with the parsed record and never a task token', async () => {
    const res = await list();
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    const body = json(res);
    expect(body.nextToken).toBeUndefined();
    expect(body.items).toHaveLength(5);
    const first = pending[0];
    const item = body.items.find((i: any) => i.recordId === first.placed.recordId);
    expect(item).toEqual({
      recordId: first.placed.recordId,
      reasons: ['low-confidence'],
      proposal: { className: 'mild', confidence: 0.5 },
      votes: first.input.votes,
      attempt: 1,
      requestedAt: expect.any(String),
      record: first.placed.record,
    });
    expect(res.body).not.toContain('taskToken');
    for (const p of pending) expect(res.body).not.toContain(p.token);
  });

  test('pages with limit and nextToken: every review once, in order', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await list({ limit: '2', ...(token ? { nextToken: token } : {}) });
      expect(res.statusCode).toBe(200);
      const body = json(res);
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((i: any) => i.recordId));
      token = body.nextToken;
      pages++;
    } while (token && pages < 10);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(pending.map((p) => p.placed.recordId).sort());
  });

  test.each([
    ['a flipped check digit', (t: string) => t.slice(0, -1) + (t.endsWith('0') ? '1' : '0')],
    ['an edited payload', (t: string) => `${Buffer.from(JSON.stringify({ sk: 'rec-0' })).toString('base64url')}.${t.split('.')[1]}`],
    ['a payload with another key', () => { const p = Buffer.from(JSON.stringify({ pk: 'review', sk: 'rec-0' })).toString('base64url'); return `${p}.0000000000000000`; }],
    ['garbage', () => '%%%not-a-token'],
    ['an empty string', () => ''],
  ])('a tampered nextToken (%s) is a 400, not a 500', async (_, tamper) => {
    const page = json(await list({ limit: '1' }));
    const res = await list({ nextToken: tamper(page.nextToken) });
    expect(res.statusCode).toBe(400);
    expect(json(res).message).toBe('nextToken is not a token this API issued');
  });

  test.each([['0'], ['101'], ['-1'], ['1.5'], ['ten'], ['']])('limit=%p is a 400', async (limit) => {
    const res = await list({ limit });
    expect(res.statusCode).toBe(400);
    expect(json(res).message).toMatch(/^limit must be an integer from 1 to 100$/);
  });

  test('an unknown query parameter is a 400', async () => {
    expect((await list({ filter: 'x' })).statusCode).toBe(400);
  });
});

describe('POST /reviews/{recordId}', () => {
  test('sends the ReviewAnswer with SendTaskSuccess, deletes the pending item, answers 200', async () => {
    const p = pending[0];
    const res = await submit(p.placed.recordId, { className: 'normal' }, { headers: { origin: ORIGIN } });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': ORIGIN, 'Vary': 'Origin' });
    expect(json(res)).toEqual({ recordId: p.placed.recordId, className: 'normal', status: 'accepted' });
    expect(res.body).not.toContain(p.token);
    expect(tasks.successes).toHaveLength(1);
    expect(tasks.successes[0].taskToken).toBe(p.token);
    const answer: ReviewAnswer = JSON.parse(tasks.successes[0].output);
    expect(answer).toEqual({ recordId: p.placed.recordId, className: 'normal', reviewer: SUB, votes: p.input.votes });
    expect(await reviewItemExists(p.placed.recordId)).toBe(false);
    // A second answer to the same review: nothing pending any more.
    expect((await submit(p.placed.recordId, { className: 'normal' })).statusCode).toBe(404);
  });

  test('an IAM caller is the reviewer by a hash of its ARN', async () => {
    const p = pending[1];
    const arn = 'arn:aws:sts::123456789012:assumed-role/reviewers/alice';
    const res = await submit(p.placed.recordId, { className: 'mild' }, { requestContext: { identity: { userArn: arn } } });
    expect(res.statusCode).toBe(200);
    const answer: ReviewAnswer = JSON.parse(tasks.successes[tasks.successes.length - 1].output);
    expect(answer.reviewer).toBe(`iam-${createHash('sha256').update(arn).digest('hex').slice(0, 32)}`);
    expect(tasks.successes[tasks.successes.length - 1].output).not.toContain('alice');
  });

  test('a review that timed out (TaskTimedOut / TaskDoesNotExist) is a 409; its stale item is dropped', async () => {
    for (const [p, set] of [[pending[2], tasks.timedOut], [pending[3], tasks.gone]] as const) {
      set.add(p.token);
      const res = await submit(p.placed.recordId, { className: 'mild' });
      expect(res.statusCode).toBe(409);
      expect(json(res).message).toMatch(/no longer open/);
      expect(await reviewItemExists(p.placed.recordId)).toBe(false);
    }
  });

  test('an unknown record is a 404', async () => {
    const res = await submit('rec-000000000000000000000000', { className: 'mild' });
    expect(res.statusCode).toBe(404);
    expect(res.headers!['Access-Control-Allow-Origin']).toBeUndefined();
  });

  test.each([
    ['an extra key', { className: 'mild', reviewer: 'someone-else' }, /exactly one field/],
    ['a class that is not one of the task\'s', { className: 'deafness-xyz' }, /className must be one of/],
    ['a number', { className: 3 }, /className must be one of/],
    ['an array', ['mild'], /must be a JSON object/],
    ['not JSON', '{"className": mild', /not valid JSON/],
    ['an oversize body', JSON.stringify({ className: 'x'.repeat(5000) }), /too large/],
    ['no body', '', /required/],
  ])('%s is a 400 whose message does not echo the value', async (_, body, message) => {
    const res = await submit(pending[4].placed.recordId, body);
    expect(res.statusCode).toBe(400);
    expect(json(res).message).toMatch(message);
    expect(res.body).not.toContain('someone-else');
    expect(res.body).not.toContain('deafness-xyz');
    expect(res.body).not.toContain('xxxxxxxx');
  });

  test('a base64 body (binary media types) is decoded', async () => {
    const res = await submit(pending[4].placed.recordId, Buffer.from('{"className":"severe"}').toString('base64'), { isBase64Encoded: true });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(tasks.successes[tasks.successes.length - 1].output).className).toBe('severe');
  });

  test('a record id that is not one is a 400', async () => {
    const res = await submit('../../etc', { className: 'mild' });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('etc');
  });
});

describe('identity, routes and faults', () => {
  test('no caller identity is a 403', async () => {
    for (const requestContext of [{}, { authorizer: { claims: { sub: '../bad sub' } }, identity: {} }, undefined]) {
      const res = await api(event({ requestContext }));
      expect(res.statusCode).toBe(403);
      expect(res.headers!['Cache-Control']).toBe('no-store');
    }
  });

  test('an unknown route is a 404, a wrong method a 405', async () => {
    expect((await api(event({ resource: '/other', path: '/other' }))).statusCode).toBe(404);
    expect((await api(event({ httpMethod: 'DELETE' }))).statusCode).toBe(405);
    expect((await api(event({ httpMethod: 'GET', resource: '/reviews/{recordId}', pathParameters: { recordId: 'rec-1' } }))).statusCode).toBe(405);
  });

  test('an unexpected fault is a 500 with a fixed message and the error name in the log', async () => {
    tasks.failWith = Object.assign(new Error(`throttled ${pending[4].token}`), { name: 'ThrottlingException' });
    const p = await (async () => {
      await seed(1);
      return pending[pending.length - 1];
    })();
    const { result, output } = await captureOutput(() => submit(p.placed.recordId, { className: 'mild' }));
    tasks.failWith = undefined;
    expect(result.statusCode).toBe(500);
    expect(json(result)).toEqual({ message: 'the request failed; try again later' });
    expect(output).toContain('ThrottlingException');
    expect(output).not.toContain('secret-token');
    expect(await reviewItemExists(p.placed.recordId)).toBe(true);
  });

  test('ALLOWED_ORIGINS must be a JSON array of strings', () => {
    expect(readAllowedOrigins(undefined)).toEqual([]);
    expect(readAllowedOrigins('["https://a"]')).toEqual(['https://a']);
    expect(() => readAllowedOrigins('https://a')).toThrow(/JSON array/);
    expect(() => readAllowedOrigins('[1]')).toThrow(/JSON array/);
  });
});

describe('fuzzing (fast-check)', () => {
  /** A marker every fuzzed string carries, so a leak into the logs can be found. */
  const MARK = 'Fz9q';
  const marked = fc.string({ maxLength: 40 }).map((s) => `${MARK}${s}`);
  const anyJson = fc.jsonValue({ maxDepth: 3 });

  const checkAnswer = (res: APIGatewayProxyResult) => {
    expect(res.statusCode === 200 || (res.statusCode >= 400 && res.statusCode < 500)).toBe(true);
    expect(res.headers).toMatchObject({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    expect(() => JSON.parse(res.body)).not.toThrow();
    expect(res.body).not.toContain(MARK);
    expect(res.body).not.toContain('secret-token');
  };

  test('review bodies: always 2xx/4xx JSON, never a throw, never a fuzzed value in the answer or the logs', async () => {
    const target = pending[pending.length - 1].placed.recordId;
    const bodies = fc.oneof(
      marked,
      anyJson.map((v) => JSON.stringify(v)),
      fc.record({ className: fc.oneof(marked, fc.constantFrom(...CLASSES), anyJson) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
      fc.dictionary(marked, anyJson, { maxKeys: 3 }).map((o) => JSON.stringify({ className: 'mild', ...o })),
      fc.tuple(marked, fc.integer({ min: 1, max: 3000 })).map(([m, n]) => JSON.stringify({ className: m.repeat(n) })),
    );
    let runs = 0;
    const { output } = await captureOutput(() => fc.assert(fc.asyncProperty(bodies, fc.boolean(), async (body, b64) => {
      runs++;
      // A valid answer answers the review (200); later ones find nothing pending (404).
      const res = await submit(target, b64 ? Buffer.from(body).toString('base64') : body, { isBase64Encoded: b64 });
      checkAnswer(res);
    }), { numRuns: 300 }));
    expect(runs).toBe(300);
    expect(output).not.toContain(MARK);
  });

  test('paths, path parameters, methods and query strings: always 2xx/4xx JSON, never a fuzzed value in the logs', async () => {
    let runs = 0;
    const { output } = await captureOutput(() => fc.assert(fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', undefined),
      fc.oneof(fc.constantFrom('/reviews', '/reviews/{recordId}', undefined), marked),
      fc.oneof(fc.constant(null), fc.record({ recordId: marked })),
      fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom('limit', 'nextToken', 'x', MARK), marked, { maxKeys: 3 })),
      fc.oneof(fc.constant(undefined), marked),
      async (httpMethod, resource, pathParameters, queryStringParameters, pathValue) => {
        runs++;
        const res = await api(event({ httpMethod, resource, pathParameters, queryStringParameters, path: pathValue, body: null }));
        checkAnswer(res);
      },
    ), { numRuns: 300 }));
    expect(runs).toBe(300);
    expect(output).not.toContain(MARK);
  });

  test('events of any shape: never a throw', async () => {
    let runs = 0;
    await fc.assert(fc.asyncProperty(fc.anything({ maxDepth: 3 }), async (e) => {
      runs++;
      const res = await api(e as any);
      expect([400, 403, 404, 405, 500].includes(res.statusCode) || res.statusCode === 200).toBe(true);
      expect(() => JSON.parse(res.body)).not.toThrow();
    }), { numRuns: 200 });
    expect(runs).toBe(200);
  });

  test('pure validators: tokens round-trip, anything else is refused; bodies and limits never throw', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/), (id) => {
      const back = decodeNextToken(encodeNextToken(id));
      expect(back).toEqual({ ok: true, value: id });
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ maxLength: 600 }), (t) => {
      const r = decodeNextToken(t);
      if (r.ok) expect(encodeNextToken(r.value!)).toBe(t);
    }), { numRuns: 1000 });
    const badBodies = fc.oneof(marked, marked.map((m) => JSON.stringify({ className: m })), marked.map((m) => JSON.stringify({ [m]: 1 })));
    fc.assert(fc.property(badBodies, fc.boolean(), (b, b64) => {
      const r = parseReviewAnswer(b64 ? Buffer.from(b).toString('base64') : b, b64, CLASSES);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).not.toContain(MARK);
    }), { numRuns: 1000 });
    fc.assert(fc.property(fc.string({ maxLength: 10 }), (l) => {
      const r = parseLimit(l);
      if (r.ok) expect(r.value).toBeGreaterThanOrEqual(1);
    }), { numRuns: 500 });
  });
});

test('the bundled asset loads in a fresh Node process with its environment and configuration file', () => {
  const result = expectAssetLoads(path.join('assets', 'labeling-pipeline', 'runtime', 'review-api.handler'), {
    env: { LEDGER_TABLE: 't', METRICS_NAMESPACE: 'ns', ALLOWED_ORIGINS: JSON.stringify([ORIGIN]), PIPELINE_CONFIG_FILE: writeConfigFile() },
  });
  // client-eventbridge comes with common.ts (readEnv / loadPipelineConfig live beside putEvents).
  expect(result.externals).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-eventbridge', '@aws-sdk/client-sfn']);
});
