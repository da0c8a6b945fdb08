/**
 * The two kinds of failure of the prediction endpoint: a client's bad request (4xx, the message
 * says what was expected and never echoes a received value) and a model that cannot be served
 * (configuration, integrity, loading; a server fault).
 */

/** Why a request was refused. Stable codes: clients and logs may rely on them. */
export type RequestErrorCode =
  | 'BODY_MISSING'
  | 'BODY_TOO_LARGE'
  | 'INVALID_JSON'
  | 'INVALID_REQUEST'
  | 'UNKNOWN_INPUT'
  | 'MISSING_INPUT'
  | 'SHAPE_MISMATCH'
  | 'BATCH_TOO_LARGE'
  | 'INVALID_VALUE';

/**
 * A request the endpoint refuses. `message` is built only from the model's metadata, the
 * configured limits and positions in the request, never from received values.
 */
export class InvalidRequestError extends Error {
  public readonly code: RequestErrorCode;
  /** 413 for a body over the size limit, 400 otherwise. */
  public readonly statusCode: number;

  constructor(code: RequestErrorCode, message: string) {
    super(message);
    this.name = 'InvalidRequestError';
    this.code = code;
    this.statusCode = code === 'BODY_TOO_LARGE' ? 413 : 400;
  }
}

/** What went wrong while preparing the model. */
export type ModelInitReason =
  /** An environment variable is missing or malformed. */
  | 'CONFIG'
  /** The model bytes could not be read (file, S3). */
  | 'READ'
  /** The bytes do not have the configured SHA-256. */
  | 'INTEGRITY'
  /** onnxruntime could not create a session from the bytes. */
  | 'SESSION'
  /** The model's inputs or outputs are not servable by this endpoint, or do not fit its configuration. */
  | 'UNSUPPORTED_MODEL';

/** The endpoint cannot serve: a server fault, reported once at initialization. */
export class ModelInitError extends Error {
  public readonly reason: ModelInitReason;

  constructor(reason: ModelInitReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelInitError';
    this.reason = reason;
  }
}
