import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import type { APIGatewayProxyResult } from 'aws-lambda';
import * as fc from 'fast-check';
import { LABELING } from './hearing';
import {
  borderlineReviewInput, captureOutput, createLake, FakeTaskApi, hearingConfig, Lake, placeBorderlineRecord, Placed, writeConfigFile,
} from './label-handler-support';
import { LEDGER, REVIEWER_PSEUDONYM, ReviewAnswer, ReviewExecutionInput } from '../../src/labeling-pipeline/runtime/contract';
import {
  decodeNextToken, encodeNextToken, groupsOf, isReviewer, parseLimit, parseReviewAnswer, parseReviewApiSettings, ReviewApiSettings, roleKey,
} from '../../src/labeling-pipeline/runtime/logic/review-request';
import { createReviewApiHandler, readAllowedOrigins, ReviewApiDeps } from '../../src/labeling-pipeline/runtime/review-api';
import { createReviewRecordHandler } from '../../src/labeling-pipeline/runtime/review-record';
import { callerPseudonyms, CallerIdentity } from '../../src/private/runtime/caller-identity';
import { fromItem } from '../../src/private/runtime/dynamodb-codec';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';

/**
 * The review API handler against moto_server over real HTTP (DynamoDB: the pending items are put
 * by the review-record handler's `request`; KMS: the reviewers' pseudonyms, GenerateMac with an
 * HMAC_256 key). SendTaskSuccess goes to a recording fake: moto 5.2.5 accepts any token and does
 * nothing, so it cannot show the payload nor raise TaskTimedOut.
 */
const aws = useLocalAws();
const SUB = '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1';
const SECOND_SUB = '0d4c2e7a-9b1f-4c3d-8e5a-6f7b8c9d0e1f';
const THIRD_SUB = 'c3a9e1d2-4b5f-4a6c-9d7e-8f0a1b2c3d4e';
const UPLOADER_SUB = 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9';
const ORIGIN = 'https://review.example.com';
const CLASSES = LABELING.task.classes;
const REVIEWER_ROLE = 'arn:aws:iam::123456789012:role/team/hearing-reviewer';

const COGNITO: ReviewApiSettings = {
  access: { kind: 'cognito-group', group: 'reviewers' }, maxRequestsPerWindow: 100_000, windowSeconds: 3600, fourEyesQualitySample: false,
};

let lake: Lake;
let kms: KMSClient;
let hmacKeyId: string;
let tasks: FakeTaskApi;
let api: (event: any) => Promise<APIGatewayProxyResult>;
const pending: Array<{ placed: Placed; token: string; input: ReviewExecutionInput }> = [];

/** A review API handler on the test lake; `over` replaces settings or dependencies. */
function makeApi(settings: Partial<ReviewApiSettings> = {}, over: Partial<ReviewApiDeps> = {}) {
  return createReviewApiHandler({
    ddb: lake.ddb,
    sfn: tasks.asClient(),
    kms,
    env: { ...lake.env, HMAC_KEY_ID: hmacKeyId },
    settings: { ...COGNITO, ...settings },
    allowedOrigins: [ORIGIN],
    config: hearingConfig(),
    writeMetrics: () => undefined,
    ...over,
  });
}

/** The keyed pseudonym the handler must derive for a caller (GenerateMac with the same key). */
async function pseudonymOf(identity: CallerIdentity): Promise<string> {
  const mac = async (message: Uint8Array) => (await kms.send(new GenerateMacCommand({ KeyId: hmacKeyId, MacAlgorithm: 'HMAC_SHA_256', Message: message }))).Mac!;
  return callerPseudonyms(mac)(identity);
}

/** The request context of a Cognito user (API Gateway flattens `cognito:groups` to "a,b"; null: no such claim). */
const claims = (sub = SUB, groups: unknown = 'reviewers') => ({ authorizer: { claims: { sub, ...(groups === null ? {} : { 'cognito:groups': groups }) } }, identity: {} });
/** The request context of an IAM caller (SigV4): an assumed-role session. */
const iamCaller = (roleName: string, session: string, account = '123456789012') => ({
  identity: { userArn: `arn:aws:sts::${account}:assumed-role/${roleName}/${session}`, caller: `AROAEXAMPLE${roleName.length}ROLEID:${session}` },
});
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
const list = (q: Record<string, string> | null = null, over: Record<string, unknown> = {}, handler = api) =>
  handler(event({ queryStringParameters: q, ...over }));
