/**
 * What ServerlessModelEndpoint (with ModelArtifact and the packaging in runtime-package.ts) and the
 * predict handler both read: the environment variables the construct sets, where the packaged
 * model lies in the function's package, and the metrics the handler writes (the construct's
 * alarms and `metricXxx()` methods read them). No aws-cdk-lib here: the handler bundles this file.
 */

/** Environment variables of the predict handler (runtime/config.ts reads and checks them). */
export const ENDPOINT_ENV = {
  /** `asset` (a file in the package) or `s3` (see `MODEL_SOURCE`). */
  modelSource: 'MODEL_SOURCE',
  /** The packaged model, relative to the handler's directory (`PACKAGED_MODEL_PATH`). */
  modelPath: 'MODEL_PATH',
  /** Bucket of an S3 model. */
  modelBucket: 'MODEL_BUCKET',
  /** Object key of an S3 model. */
  modelKey: 'MODEL_KEY',
  /** S3 version id of the model object (optional). */
  modelObjectVersion: 'MODEL_OBJECT_VERSION',
  /** SHA-256 (hex) of the model bytes, checked when the model loads. */
  modelSha256: 'MODEL_SHA256',
  /** The model version every response names. */
  modelVersion: 'MODEL_VERSION',
  /** JSON array of class names (`[]`: no classifier). */
  classNames: 'CLASS_NAMES',
  /** `logits` or `probabilities` (optional). */
  classifierScores: 'CLASSIFIER_SCORES',
  /** Largest request body in bytes. */
  maxBodyBytes: 'MAX_BODY_BYTES',
  /** Most examples in one request. */
  maxBatch: 'MAX_BATCH',
  /** onnxruntime intra-op threads (optional). */
  intraOpThreads: 'ORT_INTRA_OP_THREADS',
  /** JSON array of origins that get CORS headers. */
  allowedOrigins: 'ALLOWED_ORIGINS',
  /** Service name of the logs, and the `service` dimension of the metrics. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** CloudWatch namespace of the handler's metrics. */
  metricsNamespace: 'METRICS_NAMESPACE',
  /** Share of 200 answers captured, in percent: `0` (or unset) = off, up to `100`. */
  capturePercent: 'CAPTURE_PERCENT',
  /** The endpoint's capture name (`PredictionCapture.endpoint`); required when capture is on. */
  captureName: 'CAPTURE_NAME',
  /** Largest capture line in bytes; a larger capture is dropped and counted. */
  captureMaxBytes: 'CAPTURE_MAX_BYTES',
} as const;

/** Environment variables of the capture writer (runtime/capture-writer.ts reads them). */
export const CAPTURE_WRITER_ENV = {
  /** The lake's models zone bucket. */
  bucket: 'CAPTURE_BUCKET',
  /** ARN of the lake's key (SSE-KMS of every capture object). */
  keyArn: 'CAPTURE_KEY_ARN',
  /** The endpoint's capture name: the `endpoint=` partition, and the only `endpoint` accepted. */
  captureName: 'CAPTURE_NAME',
  /** Same as the endpoint's, so that its capture metrics share the endpoint's `service`. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'METRICS_NAMESPACE',
} as const;

/** Default of `CAPTURE_MAX_BYTES`: under CloudWatch Logs' 256 KiB event limit, with room to spare. */
export const DEFAULT_CAPTURE_MAX_BYTES = 200_000;
/** Most `CAPTURE_MAX_BYTES` (a log event holds 262,144 bytes, 26 of which are the event's overhead). */
export const MAX_CAPTURE_MAX_BYTES = 262_118;
/** Least `CAPTURE_MAX_BYTES`. */
export const MIN_CAPTURE_MAX_BYTES = 1024;

/** Values of `MODEL_SOURCE`. */
export const MODEL_SOURCE = {
  /** The model is a file in the function's package (zip or image). */
  asset: 'asset',
  /** The model is an S3 object, downloaded once per execution environment. */
  s3: 's3',
} as const;

/** Directory of the packaged model in the function's package. */
export const PACKAGED_MODEL_DIR = 'model';
/** File name of the packaged model in `PACKAGED_MODEL_DIR`. */
export const PACKAGED_MODEL_FILE = 'model.onnx';
/** `MODEL_PATH` of a packaged model: relative to the handler's directory. */
export const PACKAGED_MODEL_PATH = `${PACKAGED_MODEL_DIR}/${PACKAGED_MODEL_FILE}`;

/** The namespace the construct sets in `METRICS_NAMESPACE` and its alarms read. */
export const METRICS_NAMESPACE = 'cdk-secure-mlops/ServerlessModelEndpoint';

/** Metric names the handler writes (dimension: `service`, the construct's `serviceName`). */
export const ENDPOINT_METRIC = {
  /** Once per execution environment: reading, hashing and session creation, ms. */
  modelLoadTime: 'ModelLoadTime',
  /** Per request: the handler's whole path (decode, parse, validate, run, serialize), ms. */
  requestLatency: 'RequestLatency',
  /** Per request: `session.run` alone, ms. */
  inferenceLatency: 'InferenceLatency',
  /** Per request: examples in the batch. */
  batchSize: 'BatchSize',
  /** Per refused request (4xx). */
  clientErrors: 'ClientErrors',
  /** Per server fault (5xx), including a model that failed to load. */
  serverErrors: 'ServerErrors',
  /** Per sampled request whose capture line was written to stdout (with capture on). */
  capturesWritten: 'CapturesWritten',
  /**
   * Per capture that will not reach the lake: too large or failed to build (predict handler), or
   * a malformed line (capture writer). The record's `captureDropReason` says which.
   */
  capturesDropped: 'CapturesDropped',
  /** Capture writer: capture lines written to the lake (a retry's already-written objects excluded). */
  capturesDelivered: 'CapturesDelivered',
  /** Capture writer: per PutObject that failed (the invocation then fails, and Lambda retries it). */
  captureDeliveryFailures: 'CaptureDeliveryFailures',
} as const;

/** `captureDropReason` values of `CapturesDropped`. */
export const CAPTURE_DROP_REASON = {
  /** The line would exceed `CAPTURE_MAX_BYTES`. */
  tooLarge: 'TOO_LARGE',
  /** Building or writing the line threw. */
  error: 'CAPTURE_ERROR',
} as const;
