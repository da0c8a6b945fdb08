import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type * as S3 from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as ort from 'onnxruntime-node';
import { createCapture } from './capture';
import { EndpointConfig, readEndpointConfig } from './config';
import { ENDPOINT_METRIC as METRIC } from './contract';
import { InvalidRequestError, ModelInitError } from './errors';
import { uuidv7 } from './inference-id';
import { TensorData } from './model-io';
import { fileModelSource, loadModelBytes, ModelSource, s3ModelSource } from './model-source';
import { createPredictor, InferenceBackend, Predictor } from './predictor';
import { createMetrics, MetricDefinition, metricRecorder } from '../../private/runtime/metrics';

/*
 * `POST /predict`: ONNX inference with onnxruntime-node.
 *
 * Once per execution environment (module scope): the configuration is read (a bad variable fails
 * the init phase with a message naming it), and loading the model starts at once. The bundle is
 * CommonJS (no top-level await), so the handler awaits that same promise: the InferenceSession is
 * created once, never per request, and concurrent first requests share it. Caveat: Lambda's init
 * phase ends when the module has loaded, and the environment may be frozen before the load
 * finishes, so with provisioned concurrency part of the load (about 50 ms for the reference model)
 * can still fall on the first request. An ES module bundle with top-level await would make init
 * wait for it. A load that failed because the model could not be READ (a transient S3 error) is
 * retried by the next request; integrity, session and model-shape failures are final for the
 * environment and answered with 500 at once (and counted in ServerErrors).
 *
 * Logs carry outcomes, codes, sizes and timings, never request or response values. Metrics are
 * EMF lines on stdout, written by Powertools (see private/runtime/metrics.ts).
 *
 * Hot path, measured with test/bench/serverless-model-endpoint.bench.ts (one example):
 * - Metrics: one Powertools EMF record per request. It costs about 15 to 20 µs more than the
 *   hand-written encoder it replaced (the handler's p50 over `session.run` went from 8-16 µs to
 *   24-34 µs with stdout on /dev/null, 23-26 µs to 45-46 µs on a drained pipe) and allocates about
 *   4 times as much: well inside the budget of 100 µs at p50, so the library's one way of writing
 *   metrics is kept here too.
 * - Tracing: the X-Ray SDK (Powertools Tracer) is not loaded. Loading it costs tens of ms of cold
 *   start, and its async hooks (cls-hooked) add about 1 to 2 µs to every await in the process, on
 *   every request. The handler's one SDK call, GetObject of an S3 model, runs in the init phase,
 *   where X-Ray records no subsegments (the SDK only logs "Missing AWS Lambda trace data"); Lambda's
 *   active tracing shows the init phase as a whole.
 * - Inference id: a UUID version 7 per 200 answer (runtime/inference-id.ts, well under 1 µs).
 * - Capture (CAPTURE_PERCENT > 0): a sampled request writes one more line to stdout (its JSON
 *   serialization is the cost, growing with the request) and its EMF record carries two more
 *   metrics; no network call. The benchmark measures it on and off side by side.
 */

const config: EndpointConfig = readEndpointConfig(process.env);
const logger = new Logger({ serviceName: config.serviceName });

const metrics = createMetrics(config.metricsNamespace, config.serviceName);

/** One EMF record per call for one kind of record; every record names the model version. */
function metricWriter(...definitions: MetricDefinition[]): (values: number[], properties: Record<string, unknown>) => void {
  const record = metricRecorder(metrics, definitions);
  return (values, properties) => {
    properties.modelVersion = config.modelVersion;
    record(values, properties);
  };
}
const emitLoaded = metricWriter({ name: METRIC.modelLoadTime, unit: 'Milliseconds' });
const emitOk = metricWriter(
  { name: METRIC.requestLatency, unit: 'Milliseconds' },
  { name: METRIC.inferenceLatency, unit: 'Milliseconds' },
  { name: METRIC.batchSize, unit: 'Count' },
);
/** A sampled 200 answer with capture on: the same record, plus the capture's outcome. */
const emitOkCaptured = metricWriter(
  { name: METRIC.requestLatency, unit: 'Milliseconds' },
  { name: METRIC.inferenceLatency, unit: 'Milliseconds' },
  { name: METRIC.batchSize, unit: 'Count' },
  { name: METRIC.capturesWritten, unit: 'Count' },
  { name: METRIC.capturesDropped, unit: 'Count' },
);
const emitRefused = metricWriter({ name: METRIC.clientErrors, unit: 'Count' });
const emitFault = metricWriter({ name: METRIC.serverErrors, unit: 'Count' });