const submit = (recordId: string, body: unknown, over: Record<string, unknown> = {}, handler = api) => handler(event({
  httpMethod: 'POST',
  resource: '/reviews/{recordId}',
  path: `/reviews/${recordId}`,
  pathParameters: { recordId },
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ...over,
}));
const json = (res: APIGatewayProxyResult) => JSON.parse(res.body);

/** Queue `n` borderline records for review (attempt 1); `reasons` replace the review reasons. */
async function seed(n: number, reasons?: ReviewExecutionInput['reasons']): Promise<Array<{ placed: Placed; token: string; input: ReviewExecutionInput }>> {
  const recorder = createReviewRecordHandler({ s3: lake.s3, ddb: lake.ddb, events: lake.events, env: lake.env, config: hearingConfig() });
  const added = [];
  for (let i = 0; i < n; i++) {
    const placed = await placeBorderlineRecord(lake);
    const input = { ...borderlineReviewInput(placed), ...(reasons ? { reasons } : {}) };
    const token = `AAAAKgAAAAIAAAAAAAAAA-secret-token-${randomUUID()}`;
    await recorder({ action: 'request', taskToken: token, attempt: 1, input });
    added.push({ placed, token, input });
  }
  return added;
}

/** Queue the review again (the state machine's requeue after a timeout): attempt 2, a new token. */
async function requeue(p: { placed: Placed; input: ReviewExecutionInput }): Promise<string> {
  const recorder = createReviewRecordHandler({ s3: lake.s3, ddb: lake.ddb, events: lake.events, env: lake.env, config: hearingConfig() });
  const token = `AAAAKgAAAAIAAAAAAAAAA-secret-token-${randomUUID()}`;
  await recorder({ action: 'request', taskToken: token, attempt: 2, input: p.input });
  return token;
}

async function reviewItemExists(recordId: string): Promise<boolean> {
  const Key = { pk: { S: LEDGER.reviewPk }, sk: { S: recordId } };
  const res = await lake.ddb.send(new GetItemCommand({ TableName: lake.table, Key, ConsistentRead: true }));
  return res.Item !== undefined;
}

const lastAnswer = (): ReviewAnswer => JSON.parse(tasks.successes[tasks.successes.length - 1].output);

beforeAll(async () => {
  lake = await createLake(aws());
  kms = aws().kms();
  hmacKeyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
  tasks = new FakeTaskApi();
  api = makeApi();
  pending.push(...await seed(5));
});

