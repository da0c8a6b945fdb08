/**
 * The review-record handler, invoked by the review state machine (`ReviewRecordEvent`):
 * - `request`: put the pending `ReviewItem` with the task token (an earlier attempt's is replaced);
 * - `record`: append the human label to the curated zone (deterministic label id, written once),
 *   make it the record's current label (it replaces any label), put `Record Labelled`, and drop
 *   the pending item. The answer names its reviewers by pseudonym only (`REVIEWER_PSEUDONYM`);
 *   anything else fails the task;
 * - `expire`: drop the pending item.
 * Errors propagate: the state machine's Retry runs the task again (every step is idempotent).
 * Logs carry record ids and codes only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import { DETAIL_TYPE, ENV, KEYS, LEDGER, PipelineConfig, REVIEWER_PSEUDONYM, ReviewAnswer, ReviewItem, ReviewRecordEvent } from './contract';
import { announce, appendLabel, LABEL_ID, PendingEvent, setRecordState } from './label-ledger';
import { isObject } from './logic/json';
import { humanLabel } from './logic/labeling';
import { RECORD_ID_PATTERN } from './logic/review-request';
import { metricWriter } from './pipeline-io';
import { toItem } from '../../private/runtime/dynamodb-codec';

/** Environment variables of the review-record handler. */
export const REVIEW_RECORD_ENV = [
  'CURATED_BUCKET', 'ZONE_PREFIX', 'DATA_KEY_ARN', 'LEDGER_TABLE', 'EVENT_BUS_NAME', 'METRICS_NAMESPACE',
] as const satisfies ReadonlyArray<keyof typeof ENV>;

/** What the review-record handler is built from. */
export interface ReviewRecordDeps {
  readonly s3: S3Client;
  readonly ddb: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly env: Readonly<Record<typeof REVIEW_RECORD_ENV[number], string>>;
  readonly config: PipelineConfig;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly writeMetrics?: (line: string) => void;
}

/** Metric names of the review-record handler. */
export const REVIEW_RECORD_METRICS = {
  requested: 'ReviewsRequested',
  recorded: 'HumanLabelsRecorded',
  expired: 'ReviewsExpired',
} as const;

/** What the handler returns (the state machine may keep it in its history: ids only). */
export interface ReviewRecordResult {
  readonly action: 'request' | 'record' | 'expire';
  readonly recordId: string;
  readonly labelId?: string;
}

/** An event the state machine should never send (a definition bug): the task fails. */
export class InvalidReviewRecordEvent extends Error {
  constructor(reason: string) {
    super(`invalid review-record event: ${reason}`);
    this.name = 'InvalidReviewRecordEvent';
  }
}

/**
 * The pseudonyms of the reviewers who gave the answer (`reviewers`, else `[reviewer]`), each a
 * reviewer pseudonym, distinct, `reviewer` last. Anything else (a raw `sub`, a name, an ARN) is
 * refused: an identity in clear never reaches a label.
 */
function reviewersOf(answer: ReviewAnswer): string[] {
  const pseudonym = (v: unknown): v is string => typeof v === 'string' && REVIEWER_PSEUDONYM.test(v);
  if (!pseudonym(answer.reviewer)) throw new InvalidReviewRecordEvent('reviewer is missing or not a reviewer pseudonym');
  if (answer.reviewers === undefined) return [answer.reviewer];
  const list: unknown = answer.reviewers;
  if (!Array.isArray(list) || list.length < 1 || list.length > 2 || !list.every(pseudonym)) {
    throw new InvalidReviewRecordEvent('reviewers must be one or two reviewer pseudonyms');
  }
  if (new Set(list).size !== list.length || list[list.length - 1] !== answer.reviewer) {
    throw new InvalidReviewRecordEvent('reviewers must be distinct and end with reviewer');
  }
  return list;
}

function recordIdOf(v: unknown): string {
  if (typeof v !== 'string' || !RECORD_ID_PATTERN.test(v)) throw new InvalidReviewRecordEvent('recordId is missing or not a record id');
  return v;
}

