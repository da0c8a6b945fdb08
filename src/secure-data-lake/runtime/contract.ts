/**
 * What SecureUploadApi and the upload handler both read: the environment variables the construct
 * sets (upload-request.ts `readUploadConfig` and the handler read them). No aws-cdk-lib here: the
 * handler bundles this file.
 */

/** Environment variables of the upload handler. */
export const UPLOAD_ENV = {
  /** The raw zone's bucket. */
  bucketName: 'BUCKET_NAME',
  /** ARN of the lake's KMS key (the POST policy requires SSE-KMS with it). */
  kmsKeyArn: 'KMS_KEY_ARN',
  /** The lake's pseudonymization key (HMAC_256; GenerateMac): the caller's folder is its keyed pseudonym. */
  hmacKeyId: 'HMAC_KEY_ID',
  /** Key prefix of uploads (`''` or segments ending in `/`). */
  keyPrefix: 'KEY_PREFIX',
  /** Largest upload in bytes. */
  maxBytes: 'MAX_BYTES',
  /** JSON array of the media types a client may upload. */
  allowedContentTypes: 'ALLOWED_CONTENT_TYPES',
  /** Lifetime of a presigned POST in seconds. */
  expirySeconds: 'EXPIRY_SECONDS',
  /** JSON array of origins that get CORS headers. */
  allowedOrigins: 'ALLOWED_ORIGINS',
  /** Powertools log level. */
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;
