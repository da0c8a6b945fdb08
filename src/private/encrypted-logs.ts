import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * Define a customer-managed key (rotation on) that CloudWatch Logs of this account and region may
 * use for log groups of this account only.
 *
 * @internal
 */
export function createLogsKey(scope: Construct, id: string, removalPolicy: RemovalPolicy): kms.Key {
  const key = new kms.Key(scope, id, {
    enableKeyRotation: true,
    description: `${scope.node.path}: encrypts CloudWatch log groups`,
    removalPolicy,
  });
  allowLogsService(key);
  return key;
}

/**
 * Allow CloudWatch Logs to use the key for log groups of this account and region.
 *
 * The binding condition is the encryption context CloudWatch Logs sets on every call, the ARN of
 * the log group (`kms:EncryptionContext:aws:logs:arn`), which only the service can set: log groups
 * of this account and region. The log groups' own ARNs cannot be named (each log group refers to
 * the key, and CloudFormation names them). Where the service also sends `aws:SourceAccount` and
 * `aws:SourceArn`, they must name this account and its log resources too.
 *
 * @internal
 */
export function allowLogsService(key: kms.IKey): void {
  const stack = Stack.of(key);
  const logsArn = (resource: string) => `arn:${stack.partition}:logs:${stack.region}:${stack.account}:${resource}`;
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsOfThisAccount',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logsArn('log-group:*') },
      StringEqualsIfExists: { 'aws:SourceAccount': stack.account },
      ArnLikeIfExists: { 'aws:SourceArn': logsArn('*') },
    },
  }));
}

/**
 * Define a log group encrypted with the given key.
 *
 * @internal
 */
export function createEncryptedLogGroup(
  scope: Construct,
  id: string,
  key: kms.IKey,
  retention: logs.RetentionDays,
  removalPolicy: RemovalPolicy,
): logs.LogGroup {
  return new logs.LogGroup(scope, id, { encryptionKey: key, retention, removalPolicy });
}

/**
 * Convert a duration to the nearest CloudWatch Logs retention that keeps at least as long.
 *
 * @internal
 */
export function retentionAtLeast(duration: Duration): logs.RetentionDays {
  const days = duration.toDays({ integral: false });
  const allowed = Object.values(logs.RetentionDays)
    .filter((v): v is logs.RetentionDays => typeof v === 'number' && v > 0)
    .sort((a, b) => a - b);
  return allowed.find((d) => d >= days) ?? logs.RetentionDays.INFINITE;
}
