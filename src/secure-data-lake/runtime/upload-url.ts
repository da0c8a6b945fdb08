/**
 * The upload handler (`POST /uploads`) as a factory of injected clients: `upload-url.handler.ts`
 * builds the real ones, tests point them at moto.
 *
 * Per request: the caller's identity (`private/runtime/caller-identity.ts`) becomes its keyed
 * pseudonym (KMS GenerateMac, HMAC-SHA-256 with the lake's pseudonymization key, cached per
 * execution environment) before anything else uses it; the object key carries that pseudonym,
 * never the raw identity, and the presigned POST is bound to that exact key. Logs carry outcomes
 * and reasons only, never request values or identities.
 */
import { randomUUID } from 'node:crypto';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { objectKey, parseUploadRequest, postPolicy, UploadConfig } from './upload-request';
import { callerIdentity, callerPseudonyms } from '../../private/runtime/caller-identity';
import { errorInfo } from '../../private/runtime/sdk-errors';

/** A structured logger (Powertools `Logger` fits). Only outcomes, reasons and ids are passed. */
export interface UploadLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface UploadHandlerDeps {
  /** Signs the presigned POST (no S3 call is made). */
  readonly s3: S3Client;
  /** GenerateMac with `config.hmacKeyId`. */
  readonly kms: KMSClient;
  readonly config: UploadConfig;
  /** Origins that get CORS headers. */
  readonly allowedOrigins: readonly string[];
  readonly logger: UploadLogger;
  /** Callers whose pseudonym is kept per execution environment. @default 1024 */
  readonly pseudonymCacheSize?: number;
  /** Clock. @default () => new Date() */
  readonly now?: () => Date;
}

/** Build the handler (once per execution environment: the pseudonym cache lives in it). */
export function createUploadHandler(deps: UploadHandlerDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const { config, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const pseudonyms = callerPseudonyms(async (message) => {
    const res = await deps.kms.send(new GenerateMacCommand({ KeyId: config.hmacKeyId, MacAlgorithm: 'HMAC_SHA_256', Message: message }));
    if (!res.Mac) throw new Error('GenerateMac returned no MAC');
    return res.Mac;
  }, deps.pseudonymCacheSize);

  return async (event) => {
    const headers = event?.headers ?? {};
    const origin = headers.origin ?? headers.Origin;
    const respond = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
      statusCode,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        ...(origin && deps.allowedOrigins.includes(origin) ? { 'Access-Control-Allow-Origin': origin, 'Vary': 'Origin' } : {}),
      },
      body: JSON.stringify(body),
    });

    const identity = callerIdentity({
      cognitoSub: event?.requestContext?.authorizer?.claims?.sub,
      cognitoIdentityId: event?.requestContext?.identity?.cognitoIdentityId ?? undefined,
      principalId: event?.requestContext?.identity?.caller ?? undefined,
      userArn: event?.requestContext?.identity?.userArn ?? undefined,
    });
    if (!identity) {
      logger.warn('upload refused', { reason: 'no-caller-identity' });
      return respond(403, { message: 'the request carries no caller identity' });
    }

    const body = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const parsed = parseUploadRequest(body, config);
    if (!parsed.ok) {
      logger.info('upload refused', { reason: 'invalid-request' });
      return respond(400, { message: parsed.message });
    }

    let caller: string;
    try {
      caller = await pseudonyms(identity);
    } catch (e) {
      logger.error('upload failed', { reason: 'pseudonymization', ...errorInfo(e) });
      return respond(503, { message: 'the upload could not be prepared; try again later' });
    }

    const uploadId = randomUUID();
    const key = objectKey(config, caller, uploadId, parsed.request.contentType, now());
    const policy = postPolicy(config, parsed.request, key);
    const post = await createPresignedPost(deps.s3, {
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
      expiresAt: new Date(now().getTime() + config.expirySeconds * 1000).toISOString(),
    });
  };
}
