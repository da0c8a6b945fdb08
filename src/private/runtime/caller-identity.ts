/**
 * Who called an API handler, and the keyed pseudonym that stands for the caller wherever the
 * library records one (the upload handler's object keys, and from there events, ledger items,
 * quarantine sidecars). No AWS SDK here: the handler injects the MAC (KMS GenerateMac,
 * HMAC-SHA-256 with the lake's pseudonymization key).
 *
 *   identity  = callerIdentity({ cognitoSub, cognitoIdentityId, principalId, userArn })
 *   pseudonym = await callerPseudonyms(mac)(identity)     // 32 lowercase hex digits
 *
 * The raw identity (a Cognito `sub`, an identity id, an IAM principal) never leaves the handler:
 * it is the MAC's message and the cache's key, nothing else.
 */

/** The identity claims a handler may see in the API Gateway request context. */
export interface CallerContext {
  /** Cognito user pool `sub` claim (`requestContext.authorizer.claims.sub`). */
  readonly cognitoSub?: string;
  /** Cognito identity pool id (IAM authorization through an identity pool; `requestContext.identity.cognitoIdentityId`). */
  readonly cognitoIdentityId?: string;
  /**
   * The IAM principal id (`requestContext.identity.caller`): `AROA…:<session name>` for a role
   * session, `AIDA…` for an IAM user, the account id for the root user or a federated user.
   */
  readonly principalId?: string;
  /** IAM user or role ARN (`requestContext.identity.userArn`), the fallback when `principalId` is absent. */
  readonly userArn?: string;
}

/**
 * The identity a pseudonym is derived from. `kind` keeps the kinds apart (a value of one kind
 * never gives the pseudonym of another).
 */
export interface CallerIdentity {
  readonly kind: 'cognito-sub' | 'cognito-identity' | 'iam-principal' | 'iam-role' | 'iam-arn';
  readonly value: string;
}

/** A Cognito `sub` (a UUID) or similar opaque id: a letter or digit, then letters, digits, '-' and '_'. */
const SAFE_SUB = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** A Cognito identity id: `<region>:<uuid>`, the region starting with a letter or digit. */
const SAFE_IDENTITY_ID = /^[a-z0-9][a-z0-9-]{0,31}:[A-Za-z0-9-]{1,64}$/;
/**
 * An IAM principal id: the unique id of a role (`AROA…`) or user (`AIDA…`), or an account id,
 * optionally followed by `:` and a name the caller chose (a role session name, a federated user
 * name), which is dropped.
 */
const PRINCIPAL_ID = /^([A-Z0-9]{12,128})(?::[\x21-\x7e]{1,128})?$/;
/** An STS assumed-role ARN; the session name (the last segment) is the caller's choice and is dropped. */
const ASSUMED_ROLE_ARN = /^(arn:[a-z-]{1,32}:sts::\d{12}:assumed-role\/[\x21-\x7e]{1,512})\/[\x21-\x7e]{1,128}$/;
/** Any other ARN (an IAM user, a role). */
const ARN = /^arn:[a-z-]{1,32}:[a-z0-9-]{1,32}:[a-z0-9-]*:\d{0,12}:[\x21-\x7e]{1,1024}$/;

/**
 * The caller's identity, or undefined when the request carries no usable one (the handler then
 * answers 403): the Cognito `sub`, else the Cognito identity id (identity-pool callers share the
 * pool's role, so the identity id is what tells them apart), else the IAM principal.
 *
 * IAM callers are keyed on what they cannot choose: the principal id without its session or
 * federated-user name (a role's unique id, so every session of one role is one caller), or,
 * without a principal id, the ARN without the role session name. Claims that do not have their
 * documented shape are ignored.
 */
