/**
 * The labeling handler (SQS consumer of `Record Cleaned` events): runs the pipeline's labelers on
 * one clean record, combines their votes, and either appends the machine label (route `auto`) or
 * starts the review state machine (route `review`).
 *
 * Per message, exactly one outcome, each idempotent under redelivery:
 * - duplicate: the ledger already holds this decision (state `review`, a human label, or a
 *   machine label from the same labelers) → nothing is written (a pending event is put first);
 * - auto: the label object (deterministic label id, `If-None-Match: *`) → the record item
 *   (`labelled`, never over a human label) → `Record Labelled`;
 * - review: StartExecution (deterministic name; `ExecutionAlreadyExists` = started before) → the
 *   record item (`review`) → `Review Requested`;
 * - failure (an AWS call failed, a labeler unavailable, a malformed message): the message is
 *   reported in `batchItemFailures` and SQS delivers it again, then to the DLQ.
 *
 * Logs and events carry record ids, codes and error names only, never record values.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DETAIL_TYPE, ENV, EVENT_SOURCE, KEYS, PipelineConfig, ReviewExecutionInput } from './contract';
import { buildLabelers, LabelerUnavailable } from './label-labelers';
import {
  announce, appendLabel, getRecordItem, HumanLabelKept, LABEL_ID, parseS3Uri, PendingEvent, RecordNotInLedger, setRecordState,
} from './label-ledger';
import { isObject, JsonObject, sha256Hex } from './logic/json';
import { compileLabelTask, LabelerOutput, labelerRef, LabelRecord } from './logic/labeling';
import { RECORD_ID_PATTERN } from './logic/review-request';
import { metricWriter } from './pipeline-io';
import { errorName } from '../../private/runtime/sdk-errors';

/** Environment variables of the labeling handler. */
export const LABEL_ENV = [
  'CLEAN_BUCKET', 'CURATED_BUCKET', 'ZONE_PREFIX', 'DATA_KEY_ARN', 'LEDGER_TABLE', 'EVENT_BUS_NAME',
  'REVIEW_STATE_MACHINE_ARN', 'METRICS_NAMESPACE',
] as const satisfies ReadonlyArray<keyof typeof ENV>;

/** What the labeling handler is built from (clients, environment, configuration, clock). */
export interface LabelHandlerDeps {
  readonly s3: S3Client;
  readonly ddb: DynamoDBClient;
  readonly lambda: LambdaClient;
  readonly sfn: SFNClient;
  readonly events: EventBridgeClient;
  readonly env: Readonly<Record<typeof LABEL_ENV[number], string>>;
  readonly config: PipelineConfig;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Where EMF lines go. @default stdout */
  readonly writeMetrics?: (line: string) => void;
}

/** Metric names of the labeling handler (one EMF line per invocation). */
export const LABEL_METRICS = {
  autoLabelled: 'RecordsAutoLabelled',
  reviewRequested: 'RecordsSentToReview',
  duplicates: 'DuplicateDeliveries',
  failures: 'LabelingFailures',
  abstentions: 'LabelerAbstentions',
} as const;

/** A message that is not a `Record Cleaned` event of this library (it fails, and reaches the DLQ). */
export class InvalidMessage extends Error {
  constructor(reason: string) {
    super(`the message is not a ${DETAIL_TYPE.recordCleaned} event: ${reason}`);
    this.name = 'InvalidMessage';
  }
}

/** The record id of a `Record Cleaned` event in an SQS message body. */
export function parseRecordCleaned(body: string): string {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    throw new InvalidMessage('not JSON');
  }
  if (!isObject(event)) throw new InvalidMessage('not an object');
  if (event.source !== EVENT_SOURCE || event['detail-type'] !== DETAIL_TYPE.recordCleaned) throw new InvalidMessage('another source or detail-type');
  const recordId = isObject(event.detail) ? event.detail.recordId : undefined;
  if (typeof recordId !== 'string' || !RECORD_ID_PATTERN.test(recordId)) throw new InvalidMessage('detail.recordId is missing or not a record id');
  return recordId;
}

/**
 * The review execution's name: the record id when it is already `[A-Za-z0-9_-]{1,80}`, else its
 * sanitized first 63 characters, '-' and 16 hex digits of its SHA-256 (distinct ids stay distinct).
 */
export function executionName(recordId: string): string {
  if (/^[A-Za-z0-9_-]{1,80}$/.test(recordId)) return recordId;
  return `${recordId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 63)}-${sha256Hex(recordId).slice(0, 16)}`;
}

type Outcome = 'auto' | 'review' | 'duplicate';

