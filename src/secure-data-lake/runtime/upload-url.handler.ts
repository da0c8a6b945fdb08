import { createHash, randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { UPLOAD_ENV } from './contract';
import { objectKey, parseUploadRequest, postPolicy, readUploadConfig } from './upload-request';
import { callerKeySegment } from '../../private/runtime/caller-identity';
import { traced } from '../../private/runtime/tracing';

// Built once per execution environment.
const config = readUploadConfig(process.env);
const allowedOrigins: string[] = JSON.parse(process.env[UPLOAD_ENV.allowedOrigins] ?? '[]');
const s3 = traced(new S3Client({}));
const logger = new Logger({ serviceName: 'secure-data-lake-upload' });

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * `POST /uploads`: return a presigned POST for one object in the raw zone, bound to the caller.
 * Logs carry outcomes and reasons only, never request values.
 */
export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const origin = event.headers?.origin ?? event.headers?.Origin;
  const respond = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
    statusCode,
    headers: {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      ...(origin && allowedOrigins.includes(origin) ? { 'Access-Control-Allow-Origin': origin, 'Vary': 'Origin' } : {}),
    },
    body: JSON.stringify(body),
  });

  const caller = callerKeySegment({
    cognitoSub: event.requestContext?.authorizer?.claims?.sub,
    cognitoIdentityId: event.requestContext?.identity?.cognitoIdentityId ?? undefined,
    userArn: event.requestContext?.identity?.userArn ?? undefined,
  }, sha256Hex);
  if (!caller) {
    logger.warn('upload refused', { reason: 'no-caller-identity' });
    return respond(403, { message: 'the request carries no caller identity' });
  }

  const body = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const parsed = parseUploadRequest(body, config);
  if (!parsed.ok) {
    logger.info('upload refused', { reason: 'invalid-request' });
    return respond(400, { message: parsed.message });
  }

  const uploadId = randomUUID();
  const key = objectKey(config, caller, uploadId, parsed.request.contentType, new Date());
  const policy = postPolicy(config, parsed.request, key);
  const post = await createPresignedPost(s3, {
    Bucket: config.bucketName,
    Key: key,
    Conditions: policy.conditions as any,
    Fields: policy.fields,
    Expires: config.expirySeconds,
  });
  logger.info('upload granted', { uploadId });
  return respond(200, {
    uploadId,
    url: post.url,
    fields: post.fields,
    key,
    maxBytes: parsed.request.contentLength ?? config.maxBytes,
    expiresAt: new Date(Date.now() + config.expirySeconds * 1000).toISOString(),
  });
}
