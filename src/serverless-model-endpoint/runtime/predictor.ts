/**
 * The request path of the prediction endpoint, independent of Lambda and of onnxruntime's native
 * module: decode → parse → validate against the model's metadata → run → serialize. The handler
 * adapts an `InferenceSession` to `InferenceBackend`; tests and benchmarks can use it directly.
 */
import { ModelInitError } from './errors';
import { InputSpec, inputSpecs, OutputSpec, outputSpecs, TensorData, ValueMetadataLike } from './model-io';
import { compileRequestParser, decodeBody, RequestLimits } from './request';
import { ClassifierScores, ClassifierSpec, classifierSpec, PredictResponseBody, serializePrediction } from './response';

/** What the endpoint needs of an onnxruntime `InferenceSession`. */
export interface InferenceBackend {
  readonly inputMetadata: readonly ValueMetadataLike[];
  readonly outputMetadata: readonly ValueMetadataLike[];
  /** Run with `feeds` and return the outputs named in `fetches`. */
  run(feeds: Readonly<Record<string, TensorData>>, fetches: readonly string[]): Promise<Readonly<Record<string, TensorData>>>;
}

export interface PredictorOptions {
  readonly modelVersion: string;
  /** Makes the model a classifier: one of its outputs must be [batch, classNames.length]. */
  readonly classNames?: readonly string[];
  /** Default `logits`. */
  readonly classifierScores?: ClassifierScores;
  readonly limits: RequestLimits;
  /** SHA-256 of the model's bytes (hex), named in captures. @default - unknown ('') */
  readonly modelSha256?: string;
}

/** The result of one successful prediction. */
export interface PredictOutcome {
  readonly body: PredictResponseBody;
  readonly batchSize: number;
  /** Time spent in `backend.run`, in milliseconds. */
  readonly inferenceMs: number;
  /** The request's validated inputs in batch form (see `ParsedRequest.inputs`). */
  readonly inputs: Record<string, unknown>;
}

export interface Predictor {
  readonly modelVersion: string;
  /** SHA-256 of the model's bytes (hex); '' when not given. */
  readonly modelSha256: string;
  readonly inputs: readonly InputSpec[];
  readonly outputs: readonly OutputSpec[];
  readonly classifier?: ClassifierSpec;
  readonly limits: RequestLimits;
  /**
   * Serve one request body. Throws `InvalidRequestError` for a bad request; any other error is a
   * server fault (the request was valid for the model's metadata, yet the run failed).
   */
  predict(body: string | null | undefined, isBase64Encoded?: boolean): Promise<PredictOutcome>;
}

/**
 * Build the request path for a loaded model. Throws `ModelInitError` (UNSUPPORTED_MODEL) when the
 * model's inputs cannot be filled from JSON, it has no tensor output, or the class names fit no
 * output.
 */
export function createPredictor(backend: InferenceBackend, options: PredictorOptions): Predictor {
  const inputs = inputSpecs(backend.inputMetadata);
  const outputs = outputSpecs(backend.outputMetadata);
  const fetches = outputs.filter((o) => o.type !== 'non-tensor').map((o) => o.name);
  if (fetches.length === 0) {
    throw new ModelInitError('UNSUPPORTED_MODEL', 'the model has no tensor output');
  }
  const classifier = options.classNames
    ? classifierSpec(outputs, options.classNames, options.classifierScores ?? 'logits')
    : undefined;
  const { limits, modelVersion } = options;
  const parse = compileRequestParser(inputs, limits);

  return {
    modelVersion,
    modelSha256: options.modelSha256 ?? '',
    inputs,
    outputs,
    classifier,
    limits,
    async predict(body, isBase64Encoded = false) {
      const text = decodeBody(body, isBase64Encoded, limits);
      const request = parse(text);
      const t0 = performance.now();
      const result = await backend.run(request.feeds, fetches);
      const inferenceMs = performance.now() - t0;
      return { body: serializePrediction(result, modelVersion, classifier), batchSize: request.batchSize, inferenceMs, inputs: request.inputs };
    },
  };
}
