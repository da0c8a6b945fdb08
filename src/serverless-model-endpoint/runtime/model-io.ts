/**
 * The model's own description of its inputs and outputs, as onnxruntime reports it
 * (`session.inputMetadata` / `session.outputMetadata`), turned into what the endpoint validates
 * requests against. Structural types only: this module does not load onnxruntime.
 */
import { ModelInitError } from './errors';

/**
 * One entry of `InferenceSession.inputMetadata` / `outputMetadata` (onnxruntime-common 1.30):
 * `{ name, isTensor: true, type: 'float32', shape: ['batch', 12] }` or `{ name, isTensor: false }`.
 * A shape entry is a number (fixed size; negative for an unnamed dynamic axis) or a string
 * (a named, symbolic dynamic axis). An empty shape is a scalar.
 */
export interface ValueMetadataLike {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

/** Element types this endpoint accepts as inputs, with the typed array each one is fed as. */
export type InputElementType =
  | 'float32' | 'float64'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool';

/** A tensor as onnxruntime takes and returns it (`ort.Tensor` has these three members). */
export interface TensorData {
  readonly type: string;
  readonly data: ArrayLike<number | bigint | boolean | string> & { readonly length: number };
  readonly dims: readonly number[];
}

/**
 * One axis of an input: a fixed size, or dynamic. Dynamic axes with the same symbol must have the
 * same size in every input of one request (onnxruntime would refuse the run otherwise).
 */
export interface AxisSpec {
  /** The required size; undefined for a dynamic axis. */
  readonly size?: number;
  /** The symbolic name of a dynamic axis ('batch'); undefined when fixed or unnamed. */
  readonly symbol?: string;
}

/** What one model input requires. */
export interface InputSpec {
  readonly name: string;
  readonly type: InputElementType;
  readonly axes: readonly AxisSpec[];
  /**
   * Whether the first axis is a dynamic batch axis: then a request may send one example without
   * it (a value of rank `axes.length - 1`), and the batch limit applies to it.
   */
  readonly batched: boolean;
  /** Human-readable shape, e.g. `float32[batch, 12]`. Built from the model only. */
  readonly description: string;
}

/** What one model output produces. */
export interface OutputSpec {
  readonly name: string;
  readonly type: string;
  readonly axes: readonly AxisSpec[];
}

const INPUT_TYPES: ReadonlySet<string> = new Set<InputElementType>([
  'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool',
]);

/** A name safe to print in messages: model-provided, but keep it printable and short. */
export function printableName(name: string): string {
  return /^[\w.:/-]{1,128}$/.test(name) ? name : JSON.stringify(name.slice(0, 128));
}

function axisOf(dim: number | string): AxisSpec {
  if (typeof dim === 'string') {
    return dim === '' ? {} : { symbol: dim };
  }
  return Number.isSafeInteger(dim) && dim >= 0 ? { size: dim } : {};
}

/** `[batch, 12]`: symbols by name, unnamed dynamic axes as `?`. */
export function describeAxes(axes: readonly AxisSpec[]): string {
  return `[${axes.map((a) => a.size !== undefined ? String(a.size) : a.symbol !== undefined ? printableName(a.symbol) : '?').join(', ')}]`;
}

/**
 * The input specs of a model, in the model's order. Throws a `ModelInitError` (UNSUPPORTED_MODEL)
 * for inputs the endpoint cannot fill from JSON: non-tensors, strings, float16, 4-bit types.
 */
export function inputSpecs(metadata: readonly ValueMetadataLike[]): InputSpec[] {
  if (metadata.length === 0) {
    throw new ModelInitError('UNSUPPORTED_MODEL', 'the model declares no inputs');
  }
  return metadata.map((m) => {
    const name = printableName(m.name);
    if (!m.isTensor) {
      throw new ModelInitError('UNSUPPORTED_MODEL', `model input ${name} is not a tensor (a sequence or map); the endpoint serves tensor inputs only`);
    }
    if (!m.type || !INPUT_TYPES.has(m.type)) {
      throw new ModelInitError('UNSUPPORTED_MODEL',
        `model input ${name} has element type ${m.type ?? 'unknown'}; the endpoint accepts ${[...INPUT_TYPES].join(', ')}`);
    }
    const axes = (m.shape ?? []).map(axisOf);
    const batched = axes.length > 0 && axes[0].size === undefined;
    return { name: m.name, type: m.type as InputElementType, axes, batched, description: `${m.type}${describeAxes(axes)}` };
  });
}

/** The output specs of a model (non-tensor outputs keep type 'non-tensor' and no axes). */
export function outputSpecs(metadata: readonly ValueMetadataLike[]): OutputSpec[] {
  return metadata.map((m) => m.isTensor
    ? { name: m.name, type: m.type ?? 'unknown', axes: (m.shape ?? []).map(axisOf) }
    : { name: m.name, type: 'non-tensor', axes: [] });
}
