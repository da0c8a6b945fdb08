/**
 * The permissions of a GpuTrainingJob: the role SageMaker assumes to run the training jobs (with
 * the network it trains in), and what the state machine's role needs beyond its tasks' own grants.
 */
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MODEL_KEYS, TrainingConfig } from './training-config';
import { DATASET_KEYS } from '../contract/dataset-version';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/** The training instances' network: the `VpcConfig` of the training job and its security group. */
export interface TrainingNetwork {
  readonly securityGroup: ec2.ISecurityGroup;
  /** `VpcConfig` of CreateTrainingJob. */
  readonly vpcConfig: Record<string, unknown>;
}

/**
 * Define the role SageMaker assumes to run the training jobs (`TrainingRole`): read the dataset
 * versions under the dataset prefix, write the job's output (and checkpoints) under the model's
 * prefix, use the volume key, write the training logs and metrics.
 */
export function createTrainingRole(scope: Construct, config: TrainingConfig, lake: ISecureDataLake, volumeEncryptionKey?: kms.IKey): iam.Role {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'TrainingRole', {
    // SageMaker may assume the role for this account's training jobs of this model only.
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com').withConditions({
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:training-job/${config.jobNamePrefix}-*` },
    }),
    description: `${scope.node.path}: SageMaker training jobs of ${config.modelName}`,
  });
  const curated = lake.bucket(DataZone.CURATED);
  const models = lake.bucket(DataZone.MODELS);
  lake.grantRead(role, DataZone.CURATED, `${DATASET_KEYS.datasetPrefix(config.datasetPrefix, '*')}*`);
  grantList(role, curated.bucketArn, `${DATASET_KEYS.datasetRoot(config.datasetPrefix)}*`);
  lake.grantWrite(role, DataZone.MODELS, `${MODEL_KEYS.trainingJobs(config.modelName)}*`);
  if (config.checkpoints) {
    lake.grantReadWrite(role, DataZone.MODELS, `${MODEL_KEYS.checkpoints(config.modelName)}*`);
    grantList(role, models.bucketArn, `${MODEL_KEYS.checkpoints(config.modelName)}*`);
  }
  volumeEncryptionKey?.grant(role, 'kms:CreateGrant', 'kms:DescribeKey');
  const trainingLogGroup = `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/sagemaker/TrainingJobs`;
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'TrainingJobLogs',
    actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
    resources: [trainingLogGroup, `${trainingLogGroup}:log-stream:*`],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'TrainingJobMetrics',
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
  }));
  return role;
}

/**
 * Define the security group of the training instances in `vpc` (`SecurityGroup`: HTTPS out, and
 * all TCP within the group for distributed training) and allow the training role to attach them.
 */
export function createTrainingNetwork(
  scope: Construct,
  role: iam.IRole,
  vpc: ec2.IVpc,
  vpcSubnets: ec2.SubnetSelection | undefined,
  instanceCount: number,
): TrainingNetwork {
  const stack = Stack.of(scope);
  const sg = new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc,
    allowAllOutbound: false,
    description: `${scope.node.path}: training instances (no ingress from outside the group)`,
  });
  sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to S3, ECR, CloudWatch (VPC endpoints or NAT)');
  if (instanceCount > 1) {
    // Distributed training: the instances talk to each other (TCP: NCCL, Gloo, MPI), and only
    // to each other. EFA needs all traffic within the group: add that rule yourself.
    sg.addIngressRule(sg, ec2.Port.allTcp(), 'Distributed training between the job\'s instances');
    sg.addEgressRule(sg, ec2.Port.allTcp(), 'Distributed training between the job\'s instances');
  }
  const subnets = vpc.selectSubnets(vpcSubnets).subnetIds;
  const ec2Arn = (resource: string) => `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:${resource}`;
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'TrainingNetworkInterfaces',
    actions: ['ec2:CreateNetworkInterface'],
    resources: [ec2Arn('network-interface/*'), ec2Arn(`security-group/${sg.securityGroupId}`), ...subnets.map((subnetId) => ec2Arn(`subnet/${subnetId}`))],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'TrainingNetworkInterfacesLifecycle',
    actions: ['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface', 'ec2:DeleteNetworkInterfacePermission'],
    resources: [ec2Arn('network-interface/*')],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'TrainingNetworkDescribe',
    actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DescribeDhcpOptions', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'],
    resources: ['*'],
  }));
  return { securityGroup: sg, vpcConfig: { SecurityGroupIds: [sg.securityGroupId], Subnets: subnets } };
}

/**
 * Allow the state machine what its hand-written Train task needs (what aws-cdk-lib's
 * SageMakerCreateTrainingJob would add) and to write the model records.
 */
export function grantStateMachine(machine: sfn.StateMachine, config: TrainingConfig, role: iam.IRole, lake: ISecureDataLake) {
  const stack = Stack.of(machine);
  machine.addToRolePolicy(new iam.PolicyStatement({
    sid: 'RunTrainingJobs',
    actions: ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'],
    resources: [`arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:training-job/${config.jobNamePrefix}-*`],
  }));
  machine.addToRolePolicy(new iam.PolicyStatement({
    sid: 'PassTrainingRole',
    actions: ['iam:PassRole'],
    resources: [role.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
  }));
  machine.addToRolePolicy(new iam.PolicyStatement({
    sid: 'WaitForTrainingJobs',
    actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
    resources: [`arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule`],
  }));
  // Also kms:Decrypt on the lake key, which ReadDatasetCard's s3:GetObject of a card needs (SSE-KMS).
  lake.grantWrite(machine, DataZone.MODELS, `${MODEL_KEYS.records(config.modelName)}*`);
  scopeStateMachineTrust(machine);
}

/**
 * Step Functions may assume the state machine's role only for this state machine of this account
 * (aws:SourceAccount, aws:SourceArn): the ARN is built from the name known at synth (a reference
 * to the state machine would be circular).
 */
function scopeStateMachineTrust(machine: sfn.StateMachine) {
  const stack = Stack.of(machine);
  const name = (machine.node.defaultChild as sfn.CfnStateMachine).stateMachineName!;
  const arn = `arn:${stack.partition}:states:${stack.region}:${stack.account}:stateMachine:${name}`;
  scopeServiceTrust(machine.role, { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': [arn, `${arn}:*`] } });
}

/**
 * Put conditions on the one service statement of a role's trust policy (a role aws-cdk-lib
 * created with `assumedBy` a service principal).
 */
export function scopeServiceTrust(role: iam.IRole, condition: Record<string, unknown>) {
  const cfn = role.node.defaultChild as iam.CfnRole;
  cfn.addPropertyOverride('AssumeRolePolicyDocument.Statement.0.Condition', condition);
}

function grantList(grantee: iam.IGrantable, bucketArn: string, prefixPattern: string) {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [bucketArn],
    conditions: { StringLike: { 's3:prefix': prefixPattern } },
  });
}
