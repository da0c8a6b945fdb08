/**
 * Pure logic of the upload route: parse and validate a client's request for an upload, derive
 * the object key bound to the caller (whose key segment is the caller's keyed pseudonym, from
 * `private/runtime/caller-identity.ts`), and build the POST policy conditions. No AWS SDK here.
 */
import { UPLOAD_ENV } from './contract';
import { Environment, EnvironmentError } from '../../private/runtime/env';

/** Configuration of the upload handler, read once at init. */
export interface UploadConfig {
  readonly bucketName: string;
  readonly kmsKeyArn: string;
  /** The pseudonymization key (GenerateMac) that turns a caller into its key segment. */
  readonly hmacKeyId: string;
  readonly keyPrefix: string;
  readonly maxBytes: number;
  readonly allowedContentTypes: readonly string[];
  readonly expirySeconds: number;
}

/** A validated upload request. */
export interface UploadRequest {
  readonly contentType: string;
  /** Exact size the client will upload, when it declared one. */
  readonly contentLength?: number;
}

/** The outcome of validating a request body: a request, or a client error to return as 400. */
export type ParseResult =
  | { readonly ok: true; readonly request: UploadRequest }
  | { readonly ok: false; readonly message: string };

const MAX_BODY_CHARS = 1024;
const ALLOWED_FIELDS = new Set(['contentType', 'contentLength']);

/**
 * Parse the JSON body of `POST /uploads`. Error messages describe what was expected and never
 * echo the received values.
 */
export function parseUploadRequest(body: string | null | undefined, config: UploadConfig): ParseResult {
  if (body === null || body === undefined || body === '') {
    return fail('request body is required: a JSON object {"contentType": string, "contentLength"?: integer}');
  }
  if (body.length > MAX_BODY_CHARS) {
    return fail(`request body is too large: at most ${MAX_BODY_CHARS} characters`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return fail('request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('request body must be a JSON object');
  }
  const fields = parsed as Record<string, unknown>;
  const unknownFields = Object.keys(fields).filter((k) => !ALLOWED_FIELDS.has(k));
  if (unknownFields.length > 0) {
    return fail(`unknown field(s) in request body; allowed: ${[...ALLOWED_FIELDS].join(', ')}`);
  }
  const contentType = fields.contentType;
  if (typeof contentType !== 'string' || !config.allowedContentTypes.includes(contentType)) {
    return fail(`contentType must be one of: ${config.allowedContentTypes.join(', ')}`);
  }
  const contentLength = fields.contentLength;
  if (contentLength !== undefined) {
    if (typeof contentLength !== 'number' || !Number.isSafeInteger(contentLength) || contentLength < 1 || contentLength > config.maxBytes) {
      return fail(`contentLength must be an integer from 1 to ${config.maxBytes}`);
    }
  }
  return { ok: true, request: { contentType, contentLength: contentLength as number | undefined } };
}

function fail(message: string): ParseResult {
  return { ok: false, message };
}

const EXTENSIONS: Record<string, string> = {
  'application/json': '.json',
  'text/csv': '.csv',
  'application/x-ndjson': '.jsonl',
  'application/octet-stream': '.bin',
};

/**
 * The object key of a new upload: `<prefix><caller>/<yyyy>/<mm>/<dd>/<uploadId><ext>`, where
 * `caller` is the caller's pseudonym segment (never a raw identity).
 */
export function objectKey(config: UploadConfig, caller: string, uploadId: string, contentType: string, now: Date): string {
  const yyyy = now.getUTCFullYear().toString().padStart(4, '0');
  const mm = (now.getUTCMonth() + 1).toString().padStart(2, '0');
  const dd = now.getUTCDate().toString().padStart(2, '0');
  return `${config.keyPrefix}${caller}/${yyyy}/${mm}/${dd}/${uploadId}${EXTENSIONS[contentType] ?? ''}`;
}

/** A POST policy condition, as `@aws-sdk/s3-presigned-post` takes it. */
export type PostCondition = Record<string, string> | [string, string, string] | [string, number, number];

/**
 * The conditions and fields of the presigned POST: exact key (which carries the caller's
 * pseudonym), size range, content type, and SSE-KMS with the lake's key.
 */
export function postPolicy(
  config: UploadConfig,
  request: UploadRequest,
  key: string,
): { conditions: PostCondition[]; fields: Record<string, string> } {
  const min = request.contentLength ?? 1;
  const max = request.contentLength ?? config.maxBytes;
  const fields = {
    'Content-Type': request.contentType,
    'x-amz-server-side-encryption': 'aws:kms',
    'x-amz-server-side-encryption-aws-kms-key-id': config.kmsKeyArn,
  };
  const conditions: PostCondition[] = [
    { bucket: config.bucketName },
    ['eq', '$key', key],
    ['content-length-range', min, max],
    ['eq', '$Content-Type', request.contentType],
    ['eq', '$x-amz-server-side-encryption', 'aws:kms'],
    ['eq', '$x-amz-server-side-encryption-aws-kms-key-id', config.kmsKeyArn],
  ];
  return { conditions, fields };
}

/** Read and check the handler configuration from environment variables (`UPLOAD_ENV`). */
export function readUploadConfig(env: Environment): UploadConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) {
      throw new EnvironmentError(`upload handler: environment variable ${name} is missing`);
    }
    return value;
  };
  const integer = (name: string, min: number, max: number): number => {
    const value = Number(required(name));
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new EnvironmentError(`upload handler: ${name} must be an integer from ${min} to ${max}`);
    }
    return value;
  };
  let contentTypes: unknown;
  try {
    contentTypes = JSON.parse(required(UPLOAD_ENV.allowedContentTypes));
  } catch {
    throw new EnvironmentError(`upload handler: ${UPLOAD_ENV.allowedContentTypes} must be a JSON array of strings`);
  }
  if (!Array.isArray(contentTypes) || contentTypes.length === 0 || !contentTypes.every((t) => typeof t === 'string')) {
    throw new EnvironmentError(`upload handler: ${UPLOAD_ENV.allowedContentTypes} must be a non-empty JSON array of strings`);
  }
  return {
    bucketName: required(UPLOAD_ENV.bucketName),
    kmsKeyArn: required(UPLOAD_ENV.kmsKeyArn),
    hmacKeyId: required(UPLOAD_ENV.hmacKeyId),
    keyPrefix: env[UPLOAD_ENV.keyPrefix] ?? '',
    maxBytes: integer(UPLOAD_ENV.maxBytes, 1, 5 * 1024 ** 3),
    allowedContentTypes: contentTypes as string[],
    expirySeconds: integer(UPLOAD_ENV.expirySeconds, 1, 300),
  };
}
