import * as fc from 'fast-check';
import { objectKey, parseUploadRequest, postPolicy, readUploadConfig, UploadConfig } from '../../src/secure-data-lake/runtime/upload-request';

const config: UploadConfig = {
  bucketName: 'lake-raw',
  kmsKeyArn: 'arn:aws:kms:eu-central-1:111111111111:key/11111111-2222-3333-4444-555555555555',
  hmacKeyId: 'arn:aws:kms:eu-central-1:111111111111:key/66666666-7777-8888-9999-000000000000',
  keyPrefix: 'uploads/',
  maxBytes: 5 * 1024 * 1024,
  allowedContentTypes: ['application/json', 'text/csv'],
  expirySeconds: 300,
};
/** The seed of this file's properties: FC_SEED when set, else a fresh one (printed, to replay a failure). */
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);

describe('parseUploadRequest', () => {
  test('accepts a content type with and without a declared length', () => {
    expect(parseUploadRequest('{"contentType":"application/json"}', config)).toEqual({ ok: true, request: { contentType: 'application/json' } });
    expect(parseUploadRequest('{"contentType":"text/csv","contentLength":812}', config))
      .toEqual({ ok: true, request: { contentType: 'text/csv', contentLength: 812 } });
  });

  test.each([
    [undefined, 'request body is required'],
    ['', 'request body is required'],
    ['{', 'request body is not valid JSON'],
    ['[]', 'request body must be a JSON object'],
    ['null', 'request body must be a JSON object'],
    ['{"contentType":"image/png"}', 'contentType must be one of: application/json, text/csv'],
    ['{"contentType":"application/json","contentLength":0}', 'contentLength must be an integer from 1 to 5242880'],
    ['{"contentType":"application/json","contentLength":5242881}', 'contentLength must be an integer from 1 to 5242880'],
    ['{"contentType":"application/json","contentLength":1.5}', 'contentLength must be an integer from 1 to 5242880'],
    ['{"contentType":"application/json","key":"../../etc"}', 'unknown field(s) in request body; allowed: contentType, contentLength'],
    ['x'.repeat(2000), 'request body is too large: at most 1024 characters'],
  ])('rejects %j', (body, message) => {
    const result = parseUploadRequest(body as any, config);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(message);
  });

  test('fuzz: any body gives a request or a message, never a throw, and never echoes the input', () => {
    const arbitraryBody = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record(
        {
          contentType: fc.oneof(fc.string(), fc.constantFrom(...config.allowedContentTypes)),
          contentLength: fc.oneof(fc.integer(), fc.double(), fc.string()),
        },
        { requiredKeys: [] },
      ).map((o) => JSON.stringify(o)),
      fc.dictionary(fc.string(), fc.jsonValue()).map((o) => JSON.stringify(o)),
    );
    console.log(`parseUploadRequest fuzz: fast-check seed ${SEED} (replay with FC_SEED=${SEED})`);
    fc.assert(fc.property(arbitraryBody, (body) => {
      const result = parseUploadRequest(body, config);
      if (result.ok) {
        expect(config.allowedContentTypes).toContain(result.request.contentType);
        if (result.request.contentLength !== undefined) {
          expect(Number.isSafeInteger(result.request.contentLength)).toBe(true);
          expect(result.request.contentLength).toBeGreaterThanOrEqual(1);
          expect(result.request.contentLength).toBeLessThanOrEqual(config.maxBytes);
        }
      } else {
        // Messages are fixed texts: a received value never appears in them unless it is one of
        // the allowed values we name ourselves.
        const allowedWords = ['application/json', 'text/csv', 'contentType', 'contentLength'];
        let parsed: any;
        try { parsed = JSON.parse(body); } catch { parsed = undefined; }
        // Keys and values as text (JSON for non-strings: an object with a `toString` key has no String()).
        const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
        const received = parsed && typeof parsed === 'object' ? Object.entries(parsed).flat().map(text) : [body];
        for (const value of received) {
          if (value.length >= 4 && !allowedWords.some((w) => w.includes(value))) {
            expect(result.message).not.toContain(value);
          }
        }
      }
    }), { numRuns: 2000, seed: SEED });
  });
});

describe('objectKey and postPolicy', () => {
  test('the key is under the caller folder and dated', () => {
    expect(objectKey(config, 'caller-1', 'u-1', 'application/json', new Date('2026-03-01T10:15:00Z')))
      .toBe('uploads/caller-1/2026/03/01/u-1.json');
    expect(objectKey(config, 'caller-1', 'u-1', 'text/csv', new Date('2026-12-31T23:59:59Z')))
      .toBe('uploads/caller-1/2026/12/31/u-1.csv');
  });

  test('the policy fixes key, size range, content type and SSE-KMS', () => {
    const { conditions, fields } = postPolicy(config, { contentType: 'application/json' }, 'uploads/c/x.json');
    expect(conditions).toEqual([
      { bucket: 'lake-raw' },
      ['eq', '$key', 'uploads/c/x.json'],
      ['content-length-range', 1, 5242880],
      ['eq', '$Content-Type', 'application/json'],
      ['eq', '$x-amz-server-side-encryption', 'aws:kms'],
      ['eq', '$x-amz-server-side-encryption-aws-kms-key-id', config.kmsKeyArn],
    ]);
    expect(fields).toEqual({
      'Content-Type': 'application/json',
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': config.kmsKeyArn,
    });
    expect(postPolicy(config, { contentType: 'text/csv', contentLength: 812 }, 'k').conditions)
      .toContainEqual(['content-length-range', 812, 812]);
  });
});

describe('readUploadConfig', () => {
  const env = {
    BUCKET_NAME: 'b', KMS_KEY_ARN: 'arn', HMAC_KEY_ID: 'hmac-arn', KEY_PREFIX: 'uploads/', MAX_BYTES: '100', ALLOWED_CONTENT_TYPES: '["application/json"]', EXPIRY_SECONDS: '300',
  };
  test('reads a complete environment', () => {
    expect(readUploadConfig(env)).toEqual({
      bucketName: 'b', kmsKeyArn: 'arn', hmacKeyId: 'hmac-arn', keyPrefix: 'uploads/', maxBytes: 100, allowedContentTypes: ['application/json'], expirySeconds: 300,
    });
  });
  test('fails if a variable is missing or out of range', () => {
    expect(() => readUploadConfig({ ...env, BUCKET_NAME: undefined })).toThrow('upload handler: environment variable BUCKET_NAME is missing');
    expect(() => readUploadConfig({ ...env, HMAC_KEY_ID: undefined })).toThrow('upload handler: environment variable HMAC_KEY_ID is missing');
    expect(() => readUploadConfig({ ...env, EXPIRY_SECONDS: '301' })).toThrow('upload handler: EXPIRY_SECONDS must be an integer from 1 to 300');
    expect(() => readUploadConfig({ ...env, ALLOWED_CONTENT_TYPES: '[]' })).toThrow('ALLOWED_CONTENT_TYPES must be a non-empty JSON array of strings');
    expect(() => readUploadConfig({ ...env, ALLOWED_CONTENT_TYPES: 'json' })).toThrow('ALLOWED_CONTENT_TYPES must be a JSON array of strings');
  });
});
