/**
 * The prediction handler's configuration, read once from its environment. Every variable is set
 * by the construct; a missing or malformed one is a clear startup error (`ModelInitError`, CONFIG).
 *
 * | Variable | Required | Meaning |
 * |---|---|---|
 * | `MODEL_SOURCE` | yes | `asset` (a file in the deployment package or image) or `s3` |
 * | `MODEL_PATH` | asset | the .onnx file; relative paths resolve against the handler's directory |
 * | `MODEL_BUCKET`, `MODEL_KEY` | s3 | the object (SSE-KMS decryption is transparent to GetObject) |
 * | `MODEL_OBJECT_VERSION` | no | an S3 version id, to pin the exact object |
 * | `MODEL_SHA256` | s3 (asset: optional) | lowercase hex SHA-256 of the model bytes; a mismatch fails init |
 * | `MODEL_VERSION` | yes | the model version named in every response |
 * | `CLASS_NAMES` | no | JSON array of unique class names: the model is a classifier (`[]` or unset: it is not) |
 * | `CLASSIFIER_SCORES` | no | `logits` (default: softmax applied) or `probabilities` |
 * | `MAX_BODY_BYTES` | no | largest request body, default 262144 (256 KiB), at most 6291456 |
 * | `MAX_BATCH` | no | largest batch, default 64 |
 * | `ORT_INTRA_OP_THREADS` | no | onnxruntime intra-op threads, default 1 |
 * | `METRICS_NAMESPACE` | no | CloudWatch namespace of the EMF metrics, default `ServerlessModelEndpoint` |
 * | `POWERTOOLS_SERVICE_NAME` | no | service name in logs and the `service` metric dimension, default `serverless-model-endpoint` |
 * | `ALLOWED_ORIGINS` | no | JSON array of origins answered with `Access-Control-Allow-Origin`, default `[]` |
 */
import { ModelInitError } from './errors';
import { ClassifierScores } from './response';

/** Where the model bytes come from. */
export type ModelLocation =
  | { readonly kind: 'asset'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string; readonly objectVersion?: string };

/** The handler's configuration. */
export interface EndpointConfig {
  readonly model: ModelLocation;
  readonly sha256?: string;
  readonly modelVersion: string;
  readonly classNames?: readonly string[];
  readonly classifierScores: ClassifierScores;
  readonly maxBodyBytes: number;
  readonly maxBatch: number;
  readonly intraOpThreads: number;
  readonly metricsNamespace: string;
  readonly serviceName: string;
  readonly allowedOrigins: readonly string[];
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
/** Lambda's synchronous invocation payload limit. */
export const MAX_MAX_BODY_BYTES = 6 * 1024 * 1024;
export const DEFAULT_MAX_BATCH = 64;
export const DEFAULT_METRICS_NAMESPACE = 'ServerlessModelEndpoint';
export const DEFAULT_SERVICE_NAME = 'serverless-model-endpoint';

type Env = Readonly<Record<string, string | undefined>>;

function fail(message: string): never {
  throw new ModelInitError('CONFIG', message);
}

function required(env: Env, name: string, why: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') fail(`environment variable ${name} is required (${why})`);
  return v;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    fail(`environment variable ${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** Read and check the configuration. Throws `ModelInitError` (CONFIG) naming the variable at fault. */
export function readEndpointConfig(env: Env): EndpointConfig {
  const source = required(env, 'MODEL_SOURCE', 'asset or s3');
  let model: ModelLocation;
  if (source === 'asset') {
    model = { kind: 'asset', path: required(env, 'MODEL_PATH', 'the model file for MODEL_SOURCE=asset') };
  } else if (source === 's3') {
    model = {
      kind: 's3',
      bucket: required(env, 'MODEL_BUCKET', 'the bucket for MODEL_SOURCE=s3'),
      key: required(env, 'MODEL_KEY', 'the object key for MODEL_SOURCE=s3'),
      ...(env.MODEL_OBJECT_VERSION ? { objectVersion: env.MODEL_OBJECT_VERSION } : {}),
    };
  } else {
    fail('environment variable MODEL_SOURCE must be asset or s3');
  }

  const sha256 = env.MODEL_SHA256 ? env.MODEL_SHA256.trim().toLowerCase() : undefined;
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) {
    fail('environment variable MODEL_SHA256 must be a SHA-256 in hex (64 characters)');
  }
  if (model.kind === 's3' && sha256 === undefined) {
    fail('environment variable MODEL_SHA256 is required for MODEL_SOURCE=s3 (the integrity check of the downloaded model)');
  }

  const modelVersion = required(env, 'MODEL_VERSION', 'named in every response').trim();
  if (!/^[\x20-\x7e]{1,128}$/.test(modelVersion)) {
    fail('environment variable MODEL_VERSION must be 1 to 128 printable ASCII characters (it is also sent as a header)');
  }

  let classNames: string[] | undefined;
  if (env.CLASS_NAMES !== undefined && env.CLASS_NAMES !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.CLASS_NAMES);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || parsed.length === 1 || !parsed.every((c) => typeof c === 'string' && c.length > 0)
      || new Set(parsed).size !== parsed.length) {
      fail('environment variable CLASS_NAMES must be a JSON array of at least 2 unique, non-empty strings (or [] for a model that is no classifier)');
    }
    if (parsed.length > 0) classNames = parsed as string[];
  }

  let allowedOrigins: string[] = [];
  if (env.ALLOWED_ORIGINS !== undefined && env.ALLOWED_ORIGINS !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.ALLOWED_ORIGINS);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((o) => typeof o === 'string' && /^https?:\/\/[^\s/]+$/.test(o))) {
      fail('environment variable ALLOWED_ORIGINS must be a JSON array of origins like "https://app.example.com"');
    }
    allowedOrigins = parsed as string[];
  }

  const scores = env.CLASSIFIER_SCORES || 'logits';
  if (scores !== 'logits' && scores !== 'probabilities') {
    fail('environment variable CLASSIFIER_SCORES must be logits or probabilities');
  }

  return {
    model,
    ...(sha256 !== undefined ? { sha256 } : {}),
    modelVersion,
    ...(classNames ? { classNames } : {}),
    classifierScores: scores,
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 16, MAX_MAX_BODY_BYTES),
    maxBatch: integer(env, 'MAX_BATCH', DEFAULT_MAX_BATCH, 1, 1_000_000),
    intraOpThreads: integer(env, 'ORT_INTRA_OP_THREADS', 1, 1, 64),
    metricsNamespace: env.METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME,
    allowedOrigins,
  };
}
