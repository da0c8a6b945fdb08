/**
 * Lambda entry point of the LabelingPipeline's cleaning handler (bundled to
 * assets/labeling-pipeline/runtime/clean.handler/index.js and staged by the construct with the pipeline
 * configuration). Two event shapes:
 *
 * - an SQS batch (`Records`) of EventBridge S3 `Object Created` events → `SQSBatchResponse`
 *   (partial batch failures: only transient errors fail a message);
 * - a backfill batch (`Items`, from the backfill state machine's Distributed Map) → `BackfillResult`.
 *
 * Everything else is in clean.ts and clean-steps.ts beside it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { CLEAN_HANDLER_ENV, createCleanHandler } from './clean';
import type { BackfillBatch, BackfillResult } from './contract';
import { loadPipelineConfig, readEnv } from './pipeline-io';
import { traced } from '../../private/runtime/tracing';

// Bounded retries that fit the function timeout (the construct's default is 60 s): 3 attempts per
// call, each connection within 2 s and each request within 5 s, so one call gives up after about
// 16 s (with the standard retry backoff). A record makes about 7 calls in sequence; an invocation
// that runs out of time fails its batch, which SQS redelivers (every write is idempotent).
const clientOptions = { maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } };

const clean = createCleanHandler({
  s3: traced(new S3Client(clientOptions)),
  kms: traced(new KMSClient(clientOptions)),
  ddb: traced(new DynamoDBClient(clientOptions)),
  events: traced(new EventBridgeClient(clientOptions)),
  env: readEnv(process.env, CLEAN_HANDLER_ENV),
  config: loadPipelineConfig(),
});

export async function handler(event: SQSEvent | BackfillBatch): Promise<SQSBatchResponse | BackfillResult> {
  if (event && Array.isArray((event as SQSEvent).Records)) return clean.handleSqs(event as SQSEvent);
  if (event && Array.isArray((event as BackfillBatch).Items)) return clean.handleBackfill(event as BackfillBatch);
  throw new Error('unsupported event: expected an SQS batch (Records) or a backfill batch (Items, BatchInput.bucket)');
}
