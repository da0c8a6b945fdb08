/**
 * Who may use the lake's keys and change its buckets (security.md, "Keys serve only their users").
 *
 * - The keys the lake creates record every principal granted cryptographic use (through the
 *   lake's grants, a bucket's grants or the key's own), and their key policies deny that use to
 *   every other principal of the account, except named administrators (break-glass). AWS services
 *   acting as themselves (a service principal) are left to the statements that name them.
 * - Changing a key policy is denied to all but the deployment principals, the administrators and
 *   the account's root user, so a role with `kms:*` cannot lift the first rule.
 * - The bucket policies deny deleting object versions to all but the administrators, and changing
 *   the bucket's configuration to all but the administrators and the deployment principals
 *   (CloudFormation updates the buckets with the deployment role).
 */
import { Aws, DefaultStackSynthesizer, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';

/** Every KMS action that uses key material (what a grantee is granted, and what others are denied). */
export const KEY_USE_ACTIONS: readonly string[] = [
  'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo',
  'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext',
  'kms:GenerateMac', 'kms:VerifyMac',
];

/** The key policy's statement action patterns for KEY_USE_ACTIONS. */
const KEY_USE_PATTERNS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:GenerateMac', 'kms:VerifyMac'];

/** Bucket actions that change what protects the data (policy, versioning, lifecycle, encryption, logging, lock, …). */
export const BUCKET_CONFIGURATION_ACTIONS: readonly string[] = [
  's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketVersioning', 's3:PutLifecycleConfiguration',
  's3:PutEncryptionConfiguration', 's3:PutBucketObjectLockConfiguration', 's3:PutBucketPublicAccessBlock',
  's3:PutBucketOwnershipControls', 's3:PutBucketAcl', 's3:PutBucketLogging', 's3:PutBucketNotification',
  's3:PutReplicationConfiguration', 's3:PutInventoryConfiguration', 's3:PutAnalyticsConfiguration',
  's3:PutBucketCORS', 's3:PutBucketWebsite', 's3:PutBucketTagging', 's3:DeleteBucket',
];

/** Object actions that destroy history: deleting a version, or shortening a governance lock. */
export const VERSION_DELETION_ACTIONS: readonly string[] = ['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention'];

/**
 * The ARNs a principal is known by in `aws:PrincipalArn`, as they can be written in a policy of
 * `scope`'s stack; an empty list for principals that have none (AWS services, web identities, a
 * grantee without a role). Throws, saying what to do, for a role of another stack of the app that
 * the lake's stack cannot name without a cyclic dependency.
 */
export function principalArns(scope: IConstruct, principal: iam.IPrincipal, usage: string): string[] {
  let aws: unknown;
  try {
    aws = principal.policyFragment.principalJson.AWS;
  } catch {
    // An imported resource without a role (iam.UnknownPrincipal): the grant itself did nothing.
    return [];
  }
  const arns = aws === undefined ? [] : [aws].flat() as string[];
  return arns.map((arn) => {
    if (!Token.isUnresolved(arn) || !Construct.isConstruct(principal) || Stack.of(principal) === Stack.of(scope)) {
      return arn;
    }
    // The grantee's stack refers to the lake (its policy names the buckets and keys): the lake's
    // key policy cannot refer back to it. A role with a literal name can be named without a reference.
    const cfnRole = principal instanceof iam.Role ? principal.node.defaultChild as iam.CfnRole : undefined;
    if (cfnRole?.roleName !== undefined && !Token.isUnresolved(cfnRole.roleName)) {
      const roleStack = Stack.of(principal);
      return `arn:${Aws.PARTITION}:iam::${roleStack.account}:role${cfnRole.path ?? '/'}${cfnRole.roleName}`;
    }
    throw new Error(
      `${scope.node.path}: cannot ${usage} ${principal.node.path}: `
      + `it is a principal of stack ${Stack.of(principal).stackName} without a fixed name, and the lake's key policy in stack `
      + `${Stack.of(scope).stackName} allows key use only to principals it names (naming this one would make the two stacks depend on each other). `
      + 'Define the grantee in the lake\'s stack, give its role a literal roleName, or import the role by its ARN '
      + '(iam.Role.fromRoleArn) in the lake\'s stack and grant that.',
    );
  });
}

/** A list of principal ARNs rendered at synth, deduplicated (the same role granted many times). */
export class PrincipalArnList {
  private readonly arns: string[] = [];

  constructor(private readonly scope: IConstruct) {}

  public add(...arns: string[]) {
    this.arns.push(...arns);
  }

  public get isEmpty(): boolean {
    return this.arns.length === 0;
  }

  /** The ARNs as a list token, resolved at synth. */
  public render(): string[] {
    return Lazy.list({ produce: () => this.unique() });
  }

  private unique(): string[] {
    const stack = Stack.of(this.scope);
    const seen = new Set<string>();
    return this.arns.filter((arn) => {
      const key = JSON.stringify(stack.resolve(arn));
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
}

/**
 * A customer-managed key of the lake: it records every principal granted cryptographic use of it,
 * however the grant is made (`key.grant*`, a bucket's grants, the lake's grants), and its key
 * policy denies that use to every other principal of the account (`guardKeyUse`).
 *
 * @internal
 */
export class GuardedKey extends kms.Key {
  /** The principals granted cryptographic use, plus the administrators. */
  public readonly users: PrincipalArnList = new PrincipalArnList(this);

  public override get grants(): kms.KeyGrants {
    const grants = super.grants;
    const record = (grantee: iam.IGrantable, actions: string[]) => {
      if (actions.some(isKeyUse)) {
        this.users.add(...principalArns(this, grantee.grantPrincipal, 'allow key use to'));
      }
    };
    // KeyGrants' methods (decrypt, encrypt, generateMac, …) all end in `actions`.
    return new Proxy(grants, {
      get(target, prop, receiver) {
        if (prop === 'actions') {
          return (grantee: iam.IGrantable, ...actions: string[]) => {
            record(grantee, actions);
            return target.actions(grantee, ...actions);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
  }
}

function isKeyUse(action: string): boolean {
  return KEY_USE_ACTIONS.some((a) => a === action)
    || KEY_USE_PATTERNS.some((p) => p.endsWith('*') && action.startsWith(p.slice(0, -1)))
    || action === 'kms:*' || action === '*';
}

/** The principals that may do what the guards deny to everyone else. */
export interface GuardPrincipals {
  /** Break-glass principals: key use, version deletion, bucket and key policy changes. */
  readonly administrators: string[];
  /** The principals CloudFormation deploys the stack with: bucket configuration and key policy changes. */
  readonly deployment: string[];
}

/**
 * Deny cryptographic use of a key the lake created to every principal of the account but the
 * recorded grantees and the administrators; deny key policy changes to all but the deployment
 * principals, the administrators and the account's root user (the key stays manageable).
 */
export function guardKeyUse(key: GuardedKey, who: GuardPrincipals) {
  const stack = Stack.of(key);
  key.users.add(...who.administrators);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyKeyUseByPrincipalsNotGranted',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: KEY_USE_PATTERNS,
    resources: ['*'],
    conditions: {
      // Rendered at synth: every grant made anywhere in the app is known by then. With no grantee
      // at all, the operator is left out and the statement denies every principal of the account.
      ArnNotEquals: Lazy.any({ produce: () => key.users.isEmpty ? undefined : { 'aws:PrincipalArn': key.users.render() } }),
      // AWS services acting as themselves get only what statements naming them allow.
      BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
    },
  }));
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyKeyPolicyChangesByOthers',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:PutKeyPolicy'],
    resources: ['*'],
    conditions: {
      ArnNotEquals: { 'aws:PrincipalArn': [rootUserArn(stack), ...who.deployment, ...who.administrators] },
    },
  }));
}

/**
 * Deny deleting object versions (and bypassing a governance lock) to all but the administrators,
 * and changing the bucket's configuration to all but the administrators and the deployment
 * principals. `maintainers` may do both (aws-cdk-lib's auto-delete provider, with DESTROY).
 */
export function guardBucket(bucket: s3.Bucket, who: GuardPrincipals, maintainers: string[]) {
  const versionExempt = [...who.administrators, ...maintainers];
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyVersionDeletionByOthers',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: [...VERSION_DELETION_ACTIONS],
    resources: [bucket.arnForObjects('*')],
    conditions: versionExempt.length > 0 ? { ArnNotEquals: { 'aws:PrincipalArn': versionExempt } } : undefined,
  }));
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyConfigurationChangesByOthers',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: [...BUCKET_CONFIGURATION_ACTIONS],
    resources: [bucket.bucketArn],
    conditions: { ArnNotEquals: { 'aws:PrincipalArn': [...who.deployment, ...who.administrators, ...maintainers] } },
  }));
}

