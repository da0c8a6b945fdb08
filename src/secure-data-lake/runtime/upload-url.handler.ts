/**
 * Lambda entry point of SecureUploadApi's upload handler (bundled to
 * assets/secure-data-lake/runtime/upload-url.handler/index.js). Everything else is in
 * upload-url.ts (the handler) and upload-request.ts (its pure logic).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { UPLOAD_ENV } from './contract';
import { readUploadConfig } from './upload-request';
import { createUploadHandler } from './upload-url';
import { traced } from '../../private/runtime/tracing';

const logger = new Logger({ serviceName: 'secure-data-lake-upload' });

// Built once per execution environment (the caller pseudonym cache lives in the handler).
// GenerateMac fits the construct's 5 s function timeout: 2 attempts, each connecting within
// 0.5 s and answering within 1.5 s (the S3 client only signs, it makes no call).
const handle = createUploadHandler({
  s3: traced(new S3Client({})),
  kms: traced(new KMSClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 500, requestTimeout: 1_500 } })),
  config: readUploadConfig(process.env),
  allowedOrigins: JSON.parse(process.env[UPLOAD_ENV.allowedOrigins] ?? '[]'),
  logger: {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  },
});

/** `POST /uploads`: a presigned POST for one object in the raw zone, under the caller's pseudonym. */
export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return handle(event);
}
