/**
 * The review API (API Gateway REST proxy; an authorizer in front):
 * - `GET /reviews?limit=N&nextToken=T`: pending reviews (record id, reasons, proposal, votes,
 *   attempt, requestedAt and the clean, pseudonymized record) that the caller has not answered,
 *   never a task token; with the label task's `classes`, and on the first page (no nextToken)
 *   the queue's `total` (pending reviews of every reviewer; `totalComplete: false` when counting
 *   stopped after MAX_COUNT_PAGES reads and `total` is a lower bound);
 * - `POST /reviews/{recordId}` `{"className": …}`: the reviewer's answer. Once enough reviewers
 *   agree (one; two different ones for a quality-sample record under four-eyes), it goes to the
 *   waiting state machine with SendTaskSuccess (`ReviewAnswer`) and the pending item is deleted.
 *
 * Every answer other than a 200 carries a machine-readable `code` (REVIEW_API_CODES) beside its
 * `message`: a record answered elsewhere is a 409 `already-answered` (never a 404), an answer of
 * the caller's own again a 409 `answered-by-you`, a review that expired meanwhile a 409
 * `review-closed`; under four-eyes, a 202 `awaiting-second-reviewer` or, when the reviewers so
 * far disagree, a 202 `four-eyes-disagreement` (recorded; a further reviewer decides).
 *
 * Authentication is not authorization: every request first proves the caller is a reviewer (the
 * reviewer group of a Cognito token, or a reviewer role of an IAM caller); anyone else gets 403
 * before any record is read. The reviewer then becomes a keyed pseudonym (KMS GenerateMac,
 * HMAC-SHA-256 with the lake's pseudonymization key, `private/runtime/caller-identity.ts`) before
 * any other use: the ledger, the answer, the label and its manifests only ever see the pseudonym.
 * Each reviewer has a request limit per window (a counter in the ledger; 429 beyond it), and
 * answers a record at most once across all attempts of its review.
 *
 * Every answer is JSON with `Cache-Control: no-store`. Client errors are 4xx with a message that
 * never echoes a received value; an unexpected fault is a 500 with a fixed message. Logs carry
 * outcomes, codes, known record ids and error names only, never a caller's identity.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  BatchGetItemCommand, ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ENV, LEDGER, PipelineConfig, ReviewAnswer, ReviewAnswerItem, ReviewItem } from './contract';
import {
  decideReview, decodeNextToken, encodeNextToken, isReviewer, parseLimit, parseRecordId, parseReviewAnswer, RecordedAnswer, requestWindow,
  ReviewApiSettings,
} from './logic/review-request';
import { callerIdentity, callerPseudonyms } from '../../private/runtime/caller-identity';
import { fromItem, toItem } from '../../private/runtime/dynamodb-codec';
import { createMetrics, metricRecorder } from '../../private/runtime/metrics';
import { errorName } from '../../private/runtime/sdk-errors';

/** Environment variables of the review API handler (ALLOWED_ORIGINS is optional; the entry reads REVIEW_API_SETTINGS). */
export const REVIEW_API_ENV = ['LEDGER_TABLE', 'METRICS_NAMESPACE', 'HMAC_KEY_ID'] as const satisfies ReadonlyArray<keyof typeof ENV>;

/** What the review API handler is built from. */
export interface ReviewApiDeps {
  readonly ddb: DynamoDBClient;
  readonly sfn: SFNClient;
  /** GenerateMac with `env.HMAC_KEY_ID` (the reviewers' pseudonyms). */
  readonly kms: KMSClient;
  readonly env: Readonly<Record<typeof REVIEW_API_ENV[number], string>>;
  /** Who may review and how often (`REVIEW_API_SETTINGS`, parsed with `parseReviewApiSettings`). */
  readonly settings: ReviewApiSettings;
  /** Origins that get CORS headers. @default [] */
  readonly allowedOrigins?: readonly string[];
  readonly config: PipelineConfig;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Reviewers whose pseudonym is kept per execution environment. @default 1024 */
  readonly pseudonymCacheSize?: number;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly writeMetrics?: (line: string) => void;
}

