/**
 * Where the model bytes come from, and their integrity check. A source is a tiny interface so the
 * handler can plug in S3 (GetObject from the KMS-encrypted models zone) without this module
 * knowing the SDK.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ModelInitError } from './errors';

/** Something that yields the model's bytes. */
export interface ModelSource {
  /** Where the bytes come from, for messages and logs (`file:/var/task/model.onnx`, `s3://bucket/key`). */
  readonly description: string;
  read(): Promise<Uint8Array>;
}

/** The bytes of a file (a model shipped in the deployment package or the container image). */
export function fileModelSource(path: string): ModelSource {
  return { description: `file:${path}`, read: async () => readFile(path) };
}

/** The object of an S3 bucket, read through `getObject` (the handler passes an SDK call). */
export function s3ModelSource(
  bucket: string,
  key: string,
  getObject: (bucket: string, key: string) => Promise<Uint8Array>,
): ModelSource {
  return { description: `s3://${bucket}/${key}`, read: () => getObject(bucket, key) };
}

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Verified model bytes. */
export interface LoadedModel {
  readonly bytes: Uint8Array;
  /** The SHA-256 of `bytes` (computed; equal to the expected one when one was given). */
  readonly sha256: string;
  /** Time to read the bytes, in milliseconds. */
  readonly readMs: number;
  /** Time to hash them, in milliseconds. */
  readonly hashMs: number;
}

/**
 * Read the model and check it against `expectedSha256` (when given). A read failure is a
 * `ModelInitError` READ, a different hash (or an empty model) INTEGRITY; both name the source.
 */
export async function loadModelBytes(source: ModelSource, expectedSha256?: string): Promise<LoadedModel> {
  const t0 = performance.now();
  let bytes: Uint8Array;
  try {
    bytes = await source.read();
  } catch (e) {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new ModelInitError('READ', `could not read the model from ${source.description}: ${why}`, { cause: e });
  }
  const t1 = performance.now();
  if (bytes.length === 0) {
    throw new ModelInitError('INTEGRITY', `the model at ${source.description} is empty`);
  }
  const sha256 = sha256Hex(bytes);
  const t2 = performance.now();
  if (expectedSha256 !== undefined && sha256 !== expectedSha256.toLowerCase()) {
    throw new ModelInitError('INTEGRITY',
      `model integrity check failed for ${source.description}: expected SHA-256 ${expectedSha256.toLowerCase()}, got ${sha256} `
      + `(${bytes.length} bytes); the model is not the one this endpoint was deployed with (corrupted, or replaced without a new deployment)`);
  }
  return { bytes, sha256, readMs: t1 - t0, hashMs: t2 - t1 };
}
