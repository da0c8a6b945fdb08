/**
 * Parse and validate a prediction request against the model's own input metadata, and build the
 * typed arrays onnxruntime is fed with.
 *
 * Request body (JSON): `{ "inputs": { "<input name>": <nested array> , ... } }`, one member per
 * model input, nothing else.
 *
 * - Each value is a nested array of exactly the input's shape: fixed axes must have their size,
 *   dynamic axes any size from 1, and dynamic axes with the same symbol the same size across
 *   inputs (`batch`).
 * - Batches: when an input's first axis is dynamic, it is the batch axis. A request may then also
 *   send ONE example without it (e.g. `[12 numbers]` for `float32[batch, 12]`); it is run as a
 *   batch of one, and the response is always in batch form (a list of one). A model without a
 *   dynamic first axis takes exactly its declared shape.
 * - Values: JSON numbers for float and integer types (finite, within the type's range, integral
 *   for integer types; 64-bit integers within ±(2^53 - 1)), `true`/`false` for bool.
 * - Limits: the body's size in bytes (after base64 decoding) and the batch size.
 *
 * Failures throw `InvalidRequestError` whose message says what was expected. Messages are built
 * from the model's metadata, the limits and positions (indices) only, never from received values.
 */
import { InvalidRequestError } from './errors';
import { describeAxes, InputElementType, InputSpec, printableName, TensorData } from './model-io';

/** Limits applied before and while parsing. */
export interface RequestLimits {
  /** Largest accepted body, in bytes after base64 decoding. */
  readonly maxBodyBytes: number;
  /** Largest accepted size of a batch axis. */
  readonly maxBatch: number;
}

/** A validated request, ready to run. */
export interface ParsedRequest {
  /** One tensor per model input, keyed by input name. */
  readonly feeds: Record<string, TensorData>;
  /** Size of the batch axis (1 for an un-batched example or a model without a batch axis). */
  readonly batchSize: number;
  /**
   * The request's inputs as validated, in batch form (an un-batched example is wrapped in a list of
   * one), keyed by input name: the parsed JSON values themselves, not copies (for the capture).
   */
  readonly inputs: Record<string, unknown>;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** A typed array and how to convert and check one JSON leaf for it. */
interface ElementCodec {
  readonly expected: string;
  allocate(n: number): { [i: number]: unknown; readonly length: number };
  /** The value to store, or undefined when the JSON value is not acceptable. */
  convert(v: unknown): number | bigint | undefined;
}

function integerCodec(min: number, max: number, allocate: (n: number) => { [i: number]: unknown; readonly length: number }): ElementCodec {
  return {
    expected: `an integer from ${min} to ${max}`,
    allocate,
    convert: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined),
  };
}

const CODECS: Record<InputElementType, ElementCodec> = {
  float32: {
    expected: 'a finite number within float32 range',
    allocate: (n) => new Float32Array(n),
    convert: (v) => (typeof v === 'number' && v <= FLOAT32_MAX && v >= -FLOAT32_MAX ? v : undefined),
  },
  float64: {
    expected: 'a finite number',
    allocate: (n) => new Float64Array(n),
    convert: (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined),
  },
  int8: integerCodec(-128, 127, (n) => new Int8Array(n)),
  uint8: integerCodec(0, 255, (n) => new Uint8Array(n)),
  int16: integerCodec(-32768, 32767, (n) => new Int16Array(n)),
  uint16: integerCodec(0, 65535, (n) => new Uint16Array(n)),
  int32: integerCodec(-2147483648, 2147483647, (n) => new Int32Array(n)),
  uint32: integerCodec(0, 4294967295, (n) => new Uint32Array(n)),
  int64: {
    expected: `an integer from ${-Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`,
    allocate: (n) => new BigInt64Array(n),
    convert: (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined),
  },
  uint64: {
    expected: `an integer from 0 to ${Number.MAX_SAFE_INTEGER}`,
    allocate: (n) => new BigUint64Array(n),
    convert: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : undefined),
  },
  bool: {
    expected: 'true or false',
    allocate: (n) => new Uint8Array(n),
    convert: (v) => (v === true ? 1 : v === false ? 0 : undefined),
  },
};

/** `{"inputs": {"features": float32[batch, 12]}}`: the request shape, from the model only. */
export function describeRequest(specs: readonly InputSpec[]): string {
  return `{"inputs": {${specs.map((s) => `"${printableName(s.name)}": ${s.description}`).join(', ')}}}`;
}

