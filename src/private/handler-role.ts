import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { createEncryptedLogGroup } from './encrypted-logs';

/** @internal */
export interface HandlerRoleOptions {
  /** Construct id of the role (part of the construct contract). */
  readonly roleId: string;
  /** Construct id of the log group (part of the construct contract). */
  readonly logGroupId: string;
  /** Description of the role. */
  readonly description: string;
  /** The function's VPC, if any (the role then may manage the function's network interfaces). */
  readonly vpc?: ec2.IVpc;
  /** Key of the log group. */
  readonly logsKey: kms.IKey;
  readonly retention: logs.RetentionDays;
}

/**
 * Define the execution role of a handler function (no AWS-managed policies; the ENI actions when
 * it runs in a VPC) and its KMS-encrypted, retained log group, which the role may write to. Every
 * construct's handlers get their role and log group here.
 *
 * @internal
 */
export function defineHandlerRole(scope: Construct, options: HandlerRoleOptions): { role: iam.Role; logGroup: logs.LogGroup } {
  const role = new iam.Role(scope, options.roleId, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: options.description,
  });
  if (options.vpc) {
    // ENI actions have no resource-level permissions.
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: ['*'],
    }));
  }
  const logGroup = createEncryptedLogGroup(scope, options.logGroupId, options.logsKey, options.retention, RemovalPolicy.RETAIN);
  logGroup.grantWrite(role);
  return { role, logGroup };
}
