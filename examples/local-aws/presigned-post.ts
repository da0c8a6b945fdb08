/**
 * Send what `createPresignedPost` returned the way a browser would (multipart/form-data, policy
 * fields first, the file last).
 *
 * moto stores the object but does NOT enforce the policy conditions (content-length-range,
 * starts-with, the SSE-KMS fields): the tests decode the signed policy and assert those instead.
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