/** Metric names of the review API (one EMF line per request). */
export const REVIEW_API_METRICS = {
  listed: 'ReviewListRequests',
  answered: 'ReviewAnswers',
  awaitingSecond: 'ReviewAnswersAwaitingSecondReviewer',
  expired: 'ReviewAnswersTooLate',
  refused: 'ReviewClientErrors',
  forbidden: 'ReviewRequestsForbidden',
  throttled: 'ReviewRequestsThrottled',
  faults: 'ReviewServerErrors',
} as const;

/**
 * The `code` of every answer but a 200 (added in a backward-compatible way: `message` and the
 * status codes are as before, except that answering a record whose review another reviewer
 * closed is a 409 `already-answered` where it was a 404).
 */
export const REVIEW_API_CODES = {
  invalidRequest: 'invalid-request',
  forbidden: 'forbidden',
  notFound: 'not-found',
  noSuchRoute: 'no-such-route',
  methodNotAllowed: 'method-not-allowed',
  alreadyAnswered: 'already-answered',
  answeredByYou: 'answered-by-you',
  reviewClosed: 'review-closed',
  awaitingSecondReviewer: 'awaiting-second-reviewer',
  fourEyesDisagreement: 'four-eyes-disagreement',
  throttled: 'throttled',
  internalError: 'internal-error',
} as const;
const CODE = REVIEW_API_CODES;

/** Largest number of Query pages (1 MB each) read to count the queue for `total`. */
export const MAX_COUNT_PAGES = 20;

/** Largest response body (characters) a list page may grow to; API Gateway / Lambda allow 6 MB. */
export const MAX_PAGE_CHARS = 4_000_000;

/** Attributes of a review item the list reads (never `taskToken`). */
const LISTED = ['recordId', 'reasons', 'proposal', 'votes', 'attempt', 'requestedAt', 'recordJson'];

/** The SendTaskSuccess errors that mean the waiting task is gone (timed out and re-queued, or done). */
const TASK_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** The review reason for which a four-eyes review needs a second reviewer. */
const FOUR_EYES_REASON = 'quality-sample';

/** `ALLOWED_ORIGINS` (a JSON array of strings; absent: none). Throws at init when it is not one. */
export function readAllowedOrigins(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((o) => typeof o === 'string')) throw new Error(`${ENV.ALLOWED_ORIGINS} must be a JSON array of origin strings`);
  return parsed;
}

/** A pending review as the API lists it. */
export interface ReviewListItem {
  readonly recordId: string;
  readonly reasons: ReviewItem['reasons'];
  readonly proposal?: ReviewItem['proposal'];
  readonly votes: ReviewItem['votes'];
  readonly attempt: number;
  readonly requestedAt: string;
  readonly record: unknown;
}

