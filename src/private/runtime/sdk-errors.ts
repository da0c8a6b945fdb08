/**
 * AWS SDK errors as handlers log and classify them: names (never messages, which may quote
 * request parameters or input) and the outcomes a handler branches on. No SDK client here.
 */

/** Error name only (`'non-error thrown'` for anything that is not an `Error`). */
export function errorName(e: unknown): string {
  return e instanceof Error ? e.name : 'non-error thrown';
}

/**
 * Name and HTTP status of an SDK error, safe to log: a name that is not a plain identifier (1 to
 * 64 of `A-Z a-z 0-9 _ . : -`) is logged as `Error`; a thrown non-object as its `typeof`.
 */
export function errorInfo(e: unknown): { error: string; status?: number } {
  const name = e instanceof Error || (isRecord(e) && typeof e.name === 'string') ? String((e as { name: unknown }).name) : typeof e;
  const status = (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return { error: /^[A-Za-z0-9_.:-]{1,64}$/.test(name) ? name : 'Error', ...(typeof status === 'number' ? { status } : {}) };
}

/** One of `names`, or (when given) the HTTP `status` of a client fault. */
function is(e: unknown, names: readonly string[], status?: number): boolean {
  const info = errorInfo(e);
  return names.includes(info.error) || (status !== undefined && info.status === status && !isServerFault(e));
}

function isServerFault(e: unknown): boolean {
  return (e as { $fault?: string } | undefined)?.$fault === 'server';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** S3: the object (version) does not exist. */
export const isMissing = (e: unknown) => is(e, ['NoSuchKey', 'NoSuchVersion', 'NotFound'], 404);
/** S3 conditional write: the object exists (If-None-Match) or changed (If-Match). */
export const isPreconditionFailed = (e: unknown) => is(e, ['PreconditionFailed'], 412);
/** S3 ranged GET of an empty object. */
export const isInvalidRange = (e: unknown) => is(e, ['InvalidRange'], 416);
/** DynamoDB conditional write failed. */
export const isConditionFailed = (e: unknown) => is(e, ['ConditionalCheckFailedException']);
