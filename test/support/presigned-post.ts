/**
 * Presigned-POST helpers for tests: send what `createPresignedPost` returned the way a browser
 * would (multipart/form-data, policy fields first, the file last), and decode the signed policy.
 *
 * moto stores the object but does NOT enforce the policy conditions (content-length-range,
 * starts-with, the SSE-KMS fields): assert those with `decodePostPolicy()` instead.
 */

export interface PresignedPostResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/**
 * POSTs `body` to a presigned-POST `url` with the signed `fields`, as multipart/form-data.
 * `contentType` is the MIME type of the file part (S3 takes the object's Content-Type from a
 * `Content-Type` form field, which must then be in `fields` and allowed by the policy).
 */
export async function postPresigned(
  url: string,
  fields: Readonly<Record<string, string>>,
  body: string | Uint8Array | Blob,
  contentType = 'application/octet-stream',
  fileName = 'upload.bin',
): Promise<PresignedPostResponse> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    form.append(name, value);
  }
  // S3 ignores every field after `file`, so it must come last.
  const blob = body instanceof Blob ? body : new Blob([typeof body === 'string' ? body : new Uint8Array(body)], { type: contentType });
  form.append('file', blob, fileName);
  const res = await fetch(url, { method: 'POST', body: form });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** A decoded POST policy document. */
export interface PostPolicy {
  readonly expiration: string;
  /** `{ field: value }` (exact match), `['eq'|'starts-with', '$field', value]` or `['content-length-range', min, max]`. */
  readonly conditions: ReadonlyArray<Record<string, string> | [string, ...Array<string | number>]>;
}

/** Decodes the base64 `Policy` field of a presigned POST (the document S3 checks the signature of). */
export function decodePostPolicy(fields: Readonly<Record<string, string>>): PostPolicy {
  const policy = fields.Policy ?? fields.policy;
  if (!policy) throw new Error('no Policy field in the presigned POST fields');
  return JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as PostPolicy;
}