export function callerIdentity(caller: CallerContext): CallerIdentity | undefined {
  if (typeof caller.cognitoSub === 'string' && SAFE_SUB.test(caller.cognitoSub)) {
    return { kind: 'cognito-sub', value: caller.cognitoSub };
  }
  if (typeof caller.cognitoIdentityId === 'string' && SAFE_IDENTITY_ID.test(caller.cognitoIdentityId)) {
    return { kind: 'cognito-identity', value: caller.cognitoIdentityId };
  }
  const principal = typeof caller.principalId === 'string' ? PRINCIPAL_ID.exec(caller.principalId) : null;
  if (principal) return { kind: 'iam-principal', value: principal[1] };
  if (typeof caller.userArn === 'string') {
    const role = ASSUMED_ROLE_ARN.exec(caller.userArn);
    if (role) return { kind: 'iam-role', value: role[1] };
    if (ARN.test(caller.userArn)) return { kind: 'iam-arn', value: caller.userArn };
  }
  return undefined;
}

/** Marks the message of a caller pseudonym; 0xFE never occurs in UTF-8 text. */
const CALLER_DOMAIN = 0xfe;
const CALLER_LABEL = 'cdk-secure-mlops/caller/v1';

/**
 * The MAC's message for an identity: the byte 0xFE, `cdk-secure-mlops/caller/v1`, NUL, the kind,
 * NUL, the value (UTF-8; every part is ASCII without NUL, so the encoding is injective). The
 * cleaning handler MACs identifiers of records with the same key; its messages are well-formed
 * UTF-8 text (or start with 0xFF), which never starts with 0xFE: no record identifier can be made
 * to yield a caller's pseudonym.
 */
export function callerMacMessage(identity: CallerIdentity): Uint8Array {
  const text = Buffer.from(`${CALLER_LABEL}\0${identity.kind}\0${identity.value}`, 'utf8');
  const message = new Uint8Array(text.byteLength + 1);
  message[0] = CALLER_DOMAIN;
  message.set(text, 1);
  return message;
}

/** Hex digits of a pseudonym: the first 16 bytes (128 bits) of the MAC. */
export const PSEUDONYM_HEX_DIGITS = 32;

/**
 * A caller pseudonym as one key-safe path segment: 32 lowercase hex digits (the first 16 bytes of
 * the HMAC-SHA-256). Fixed length, URL-safe, the same on case-insensitive file systems; it never
 * starts with `-` or `.` and never contains `/`.
 */
export function pseudonymSegment(mac: Uint8Array): string {
  if (mac.byteLength < PSEUDONYM_HEX_DIGITS / 2) throw new Error(`a MAC of at least ${PSEUDONYM_HEX_DIGITS / 2} bytes is required`);
  return Buffer.from(mac.subarray(0, PSEUDONYM_HEX_DIGITS / 2)).toString('hex');
}

/** HMAC-SHA-256 of a message with the pseudonymization key (the handler calls KMS GenerateMac). */
export type MacBytes = (message: Uint8Array) => Promise<Uint8Array>;

/** The pseudonyms of callers, cached. */
export interface CallerPseudonyms {
  /** The pseudonym segment of an identity (one MAC call on a cache miss; a failed call is not cached). */
  (identity: CallerIdentity): Promise<string>;
  /** Identities cached now. */
  readonly size: number;
}

/**
 * Pseudonyms of callers, cached per execution environment in a least-recently-used map of at
 * most `capacity` identities (a KMS call per request would add its latency to every request;
 * callers come back). Concurrent requests of one caller share one call.
 */
export function callerPseudonyms(mac: MacBytes, capacity = 1024): CallerPseudonyms {
  if (!(Number.isSafeInteger(capacity) && capacity > 0)) throw new Error(`capacity must be a positive integer, got ${capacity}`);
  const cache = new Map<string, Promise<string>>();
  const pseudonyms = (identity: CallerIdentity): Promise<string> => {
    const key = `${identity.kind}\0${identity.value}`;
    let p = cache.get(key);
    if (p) {
      // Most recently used: move to the end of the insertion order.
      cache.delete(key);
      cache.set(key, p);
      return p;
    }
    p = mac(callerMacMessage(identity)).then(pseudonymSegment);
    cache.set(key, p);
    p.catch(() => {
      if (cache.get(key) === p) cache.delete(key);
    });
    if (cache.size > capacity) cache.delete(cache.keys().next().value as string);
    return p;
  };
  return Object.defineProperty(pseudonyms, 'size', { get: () => cache.size }) as CallerPseudonyms;
}