/** Build the handler. */
export function createReviewRecordHandler(deps: ReviewRecordDeps): (event: ReviewRecordEvent) => Promise<ReviewRecordResult> {
  const { s3, ddb, events, env, config } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? new Logger({ serviceName: `${config.pipelineName}-review-record` });
  const emit = metricWriter(env.METRICS_NAMESPACE, config.pipelineName, Object.values(REVIEW_RECORD_METRICS).map((name) => ({ name, unit: 'Count' as const })), deps.writeMetrics);
  const reviewKey = (recordId: string) => ({ pk: { S: LEDGER.reviewPk }, sk: { S: recordId } });

  const request = async (e: Extract<ReviewRecordEvent, { action: 'request' }>): Promise<ReviewRecordResult> => {
    const input = e.input;
    if (!isObject(input as unknown)) throw new InvalidReviewRecordEvent('input is missing');
    const recordId = recordIdOf(input.recordId);
    if (typeof e.taskToken !== 'string' || e.taskToken.length === 0) throw new InvalidReviewRecordEvent('taskToken is missing');
    if (!Number.isSafeInteger(e.attempt) || e.attempt < 1) throw new InvalidReviewRecordEvent('attempt must be an integer >= 1');
    const item: ReviewItem = {
      pk: LEDGER.reviewPk,
      sk: recordId,
      recordId,
      taskToken: e.taskToken,
      reasons: Array.isArray(input.reasons) ? input.reasons : [],
      ...(input.proposal ? { proposal: input.proposal } : {}),
      votes: Array.isArray(input.votes) ? input.votes : [],
      attempt: e.attempt,
      requestedAt: new Date(now()).toISOString(),
      recordJson: JSON.stringify(input.record ?? {}),
    };
    await ddb.send(new PutItemCommand({ TableName: env.LEDGER_TABLE, Item: toItem(item as unknown as Record<string, unknown>) }));
    emit([1, 0, 0]);
    logger.info('review pending', { recordId, attempt: e.attempt, reasons: item.reasons });
    return { action: 'request', recordId };
  };

  const record = async (answer: ReviewAnswer): Promise<ReviewRecordResult> => {
    if (!isObject(answer as unknown)) throw new InvalidReviewRecordEvent('answer is missing');
    const recordId = recordIdOf(answer.recordId);
    const reviewers = reviewersOf(answer);
    if (typeof answer.className !== 'string' || !config.task.classes.includes(answer.className)) throw new InvalidReviewRecordEvent('className is not one of the task\'s classes');
    // One reviewer: `human:<pseudonym>`; four eyes: `human:<first>+<second>`.
    const who = reviewers.join('+');
    const labelId = LABEL_ID.human(recordId, who, answer.className);
    const proposed = humanLabel(config.task, recordId, answer.className, who, now(), Array.isArray(answer.votes) ? answer.votes : []);
    const { label } = await appendLabel(s3, env.CURATED_BUCKET, KEYS.label(env.ZONE_PREFIX, recordId, labelId), env.DATA_KEY_ARN, proposed);
    const pending: PendingEvent = { id: labelId, detailType: DETAIL_TYPE.recordLabelled, codes: ['human'] };
    await setRecordState(ddb, env.LEDGER_TABLE, recordId, { state: 'labelled', label, human: true, pendingEvent: pending });
    await announce(ddb, events, env.LEDGER_TABLE, env.EVENT_BUS_NAME, config.pipelineName, recordId, pending);
    // The review API deletes it after SendTaskSuccess too; this covers a crash in between.
    await ddb.send(new DeleteItemCommand({ TableName: env.LEDGER_TABLE, Key: reviewKey(recordId) }));
    emit([0, 1, 0]);
    logger.info('human label recorded', { recordId, labelId, classIndex: label.classIndex });
    return { action: 'record', recordId, labelId };
  };

  const expire = async (e: Extract<ReviewRecordEvent, { action: 'expire' }>): Promise<ReviewRecordResult> => {
    const recordId = recordIdOf(e.recordId);
    await ddb.send(new DeleteItemCommand({ TableName: env.LEDGER_TABLE, Key: reviewKey(recordId) }));
    emit([0, 0, 1]);
    logger.warn('review expired', { recordId });
    return { action: 'expire', recordId };
  };

  return async (event) => {
    if (!isObject(event as unknown)) throw new InvalidReviewRecordEvent('expected an object');
    switch (event.action) {
      case 'request': return request(event);
      case 'record': return record(event.answer);
      case 'expire': return expire(event);
      default: throw new InvalidReviewRecordEvent('action must be request, record or expire');
    }
  };
}
