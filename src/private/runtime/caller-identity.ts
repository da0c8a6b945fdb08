/**
 * Who called an API handler, as one key-safe path segment: the upload handler puts uploads
 * under `<prefix><segment>/…`, the review API names reviewers by it. No AWS SDK here.
 */

/** The identity claims a handler may see in the API Gateway request context. */
export interface CallerContext {
  /** Cognito user pool `sub` claim. */
  readonly cognitoSub?: string;
  /** Cognito identity pool id (IAM authorization through an identity pool). */
  readonly cognitoIdentityId?: string;
  /** IAM user or role ARN (IAM authorization). */
  readonly userArn?: string;
}

/** A Cognito `sub` (a UUID) or similar opaque id: a letter or digit, then letters, digits, '-' and '_'. */
const SAFE_SUB = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** A Cognito identity id: `<region>:<uuid>`, the region starting with a letter or digit. */
const SAFE_IDENTITY_ID = /^[a-z0-9][a-z0-9-]{0,31}:[A-Za-z0-9-]{1,64}$/;

/**
 * Derive a key-safe identifier of the caller, or undefined when the request carries no usable
 * identity (the handler then answers 403): the Cognito `sub`, else the identity id (`:` → `_`),
 * else `iam-` and 32 hex digits of the IAM ARN's hash (`sha256Hex`, given by the caller).
 *
 * A segment is 1 to 128 characters of `A-Z a-z 0-9 _ -` and starts with a letter or digit: it
 * never starts with `-` or `.`, and never contains `/` or `..`, so it cannot leave its folder or
 * read as an option.
 */
export function callerKeySegment(caller: CallerContext, sha256Hex: (s: string) => string): string | undefined {
  if (caller.cognitoSub && SAFE_SUB.test(caller.cognitoSub)) {
    return caller.cognitoSub;
  }
  if (caller.cognitoIdentityId && SAFE_IDENTITY_ID.test(caller.cognitoIdentityId)) {
    return caller.cognitoIdentityId.replace(':', '_');
  }
  if (caller.userArn && caller.userArn.startsWith('arn:')) {
    return `iam-${sha256Hex(caller.userArn).slice(0, 32)}`;
  }
  return undefined;
}
