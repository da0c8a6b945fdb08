import { readEndpointConfig } from '../../src/serverless-model-endpoint/runtime/config';
import { ModelInitError } from '../../src/serverless-model-endpoint/runtime/errors';

const SHA = 'a'.repeat(64);
const ASSET = { MODEL_SOURCE: 'asset', MODEL_PATH: 'model/model.onnx', MODEL_VERSION: 'hearing@1' };
const S3 = { MODEL_SOURCE: 's3', MODEL_BUCKET: 'models', MODEL_KEY: 'hearing/1/model.onnx', MODEL_SHA256: SHA, MODEL_VERSION: 'hearing@1' };

describe('readEndpointConfig', () => {
  test('an asset model with defaults', () => {
    expect(readEndpointConfig(ASSET)).toEqual({
      model: { kind: 'asset', path: 'model/model.onnx' },
      modelVersion: 'hearing@1',
      classifierScores: 'logits',
      maxBodyBytes: 262144,
      maxBatch: 64,
      intraOpThreads: 1,
      metricsNamespace: 'ServerlessModelEndpoint',
      serviceName: 'serverless-model-endpoint',
      allowedOrigins: [],
    });
    // what the construct sets for a model that is no classifier
    expect(readEndpointConfig({ ...ASSET, CLASS_NAMES: '[]', ALLOWED_ORIGINS: '[]' }).classNames).toBeUndefined();
  });

  test('an S3 model with every option', () => {
    expect(readEndpointConfig({
      ...S3,
      MODEL_SHA256: SHA.toUpperCase(),
      MODEL_OBJECT_VERSION: 'v-1',
      CLASS_NAMES: '["a","b"]',
      CLASSIFIER_SCORES: 'probabilities',
      MAX_BODY_BYTES: '1024',
      MAX_BATCH: '8',
      ORT_INTRA_OP_THREADS: '2',
      METRICS_NAMESPACE: 'Hearing',
      POWERTOOLS_SERVICE_NAME: 'hearing-predict',
      ALLOWED_ORIGINS: '["https://app.example.com","http://localhost:3000"]',
    })).toEqual({
      model: { kind: 's3', bucket: 'models', key: 'hearing/1/model.onnx', objectVersion: 'v-1' },
      sha256: SHA,
      modelVersion: 'hearing@1',
      classNames: ['a', 'b'],
      classifierScores: 'probabilities',
      maxBodyBytes: 1024,
      maxBatch: 8,
      intraOpThreads: 2,
      metricsNamespace: 'Hearing',
      serviceName: 'hearing-predict',
      allowedOrigins: ['https://app.example.com', 'http://localhost:3000'],
    });
  });

  test.each<[Record<string, string>, string]>([
    [{}, 'environment variable MODEL_SOURCE is required (asset or s3)'],
    [{ ...ASSET, MODEL_SOURCE: 'http' }, 'environment variable MODEL_SOURCE must be asset or s3'],
    [{ ...ASSET, MODEL_PATH: '' }, 'environment variable MODEL_PATH is required'],
    [{ ...S3, MODEL_BUCKET: ' ' }, 'environment variable MODEL_BUCKET is required'],
    [{ ...S3, MODEL_KEY: '' }, 'environment variable MODEL_KEY is required'],
    [{ ...S3, MODEL_SHA256: '' }, 'environment variable MODEL_SHA256 is required for MODEL_SOURCE=s3'],
    [{ ...ASSET, MODEL_SHA256: 'abc' }, 'environment variable MODEL_SHA256 must be a SHA-256 in hex (64 characters)'],
    [{ ...ASSET, MODEL_VERSION: '' }, 'environment variable MODEL_VERSION is required'],
    [{ ...ASSET, MODEL_VERSION: 'v\n1' }, 'environment variable MODEL_VERSION must be 1 to 128 printable ASCII characters'],
    [{ ...ASSET, MODEL_VERSION: 'x'.repeat(129) }, 'MODEL_VERSION must be 1 to 128 printable ASCII characters'],
    [{ ...ASSET, CLASS_NAMES: 'normal,mild' }, 'environment variable CLASS_NAMES must be a JSON array of at least 2 unique, non-empty strings (or [] for a model'],
    [{ ...ASSET, CLASS_NAMES: '["a","a"]' }, 'CLASS_NAMES must be a JSON array of at least 2 unique'],
    [{ ...ASSET, CLASS_NAMES: '["a"]' }, 'CLASS_NAMES must be a JSON array of at least 2 unique'],
    [{ ...ASSET, CLASS_NAMES: '["a", 1]' }, 'CLASS_NAMES must be a JSON array of at least 2 unique'],
    [{ ...ASSET, CLASS_NAMES: '["a", ""]' }, 'CLASS_NAMES must be a JSON array of at least 2 unique'],
    [{ ...ASSET, ALLOWED_ORIGINS: '*' }, 'environment variable ALLOWED_ORIGINS must be a JSON array of origins like "https://app.example.com"'],
    [{ ...ASSET, ALLOWED_ORIGINS: '["*"]' }, 'ALLOWED_ORIGINS must be a JSON array of origins'],
    [{ ...ASSET, ALLOWED_ORIGINS: '["https://a.example.com/path"]' }, 'ALLOWED_ORIGINS must be a JSON array of origins'],
    [{ ...ASSET, CLASSIFIER_SCORES: 'softmax' }, 'environment variable CLASSIFIER_SCORES must be logits or probabilities'],
    [{ ...ASSET, MAX_BODY_BYTES: '7000000' }, 'environment variable MAX_BODY_BYTES must be an integer from 16 to 6291456'],
    [{ ...ASSET, MAX_BODY_BYTES: '1e3' }, 'MAX_BODY_BYTES must be an integer'],
    [{ ...ASSET, MAX_BATCH: '0' }, 'environment variable MAX_BATCH must be an integer from 1 to 1000000'],
    [{ ...ASSET, ORT_INTRA_OP_THREADS: '-1' }, 'environment variable ORT_INTRA_OP_THREADS must be an integer from 1 to 64'],
  ])('fails if the environment is wrong (%#)', (env, message) => {
    expect(() => readEndpointConfig(env)).toThrow(ModelInitError);
    expect(() => readEndpointConfig(env)).toThrow(message);
  });

  test('capture: off by default and with CAPTURE_PERCENT=0; on with a name, a share and a size limit', () => {
    expect(readEndpointConfig(ASSET).capture).toBeUndefined();
    expect(readEndpointConfig({ ...ASSET, CAPTURE_PERCENT: '0' }).capture).toBeUndefined();
    expect(readEndpointConfig({ ...ASSET, CAPTURE_PERCENT: '100', CAPTURE_NAME: 'hearing' }).capture).toEqual({ percent: 100, name: 'hearing', maxBytes: 200000 });
    expect(readEndpointConfig({ ...ASSET, CAPTURE_PERCENT: '0.5', CAPTURE_NAME: 'h.v-1_x', CAPTURE_MAX_BYTES: '4096' }).capture)
      .toEqual({ percent: 0.5, name: 'h.v-1_x', maxBytes: 4096 });
    // what the construct writes for a tiny share: String(1e-7)
    expect(readEndpointConfig({ ...ASSET, CAPTURE_PERCENT: String(1e-7), CAPTURE_NAME: 'h' }).capture?.percent).toBe(1e-7);
  });

  test.each<[Record<string, string>, string]>([
    [{ CAPTURE_PERCENT: '101', CAPTURE_NAME: 'h' }, 'environment variable CAPTURE_PERCENT must be a number above 0 and at most 100 (or 0 for no capture)'],
    [{ CAPTURE_PERCENT: '-1', CAPTURE_NAME: 'h' }, 'environment variable CAPTURE_PERCENT must be a number above 0'],
    [{ CAPTURE_PERCENT: 'all', CAPTURE_NAME: 'h' }, 'environment variable CAPTURE_PERCENT must be a number above 0'],
    [{ CAPTURE_PERCENT: '0x10', CAPTURE_NAME: 'h' }, 'environment variable CAPTURE_PERCENT must be a number above 0'],
    [{ CAPTURE_PERCENT: '1e3', CAPTURE_NAME: 'h' }, 'environment variable CAPTURE_PERCENT must be a number above 0'],
    [{ CAPTURE_PERCENT: '50' }, "environment variable CAPTURE_NAME is required (the endpoint's capture name, with CAPTURE_PERCENT above 0)"],
    [{ CAPTURE_PERCENT: '50', CAPTURE_NAME: 'a/b' }, 'environment variable CAPTURE_NAME must be 1 to 64 letters, digits'],
    [{ CAPTURE_PERCENT: '50', CAPTURE_NAME: 'h', CAPTURE_MAX_BYTES: '300000' }, 'environment variable CAPTURE_MAX_BYTES must be an integer from 1024 to 262118'],
  ])('a bad capture variable fails with a message naming it (%#)', (env, message) => {
    expect(() => readEndpointConfig({ ...ASSET, ...env })).toThrow(message);
  });
});
