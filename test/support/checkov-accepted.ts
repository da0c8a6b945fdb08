/**
 * THE reviewed list of checkov checks that may fail on our synthesized templates, each with a
 * written reason. `checkovReport()` (./template-scanners.ts) moves the failed checks an entry
 * covers out of `failed` into `accepted`, and lists entries that matched nothing in
 * `unusedAcceptances` so stale entries can be removed.
 *
 * Rules for adding an entry:
 *   - Fix first. Add an entry only when the check cannot or should not pass, and say why in
 *     words an auditor can follow (what the check wants, why it does not apply, what covers the
 *     risk instead).
 *   - Scope it as narrowly as possible with `path` (construct path glob from the
 *     `aws:cdk:path` metadata, e.g. `'LakeStack/Lake/AccessLogs/Resource'`; `*` matches within one
 *     path segment, a double star any number of segments) and/or `resourceType`. An entry without `path` accepts the
 *     check on every resource of every scanned template.
 *   - Checks in CHECKOV_NEVER_ACCEPTED below cannot be listed (validateAcceptances() throws);
 *     they mirror /work/shared/security.md: "Never acknowledged: encryption at rest, TLS-only,
 *     public access, key rotation, API authorization, request validation, admin/full-access IAM".
 *   - Do not suppress checks inside templates (`Metadata: { checkov: { skip: [...] } }`): they
 *     are reported in `skippedInTemplate` and bypass this review.
 */

export interface CheckovAcceptance {
  /** The checkov check id, e.g. `CKV_AWS_117`. */
  readonly id: string;
  /** Why the failure is acceptable. Written for an auditor; at least a full sentence. */
  readonly reason: string;
  /** Construct path glob(s) (aws:cdk:path metadata) or RegExp the entry is limited to. */
  readonly path?: string | RegExp | ReadonlyArray<string | RegExp>;
  /** CloudFormation resource type the entry is limited to, e.g. `AWS::S3::Bucket`. */
  readonly resourceType?: string;
}

/**
 * Accepted failing checks. Empty on purpose: nothing has been reviewed yet. Candidates that
 * commonly come up for this kind of library, NOT accepted until someone reviews the real finding:
 *   CKV_AWS_18  access logging on the access-log bucket itself (a log bucket cannot log to itself
 *               without a loop; scope with `path` to the access-log bucket only),
 *   CKV_AWS_117 Lambda outside a VPC, CKV_AWS_116 a DLQ on synchronously invoked functions,
 *   CKV_AWS_115 reserved concurrency, CKV_AWS_173 CMK for Lambda environment variables,
 *   CKV_AWS_120 API Gateway caching (we deliberately do not cache personal data),
 *   CKV_AWS_111 / CKV_AWS_107 `Resource: *` for actions without resource-level permissions
 *               (X-Ray, ENI, ecr:GetAuthorizationToken).
 */
export const CHECKOV_ACCEPTED: readonly CheckovAcceptance[] = [];

/** Checks that may never be accepted, with the security-bar rule each one enforces. */
export const CHECKOV_NEVER_ACCEPTED: Readonly<Record<string, string>> = {
  // encryption at rest
  CKV_AWS_19: 'encryption at rest (S3)',
  CKV_AWS_26: 'encryption at rest (SNS)',
  CKV_AWS_27: 'encryption at rest (SQS)',
  CKV_AWS_119: 'encryption at rest (DynamoDB, customer-managed key)',
  CKV_AWS_136: 'encryption at rest (ECR, KMS)',
  CKV_AWS_158: 'encryption at rest (CloudWatch Logs, KMS)',
  CKV_AWS_187: 'encryption at rest (SageMaker domain/notebook, customer-managed key)',
  CKV_AWS_3: 'encryption at rest (EBS)',
  // key rotation
  CKV_AWS_7: 'key rotation (KMS)',
  // public access
  CKV_AWS_20: 'public access (S3 public READ)',
  CKV_AWS_57: 'public access (S3 public WRITE)',
  CKV_AWS_53: 'public access (S3 block public ACLs)',
  CKV_AWS_54: 'public access (S3 block public policy)',
  CKV_AWS_55: 'public access (S3 ignore public ACLs)',
  CKV_AWS_56: 'public access (S3 restrict public buckets)',
  CKV_AWS_32: 'public access (ECR repository policy)',
  CKV_AWS_33: 'public access (KMS key policy with a wildcard principal)',
  // API authorization
  CKV_AWS_59: 'API authorization (API Gateway method without authorizer)',
  CKV_AWS_258: 'API authorization (Lambda function URL with AuthType NONE)',
  CKV_AWS_366: 'API authorization (Cognito identity pool with unauthenticated access)',
  // admin / full-access IAM
  CKV_AWS_62: 'admin/full-access IAM statement ("*:*")',
  CKV_AWS_63: 'admin/full-access IAM statement (Action "*")',
  CKV_AWS_60: 'admin/full-access IAM (role assumable by any principal)',
  CKV_AWS_61: 'admin/full-access IAM (assume role across all services)',
  CKV_AWS_109: 'admin/full-access IAM (permissions management without constraints)',
  CKV_AWS_110: 'admin/full-access IAM (privilege escalation)',
};