/** Build the handler (labelers and the label task compiled once). */
export function createLabelHandler(deps: LabelHandlerDeps): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const { s3, ddb, sfn, events, env, config } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? new Logger({ serviceName: `${config.pipelineName}-label` });
  const labelers = buildLabelers(config.labelers, deps.lambda);
  const refs = new Set(labelers.map(labelerRef));
  const combine = compileLabelTask(config.task);
  const emit = metricWriter(env.METRICS_NAMESPACE, config.pipelineName, Object.values(LABEL_METRICS).map((name) => ({ name, unit: 'Count' as const })), deps.writeMetrics);
  const processor = new BatchProcessor(EventType.SQS);

  /** True when `label` is a human label or came from exactly the configured labelers. */
  const isCurrent = (label: LabelRecord | undefined): boolean =>
    !!label && (label.human || (label.votes.length === refs.size && label.votes.every((v) => refs.has(v.labeler))));

  const readCleanRecord = async (cleanRef: string): Promise<JsonObject> => {
    const ref = parseS3Uri(cleanRef);
    if (!ref || ref.bucket !== env.CLEAN_BUCKET) throw new Error('the record item\'s cleanRef is not in the clean zone');
    const res = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    let record: unknown;
    try {
      record = JSON.parse(await res.Body!.transformToString('utf8'));
    } catch {
      throw new Error('the clean record is not JSON');
    }
    if (!isObject(record)) throw new Error('the clean record is not a JSON object');
    return record;
  };

  const announceState = (recordId: string, pending: PendingEvent) =>
    announce(ddb, events, env.LEDGER_TABLE, env.EVENT_BUS_NAME, config.pipelineName, recordId, pending);

  const labelOne = async (recordId: string, counts: { abstentions: number }): Promise<Outcome> => {
    const item = await getRecordItem(ddb, env.LEDGER_TABLE, recordId);
    if (!item) throw new RecordNotInLedger();
    // A decision whose event was not put yet (the earlier try stopped in between).
    if (item.pendingEvent) await announceState(recordId, item.pendingEvent);
    if (item.state === 'review' || (item.state === 'labelled' && isCurrent(item.label))) return 'duplicate';

    const record = await readCleanRecord(item.cleanRef);
    const outputs = await Promise.all(labelers.map(async (labeler) => ({
      labeler,
      output: await labeler.label({ recordId, record }) as LabelerOutput,
    })));
    const decision = combine(recordId, outputs, now());
    counts.abstentions += decision.votes.filter((v) => v.abstainReason !== undefined).length;

    if (decision.route === 'auto' && decision.label) {
      const labelId = LABEL_ID.machine(recordId, decision.label);
      const { label } = await appendLabel(s3, env.CURATED_BUCKET, KEYS.label(env.ZONE_PREFIX, recordId, labelId), env.DATA_KEY_ARN, decision.label);
      const pending: PendingEvent = { id: labelId, detailType: DETAIL_TYPE.recordLabelled, codes: ['auto'] };
      await setRecordState(ddb, env.LEDGER_TABLE, recordId, { state: 'labelled', label, human: false, pendingEvent: pending });
      await announceState(recordId, pending);
      logger.info('record labelled', { recordId, route: 'auto', labelId, classIndex: label.classIndex, confidence: label.confidence });
      return 'auto';
    }

    const name = executionName(recordId);
    const input: ReviewExecutionInput = {
      recordId,
      reasons: decision.reasons,
      ...(decision.label ? { proposal: { className: decision.label.className, confidence: decision.label.confidence } } : {}),
      votes: decision.votes,
      record,
    };
    try {
      await sfn.send(new StartExecutionCommand({ stateMachineArn: env.REVIEW_STATE_MACHINE_ARN, name, input: JSON.stringify(input) }));
    } catch (e) {
      // Started by an earlier delivery (a name is used once per state machine).
      if (!(e instanceof ExecutionAlreadyExists) && errorName(e) !== 'ExecutionAlreadyExists') throw e;
    }
    const pending: PendingEvent = { id: name, detailType: DETAIL_TYPE.reviewRequested, codes: [...decision.reasons] };
    await setRecordState(ddb, env.LEDGER_TABLE, recordId, { state: 'review', human: false, pendingEvent: pending });
    await announceState(recordId, pending);
    logger.info('review requested', { recordId, route: 'review', reasons: decision.reasons });
    return 'review';
  };

  return async (event, context) => {
    const counts = { auto: 0, review: 0, duplicate: 0, failed: 0, abstentions: 0 };
    const recordHandler = async (message: SQSRecord): Promise<void> => {
      let recordId: string | undefined;
      try {
        recordId = parseRecordCleaned(message.body);
        const outcome = await labelOne(recordId, counts);
        counts[outcome]++;
        if (outcome === 'duplicate') logger.info('duplicate delivery', { recordId });
      } catch (e) {
        if (e instanceof HumanLabelKept) {
          counts.duplicate++;
          logger.info('human label kept', { recordId });
          return;
        }
        counts.failed++;
        logger.warn('labeling failed; the message is retried', {
          messageId: message.messageId,
          ...(recordId ? { recordId } : {}),
          error: errorName(e),
          ...(e instanceof InvalidMessage || e instanceof RecordNotInLedger ? { reason: e.message } : {}),
          ...(e instanceof LabelerUnavailable ? { labeler: e.labeler, cause: e.reason } : {}),
        });
        // A fixed message: the batch library keeps it, nothing from the record.
        throw new Error('labeling failed');
      }
    };
    try {
      return await processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
    } finally {
      emit([counts.auto, counts.review, counts.duplicate, counts.failed, counts.abstentions], { messages: event.Records?.length ?? 0 });
    }
  };
}
