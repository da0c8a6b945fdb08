/**
 * Review-record entry point (a Lambda task of the review state machine: `ReviewRecordEvent`).
 * The logic is in `review-record.ts` beside it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { loadPipelineConfig, readEnv } from './pipeline-io';
import { createReviewRecordHandler, REVIEW_RECORD_ENV } from './review-record';
import { traced } from '../../private/runtime/tracing';

export const handler = createReviewRecordHandler({
  s3: traced(new S3Client({})),
  ddb: traced(new DynamoDBClient({})),
  events: traced(new EventBridgeClient({})),
  env: readEnv(process.env, REVIEW_RECORD_ENV),
  config: loadPipelineConfig(),
});