/**
 * The S3 source; the SDK is loaded only for MODEL_SOURCE=s3 (it costs ~0.3 s of cold start). Its
 * client is not traced (see the hot path above).
 */
function s3Source(location: Extract<EndpointConfig['model'], { kind: 's3' }>): ModelSource {
  return s3ModelSource(location.bucket, location.key, async (bucket, key) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('@aws-sdk/client-s3') as typeof S3;
    const client = new sdk.S3Client({});
    try {
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key, VersionId: location.objectVersion }));
      if (!res.Body) throw new Error('GetObject returned no body');
      logger.info('model object fetched', { serverSideEncryption: res.ServerSideEncryption, contentLength: res.ContentLength });
      return await res.Body.transformToByteArray();
    } finally {
      client.destroy();
    }
  });
}

function modelSource(): ModelSource {
  return config.model.kind === 's3'
    ? s3Source(config.model)
    : fileModelSource(path.resolve(__dirname, config.model.path));
}

/** onnxruntime's session behind the endpoint's `InferenceBackend` seam. */
function backendOf(session: ort.InferenceSession): InferenceBackend {
  return {
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
    run: async (feeds, fetches) => {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const name of Object.keys(feeds)) {
        const t = feeds[name];
        ortFeeds[name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.dims);
      }
      // ort.Tensor has `type`, `data` and `dims`: it is a TensorData.
      return (await session.run(ortFeeds, fetches as string[])) as unknown as Record<string, TensorData>;
    },
  };
}