/** The role of aws-cdk-lib's auto-delete-objects provider in the stack, if a bucket uses it. */
export function autoDeleteProviderRoleArn(scope: IConstruct): string | undefined {
  const provider = Stack.of(scope).node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider') as { roleArn?: string } | undefined;
  return provider?.roleArn;
}

/**
 * The principals CloudFormation deploys `scope`'s stack with: the given ones, or the
 * CloudFormation execution role of the stack's DefaultStackSynthesizer (the role `cdk deploy` and
 * CDK Pipelines pass to CloudFormation). Throws for other synthesizers, which deploy with
 * credentials the construct cannot know.
 */
export function deploymentPrincipalArns(scope: IConstruct, given: iam.IPrincipal[] | undefined): string[] {
  if (given !== undefined) {
    if (given.length === 0) {
      throw new Error(`${scope.node.path}: invalid deploymentPrincipals: received []; give the role(s) CloudFormation deploys this stack with, or leave the prop out to use the DefaultStackSynthesizer's CloudFormation execution role`);
    }
    return given.flatMap((p) => requireArns(scope, p, 'deploymentPrincipals'));
  }
  const stack = Stack.of(scope);
  const synthesizer = stack.synthesizer;
  if (synthesizer instanceof DefaultStackSynthesizer) {
    return [withPseudoParameters(synthesizer.cloudFormationExecutionRoleArn)];
  }
  throw new Error(
    `${scope.node.path}: cannot tell which principal deploys stack ${stack.stackName}: its synthesizer is a `
    + `${synthesizer.constructor.name}, not a DefaultStackSynthesizer with a CloudFormation execution role. `
    + 'The lake\'s bucket and key policies let only the deployment principals and the administrators change them: '
    + 'set deploymentPrincipals to the role(s) CloudFormation deploys this stack with (for CliCredentialsStackSynthesizer, '
    + 'the role of the credentials you deploy with).',
  );
}

