/**
 * The review API (API Gateway REST proxy; an authorizer in front):
 * - `GET /reviews?limit=N&nextToken=T`: pending reviews (record id, reasons, proposal, votes,
 *   attempt, requestedAt and the clean, pseudonymized record), never a task token;
 * - `POST /reviews/{recordId}` `{"className": …}`: the reviewer's answer, sent to the waiting
 *   state machine with SendTaskSuccess (`ReviewAnswer`); the pending item is then deleted.
 *
 * Every answer is JSON with `Cache-Control: no-store`. Client errors are 4xx with a message that
 * never echoes a received value; an unexpected fault is a 500 with a fixed message. Logs carry
 * outcomes, codes, known record ids and error names only.
 */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ENV, LEDGER, PipelineConfig, ReviewAnswer, ReviewItem } from './contract';
import { decodeNextToken, encodeNextToken, parseLimit, parseRecordId, parseReviewAnswer } from './logic/review-request';
import { callerKeySegment } from '../../private/runtime/caller-identity';
import { fromItem } from '../../private/runtime/dynamodb-codec';
import { createMetrics, metricRecorder } from '../../private/runtime/metrics';
import { errorName } from '../../private/runtime/sdk-errors';

/** Environment variables of the review API handler (ALLOWED_ORIGINS is optional). */
export const REVIEW_API_ENV = ['LEDGER_TABLE', 'METRICS_NAMESPACE'] as const satisfies ReadonlyArray<keyof typeof ENV>;

/** What the review API handler is built from. */
export interface ReviewApiDeps {
  readonly ddb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly env: Readonly<Record<typeof REVIEW_API_ENV[number], string>>;
  /** Origins that get CORS headers. @default [] */
  readonly allowedOrigins?: readonly string[];
  readonly config: PipelineConfig;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly writeMetrics?: (line: string) => void;
}

/** Metric names of the review API (one EMF line per request). */
export const REVIEW_API_METRICS = {
  listed: 'ReviewListRequests',
  answered: 'ReviewAnswers',
  expired: 'ReviewAnswersTooLate',
  refused: 'ReviewClientErrors',
  faults: 'ReviewServerErrors',
} as const;

/** Largest response body (characters) a list page may grow to; API Gateway / Lambda allow 6 MB. */
export const MAX_PAGE_CHARS = 4_000_000;

/** Attributes of a review item the list reads (never `taskToken`). */
const LISTED = ['recordId', 'reasons', 'proposal', 'votes', 'attempt', 'requestedAt', 'recordJson'];

