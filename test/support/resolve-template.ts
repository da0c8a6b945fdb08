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

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Test',
};

/**
 * Resolves a template value with the given `Ref` and `Fn::GetAtt …Arn` conventions: pseudo
 * parameters, `Ref`, `Fn::GetAtt` (`Arn`, or `<attr>-<id>` for other attributes), `Fn::Join`,
 * `Fn::Split`, `Fn::Select`; any other intrinsic throws.
 */
function intrinsicResolver(refOf: (id: string) => string, arnOf: (id: string) => string): (value: unknown) => any {
  const resolve = (value: unknown): any => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, any>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [k] = keys;
      const v = obj[k];
      if (k === 'Ref') return PSEUDO_PARAMETERS[v] ?? refOf(v);
      if (k === 'Fn::GetAtt') {
        const [id, attr] = (typeof v === 'string' ? v.split('.') : v) as [string, string];
        return attr === 'Arn' ? arnOf(id) : `${attr}-${id}`;
      }
      if (k === 'Fn::Join') {
        const [sep, parts] = v as [string, unknown[]];
        return parts.map((p) => String(resolve(p))).join(sep);
      }
      if (k === 'Fn::Split') {
        const [sep, source] = v as [string, unknown];
        return String(resolve(source)).split(sep);
      }
      if (k === 'Fn::Select') {
        const [index, list] = v as [number | string, unknown];
        return (resolve(list) as unknown[])[Number(index)];
      }
      if (k.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${k} in ${JSON.stringify(value)}`);
    }
    return Object.fromEntries(keys.map((key) => [key, resolve(obj[key])]));
  };
  return resolve;
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
  const resolve = intrinsicResolver(refOf, arnOf);
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

/** A template resolved with the service conventions of `resolveServiceTemplate`. */
export interface ServiceResolvedTemplate {
  /** The template resolved as `resolveTemplate` does (bucket, key, role and log group conventions). */
  readonly base: ResolvedTemplate;
  /** Resolve any template value to plain JSON, with service ARNs and names. */
  resolve(value: unknown): any;
  /** The ARN of a resource by logical id (service ARNs included). */
  arnOf(logicalId: string): string;
  /** The name, id or URL (`Ref`) of a resource by logical id (service names included). */
  refOf(logicalId: string): string;
}

/**
 * Resolves like `resolveTemplate`, plus the service ARNs and names of the resources that handlers
 * and state machines call: Lambda functions (`arn:aws:lambda:<region>:<account>:function:<id>`,
 * `Ref` the id), state machines (`arn:aws:states:…:stateMachine:<id>`, `Ref` the ARN), event buses
 * (`…:event-bus/<id>`, `Ref` the id), queues (`arn:aws:sqs:…:<id>`, `Ref` the queue URL), tables
 * (`…:table/<id>`, `Ref` the id). The IAM simulator and the local Step Functions definitions
 * (`support/asl.ts`) both use it.
 */
export function resolveServiceTemplate(template: any): ServiceResolvedTemplate {
  const resources: Record<string, any> = template.Resources ?? {};
  const base = resolveTemplate({ ...template, Resources: resources });
  const arnOf = (id: string): string => {
    switch (resources[id]?.Type) {
      case 'AWS::Lambda::Function': return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
      case 'AWS::StepFunctions::StateMachine': return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${id}`;
      case 'AWS::Events::EventBus': return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${id}`;
      case 'AWS::SQS::Queue': return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table': return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`;
      default: return base.arnOf(id);
    }
  };
  const refOf = (id: string): string => {
    switch (resources[id]?.Type) {
      case 'AWS::Lambda::Function': return id;
      case 'AWS::StepFunctions::StateMachine': return arnOf(id);
      case 'AWS::Events::EventBus': return id;
      case 'AWS::SQS::Queue': return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`;
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table': return id;
      default: return base.refOf(id);
    }
  };
  return { base, resolve: intrinsicResolver(refOf, arnOf), arnOf, refOf };
}

// ---- IAM policy simulation over a synthesized template ------------------------------------------

/** What the simulator decides for one request. */
export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** One request a principal makes (or must not be able to make). */
export interface RequestCheck {
  readonly action: string;
  /** The ARN of the resource (an object ARN for S3 object actions). */
  readonly resource: string;
  /** Request context besides `aws:SecureTransport: true`, `aws:PrincipalArn` (and `kms:CallerAccount` for KMS). */
  readonly context?: Record<string, string | string[]>;
  /**
   * Evaluate the statements against `resource` even where the Service Authorization Reference
   * lists no resource type for the action (the simulator then insists on `*`). For Step Functions'
   * `SendTask*`, which the service authorizes against the state machine ARN in practice
   * (aws/aws-cdk#8486: the callback fails when the grant names another state machine).
   */
  readonly evaluateResourceAnyway?: boolean;
}

/** A check and the decision it got, for failure messages. */
export interface CheckOutcome extends RequestCheck {
  readonly decision: Decision;
}

/**
 * The identity policies of a role, the bucket policies and the key policies of a synthesized
 * template, evaluated with `@cloud-copilot/iam-simulate` for concrete requests.
 *
 * Resolves with `resolveServiceTemplate` (service ARNs and names for the Lambda functions, state
 * machines, tables, queues and event buses the handlers call).
 */
export interface PolicySimulator {
  readonly resolved: ResolvedTemplate;
  /** The ARN of a resource by logical id (service ARNs included). */
  arnOf(logicalId: string): string;
  /** The ARN of a role by logical id. */
  roleArn(roleLogicalId: string): string;
  /** The resolved identity policies of a role (inline `AWS::IAM::Policy` resources and `Policies`). */
  identityPoliciesOf(roleLogicalId: string): { name: string; policy: any }[];
  /** Every action the role's identity policies allow (sorted, deduplicated, as written). */
  allowedActionsOf(roleLogicalId: string): string[];
  /** The decision for one request of a role (identity policies + the bucket or key policy it hits). */
  decide(roleLogicalId: string, check: RequestCheck): Promise<Decision>;
  /** The checks whose decision differs from `expected` (`Denied`: implicitly or explicitly). */
  mismatches(roleLogicalId: string, expected: 'Allowed' | 'Denied' | Decision, checks: readonly RequestCheck[]): Promise<CheckOutcome[]>;
}

/** A policy simulator over a synthesized template (`Template.toJSON()`). */
export function createPolicySimulator(template: any): PolicySimulator {
  // Loaded lazily: only the policy-evaluation tests need the simulator's data.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runSimulation, runUnsafeSimulation } = require('@cloud-copilot/iam-simulate') as typeof import('@cloud-copilot/iam-simulate');
  const resources: Record<string, any> = template.Resources;
  const { base, arnOf, resolve } = resolveServiceTemplate(template);
  const identityPoliciesOf = (roleId: string) => {
    const role = resources[roleId];
    if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role of the template`);
    if ((role.Properties.ManagedPolicyArns ?? []).length > 0) {
      throw new Error(`${roleId} has managed policies, which this simulation does not evaluate`);
    }
    const inline = (role.Properties.Policies ?? []).map((p: any) => ({ name: `${roleId}/${p.PolicyName}`, policy: resolve(p.PolicyDocument) }));
    const attached = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((ref: any) => ref.Ref === roleId))
      .map(([id, r]) => ({ name: id, policy: resolve(r.Properties.PolicyDocument) }));
    return [...inline, ...attached];
  };
  const bucketIds = base.idsOf('AWS::S3::Bucket');
  const keyIds = base.idsOf('AWS::KMS::Key');
  const hasBucketPolicy = (id: string) => Object.values(resources).some((r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === id);
  const resourcePolicyFor = (resource: string): any => {
    const bucket = bucketIds.find((id) => resource === base.arnOf(id) || resource.startsWith(`${base.arnOf(id)}/`));
    if (bucket) return hasBucketPolicy(bucket) ? base.bucketPolicyOf(bucket) : undefined;
    const key = keyIds.find((id) => resource === base.arnOf(id));
    return key ? base.keyPolicyOf(key) : undefined;
  };
  const decide = async (roleId: string, check: RequestCheck): Promise<Decision> => {
    const simulation = {
      identityPolicies: identityPoliciesOf(roleId),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resourcePolicyFor(check.resource),
      request: {
        principal: base.arnOf(roleId),
        action: check.action,
        resource: { accountId: ACCOUNT, resource: check.resource },
        contextVariables: {
          'aws:SecureTransport': 'true',
          // AWS sets it on every request; the simulator does not derive it from the principal.
          'aws:PrincipalArn': base.arnOf(roleId),
          ...(check.action.startsWith('kms:') ? { 'kms:CallerAccount': ACCOUNT } : {}),
          ...check.context,
        },
      },
    };
    if (check.evaluateResourceAnyway) {
      return runUnsafeSimulation(simulation, {}) as Decision;
    }
    const result = await runSimulation(simulation, {});
    if (result.resultType === 'error') {
      throw new Error(`simulation error for ${check.action} on ${check.resource}: ${JSON.stringify(result.errors)}`);
    }
    // A context key the simulator does not know for the action is dropped silently, which would
    // make a condition on it look unmet (kms:EncryptionContext:* is one, in iam-simulate 0.1.x).
    const ignored: string[] = (result as any).result?.ignoredContextKeys ?? [];
    if (ignored.length > 0) {
      throw new Error(`the simulator ignores ${ignored.join(', ')} for ${check.action}: check such conditions on the resolved statements instead`);
    }
    return result.overallResult as Decision;
  };
  return {
    resolved: base,
    arnOf,
    roleArn: (roleId) => base.arnOf(roleId),
    identityPoliciesOf,
    allowedActionsOf(roleId) {
      const actions = identityPoliciesOf(roleId).flatMap((p) => p.policy.Statement
        .filter((s: any) => s.Effect === 'Allow')
        .flatMap((s: any) => [s.Action].flat()));
      return [...new Set<string>(actions)].sort();
    },
    decide,
    async mismatches(roleId, expected, checks) {
      const out: CheckOutcome[] = [];
      for (const check of checks) {
        const decision = await decide(roleId, check);
        const ok = expected === 'Denied' ? decision !== 'Allowed' : decision === expected;
        if (!ok) out.push({ ...check, decision });
      }
      return out;
    },
  };
}
