/**
 * The prediction handler's configuration, read once from its environment. Every variable is set
 * by the construct (the names are `ENDPOINT_ENV` in contract.ts, which the construct reads too); a
 * missing or malformed one is a clear startup error (`ModelInitError`, CONFIG).
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
 * | `CAPTURE_PERCENT` | no | share of 200 answers captured, a number above 0 and at most 100; `0` or unset: capture is off |
 * | `CAPTURE_NAME` | with capture | the endpoint's capture name (`CAPTURE_NAME_PATTERN`) |
 * | `CAPTURE_MAX_BYTES` | no | largest capture line, default 200000, from 1024 to 262118 |
 */
import { DEFAULT_CAPTURE_MAX_BYTES, ENDPOINT_ENV as V, MAX_CAPTURE_MAX_BYTES, MIN_CAPTURE_MAX_BYTES, MODEL_SOURCE } from './contract';
import { ModelInitError } from './errors';
import { ClassifierScores } from './response';
import { CAPTURE_NAME_PATTERN } from '../../contract/monitoring';
import { Environment } from '../../private/runtime/env';

/** Where the model bytes come from. */
export type ModelLocation =
  | { readonly kind: 'asset'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string; readonly objectVersion?: string };

/** Prediction capture (on when `CAPTURE_PERCENT` > 0). */
export interface CaptureConfig {
  /** Above 0, at most 100. */
  readonly percent: number;
  readonly name: string;
  readonly maxBytes: number;
}

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
  /** Absent: capture is off. */
  readonly capture?: CaptureConfig;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
/** Lambda's synchronous invocation payload limit. */
export const MAX_MAX_BODY_BYTES = 6 * 1024 * 1024;
export const DEFAULT_MAX_BATCH = 64;
export const DEFAULT_METRICS_NAMESPACE = 'ServerlessModelEndpoint';
export const DEFAULT_SERVICE_NAME = 'serverless-model-endpoint';

type Env = Environment;

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
  const source = required(env, V.modelSource, `${MODEL_SOURCE.asset} or ${MODEL_SOURCE.s3}`);
  let model: ModelLocation;
  if (source === MODEL_SOURCE.asset) {
    model = { kind: 'asset', path: required(env, V.modelPath, `the model file for ${V.modelSource}=${MODEL_SOURCE.asset}`) };
  } else if (source === MODEL_SOURCE.s3) {
    const objectVersion = env[V.modelObjectVersion];
    model = {
      kind: 's3',
      bucket: required(env, V.modelBucket, `the bucket for ${V.modelSource}=${MODEL_SOURCE.s3}`),
      key: required(env, V.modelKey, `the object key for ${V.modelSource}=${MODEL_SOURCE.s3}`),
      ...(objectVersion ? { objectVersion } : {}),
    };
  } else {
    fail(`environment variable ${V.modelSource} must be ${MODEL_SOURCE.asset} or ${MODEL_SOURCE.s3}`);
  }

  const rawSha256 = env[V.modelSha256];
  const sha256 = rawSha256 ? rawSha256.trim().toLowerCase() : undefined;
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) {
    fail(`environment variable ${V.modelSha256} must be a SHA-256 in hex (64 characters)`);
  }
  if (model.kind === 's3' && sha256 === undefined) {
    fail(`environment variable ${V.modelSha256} is required for ${V.modelSource}=${MODEL_SOURCE.s3} (the integrity check of the downloaded model)`);
  }

  const modelVersion = required(env, V.modelVersion, 'named in every response').trim();
  if (!/^[\x20-\x7e]{1,128}$/.test(modelVersion)) {
    fail(`environment variable ${V.modelVersion} must be 1 to 128 printable ASCII characters (it is also sent as a header)`);
  }

  let classNames: string[] | undefined;
  const rawClassNames = env[V.classNames];
  if (rawClassNames !== undefined && rawClassNames !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawClassNames);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || parsed.length === 1 || !parsed.every((c) => typeof c === 'string' && c.length > 0)
      || new Set(parsed).size !== parsed.length) {
      fail(`environment variable ${V.classNames} must be a JSON array of at least 2 unique, non-empty strings (or [] for a model that is no classifier)`);
    }
    if (parsed.length > 0) classNames = parsed as string[];
  }

  let allowedOrigins: string[] = [];
  const rawOrigins = env[V.allowedOrigins];
  if (rawOrigins !== undefined && rawOrigins !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawOrigins);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((o) => typeof o === 'string' && /^https?:\/\/[^\s/]+$/.test(o))) {
      fail(`environment variable ${V.allowedOrigins} must be a JSON array of origins like "https://app.example.com"`);
    }
    allowedOrigins = parsed as string[];
  }

  const scores = env[V.classifierScores] || 'logits';
  if (scores !== 'logits' && scores !== 'probabilities') {
    fail(`environment variable ${V.classifierScores} must be logits or probabilities`);
  }

  const capture = readCapture(env);
  return {
    model,
    ...(sha256 !== undefined ? { sha256 } : {}),
    modelVersion,
    ...(classNames ? { classNames } : {}),
    classifierScores: scores,
    maxBodyBytes: integer(env, V.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 16, MAX_MAX_BODY_BYTES),
    maxBatch: integer(env, V.maxBatch, DEFAULT_MAX_BATCH, 1, 1_000_000),
    intraOpThreads: integer(env, V.intraOpThreads, 1, 1, 64),
    metricsNamespace: env[V.metricsNamespace] || DEFAULT_METRICS_NAMESPACE,
    serviceName: env[V.serviceName] || DEFAULT_SERVICE_NAME,
    allowedOrigins,
    ...(capture ? { capture } : {}),
  };
}

function readCapture(env: Env): CaptureConfig | undefined {
  const raw = env[V.capturePercent];
  if (raw === undefined || raw.trim() === '' || raw.trim() === '0') return undefined;
  const percent = Number(raw);
  // decimal, or exponent notation for a tiny share (String(1e-7) is '1e-7')
  if (!/^\d+(\.\d+)?(e-?\d+)?$/i.test(raw.trim()) || !(percent > 0 && percent <= 100)) {
    fail(`environment variable ${V.capturePercent} must be a number above 0 and at most 100 (or 0 for no capture)`);
  }
  const name = required(env, V.captureName, `the endpoint's capture name, with ${V.capturePercent} above 0`);
  if (!CAPTURE_NAME_PATTERN.test(name)) {
    fail(`environment variable ${V.captureName} must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  return { percent, name, maxBytes: integer(env, V.captureMaxBytes, DEFAULT_CAPTURE_MAX_BYTES, MIN_CAPTURE_MAX_BYTES, MAX_CAPTURE_MAX_BYTES) };
}