describe('GET /reviews', () => {
  test('lists pending reviews with the parsed record and never a task token', async () => {
    const res = await list();
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    const body = json(res);
    expect(body.nextToken).toBeUndefined();
    expect(body.items).toHaveLength(5);
    expect(body.classes).toEqual(CLASSES);
    expect(body).toMatchObject({ total: 5, totalComplete: true });
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
      // The queue's total comes with the first page only; the classes with every page.
      expect(body.total).toBe(pages === 0 ? pending.length : undefined);
      expect(body.classes).toEqual(CLASSES);
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
    const res = await list({ filter: 'x' });
    expect(res.statusCode).toBe(400);
    expect(json(res).code).toBe('invalid-request');
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
    const reviewer = await pseudonymOf({ kind: 'cognito-sub', value: SUB });
    expect(reviewer).toMatch(REVIEWER_PSEUDONYM);
    expect(answer).toEqual({ recordId: p.placed.recordId, className: 'normal', reviewer, reviewers: [reviewer], votes: p.input.votes });
    // The execution's history (the task output) never holds the raw identity.
    expect(tasks.successes[0].output).not.toContain(SUB);
    expect(await reviewItemExists(p.placed.recordId)).toBe(false);
    // A second answer to the same review, by anyone: a 409 that says it was answered (not a 404).
    for (const sub of [SUB, THIRD_SUB]) {
      const again = await submit(p.placed.recordId, { className: 'mild' }, { requestContext: claims(sub) });
      expect(again.statusCode).toBe(409);
      expect(json(again)).toEqual({ code: 'already-answered', message: expect.stringMatching(/answered already.*not saved/) });
    }
    expect(tasks.successes).toHaveLength(1);
  });

  test('a review that timed out (TaskTimedOut / TaskDoesNotExist) is a 409; its stale item is dropped', async () => {
    for (const [p, set] of [[pending[2], tasks.timedOut], [pending[3], tasks.gone]] as const) {
      set.add(p.token);
      const res = await submit(p.placed.recordId, { className: 'mild' });
      expect(res.statusCode).toBe(409);
      expect(json(res)).toEqual({ code: 'review-closed', message: expect.stringMatching(/no longer open/) });
      expect(await reviewItemExists(p.placed.recordId)).toBe(false);
    }
  });

  test('an unknown record is a 404', async () => {
    const res = await submit('rec-000000000000000000000000', { className: 'mild' });
    expect(res.statusCode).toBe(404);
    expect(json(res)).toEqual({ code: 'not-found', message: 'no pending review for this record' });
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
    for (const requestContext of [{}, { authorizer: { claims: { 'sub': '../bad sub', 'cognito:groups': 'reviewers' } }, identity: {} }, undefined]) {
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
    const [p] = await seed(1);
    pending.push(p);
    const { result, output } = await captureOutput(() => submit(p.placed.recordId, { className: 'mild' }));
    tasks.failWith = undefined;
    expect(result.statusCode).toBe(500);
    expect(json(result)).toEqual({ code: 'internal-error', message: 'the request failed; try again later' });
    expect(output).toContain('ThrottlingException');
    expect(output).not.toContain('secret-token');
    expect(await reviewItemExists(p.placed.recordId)).toBe(true);
    // The answer did not reach the state machine: the reviewer may send it again.
    expect((await submit(p.placed.recordId, { className: 'mild' })).statusCode).toBe(200);
  });

  test('ALLOWED_ORIGINS must be a JSON array of strings', () => {
    expect(readAllowedOrigins(undefined)).toEqual([]);
    expect(readAllowedOrigins('["https://a"]')).toEqual(['https://a']);
    expect(() => readAllowedOrigins('https://a')).toThrow(/JSON array/);
    expect(() => readAllowedOrigins('[1]')).toThrow(/JSON array/);
  });
});

describe('reviewers only (authentication is not authorization)', () => {
  /** Claims of signed-in users who are no reviewers: an uploader (patient) and near misses. */
  const notReviewers: Array<[string, unknown]> = [
    ['an uploader without groups', null],
    ['an uploader in the patients group', 'patients'],
    ['a group whose name contains the reviewer group', 'reviewers-trainees'],
    ['another case', 'Reviewers'],
    ['an HTTP API style list without the group', '[patients uploaders]'],
    ['an empty claim', ''],
    ['a list of other groups', ['patients']],
  ];
  const routes: Array<[string, (over: Record<string, unknown>) => Promise<APIGatewayProxyResult>]> = [
    ['GET /reviews', (over) => list(null, over)],
    ['GET /reviews?limit=1', (over) => list({ limit: '1' }, over)],
    ['POST /reviews/{recordId}', (over) => submit(pending[1].placed.recordId, { className: 'severe' }, over)],
  ];

  test.each(routes)('%s: every token without the reviewer group gets 403 and no record data, and nothing changes', async (_, call) => {
    const answers = tasks.successes.length;
    for (const [, groups] of notReviewers) {
      const { result: res, output } = await captureOutput(() => call({ requestContext: claims(UPLOADER_SUB, groups) }));
      expect([groups, res.statusCode]).toEqual([groups, 403]);
      expect(json(res)).toEqual({ code: 'forbidden', message: 'only reviewers may use the review API' });
      for (const p of pending) expect(res.body).not.toContain(p.placed.recordId);
      expect(output).toContain('not-a-reviewer');
      expect(output).not.toContain(UPLOADER_SUB);
    }
    expect(tasks.successes).toHaveLength(answers);
    expect(await reviewItemExists(pending[1].placed.recordId)).toBe(true);
  });

  test('a reviewer\'s token works on both routes, whatever encoding the groups claim has', async () => {
    for (const groups of ['reviewers', 'patients,reviewers', '[patients reviewers]', ['reviewers']]) {
      const res = await list(null, { requestContext: claims(SUB, groups) });
      expect([groups, res.statusCode]).toEqual([groups, 200]);
      expect(json(res).items.map((i: any) => i.recordId)).toContain(pending[1].placed.recordId);
    }
    const res = await submit(pending[1].placed.recordId, { className: 'severe' }, { requestContext: claims(SECOND_SUB, 'patients,reviewers') });
    expect(res.statusCode).toBe(200);
    expect(lastAnswer().reviewer).toBe(await pseudonymOf({ kind: 'cognito-sub', value: SECOND_SUB }));
  });

  test('with Cognito reviewers, an IAM caller (no token) is no reviewer', async () => {
    expect((await list(null, { requestContext: iamCaller('hearing-reviewer', 'alice') })).statusCode).toBe(403);
  });

  test('with IAM reviewers, the caller\'s role decides (never its session name); a reviewer is keyed on the role', async () => {
    const iamApi = makeApi({ access: { kind: 'iam-roles', roleArns: [REVIEWER_ROLE] } });
    const [p] = await seed(1);
    expect((await list(null, { requestContext: iamCaller('hearing-reviewer', 'alice') }, iamApi)).statusCode).toBe(200);
    for (const requestContext of [
      iamCaller('patient-app', 'hearing-reviewer'),
      iamCaller('hearing-reviewer', 'alice', '210987654321'),
      { identity: { userArn: 'arn:aws:iam::123456789012:user/hearing-reviewer' } },
      claims(SUB),
    ]) {
      const res = await submit(p.placed.recordId, { className: 'mild' }, { requestContext }, iamApi);
      expect(res.statusCode).toBe(403);
    }
    const res = await submit(p.placed.recordId, { className: 'mild' }, { requestContext: iamCaller('hearing-reviewer', 'alice') }, iamApi);
    expect(res.statusCode).toBe(200);
    const answer = lastAnswer();
    expect(answer.reviewer).toBe(await pseudonymOf({ kind: 'iam-principal', value: 'AROAEXAMPLE16ROLEID' }));
    expect(tasks.successes[tasks.successes.length - 1].output).not.toMatch(/alice|hearing-reviewer|arn:/);
  });
});

describe('one answer per reviewer and record, across attempts', () => {
  test('a reviewer whose answer came too late cannot answer the requeued review; another reviewer can', async () => {
    const [p] = await seed(1);
    tasks.timedOut.add(p.token);
    expect((await submit(p.placed.recordId, { className: 'mild' })).statusCode).toBe(409);
    await requeue(p);
    // The same reviewer: not listed, and refused.
    expect(json(await list({ limit: '100' })).items.map((i: any) => i.recordId)).not.toContain(p.placed.recordId);
    const again = await submit(p.placed.recordId, { className: 'severe' });
    expect(again.statusCode).toBe(409);
    expect(json(again)).toEqual({ code: 'answered-by-you', message: expect.stringMatching(/answered this record already/) });
    // Another reviewer sees it and answers it.
    const other = { requestContext: claims(THIRD_SUB) };
    expect(json(await list({ limit: '100' }, other)).items.map((i: any) => i.recordId)).toContain(p.placed.recordId);
    const before = tasks.successes.length;
    expect((await submit(p.placed.recordId, { className: 'severe' }, other)).statusCode).toBe(200);
    expect(tasks.successes).toHaveLength(before + 1);
    expect(lastAnswer()).toMatchObject({ className: 'severe', reviewer: await pseudonymOf({ kind: 'cognito-sub', value: THIRD_SUB }) });
  });
});

describe('four eyes on the quality-control sample', () => {
  test('a quality-sample record needs the same answer from two different reviewers; other records need one', async () => {
    const fourEyes = makeApi({ fourEyesQualitySample: true });
    const [sample] = await seed(1, ['quality-sample']);
    const [unsure] = await seed(1, ['low-confidence']);
    const as = (sub: string) => ({ requestContext: claims(sub) });
    const before = tasks.successes.length;

    const first = await submit(sample.placed.recordId, { className: 'moderate' }, as(SUB), fourEyes);
    expect(first.statusCode).toBe(202);
    expect(json(first)).toEqual({
      recordId: sample.placed.recordId, className: 'moderate', status: 'awaiting-second-reviewer', code: 'awaiting-second-reviewer', message: expect.any(String),
    });
    expect(tasks.successes).toHaveLength(before);
    expect(await reviewItemExists(sample.placed.recordId)).toBe(true);
    // The first reviewer can neither answer again nor see it; a second, disagreeing answer decides nothing.
    const repeat = await submit(sample.placed.recordId, { className: 'moderate' }, as(SUB), fourEyes);
    expect(repeat.statusCode).toBe(409);
    expect(json(repeat).code).toBe('answered-by-you');
    expect(json(await list({ limit: '100' }, as(SUB), fourEyes)).items.map((i: any) => i.recordId)).not.toContain(sample.placed.recordId);
    // A disagreeing second answer: recorded, with its own code (a further reviewer decides).
    const disagreeing = await submit(sample.placed.recordId, { className: 'mild' }, as(SECOND_SUB), fourEyes);
    expect(disagreeing.statusCode).toBe(202);
    expect(json(disagreeing)).toMatchObject({ status: 'awaiting-second-reviewer', code: 'four-eyes-disagreement', message: expect.stringMatching(/different class/) });
    expect(tasks.successes).toHaveLength(before);
    // A third reviewer agrees with the first: decided, by both.
    expect((await submit(sample.placed.recordId, { className: 'moderate' }, as(THIRD_SUB), fourEyes)).statusCode).toBe(200);
    expect(tasks.successes).toHaveLength(before + 1);
    const [a, c] = await Promise.all([SUB, THIRD_SUB].map((value) => pseudonymOf({ kind: 'cognito-sub', value })));
    expect(lastAnswer()).toEqual({ recordId: sample.placed.recordId, className: 'moderate', reviewer: c, reviewers: [a, c], votes: sample.input.votes });
    expect(await reviewItemExists(sample.placed.recordId)).toBe(false);

    expect((await submit(unsure.placed.recordId, { className: 'mild' }, as(SUB), fourEyes)).statusCode).toBe(200);
    expect(lastAnswer().reviewers).toHaveLength(1);
  });

  test('total counts every pending review, also those the caller answered (hidden from them)', async () => {
    const fourEyes = makeApi({ fourEyesQualitySample: true });
    const before = json(await list({ limit: '100' }, {}, fourEyes)).total;
    const [sample] = await seed(1, ['quality-sample']);
    expect((await submit(sample.placed.recordId, { className: 'mild' }, {}, fourEyes)).statusCode).toBe(202);
    const body = json(await list({ limit: '100' }, {}, fourEyes));
    expect(body.total).toBe(before + 1);
    expect(body.items.map((i: any) => i.recordId)).not.toContain(sample.placed.recordId);
    // Close it so that the other tests see the queue they seeded.
    expect((await submit(sample.placed.recordId, { className: 'mild' }, { requestContext: claims(SECOND_SUB) }, fourEyes)).statusCode).toBe(200);
  });
});

describe('per-reviewer request limits', () => {
  test('beyond the limit of a window: 429 with Retry-After, for that reviewer only; the next window starts afresh', async () => {
    let clock = Date.parse('2026-03-02T10:00:00Z');
    const limited = makeApi({ maxRequestsPerWindow: 3, windowSeconds: 600 }, { now: () => clock });
    const as = (sub: string) => ({ requestContext: claims(sub) });
    for (let i = 0; i < 3; i++) expect((await list(null, as(SUB), limited)).statusCode).toBe(200);
    clock += 120_000;
    const refused = await list(null, as(SUB), limited);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers).toMatchObject({ 'Retry-After': '480', 'Cache-Control': 'no-store' });
    expect(json(refused).message).toBe('too many requests; at most 3 per 600 seconds per reviewer');
    expect((await submit(pending[4].placed.recordId, { className: 'mild' }, as(SUB), limited)).statusCode).toBe(429);
    expect((await list(null, as(SECOND_SUB), limited)).statusCode).toBe(200);
    clock += 480_000;
    expect((await list(null, as(SUB), limited)).statusCode).toBe(200);
    // The counter is keyed by the pseudonym and expires with its window.
    const reviewer = await pseudonymOf({ kind: 'cognito-sub', value: SUB });
    const item = await lake.ddb.send(new GetItemCommand({
      TableName: lake.table, Key: { pk: { S: LEDGER.reviewerPk(reviewer) }, sk: { S: LEDGER.windowSk(Date.parse('2026-03-02T10:00:00Z') / 1000) } }, ConsistentRead: true,
    }));
    expect(fromItem(item.Item!)).toMatchObject({ requests: 3, expiresAt: Date.parse('2026-03-02T10:10:00Z') / 1000 });
  });
});

