/**
 * Turn a synthesized CloudFormation template into concrete policy documents for an IAM policy
 * simulator: every `Ref`, `Fn::GetAtt` and `Fn::Join` is resolved to a deterministic value
 * derived from the logical id, in one fixed account and region.
 */

export const ACCOUNT = '111111111111';
export const REGION = 'eu-central-1';

export interface ResolvedTemplate {
  /** Resolve any template value (policy document, property) to plain JSON. */
  resolve(value: unknown): any;
  /** The concrete ARN of a resource by logical id. */
  arnOf(logicalId: string): string;
  /** The concrete name or id (`Ref`) of a resource by logical id. */
  refOf(logicalId: string): string;
  /** Identity policies attached to a role (inline `AWS::IAM::Policy` resources). */
  identityPoliciesOf(roleLogicalId: string): { name: string; policy: any }[];
  /** The resolved bucket policy of a bucket. */
  bucketPolicyOf(bucketLogicalId: string): any;
  /** The resolved key policy of a key. */
  keyPolicyOf(keyLogicalId: string): any;
  /** The logical ids of resources of a type whose id starts with a prefix. */
  idsOf(type: string, prefix?: string): string[];
}

export function resolveTemplate(template: any): ResolvedTemplate {
  const resources: Record<string, any> = template.Resources;
  const typeOf = (id: string) => {
    const r = resources[id];
    if (!r) { throw new Error(`no resource ${id} in template`); }
    return r.Type as string;
  };
  const refOf = (id: string): string => {
    switch (typeOf(id)) {
      case 'AWS::S3::Bucket': return `bucket-${id.toLowerCase()}`;
      case 'AWS::KMS::Key': return `key-${id.toLowerCase()}`;
      case 'AWS::IAM::Role': return `role-${id}`;
      default: return `ref-${id}`;
    }
  };
  const arnOf = (id: string): string => {
    switch (typeOf(id)) {
      case 'AWS::S3::Bucket': return `arn:aws:s3:::${refOf(id)}`;
      case 'AWS::KMS::Key': return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${refOf(id)}`;
      case 'AWS::IAM::Role': return `arn:aws:iam::${ACCOUNT}:role/${refOf(id)}`;
      case 'AWS::Logs::LogGroup': return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${refOf(id)}:*`;
      default: return `arn:aws:unknown:${REGION}:${ACCOUNT}:${id}`;
    }
  };
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Test',
  };
  const resolve = (value: unknown): any => {
    if (Array.isArray(value)) { return value.map(resolve); }
    if (value === null || typeof value !== 'object') { return value; }
    const obj = value as Record<string, any>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [k] = keys;
      const v = obj[k];
      if (k === 'Ref') { return pseudo[v] ?? refOf(v); }
      if (k === 'Fn::GetAtt') {
        const [id, attr] = v as [string, string];
        if (attr === 'Arn') { return arnOf(id); }
        return `${attr}-${id}`;
      }
      if (k === 'Fn::Join') {
        const [sep, parts] = v as [string, unknown[]];
        return parts.map((p) => String(resolve(p))).join(sep);
      }
      if (k.startsWith('Fn::')) { throw new Error(`unsupported intrinsic ${k}`); }
    }
    return Object.fromEntries(keys.map((k) => [k, resolve(obj[k])]));
  };
  const idsOf = (type: string, prefix = '') => Object.keys(resources).filter((id) => resources[id].Type === type && id.startsWith(prefix));

  return {
    resolve,
    arnOf,
    refOf,
    idsOf,
    identityPoliciesOf(roleId) {
      return Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((ref: any) => ref.Ref === roleId))
        .map(([id, r]) => ({ name: id, policy: resolve(r.Properties.PolicyDocument) }));
    },
    bucketPolicyOf(bucketId) {
      const policy = Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === bucketId);
      if (!policy) { throw new Error(`no bucket policy for ${bucketId}`); }
      return resolve(policy.Properties.PolicyDocument);
    },
    keyPolicyOf(keyId) {
      return resolve(resources[keyId].Properties.KeyPolicy);
    },
  };
}