/** Decode the body (base64 when API Gateway says so) and check its size, without parsing it. */
export function decodeBody(body: string | null | undefined, isBase64Encoded: boolean, limits: RequestLimits): string {
  if (body === null || body === undefined || body === '') {
    throw new InvalidRequestError('BODY_MISSING', 'request body is required');
  }
  const tooLarge = () => new InvalidRequestError('BODY_TOO_LARGE', `request body is too large: at most ${limits.maxBodyBytes} bytes`);
  if (isBase64Encoded) {
    // 4 base64 characters carry 3 bytes: refuse before decoding what cannot fit.
    if (Math.floor(body.length / 4) * 3 > limits.maxBodyBytes + 3) throw tooLarge();
    const bytes = Buffer.from(body, 'base64');
    if (bytes.length > limits.maxBodyBytes) throw tooLarge();
    return bytes.toString('utf8');
  }
  // A UTF-16 code unit takes 1 to 3 bytes in UTF-8: count bytes only when it matters.
  if (body.length > limits.maxBodyBytes || (body.length * 3 > limits.maxBodyBytes && Buffer.byteLength(body, 'utf8') > limits.maxBodyBytes)) {
    throw tooLarge();
  }
  return body;
}

/** A request parser compiled for one model's inputs and limits (messages and lookups built once). */
export type RequestParser = (text: string) => ParsedRequest;

/** What `compileRequestParser` precomputes for one input. */
interface CompiledInput {
  readonly spec: InputSpec;
  readonly name: string;
  readonly codec: ElementCodec;
  /** The shape help of every SHAPE_MISMATCH message of this input. */
  readonly shapeHelp: string;
}

/**
 * Parse decoded JSON bodies into feeds for the model. `specs` come from
 * `inputSpecs(session.inputMetadata)`. Compile once per model, call per request.
 */
export function compileRequestParser(specs: readonly InputSpec[], limits: RequestLimits): RequestParser {
  const request = describeRequest(specs);
  const known = new Set(specs.map((s) => s.name));
  const inputList = specs.map((s) => printableName(s.name)).join(', ');
  const inputs: CompiledInput[] = specs.map((spec) => ({
    spec,
    name: printableName(spec.name),
    codec: CODECS[spec.type],
    shapeHelp: spec.batched
      ? `${spec.description} (a list of at most ${limits.maxBatch} examples), or ${describeAxes(spec.axes.slice(1))} for one example`
      : spec.description,
  }));

  return (text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InvalidRequestError('INVALID_JSON', `request body is not valid JSON; expected ${request}`);
    }
    if (!isPlainObject(parsed)) {
      throw new InvalidRequestError('INVALID_REQUEST', `request body must be a JSON object ${request}`);
    }
    let members = 0;
    for (const key in parsed) {
      if (key !== 'inputs' || ++members > 1) {
        throw new InvalidRequestError('INVALID_REQUEST', `request body must be a JSON object with one member "inputs": ${request}`);
      }
    }
    const values = parsed.inputs;
    if (!isPlainObject(values)) {
      throw new InvalidRequestError('INVALID_REQUEST', `request body must be a JSON object with one member "inputs": ${request}`);
    }
    for (const key in values) {
      if (!known.has(key)) {
        throw new InvalidRequestError('UNKNOWN_INPUT', `request names an input the model does not have; the model's inputs are: ${inputList}`);
      }
    }

    // Every leaf takes at least one byte of the body: a regular array cannot hold more elements.
    const maxElements = text.length;
    const feeds: Record<string, TensorData> = {};
    const validated: Record<string, unknown> = {};
    let symbolSizes: Map<string, { size: number; input: string }> | undefined;
    let batchSize = 1;
    let batchFound = false;
    for (const input of inputs) {
      const spec = input.spec;
      if (!Object.prototype.hasOwnProperty.call(values, spec.name)) {
        throw new InvalidRequestError('MISSING_INPUT', `input ${input.name} is required: ${spec.description}`);
      }
      const tensor = buildTensor(input, values[spec.name], limits, maxElements);
      for (let i = 0; i < spec.axes.length; i++) {
        const symbol = spec.axes[i].symbol;
        if (symbol === undefined) continue;
        symbolSizes ??= new Map();
        const size = tensor.dims[i];
        const seen = symbolSizes.get(symbol);
        if (seen === undefined) {
          symbolSizes.set(symbol, { size, input: spec.name });
        } else if (seen.size !== size) {
          throw new InvalidRequestError('SHAPE_MISMATCH',
            `dimension ${printableName(symbol)} must have the same size in every input; inputs ${printableName(seen.input)} and ${input.name} differ`);
        }
      }
      if (spec.batched && !batchFound) {
        batchSize = tensor.dims[0];
        batchFound = true;
      }
      feeds[spec.name] = tensor;
      // (buildTensor accepted it: one rank short means one example without the batch axis)
      const value = values[spec.name];
      validated[spec.name] = spec.batched && depthOf(value, spec.axes.length) === spec.axes.length - 1 ? [value] : value;
    }
    return { feeds, batchSize, inputs: validated };
  };
}