async function loadPredictor(): Promise<Predictor> {
  const t0 = performance.now();
  const source = modelSource();
  const model = await loadModelBytes(source, config.sha256);
  const t1 = performance.now();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model.bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: config.intraOpThreads,
      interOpNumThreads: 1,
    });
  } catch (e) {
    throw new ModelInitError('SESSION',
      `onnxruntime could not create a session from ${source.description}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const predictor = createPredictor(backendOf(session), {
    modelVersion: config.modelVersion,
    modelSha256: model.sha256,
    classNames: config.classNames,
    classifierScores: config.classifierScores,
    limits: { maxBodyBytes: config.maxBodyBytes, maxBatch: config.maxBatch },
  });
  const sessionMs = performance.now() - t1;
  const loadMs = performance.now() - t0;
  logger.info('model loaded', {
    source: source.description,
    sha256: model.sha256,
    bytes: model.bytes.length,
    readMs: model.readMs,
    hashMs: model.hashMs,
    sessionMs,
    loadMs,
    inputs: predictor.inputs.map((i) => `${i.name}: ${i.description}`),
    classifier: predictor.classifier?.output,
  });
  emitLoaded([loadMs], { modelSha256: model.sha256 });
  return predictor;
}

let pending: Promise<Predictor> | undefined;

/** The predictor of this execution environment: loaded once, shared by every request. */
export function modelReady(): Promise<Predictor> {
  if (!pending) {
    const attempt = loadPredictor();
    pending = attempt;
    attempt.catch((e: unknown) => {
      const reason = e instanceof ModelInitError ? e.reason : 'UNEXPECTED';
      logger.error('model load failed', { reason, error: e instanceof Error ? e.message : String(e) });
      emitFault([1], { outcome: 'model-load-failed', reason });
      // Only a read failure (S3 unavailable, throttled) may succeed when tried again.
      if (reason === 'READ' && pending === attempt) pending = undefined;
    });
  }
  return pending;
}

// Start loading during the init phase. Failures are logged above and answered per request.
modelReady().catch(() => undefined);

const allowedOrigins: ReadonlySet<string> = new Set(config.allowedOrigins);

/** Prediction capture, when configured: gets the inference id, the inputs and the body, nothing of the event. */
const capture = config.capture
  ? createCapture({ endpoint: config.capture.name, percent: config.capture.percent, maxBytes: config.capture.maxBytes })
  : undefined;

function respond(event: APIGatewayProxyEvent, statusCode: number, body: unknown, inferenceId?: string): APIGatewayProxyResult {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'X-Model-Version': config.modelVersion,
  };
  if (inferenceId) headers['X-Inference-Id'] = inferenceId;
  if (allowedOrigins.size > 0) {
    const origin = event.headers?.origin ?? event.headers?.Origin;
    if (origin && allowedOrigins.has(origin)) {
      headers['Access-Control-Allow-Origin'] = origin;
      headers['Access-Control-Expose-Headers'] = 'X-Model-Version, X-Inference-Id';
      headers.Vary = 'Origin';
    }
  }
  return { statusCode, headers, body: JSON.stringify(body) };
}

/**
 * `POST /predict` with `{"inputs": {"<input>": [[...], ...]}}`. 200 with the inference id (also in
 * the `X-Inference-Id` header), outputs, model version and (classifiers) predictions; 400/413
 * with a message saying what was expected; 500 only when the model is unavailable or a valid
 * request fails to run. With capture on, a sampled 200 answer also writes its capture line.
 */
export async function handler(event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> {
  const t0 = performance.now();
  const requestId = context?.awsRequestId;
  // The Lambda context goes into Powertools logs only when one is written (a successful request
  // writes none: its EMF line carries the request id), which keeps it off the hot path.
  const withContext = () => {
    if (context) logger.addContext(context);
    return logger;
  };
  let predictor: Predictor;
  try {
    predictor = await modelReady();
  } catch {
    // Already logged once per load attempt; count the refused request.
    emitFault([1], { outcome: 'model-unavailable', statusCode: 500, requestId });
    return respond(event, 500, { message: 'the model is not available', modelVersion: config.modelVersion });
  }
  try {
    const outcome = await predictor.predict(event.body, event.isBase64Encoded);
    const time = Date.now();
    const inferenceId = uuidv7(time);
    const response = respond(event, 200, { inferenceId, ...outcome.body }, inferenceId);
    const captured = capture?.({ inferenceId, time, modelSha256: predictor.modelSha256, inputs: outcome.inputs, body: outcome.body });
    if (captured?.sampled) {
      // Never fails the answer: a drop is counted, with its reason (no payload value).
      emitOkCaptured([performance.now() - t0, outcome.inferenceMs, outcome.batchSize, captured.written ? 1 : 0, captured.written ? 0 : 1],
        captured.written
          ? { outcome: 'ok', statusCode: 200, requestId }
          : { outcome: 'ok', statusCode: 200, requestId, captureDropReason: captured.reason, ...(captured.bytes ? { captureBytes: captured.bytes } : {}) });
      return response;
    }
    emitOk([performance.now() - t0, outcome.inferenceMs, outcome.batchSize], { outcome: 'ok', statusCode: 200, requestId });
    return response;
  } catch (e) {
    if (e instanceof InvalidRequestError) {
      // The message is built from the model's metadata and limits only: safe to log.
      withContext().info('request refused', { code: e.code, statusCode: e.statusCode });
      emitRefused([1], { outcome: 'refused', code: e.code, statusCode: e.statusCode, requestId });
      return respond(event, e.statusCode, { message: e.message, code: e.code, modelVersion: config.modelVersion });
    }
    // onnxruntime's messages name shapes and types, not tensor values.
    withContext().error('prediction failed', { error: e instanceof Error ? `${e.name}: ${e.message}` : 'non-error thrown' });
    emitFault([1], { outcome: 'failed', statusCode: 500, requestId });
    return respond(event, 500, { message: 'the prediction failed', modelVersion: config.modelVersion });
  }
}