/** The ARNs of named principals (administrators, deployment principals); an error for principals without one. */
export function requireArns(scope: IConstruct, principal: iam.IPrincipal, prop: string): string[] {
  const arns = principalArns(scope, principal, `name in ${prop}`);
  if (arns.length === 0) {
    throw new Error(`${scope.node.path}: invalid ${prop}: received a principal without an ARN (${principal.toString()}); give IAM roles or users (iam.Role.fromRoleArn, iam.User.fromUserArn)`);
  }
  for (const arn of arns) {
    if (!Token.isUnresolved(arn) && (arn.includes('*') || !arn.startsWith('arn:'))) {
      throw new Error(`${scope.node.path}: invalid ${prop}: received ${JSON.stringify(arn)}; give IAM roles or users by their full ARN, without wildcards`);
    }
  }
  return arns;
}

function rootUserArn(stack: Stack): string {
  return `arn:${Aws.PARTITION}:iam::${stack.account}:root`;
}

/** A synthesizer ARN with `${AWS::Partition}`-style placeholders, as tokens (rendered with Ref). */
function withPseudoParameters(arn: string): string {
  return arn
    .split('${AWS::Partition}').join(Aws.PARTITION)
    .split('${AWS::AccountId}').join(Aws.ACCOUNT_ID)
    .split('${AWS::Region}').join(Aws.REGION);
}
