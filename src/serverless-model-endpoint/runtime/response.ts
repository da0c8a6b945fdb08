/**
 * Turn onnxruntime's outputs into the JSON response: every output as a nested array of its shape,
 * the model version, and for classifiers the class names with, per example, the argmax class and
 * the probabilities.
 */
import { ModelInitError } from './errors';
import { describeAxes, OutputSpec, printableName, TensorData } from './model-io';

/** How a classifier output is to be read. */
export type ClassifierScores = 'logits' | 'probabilities';

/** Which output is the classifier's, and what its classes are called. */
export interface ClassifierSpec {
  readonly output: string;
  readonly classNames: readonly string[];
  /** `logits`: the endpoint applies softmax; `probabilities`: the model already did. */
  readonly scores: ClassifierScores;
}

/** One example's classification. */
export interface Prediction {
  /** The class with the highest score (null only when every score is NaN). */
  readonly label: string | null;
  /** Its index in `classNames` (-1 only when every score is NaN). */
  readonly index: number;
  /** One probability per class, in the order of `classNames`. */
  readonly probabilities: number[];
}

/** The JSON body of a successful response. */
export interface PredictResponseBody {
  /**
   * The inference id (UUID version 7), also in the `X-Inference-Id` header: the key of the
   * prediction's capture and of its ground truth. Set by the handler on every 200 answer.
   */
  readonly inferenceId?: string;
  readonly modelVersion: string;
  /** Every model output, by name, as a nested array of its shape. */
  readonly outputs: Record<string, unknown>;
  /** Present for classifiers. */
  readonly classNames?: readonly string[];
  /** Present for classifiers: one entry per example (row of the classifier output). */
  readonly predictions?: Prediction[];
}

/**
 * Pick the classifier output: the one output of rank 2 whose last axis has as many entries as there
 * are classes. Throws a `ModelInitError` (UNSUPPORTED_MODEL) when none or several fit.
 */
export function classifierSpec(outputs: readonly OutputSpec[], classNames: readonly string[], scores: ClassifierScores): ClassifierSpec {
  const fits = outputs.filter((o) => o.axes.length === 2 && o.axes[1].size === classNames.length && /^float(32|64)$/.test(o.type));
  if (fits.length !== 1) {
    const described = outputs.map((o) => `${printableName(o.name)}: ${o.type}${describeAxes(o.axes)}`).join('; ');
    throw new ModelInitError('UNSUPPORTED_MODEL', fits.length === 0
      ? `CLASS_NAMES has ${classNames.length} classes, but no model output is a float tensor of shape [batch, ${classNames.length}] (outputs: ${described})`
      : `CLASS_NAMES has ${classNames.length} classes, and several model outputs have shape [batch, ${classNames.length}] (outputs: ${described})`);
  }
  return { output: fits[0].name, classNames, scores };
}

/** A JSON-safe element: bigint within the safe range becomes a number, beyond it a decimal string. */
function jsonElement(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(-Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  return v;
}

/** A tensor as a nested array of its shape (a scalar for rank 0). Booleans stay booleans. */
export function toNestedArray(tensor: TensorData): unknown {
  const { data, dims } = tensor;
  const isBool = tensor.type === 'bool';
  const leaf = isBool ? (v: unknown) => v === 1 || v === true : jsonElement;
  if (dims.length === 0) return leaf(data[0]);
  let offset = 0;
  const build = (level: number): unknown[] => {
    const n = dims[level];
    const out = new Array<unknown>(n);
    if (level === dims.length - 1) {
      for (let i = 0; i < n; i++) out[i] = leaf(data[offset++]);
    } else {
      for (let i = 0; i < n; i++) out[i] = build(level + 1);
    }
    return out;
  };
  return build(0);
}

/** Numerically stable softmax of `row` (computed in float64). */
export function softmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  const out = new Array<number>(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    out[i] = Math.exp(row[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < row.length; i++) out[i] /= sum;
  return out;
}

/** Index of the largest value (the first on ties); -1 when all are NaN. */
export function argmax(row: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < row.length; i++) {
    if (row[i] > bestValue || (best === -1 && row[i] === bestValue)) {
      best = i;
      bestValue = row[i];
    }
  }
  return best;
}

/** Per-example predictions from the classifier output (shape [n, classes]). */
export function classify(tensor: TensorData, classifier: ClassifierSpec): Prediction[] {
  const classes = classifier.classNames.length;
  const rows = tensor.dims[0];
  const data = tensor.data as ArrayLike<number>;
  const predictions = new Array<Prediction>(rows);
  for (let r = 0; r < rows; r++) {
    const scores = new Array<number>(classes);
    for (let c = 0, o = r * classes; c < classes; c++, o++) scores[c] = data[o];
    const probabilities = classifier.scores === 'logits' ? softmax(scores) : scores;
    const index = argmax(probabilities);
    predictions[r] = { label: index >= 0 ? classifier.classNames[index] : null, index, probabilities };
  }
  return predictions;
}

/** The response body for the outputs of one run. */
export function serializePrediction(
  outputs: Readonly<Record<string, TensorData>>,
  modelVersion: string,
  classifier?: ClassifierSpec,
): PredictResponseBody {
  const nested: Record<string, unknown> = {};
  for (const name of Object.keys(outputs)) nested[name] = toNestedArray(outputs[name]);
  if (!classifier) return { modelVersion, outputs: nested };
  const scores = outputs[classifier.output];
  return {
    modelVersion,
    outputs: nested,
    classNames: classifier.classNames,
    predictions: scores ? classify(scores, classifier) : [],
  };
}