/** Build the handler. */
export function createReviewApiHandler(deps: ReviewApiDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const { ddb, sfn, env, config, settings } = deps;
  const now = deps.now ?? Date.now;
  const allowedOrigins = new Set(deps.allowedOrigins ?? []);
  const logger = deps.logger ?? new Logger({ serviceName: `${config.pipelineName}-review-api` });
  // The recorder itself (not pipeline-io's metricWriter): this module loads no EventBridge client.
  const emit = metricRecorder(createMetrics(env.METRICS_NAMESPACE, config.pipelineName),
    Object.values(REVIEW_API_METRICS).map((name) => ({ name, unit: 'Count' as const })), deps.writeMetrics);
  const classes = config.task.classes;
  const pseudonyms = callerPseudonyms(async (message) => {
    const res = await deps.kms.send(new GenerateMacCommand({ KeyId: env.HMAC_KEY_ID, MacAlgorithm: 'HMAC_SHA_256', Message: message }));
    if (!res.Mac) throw new Error('GenerateMac returned no MAC');
    return res.Mac;
  }, deps.pseudonymCacheSize);

  type Metric = keyof typeof REVIEW_API_METRICS;
  const count = (m: Metric) => emit(Object.keys(REVIEW_API_METRICS).map((k) => (k === m ? 1 : 0)));

  /**
   * Count a request of the reviewer in the current window; false when the limit is reached (the
   * count then stays at the limit). The item expires (TTL) at the end of the window.
   */
  const withinLimit = async (reviewer: string): Promise<{ ok: boolean; retryAfter: number }> => {
    const nowMs = now();
    const window = requestWindow(nowMs, settings.windowSeconds);
    const retryAfter = Math.max(1, window.end - Math.floor(nowMs / 1000));
    try {
      await ddb.send(new UpdateItemCommand({
        TableName: env.LEDGER_TABLE,
        Key: { pk: { S: LEDGER.reviewerPk(reviewer) }, sk: { S: LEDGER.windowSk(window.start) } },
        UpdateExpression: 'ADD #n :one SET #exp = :exp',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
        ExpressionAttributeNames: { '#n': 'requests', '#exp': LEDGER.ttlAttribute },
        ExpressionAttributeValues: { ':one': { N: '1' }, ':limit': { N: String(settings.maxRequestsPerWindow) }, ':exp': { N: String(window.end) } },
      }));
      return { ok: true, retryAfter };
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || errorName(e) === 'ConditionalCheckFailedException') return { ok: false, retryAfter };
      throw e;
    }
  };

  /** The records of `recordIds` the reviewer has answered already (one BatchGetItem). */
  const answeredBy = async (reviewer: string, recordIds: readonly string[]): Promise<Set<string>> => {
    const answered = new Set<string>();
    let keys = recordIds.map((id) => ({ pk: { S: LEDGER.answerPk(id) }, sk: { S: reviewer } }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt === 4) throw new Error('BatchGetItem left keys unprocessed');
      const res = await ddb.send(new BatchGetItemCommand({
        RequestItems: { [env.LEDGER_TABLE]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'recordId' } },
      }));
      for (const item of res.Responses?.[env.LEDGER_TABLE] ?? []) {
        const id = item.recordId?.S;
        if (id) answered.add(id);
      }
      keys = (res.UnprocessedKeys?.[env.LEDGER_TABLE]?.Keys ?? []) as typeof keys;
    }
    return answered;
  };

  /** Pending reviews of every reviewer (Select COUNT; at most MAX_COUNT_PAGES reads). */
  const countQueue = async (): Promise<{ total: number; complete: boolean }> => {
    let total = 0;
    let start: Record<string, any> | undefined;
    for (let page = 0; page < MAX_COUNT_PAGES; page++) {
      const res = await ddb.send(new QueryCommand({
        TableName: env.LEDGER_TABLE,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': { S: LEDGER.reviewPk } },
        Select: 'COUNT',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }));
      total += res.Count ?? 0;
      start = res.LastEvaluatedKey;
      if (!start) return { total, complete: true };
    }
    return { total, complete: false };
  };

  /** Whether any reviewer answered the record (its review was closed by someone's answer). */
  const answeredByAnyone = async (recordId: string): Promise<boolean> => {
    const res = await ddb.send(new QueryCommand({
      TableName: env.LEDGER_TABLE,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': { S: LEDGER.answerPk(recordId) } },
      Select: 'COUNT',
      Limit: 1,
      ConsistentRead: true,
    }));
    return (res.Count ?? 0) > 0;
  };

  const list = async (event: APIGatewayProxyEvent, reviewer: string, respond: Respond): Promise<APIGatewayProxyResult> => {
    const q = event.queryStringParameters ?? {};
    const unknown = Object.keys(q).filter((k) => k !== 'limit' && k !== 'nextToken');
    if (unknown.length) return respond(400, { code: CODE.invalidRequest, message: 'unknown query parameter(s); allowed: limit, nextToken' }, 'refused');
    const limit = parseLimit(q.limit);
    if (!limit.ok) return respond(400, { code: CODE.invalidRequest, message: limit.message }, 'refused');
    const after = decodeNextToken(q.nextToken);
    if (!after.ok) return respond(400, { code: CODE.invalidRequest, message: after.message }, 'refused');

    const res = await ddb.send(new QueryCommand({
      TableName: env.LEDGER_TABLE,
      KeyConditionExpression: '#pk = :pk',
      // The task token never leaves the table through this API.
      ProjectionExpression: LISTED.map((a) => `#${a}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(['pk', ...LISTED].map((a) => [`#${a}`, a])),
      ExpressionAttributeValues: { ':pk': { S: LEDGER.reviewPk } },
      Limit: limit.value,
      ...(after.value ? { ExclusiveStartKey: { pk: { S: LEDGER.reviewPk }, sk: { S: after.value } } } : {}),
    }));
    const found = (res.Items ?? []).map((raw) => fromItem(raw) as unknown as ReviewItem);
    // A record the caller answered already is not theirs to review again (four-eyes, or a
    // review that was queued again after their answer came too late).
    const answered = found.length ? await answeredBy(reviewer, found.map((it) => it.recordId)) : new Set<string>();
    const items: ReviewListItem[] = [];
    let size = 0;
    let truncated = false;
    let last: string | undefined;
    for (const it of found) {
      if (answered.has(it.recordId)) {
        last = it.recordId;
        continue;
      }
      let record: unknown = null;
      try {
        record = JSON.parse(it.recordJson);
      } catch {
        record = null;
      }
      const out: ReviewListItem = {
        recordId: it.recordId,
        reasons: it.reasons ?? [],
        ...(it.proposal ? { proposal: it.proposal } : {}),
        votes: it.votes ?? [],
        attempt: it.attempt,
        requestedAt: it.requestedAt,
        record,
      };
      const chars = JSON.stringify(out).length;
      if (items.length > 0 && size + chars > MAX_PAGE_CHARS) {
        truncated = true;
        break;
      }
      size += chars;
      items.push(out);
      last = it.recordId;
    }
    const more = truncated || res.LastEvaluatedKey !== undefined;
    const nextToken = more && last ? encodeNextToken(last) : undefined;
    // The queue's size, on the first page only (a COUNT reads every pending item's size).
    const counted = after.value === undefined ? await countQueue() : undefined;
    logger.info('reviews listed', { count: items.length, more, hidden: answered.size, total: counted?.total });
    return respond(200, {
      items,
      ...(nextToken ? { nextToken } : {}),
      classes,
      ...(counted ? { total: counted.total, totalComplete: counted.complete } : {}),
    }, 'listed');
  };

  const answer = async (event: APIGatewayProxyEvent, reviewer: string, respond: Respond): Promise<APIGatewayProxyResult> => {
    const id = parseRecordId(event.pathParameters?.recordId);
    if (!id.ok) return respond(400, { code: CODE.invalidRequest, message: id.message }, 'refused');
    if (event.queryStringParameters && Object.keys(event.queryStringParameters).length) {
      return respond(400, { code: CODE.invalidRequest, message: 'this route takes no query parameters' }, 'refused');
    }
    const body = parseReviewAnswer(event.body, event.isBase64Encoded, classes);
    if (!body.ok) return respond(400, { code: CODE.invalidRequest, message: body.message }, 'refused');
    const recordId = id.value;
    const className = body.value.className;

    const got = await ddb.send(new GetItemCommand({
      TableName: env.LEDGER_TABLE,
      Key: { pk: { S: LEDGER.reviewPk }, sk: { S: recordId } },
      ConsistentRead: true,
    }));
    if (!got.Item) {
      // Answered and closed (by this reviewer or another) is a conflict the client must show;
      // a record nobody ever answered is simply not pending.
      if (await answeredByAnyone(recordId)) {
        logger.info('review answer refused', { recordId, reason: 'already-answered' });
        return respond(409, { code: CODE.alreadyAnswered, message: 'this record was answered already and its review is closed; your answer was not saved' }, 'refused');
      }
      return respond(404, { code: CODE.notFound, message: 'no pending review for this record' }, 'refused');
    }
    const item = fromItem(got.Item) as unknown as ReviewItem;

    // One answer per reviewer and record, across every attempt of the review.
    const mine: ReviewAnswerItem = {
      pk: LEDGER.answerPk(recordId),
      sk: reviewer,
      recordId,
      reviewer,
      className,
      attempt: item.attempt,
      answeredAt: new Date(now()).toISOString(),
    };
    try {
      await ddb.send(new PutItemCommand({
        TableName: env.LEDGER_TABLE,
        Item: toItem(mine as unknown as Record<string, unknown>),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
      }));
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException) && errorName(e) !== 'ConditionalCheckFailedException') throw e;
      logger.info('review answer refused', { recordId, reason: 'answered-by-you' });
      return respond(409, { code: CODE.answeredByYou, message: 'you have answered this record already; another reviewer must answer it' }, 'refused');
    }

    const required = settings.fourEyesQualitySample && (item.reasons ?? []).includes(FOUR_EYES_REASON) ? 2 : 1;
    let decision = { decided: true, reviewers: [reviewer] };
    if (required > 1) {
      const res = await ddb.send(new QueryCommand({
        TableName: env.LEDGER_TABLE,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': { S: LEDGER.answerPk(recordId) } },
        ConsistentRead: true,
      }));
      const answers = (res.Items ?? []).map((raw) => fromItem(raw) as unknown as RecordedAnswer);
      decision = decideReview(answers, { reviewer, className }, required);
      if (!decision.decided) {
        // Others answered with another class: a four-eyes disagreement (still recorded; the
        // review stays open until two reviewers agree).
        const disagreement = decision.reviewers.length === 1 && answers.some((a) => a.reviewer !== reviewer);
        logger.info('review answer recorded; a second reviewer must agree', { recordId, attempt: item.attempt, disagreement });
        return respond(202, {
          recordId,
          className,
          status: 'awaiting-second-reviewer',
          code: disagreement ? CODE.fourEyesDisagreement : CODE.awaitingSecondReviewer,
          message: disagreement
            ? 'your answer is recorded, but another reviewer chose a different class; a further reviewer decides'
            : 'your answer is recorded; a second reviewer must give the same class',
        }, 'awaitingSecond');
      }
    }

    const output: ReviewAnswer = { recordId, className, reviewer, reviewers: decision.reviewers, votes: item.votes ?? [] };
    const deleteItem = async () => {
      try {
        await ddb.send(new DeleteItemCommand({
          TableName: env.LEDGER_TABLE,
          Key: { pk: { S: LEDGER.reviewPk }, sk: { S: recordId } },
          ConditionExpression: '#t = :t',
          ExpressionAttributeNames: { '#t': 'taskToken' },
          ExpressionAttributeValues: { ':t': { S: item.taskToken } },
        }));
      } catch (e) {
        // A newer attempt's item (another token) stays.
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      }
    };
    try {
      await sfn.send(new SendTaskSuccessCommand({ taskToken: item.taskToken, output: JSON.stringify(output) }));
    } catch (e) {
      if (!TASK_GONE.has(errorName(e))) {
        // Not delivered (a fault; the client is told to try again): the answer does not count yet.
        await ddb.send(new DeleteItemCommand({ TableName: env.LEDGER_TABLE, Key: { pk: { S: mine.pk }, sk: { S: mine.sk } } }));
        throw e;
      }
      await deleteItem();
      logger.info('review answer too late', { recordId, error: errorName(e) });
      return respond(409, { code: CODE.reviewClosed, message: 'this review is no longer open (it expired and was queued again, or was answered); list the reviews again' }, 'expired');
    }
    await deleteItem();
    logger.info('review answered', { recordId, attempt: item.attempt, reviewers: decision.reviewers.length });
    return respond(200, { recordId, className, status: 'accepted' }, 'answered');
  };

  return async (event) => {
    const headers = isObject(event?.headers) ? event.headers : {};
    const origin = headers.origin ?? headers.Origin;
    const respond: Respond = (statusCode, body, metric, extraHeaders = {}) => {
      count(metric);
      return {
        statusCode,
        headers: {
          'Content-Type': 'application/json',
          'Cache-Control': 'no-store',
          ...(typeof origin === 'string' && allowedOrigins.has(origin) ? { 'Access-Control-Allow-Origin': origin, 'Vary': 'Origin' } : {}),
          ...extraHeaders,
        },
        body: JSON.stringify(body),
      };
    };
    try {
      const context: Record<string, any> = isObject(event?.requestContext) ? event.requestContext : {};
      const claims: Record<string, unknown> = isObject(context.authorizer) && isObject(context.authorizer.claims) ? context.authorizer.claims : {};
      const identityContext: Record<string, unknown> = isObject(context.identity) ? context.identity : {};
      const identity = callerIdentity({
        cognitoSub: stringOrUndefined(claims.sub),
        cognitoIdentityId: stringOrUndefined(identityContext.cognitoIdentityId),
        principalId: stringOrUndefined(identityContext.caller),
        userArn: stringOrUndefined(identityContext.userArn),
      });
      if (!identity) {
        logger.warn('review request refused', { reason: 'no-caller-identity' });
        return respond(403, { code: CODE.forbidden, message: 'the request carries no caller identity' }, 'forbidden');
      }
      // Authorization before anything else: a caller who is no reviewer learns nothing.
      if (!isReviewer(settings.access, { sub: claims.sub, groups: claims['cognito:groups'], userArn: identityContext.userArn })) {
        logger.warn('review request refused', { reason: 'not-a-reviewer' });
        return respond(403, { code: CODE.forbidden, message: 'only reviewers may use the review API' }, 'forbidden');
      }
      const reviewer = await pseudonyms(identity);
      const quota = await withinLimit(reviewer);
      if (!quota.ok) {
        logger.warn('review request refused', { reason: 'request-limit' });
        return respond(429, { code: CODE.throttled, message: `too many requests; at most ${settings.maxRequestsPerWindow} per ${settings.windowSeconds} seconds per reviewer` },
          'throttled', { 'Retry-After': String(quota.retryAfter) });
      }
      const route = routeOf(event);
      if (route === 'list' && event.httpMethod === 'GET') return await list(event, reviewer, respond);
      if (route === 'answer' && event.httpMethod === 'POST') return await answer(event, reviewer, respond);
      if (route) return respond(405, { code: CODE.methodNotAllowed, message: route === 'list' ? 'use GET on /reviews' : 'use POST on /reviews/{recordId}' }, 'refused');
      return respond(404, { code: CODE.noSuchRoute, message: 'no such route; use GET /reviews or POST /reviews/{recordId}' }, 'refused');
    } catch (e) {
      logger.error('review request failed', { error: errorName(e) });
      return respond(500, { code: CODE.internalError, message: 'the request failed; try again later' }, 'faults');
    }
  };
}

type Respond = (
  statusCode: number, body: unknown, metric: keyof typeof REVIEW_API_METRICS, headers?: Record<string, string>,
) => APIGatewayProxyResult;

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Which route an event is for, from the resource template (or the path when there is none). */
function routeOf(event: APIGatewayProxyEvent): 'list' | 'answer' | undefined {
  const resource = typeof event?.resource === 'string' ? event.resource : undefined;
  // The routes may sit under a base path of a shared API (`/labeling/reviews`).
  if (resource !== undefined) return resource.endsWith('/reviews') ? 'list' : resource.endsWith('/reviews/{recordId}') ? 'answer' : undefined;
  const path = typeof event?.path === 'string' ? event.path : '';
  if (/\/reviews\/?$/.test(path)) return 'list';
  if (/\/reviews\/[^/]+$/.test(path)) return 'answer';
  return undefined;
}