test('no reviewer identity in clear: the ledger and every task output hold pseudonyms only', async () => {
  const items = [];
  let start: Record<string, any> | undefined;
  do {
    const res = await lake.ddb.send(new ScanCommand({ TableName: lake.table, ExclusiveStartKey: start }));
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  const everything = JSON.stringify(items) + tasks.successes.map((s) => s.output).join('\n');
  expect(items.some((i) => i.pk.S!.startsWith('answer#'))).toBe(true);
  for (const raw of [SUB, SECOND_SUB, THIRD_SUB, UPLOADER_SUB, 'alice', 'hearing-reviewer']) expect([raw, everything.includes(raw)]).toEqual([raw, false]);
  for (const s of tasks.successes) {
    const a: ReviewAnswer = JSON.parse(s.output);
    expect([a.reviewer, ...(a.reviewers ?? [])].every((r) => REVIEWER_PSEUDONYM.test(r))).toBe(true);
  }
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
      expect([400, 403, 404, 405, 409, 500].includes(res.statusCode) || res.statusCode === 200).toBe(true);
      expect(() => JSON.parse(res.body)).not.toThrow();
    }), { numRuns: 200 });
    expect(runs).toBe(200);
  });

  test('who is a reviewer: exactly the members of the group, in any claim encoding; roles by role, never by session', () => {
    const access = { kind: 'cognito-group', group: 'reviewers' } as const;
    const name = fc.stringMatching(/^[A-Za-z0-9_.@+=-]{1,20}$/);
    fc.assert(fc.property(fc.array(name, { maxLength: 6 }), fc.constantFrom('comma', 'bracket', 'array'), (groups, encoding) => {
      const claim = encoding === 'array' ? groups : encoding === 'comma' ? groups.join(',') : `[${groups.join(' ')}]`;
      expect(groupsOf(claim)).toEqual(groups);
      expect(isReviewer(access, { sub: SUB, groups: claim })).toBe(groups.includes('reviewers'));
      expect(isReviewer(access, { groups: claim })).toBe(false);
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.anything(), (claim) => {
      const r = isReviewer(access, { sub: SUB, groups: claim });
      expect(r).toBe(groupsOf(claim).includes('reviewers'));
    }), { numRuns: 500 });
    const roles = { kind: 'iam-roles', roleArns: [REVIEWER_ROLE] } as const;
    fc.assert(fc.property(fc.stringMatching(/^[\x21-\x7e]{1,64}$/), (session) => {
      expect(isReviewer(roles, { userArn: `arn:aws:sts::123456789012:assumed-role/hearing-reviewer/${session}` })).toBe(true);
      expect(roleKey(`arn:aws:sts::123456789012:assumed-role/${session.replace(/[^\w+=,.@-]/g, '')}x/hearing-reviewer`)).not.toBe(roleKey(REVIEWER_ROLE));
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
      expect(isReviewer(roles, { userArn: s })).toBe(roleKey(s) === 'aws:123456789012:hearing-reviewer');
    }), { numRuns: 500 });
  });

  test('REVIEW_API_SETTINGS: anything but a valid document is a clear init error, never a default', () => {
    expect(parseReviewApiSettings(JSON.stringify(COGNITO))).toEqual(COGNITO);
    const iam = { ...COGNITO, access: { kind: 'iam-roles', roleArns: [REVIEWER_ROLE] } };
    expect(parseReviewApiSettings(JSON.stringify(iam))).toEqual(iam);
    for (const bad of [undefined, '', '{}', '[]', JSON.stringify({ ...COGNITO, access: { kind: 'cognito-group', group: 'a,b' } }),
      JSON.stringify({ ...COGNITO, access: { kind: 'iam-roles', roleArns: [] } }), JSON.stringify({ ...COGNITO, maxRequestsPerWindow: 0 })]) {
      expect(() => parseReviewApiSettings(bad)).toThrow(/^REVIEW_API_SETTINGS: /);
    }
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
      try {
        const s = parseReviewApiSettings(JSON.stringify(v));
        expect(s.access.kind === 'cognito-group' || s.access.kind === 'iam-roles').toBe(true);
      } catch (e) {
        expect((e as Error).message).toMatch(/^REVIEW_API_SETTINGS: /);
      }
    }), { numRuns: 500 });
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
    env: {
      LEDGER_TABLE: 't',
      METRICS_NAMESPACE: 'ns',
      HMAC_KEY_ID: 'k',
      ALLOWED_ORIGINS: JSON.stringify([ORIGIN]),
      REVIEW_API_SETTINGS: JSON.stringify(COGNITO),
      PIPELINE_CONFIG_FILE: writeConfigFile(),
    },
  });
  // client-eventbridge comes with pipeline-io.ts (readEnv / loadPipelineConfig live beside putEvents).
  expect(result.externals).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-eventbridge', '@aws-sdk/client-kms', '@aws-sdk/client-sfn']);
});
