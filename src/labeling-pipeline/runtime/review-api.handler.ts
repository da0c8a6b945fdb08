/**
 * Review API entry point (API Gateway REST proxy: `GET /reviews`, `POST /reviews/{recordId}`).
 * The logic is in `handlers/review-api.ts`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ENV } from './contract';
import { loadPipelineConfig, readEnv } from './pipeline-io';
import { createReviewApiHandler, readAllowedOrigins, REVIEW_API_ENV } from './review-api';
import { traced } from '../../private/runtime/tracing';

export const handler = createReviewApiHandler({
  ddb: traced(new DynamoDBClient({})),
  sfn: traced(new SFNClient({})),
  env: readEnv(process.env, REVIEW_API_ENV),
  allowedOrigins: readAllowedOrigins(process.env[ENV.ALLOWED_ORIGINS]),
  config: loadPipelineConfig(),
});