/** Parse one decoded JSON body (compiles a parser per call: use `compileRequestParser` on a hot path). */
export function parsePredictRequest(text: string, specs: readonly InputSpec[], limits: RequestLimits): ParsedRequest {
  return compileRequestParser(specs, limits)(text);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Nesting depth along the first elements, up to `limit` + 1 (a deeper value is wrong anyway). */
function depthOf(value: unknown, limit: number): number {
  let depth = 0;
  let cur = value;
  while (Array.isArray(cur) && depth <= limit) {
    depth++;
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return depth;
}

function buildTensor(input: CompiledInput, value: unknown, limits: RequestLimits, maxElements: number): TensorData {
  const { spec, name, codec, shapeHelp } = input;
  const rank = spec.axes.length;
  const depth = depthOf(value, rank);
  const unbatched = spec.batched && depth === rank - 1;
  if (depth !== rank && !unbatched) {
    throw new InvalidRequestError('SHAPE_MISMATCH', `input ${name} must be ${shapeHelp}; it has the wrong number of dimensions`);
  }
  const first = unbatched ? 1 : 0;

  // Sizes along the first elements; checked against every sibling while filling.
  const dims: number[] = [];
  let count = 1;
  let cur: unknown = value;
  for (let a = first; a < rank; a++) {
    const arr = cur as unknown[];
    const axis = spec.axes[a];
    if (axis.size !== undefined && arr.length !== axis.size) {
      throw new InvalidRequestError('SHAPE_MISMATCH', `input ${name} must be ${shapeHelp}; axis ${a} must have length ${axis.size}`);
    }
    if (axis.size === undefined && arr.length === 0) {
      throw new InvalidRequestError('SHAPE_MISMATCH', `input ${name} must be ${shapeHelp}; axis ${a} must not be empty`);
    }
    if (a === 0 && spec.batched && arr.length > limits.maxBatch) {
      throw new InvalidRequestError('BATCH_TOO_LARGE', `input ${name}: at most ${limits.maxBatch} examples per request`);
    }
    dims.push(arr.length);
    count *= arr.length;
    cur = arr[0];
  }
  if (count > maxElements) {
    // Only a ragged array can claim more elements than the body has bytes.
    throw new InvalidRequestError('SHAPE_MISMATCH', `input ${name} must be ${shapeHelp}; its nested arrays do not all have the same lengths`);
  }
  const out = codec.allocate(count);
  const ragged = (position: number[]) => new InvalidRequestError('SHAPE_MISMATCH',
    `input ${name} must be ${shapeHelp}; its nested arrays do not all have the same lengths (at [${position.join(', ')}])`);
  const invalid = (position: number[]) => new InvalidRequestError('INVALID_VALUE',
    `input ${name}: element [${position.join(', ')}] must be ${codec.expected}`);

  if (dims.length === 0) {
    const v = codec.convert(value);
    if (v === undefined) throw invalid([]);
    out[0] = v;
  } else {
    const last = dims.length - 1;
    const width = dims[last];
    const convert = codec.convert;
    const position: number[] = [];
    let offset = 0;
    const fill = (node: unknown, level: number): void => {
      if (!Array.isArray(node) || node.length !== dims[level]) throw ragged(position);
      if (level === last) {
        // the innermost arrays: a tight loop, no bookkeeping unless a value is refused
        for (let i = 0; i < width; i++) {
          const v = convert(node[i]);
          if (v === undefined) throw invalid([...position, i]);
          out[offset++] = v;
        }
        return;
      }
      for (let i = 0; i < node.length; i++) {
        position.push(i);
        fill(node[i], level + 1);
        position.pop();
      }
    };
    fill(value, 0);
  }
  return { type: spec.type, data: out as TensorData['data'], dims: unbatched ? [1, ...dims] : dims };
}