/** The SendTaskSuccess errors that mean the waiting task is gone (timed out and re-queued, or done). */
const TASK_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

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

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

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
  const { ddb, sfn, env, config } = deps;
  const allowedOrigins = new Set(deps.allowedOrigins ?? []);
  const logger = deps.logger ?? new Logger({ serviceName: `${config.pipelineName}-review-api` });
  // The recorder itself (not pipeline-io's metricWriter): this module loads no EventBridge client.
  const emit = metricRecorder(createMetrics(env.METRICS_NAMESPACE, config.pipelineName),
    Object.values(REVIEW_API_METRICS).map((name) => ({ name, unit: 'Count' as const })), deps.writeMetrics);
  const classes = config.task.classes;

  type Metric = keyof typeof REVIEW_API_METRICS;
  const count = (m: Metric) => emit(Object.keys(REVIEW_API_METRICS).map((k) => (k === m ? 1 : 0)));

  const list = async (event: APIGatewayProxyEvent, respond: Respond): Promise<APIGatewayProxyResult> => {
    const q = event.queryStringParameters ?? {};
    const unknown = Object.keys(q).filter((k) => k !== 'limit' && k !== 'nextToken');
    if (unknown.length) return respond(400, { message: 'unknown query parameter(s); allowed: limit, nextToken' }, 'refused');
    const limit = parseLimit(q.limit);
    if (!limit.ok) return respond(400, { message: limit.message }, 'refused');
    const after = decodeNextToken(q.nextToken);
    if (!after.ok) return respond(400, { message: after.message }, 'refused');

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
    const items: ReviewListItem[] = [];
    let size = 0;
    let truncated = false;
    for (const raw of res.Items ?? []) {
      const it = fromItem(raw) as unknown as ReviewItem;
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
    }
    const more = truncated || res.LastEvaluatedKey !== undefined;
    const nextToken = more && items.length ? encodeNextToken(items[items.length - 1].recordId) : undefined;
    logger.info('reviews listed', { count: items.length, more });
    return respond(200, { items, ...(nextToken ? { nextToken } : {}) }, 'listed');
  };

  const answer = async (event: APIGatewayProxyEvent, reviewer: string, respond: Respond): Promise<APIGatewayProxyResult> => {
    const id = parseRecordId(event.pathParameters?.recordId);
    if (!id.ok) return respond(400, { message: id.message }, 'refused');
    if (event.queryStringParameters && Object.keys(event.queryStringParameters).length) {
      return respond(400, { message: 'this route takes no query parameters' }, 'refused');
    }
    const body = parseReviewAnswer(event.body, event.isBase64Encoded, classes);
    if (!body.ok) return respond(400, { message: body.message }, 'refused');
    const recordId = id.value;

    const got = await ddb.send(new GetItemCommand({
      TableName: env.LEDGER_TABLE,
      Key: { pk: { S: LEDGER.reviewPk }, sk: { S: recordId } },
      ConsistentRead: true,
    }));
    if (!got.Item) return respond(404, { message: 'no pending review for this record' }, 'refused');
    const item = fromItem(got.Item) as unknown as ReviewItem;
    const output: ReviewAnswer = { recordId, className: body.value.className, reviewer, votes: item.votes ?? [] };
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
      if (!TASK_GONE.has(errorName(e))) throw e;
      await deleteItem();
      logger.info('review answer too late', { recordId, error: errorName(e) });
      return respond(409, { message: 'this review is no longer open (it expired and was queued again, or was answered); list the reviews again' }, 'expired');
    }
    await deleteItem();
    logger.info('review answered', { recordId, attempt: item.attempt });
    return respond(200, { recordId, className: body.value.className, status: 'accepted' }, 'answered');
  };

  return async (event) => {
    const headers = isObject(event?.headers) ? event.headers : {};
    const origin = headers.origin ?? headers.Origin;
    const respond: Respond = (statusCode, body, metric) => {
      count(metric);
      return {
        statusCode,
        headers: {
          'Content-Type': 'application/json',
          'Cache-Control': 'no-store',
          ...(typeof origin === 'string' && allowedOrigins.has(origin) ? { 'Access-Control-Allow-Origin': origin, 'Vary': 'Origin' } : {}),
        },
        body: JSON.stringify(body),
      };
    };
    try {
      const reviewer = callerKeySegment({
        cognitoSub: stringOrUndefined(event?.requestContext?.authorizer?.claims?.sub),
        cognitoIdentityId: stringOrUndefined(event?.requestContext?.identity?.cognitoIdentityId),
        userArn: stringOrUndefined(event?.requestContext?.identity?.userArn),
      }, sha256Hex);
      if (!reviewer) {
        logger.warn('review request refused', { reason: 'no-caller-identity' });
        return respond(403, { message: 'the request carries no caller identity' }, 'refused');
      }
      const route = routeOf(event);
      if (route === 'list' && event.httpMethod === 'GET') return await list(event, respond);
      if (route === 'answer' && event.httpMethod === 'POST') return await answer(event, reviewer, respond);
      if (route) return respond(405, { message: route === 'list' ? 'use GET on /reviews' : 'use POST on /reviews/{recordId}' }, 'refused');
      return respond(404, { message: 'no such route; use GET /reviews or POST /reviews/{recordId}' }, 'refused');
    } catch (e) {
      logger.error('review request failed', { error: errorName(e) });
      return respond(500, { message: 'the request failed; try again later' }, 'faults');
    }
  };
}

type Respond = (statusCode: number, body: unknown, metric: keyof typeof REVIEW_API_METRICS) => APIGatewayProxyResult;

function isObject(v: unknown): v is Record<string, unknown> {
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
