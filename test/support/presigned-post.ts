/**
 * Presigned-POST helpers for tests: send what `createPresignedPost` returned the way a browser
 * would (examples/local-aws/presigned-post.ts), and decode the signed policy.
 *
 * moto stores the object but does NOT enforce the policy conditions (content-length-range,
 * starts-with, the SSE-KMS fields): assert those with `decodePostPolicy()` instead.
 */
export { postPresigned } from '../../examples/local-aws/presigned-post';
export type { PresignedPostResponse } from '../../examples/local-aws/presigned-post';

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
