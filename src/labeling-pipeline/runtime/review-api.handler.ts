/**
 * Review API entry point (API Gateway REST proxy: `GET /reviews`, `POST /reviews/{recordId}`).
 * The logic is in `review-api.ts`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ENV } from './contract';
import { parseReviewApiSettings } from './logic/review-request';
import { loadPipelineConfig, readEnv } from './pipeline-io';
import { createReviewApiHandler, readAllowedOrigins, REVIEW_API_ENV } from './review-api';
import { traced } from '../../private/runtime/tracing';

export const handler = createReviewApiHandler({
  ddb: traced(new DynamoDBClient({})),
  sfn: traced(new SFNClient({})),
  kms: traced(new KMSClient({})),
  env: readEnv(process.env, REVIEW_API_ENV),
  settings: parseReviewApiSettings(process.env[ENV.REVIEW_API_SETTINGS]),
  allowedOrigins: readAllowedOrigins(process.env[ENV.ALLOWED_ORIGINS]),
  config: loadPipelineConfig(),
});
