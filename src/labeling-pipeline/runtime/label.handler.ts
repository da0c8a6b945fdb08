/**
 * Labeling handler entry point (SQS consumer of `Record Cleaned`). The logic is in
 * `label.ts` beside it; this shell builds the clients and reads the environment and configuration
 * once per execution environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createLabelHandler, LABEL_ENV } from './label';
import { loadPipelineConfig, readEnv } from './pipeline-io';
import { traced } from '../../private/runtime/tracing';

export const handler = createLabelHandler({
  s3: traced(new S3Client({})),
  ddb: traced(new DynamoDBClient({})),
  // Throttling of a labeler fails the message (SQS retries it later); do not spend the
  // function's timeout on many SDK retries.
  lambda: traced(new LambdaClient({ maxAttempts: 2 })),
  sfn: traced(new SFNClient({})),
  events: traced(new EventBridgeClient({})),
  env: readEnv(process.env, LABEL_ENV),
  config: loadPipelineConfig(),
});
