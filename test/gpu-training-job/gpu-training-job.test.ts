/**
 * GpuTrainingJob: fine-grained template assertions for every security default and every prop,
 * and a `fails if ...` test for each validation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { bucketNames, definition, ENV, GATES, IMAGE_DIR, logicalId, METRICS, PartialProps, trainingStack } from './training-fixture';
import { LABELING_DETAIL_TYPE as DETAIL_TYPE, LABELING_EVENT_SOURCE as EVENT_SOURCE } from '../../src/contract/events';
import {
  ChannelDataType, ChannelInputMode, GpuTrainingJob, MetricComparison, ModelApprovalStatus, ModelConsumer, TrainingImage, TrainingInstanceType,
} from '../../src/gpu-training-job';
import { SecureDataLake } from '../../src/secure-data-lake/secure-data-lake';

const trainTask = (props: PartialProps = {}) => definition(trainingStack(props)).States.Train;
const statementsOf = (template: Template, rolePrefix: string): any[] => {
  const roleId = logicalId(template, 'AWS::IAM::Role', rolePrefix);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
};
const actionsOf = (statements: any[]): string[] => statements.flatMap((s) => [s.Action].flat());

describe('security defaults', () => {
  const f = trainingStack();
  const t = f.template;

  test('the state machine is encrypted with a customer-managed key, traced, and logs ALL events without execution data', () => {
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: { 'Fn::GetAtt': [logicalId(t, 'AWS::KMS::Key', 'JobKey'), 'Arn'] } },
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [logicalId(t, 'AWS::KMS::Key', 'JobKey'), 'Arn'] }, RetentionInDays: 365 });
  });

  test('every key of the construct rotates, and keys, log group and model package group are retained', () => {
    const keys = Object.entries(t.findResources('AWS::KMS::Key')).filter(([id]) => id.startsWith('Job'));
    expect(keys).toHaveLength(1);
    for (const [, key] of keys) {
      expect(key.Properties.EnableKeyRotation).toBe(true);
    }
    t.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: { Description: Match.stringLikeRegexp('state machine') } });
    t.hasResource('AWS::SageMaker::ModelPackageGroup', { DeletionPolicy: 'Retain', Properties: { ModelPackageGroupName: 'hearing-who-grade' } });
  });

  test('the training job: output encrypted with the lake key, network isolation, max runtime, no spot, one instance', () => {
    const task = definition(f).States.Train;
    expect(task.Resource).toBe('arn:aws:states:::sagemaker:createTrainingJob.sync');
    expect(task.Parameters.OutputDataConfig).toEqual({
      S3OutputPath: `s3://${bucketNames(f).models}/hearing-who-grade/training-jobs/`,
      KmsKeyId: `${logicalId(t, 'AWS::KMS::Key', 'LakeEncryptionKey')}.Arn`,
    });
    expect(task.Parameters.EnableNetworkIsolation).toBe(true);
    expect(task.Parameters.EnableInterContainerTrafficEncryption).toBe(false);
    expect(task.Parameters.EnableManagedSpotTraining).toBe(false);
    expect(task.Parameters.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 86400 });
    expect(task.Parameters.CheckpointConfig).toBeUndefined();
    expect(task.Parameters.VpcConfig).toBeUndefined();
  });

  test('the default instance type (ml.g5.xlarge, local NVMe) gets no volume key: SageMaker rejects one', () => {
    expect(trainTask().Parameters.ResourceConfig).toEqual({ InstanceType: 'ml.g5.xlarge', InstanceCount: 1, VolumeSizeInGB: 50 });
    expect(f.job.volumeEncryptionKey).toBeUndefined();
  });

  test('the training role: assumed by SageMaker for this model\'s training jobs of this account only, no managed policies', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'sagemaker.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': ENV.account },
            ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:eu-central-1:111111111111:training-job/hearing-who-grade-*']] } },
          },
        }],
      },
    });
    for (const role of Object.values(t.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test('the training role reads only dataset versions, writes only this model\'s outputs, and has no VPC actions', () => {
    const statements = statementsOf(t, 'JobTrainingRole');
    const curated = logicalId(t, 'AWS::S3::Bucket', 'LakeCurated');
    const models = logicalId(t, 'AWS::S3::Bucket', 'LakeModels');
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [curated, 'Arn'] }, '/hearing/datasets/*/*']] } }),
      expect.objectContaining({ Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [curated, 'Arn'] }, Condition: { StringLike: { 's3:prefix': 'hearing/datasets/*' } } }),
      expect.objectContaining({ Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [models, 'Arn'] }, '/hearing-who-grade/training-jobs/*']] } }),
      expect.objectContaining({ Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'] }),
      expect.objectContaining({ Action: 'ecr:GetAuthorizationToken', Resource: '*' }),
      expect.objectContaining({ Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } } }),
    ]));
    const actions = actionsOf(statements);
    expect(actions.filter((a) => a.startsWith('ec2:'))).toEqual([]);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(actions).not.toContain('s3:DeleteObject');
  });

  test('the state machine role: exact SageMaker actions on this model\'s jobs, PassRole to SageMaker only, the .sync rule, registry, record, events', () => {
    const statements = statementsOf(t, 'JobStateMachineRole');
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({
        Action: ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:eu-central-1:111111111111:training-job/hearing-who-grade-*']] },
      }),
      expect.objectContaining({
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [logicalId(t, 'AWS::IAM::Role', 'JobTrainingRole'), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
      expect.objectContaining({
        Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-central-1:111111111111:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule']] },
      }),
      expect.objectContaining({
        Action: 'sagemaker:CreateModelPackage',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:eu-central-1:111111111111:model-package/hearing-who-grade/*']] },
      }),
      expect.objectContaining({ Action: 'events:PutEvents', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-central-1:111111111111:event-bus/default']] } }),
    ]));
    const models = logicalId(t, 'AWS::S3::Bucket', 'LakeModels');
    const puts = statements.filter((s) => [].concat(s.Action).includes('s3:PutObject' as never));
    expect(puts.map((s) => s.Resource)).toEqual(expect.arrayContaining([{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [models, 'Arn'] }, '/hearing-who-grade/records/*']] }]));
    expect(actionsOf(statements).filter((a) => /^(s3:Delete|sagemaker:\*|iam:\*)/.test(a))).toEqual([]);
    // It reads nothing but the dataset cards (ReadDatasetCard, before it trains).
    const curated = logicalId(t, 'AWS::S3::Bucket', 'LakeCurated');
    const gets = statements.filter((s) => [].concat(s.Action).some((a: string) => a.startsWith('s3:Get')));
    expect(gets).toEqual([expect.objectContaining({ Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [curated, 'Arn'] }, '/hearing/datasets/*/dataset-card.json']] } })]);
  });

  test('every Task state has a bounded Retry and a Catch that records the failure', () => {
    const states = definition(f).States;
    const taskNames = Object.keys(states).filter((n) => states[n].Type === 'Task');
    expect(taskNames.sort()).toEqual(['ReadDatasetCard', 'PublishTrainingFailed', 'PublishModel', 'RegisterModel', 'Train', 'WriteModelRecord', 'PublishModelTrained'].sort());
    for (const name of taskNames) {
      expect([name, states[name].Retry.length > 0, states[name].Retry.every((r: any) => r.MaxAttempts === 3 && r.BackoffRate === 2 && r.JitterStrategy === 'FULL')]).toEqual([name, true, true]);
      expect([name, states[name].Catch[0].ErrorEquals]).toEqual([name, ['States.ALL']]);
    }
    expect(states.Train.Retry[0].ErrorEquals).not.toContain('States.TaskFailed');
    expect(states.Train.Catch[0]).toEqual({ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'PublishTrainingFailed' });
    expect(states.TrainingFailed).toEqual(expect.objectContaining({ Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' }));
  });

  test('the failure alarm counts failed, timed out and aborted executions', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)' })]),
    });
  });

  test('no triggers, no dead-letter queue, no VPC resources by default', () => {
    t.resourceCountIs('AWS::Events::Rule', 0);
    t.resourceCountIs('AWS::SQS::Queue', 0);
    t.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    expect(f.job.deadLetterQueue).toBeUndefined();
  });

  test('the state machine times out after the max runtime plus two hours', () => {
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', { DefinitionString: Match.anyValue() });
    expect(definition(f).TimeoutSeconds).toBe(86400 + 7200);
  });
});

describe('service principals name this account and their source (aws:SourceAccount, aws:SourceArn)', () => {
  const { template: st } = trainingStack((stack) => ({
    datasetTrigger: {},
    schedule: { schedule: events.Schedule.rate(Duration.days(7)), datasetVersion: 'hearing-v12' },
    consumers: [ModelConsumer.stateMachine(new sfn.StateMachine(stack, 'Deploy', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Noop')) }))],
  }));
  const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
  const trustOf = (prefix: string) => st.toJSON().Resources[logicalId(st, 'AWS::IAM::Role', prefix)].Properties.AssumeRolePolicyDocument.Statement;
  const keyStatement = (sid: string) => st.toJSON().Resources[logicalId(st, 'AWS::KMS::Key', 'JobKey')].Properties.KeyPolicy.Statement
    .find((x: any) => x.Sid === sid || [x.Principal?.Service].flat().includes(sid));
  const name = (): string => st.toJSON().Resources[logicalId(st, 'AWS::StepFunctions::StateMachine', 'JobStateMachine')].Properties.StateMachineName;
  const rules = arn(':events:eu-central-1:111111111111:rule/*');

  test('Step Functions assumes the state machine role for this state machine only', () => {
    expect(trustOf('JobStateMachineRole')).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'states.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': ENV.account },
        ArnLike: { 'aws:SourceArn': [arn(`:states:eu-central-1:111111111111:stateMachine:${name()}`), arn(`:states:eu-central-1:111111111111:stateMachine:${name()}:*`)] },
      },
    }]);
  });

  test('EventBridge assumes the trigger targets\' role for rules of this account only', () => {
    expect(trustOf('JobStateMachineEventsRole')).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': ENV.account }, ArnLike: { 'aws:SourceArn': rules } },
    }]);
  });

  test('EventBridge may send to the dead-letter queue for the construct\'s own rules, in this account', () => {
    const policy = Object.values<any>(st.findResources('AWS::SQS::QueuePolicy'))[0].Properties.PolicyDocument.Statement
      .filter((x: any) => x.Principal?.Service === 'events.amazonaws.com');
    const ruleIds = Object.keys(st.findResources('AWS::Events::Rule'));
    expect(policy.map((x: any) => x.Condition.ArnEquals['aws:SourceArn']['Fn::GetAtt'][0]).sort()).toEqual(ruleIds.sort());
    for (const x of policy) {
      expect(x).toMatchObject({ Effect: 'Allow', Action: 'sqs:SendMessage', Condition: { StringEquals: { 'aws:SourceAccount': ENV.account } } });
    }
    expect(policy).toHaveLength(3);
  });

  test('EventBridge, CloudWatch Logs and log delivery use the key for this account only', () => {
    expect(keyStatement('AllowEventBridgeDeadLetters').Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': ENV.account },
      ArnLikeIfExists: { 'aws:SourceArn': rules },
    });
    expect(keyStatement('AllowCloudWatchLogsOfThisAccount').Condition).toEqual({
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': arn(':logs:eu-central-1:111111111111:log-group:*') },
      StringEqualsIfExists: { 'aws:SourceAccount': ENV.account },
      ArnLikeIfExists: { 'aws:SourceArn': arn(':logs:eu-central-1:111111111111:*') },
    });
    expect(keyStatement('delivery.logs.amazonaws.com')).toMatchObject({
      Action: 'kms:Decrypt*',
      Condition: { StringEquals: { 'aws:SourceAccount': ENV.account }, ArnLike: { 'aws:SourceArn': arn(':logs:eu-central-1:111111111111:*') } },
    });
  });

  test('no service principal of the construct goes without a condition naming this account', () => {
    const t = st.toJSON();
    const docs = Object.entries<any>(t.Resources).flatMap(([id, r]) => [
      ...(r.Type === 'AWS::IAM::Role' ? [[id, r.Properties.AssumeRolePolicyDocument]] : []),
      ...(r.Type === 'AWS::KMS::Key' ? [[id, r.Properties.KeyPolicy]] : []),
      ...(r.Type === 'AWS::SQS::QueuePolicy' ? [[id, r.Properties.PolicyDocument]] : []),
    ]).filter(([id]) => id.startsWith('Job'));
    // The publish function's execution role is like every handler role of the library
    // (src/private/handler-role.ts): Lambda assumes it for the function it was passed to
    // (iam:PassRole, by this account's deployers only).
    const lambdaExecution = (id: string, x: any) => id.startsWith('JobPublishModelRole') && x.Principal.Service === 'lambda.amazonaws.com';
    const unscoped = docs.flatMap(([id, doc]: any) => doc.Statement
      .filter((x: any) => x.Effect === 'Allow' && x.Principal?.Service && !lambdaExecution(id, x))
      .filter((x: any) => !JSON.stringify(x.Condition ?? {}).match(/aws:SourceAccount|aws:SourceArn|kms:EncryptionContext/))
      .map((x: any) => `${id}: ${x.Principal.Service}`));
    expect(unscoped).toEqual([]);
  });
});

describe('props', () => {
  test('instanceType without local storage gets a new rotating volume key, granted to the training role', () => {
    const f = trainingStack({ instanceType: TrainingInstanceType.ML_P3_2XLARGE });
    const key = logicalId(f.template, 'AWS::KMS::Key', 'JobVolumeKey');
    expect(definition(f).States.Train.Parameters.ResourceConfig).toEqual({ InstanceType: 'ml.p3.2xlarge', InstanceCount: 1, VolumeSizeInGB: 50, VolumeKmsKeyId: `${key}.Arn` });
    f.template.hasResourceProperties('AWS::KMS::Key', { Description: Match.stringLikeRegexp('ML storage volumes'), EnableKeyRotation: true });
    expect(statementsOf(f.template, 'JobTrainingRole')).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: ['kms:CreateGrant', 'kms:DescribeKey'], Resource: { 'Fn::GetAtt': [key, 'Arn'] } }),
    ]));
  });

  test('volumeEncryptionKey is used as given', () => {
    const f = trainingStack((stack) => ({ instanceType: TrainingInstanceType.of('ml.p3.8xlarge'), volumeEncryptionKey: new kms.Key(stack, 'Mine', { enableKeyRotation: true }) }));
    expect(definition(f).States.Train.Parameters.ResourceConfig.VolumeKmsKeyId).toBe(`${logicalId(f.template, 'AWS::KMS::Key', 'Mine')}.Arn`);
    f.template.resourcePropertiesCountIs('AWS::KMS::Key', { Description: Match.stringLikeRegexp('ML storage volumes') }, 0);
  });

  test('instanceCount > 1 turns on inter-container traffic encryption', () => {
    expect(trainTask({ instanceCount: 4 }).Parameters)
      .toMatchObject({ ResourceConfig: { InstanceCount: 4 }, EnableInterContainerTrafficEncryption: true });
  });

  test('volumeSize and maxRuntime', () => {
    expect(trainTask({ volumeSize: Size.gibibytes(200), maxRuntime: Duration.days(28) }).Parameters).toMatchObject({
      ResourceConfig: { VolumeSizeInGB: 200 },
      StoppingCondition: { MaxRuntimeInSeconds: 28 * 86400 },
    });
  });

  test('useSpotInstances: managed spot, checkpoints per job in the models zone, maxWait twice maxRuntime by default', () => {
    const f = trainingStack({ useSpotInstances: true, maxRuntime: Duration.hours(10) });
    const p = definition(f).States.Train.Parameters;
    expect(p.EnableManagedSpotTraining).toBe(true);
    expect(p.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 36000, MaxWaitTimeInSeconds: 72000 });
    expect(p.CheckpointConfig).toEqual({ 'S3Uri.$': `States.Format('s3://${bucketNames(f).models}/hearing-who-grade/checkpoints/{}/', $.trainingJobName)`, 'LocalPath': '/opt/ml/checkpoints' });
    const models = logicalId(f.template, 'AWS::S3::Bucket', 'LakeModels');
    expect(statementsOf(f.template, 'JobTrainingRole')).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [models, 'Arn'] }, Condition: { StringLike: { 's3:prefix': 'hearing-who-grade/checkpoints/*' } } }),
      expect.objectContaining({ Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [models, 'Arn'] }, '/hearing-who-grade/checkpoints/*']] } }),
    ]));
    expect(definition(f).TimeoutSeconds).toBe(72000 + 7200);
  });

  test('maxWait is capped at 28 days by default and taken as given otherwise', () => {
    expect(trainTask({ useSpotInstances: true, maxRuntime: Duration.days(20) }).Parameters.StoppingCondition.MaxWaitTimeInSeconds).toBe(28 * 86400);
    const given = trainTask({ useSpotInstances: true, maxRuntime: Duration.hours(1), maxWait: Duration.hours(3) });
    expect(given.Parameters.StoppingCondition.MaxWaitTimeInSeconds).toBe(10800);
  });

  test('checkpoints without spot', () => {
    const p = trainTask({ checkpoints: true }).Parameters;
    expect(p.EnableManagedSpotTraining).toBe(false);
    expect(p.CheckpointConfig.LocalPath).toBe('/opt/ml/checkpoints');
  });

  test('networkIsolation: false opts out', () => {
    expect(trainTask({ networkIsolation: false }).Parameters.EnableNetworkIsolation).toBe(false);
  });

  test('vpc: a security group without ingress (HTTPS egress only), the private subnets, ENI permissions scoped to them', () => {
    const f = trainingStack((stack) => ({
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-1', availabilityZones: ['eu-central-1a', 'eu-central-1b'], privateSubnetIds: ['subnet-a', 'subnet-b'], publicSubnetIds: ['subnet-p', 'subnet-q'],
      }),
    }));
    const sg = logicalId(f.template, 'AWS::EC2::SecurityGroup', 'JobSecurityGroup');
    f.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
    });
    expect(f.template.findResources('AWS::EC2::SecurityGroup')[sg].Properties.SecurityGroupIngress).toBeUndefined();
    f.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(definition(f).States.Train.Parameters.VpcConfig).toEqual({ SecurityGroupIds: [`${sg}.GroupId`], Subnets: ['subnet-a', 'subnet-b'] });
    expect(statementsOf(f.template, 'JobTrainingRole')).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'ec2:CreateNetworkInterface', Resource: expect.arrayContaining([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:eu-central-1:111111111111:subnet/subnet-a']] }]) }),
      expect.objectContaining({ Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DescribeDhcpOptions', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'], Resource: '*' }),
    ]));
    expect(f.job.securityGroup).toBeDefined();
  });

  test('vpc with several instances: TCP between the job\'s instances only', () => {
    const f = trainingStack((stack) => ({
      instanceCount: 2,
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-central-1a'], privateSubnetIds: ['subnet-a'] }),
      vpcSubnets: { subnets: [ec2.Subnet.fromSubnetId(stack, 'S', 'subnet-z')] },
    }));
    const sg = logicalId(f.template, 'AWS::EC2::SecurityGroup', 'JobSecurityGroup');
    f.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, SourceSecurityGroupId: { 'Fn::GetAtt': [sg, 'GroupId'] } });
    f.template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, DestinationSecurityGroupId: { 'Fn::GetAtt': [sg, 'GroupId'] } });
    expect(definition(f).States.Train.Parameters.VpcConfig.Subnets).toEqual(['subnet-z']);
  });

  test('hyperparameters, environment and metric definitions', () => {
    const p = trainTask({ hyperparameters: { epochs: '20', lr: '0.003' }, environment: { PYTHONHASHSEED: '0' }, metricDefinitions: METRICS }).Parameters;
    expect(p.HyperParameters).toEqual({ epochs: '20', lr: '0.003' });
    expect(p.Environment).toEqual({ PYTHONHASHSEED: '0' });
    expect(p.AlgorithmSpecification).toEqual({
      TrainingImage: '111111111111.dkr.ecr.eu-central-1.amazonaws.com/hearing-training:v1',
      TrainingInputMode: 'File',
      MetricDefinitions: METRICS.map((m) => ({ Name: m.name, Regex: m.regex })),
    });
  });

  test('channels: File-mode S3Prefix defaults from the dataset version, and an AugmentedManifestFile channel in Pipe mode', () => {
    expect(trainTask().Parameters.InputDataConfig).toEqual(['train', 'validation'].map((name) => ({
      ChannelName: name,
      DataSource: { S3DataSource: { 'S3DataType': 'S3Prefix', 'S3Uri.$': `States.Format('{}${name}.manifest', $.location)`, 'S3DataDistributionType': 'FullyReplicated' } },
      InputMode: 'File',
    })));
    const p = trainTask({
      channels: [
        { name: 'train', datasetFile: 'train.manifest', dataType: ChannelDataType.AUGMENTED_MANIFEST_FILE, attributeNames: ['source', 'who-grade'], contentType: 'application/x-recordio' },
        { name: 'test', datasetFile: 'test.manifest', inputMode: ChannelInputMode.FAST_FILE },
      ],
    }).Parameters;
    expect(p.InputDataConfig).toEqual([
      {
        ChannelName: 'train',
        DataSource: { S3DataSource: { 'S3DataType': 'AugmentedManifestFile', 'S3Uri.$': 'States.Format(\'{}train.manifest\', $.location)', 'S3DataDistributionType': 'FullyReplicated', 'AttributeNames': ['source', 'who-grade'] } },
        InputMode: 'Pipe',
        ContentType: 'application/x-recordio',
      },
      {
        ChannelName: 'test',
        DataSource: { S3DataSource: { 'S3DataType': 'S3Prefix', 'S3Uri.$': 'States.Format(\'{}test.manifest\', $.location)', 'S3DataDistributionType': 'FullyReplicated' } },
        InputMode: 'FastFile',
      },
    ]);
  });

  test('datasetPrefix \'\' reads datasets/ of the curated zone and validates locations against it', () => {
    const f = trainingStack({ datasetPrefix: '' });
    const choice = definition(f).States.ValidateInput.Choices[1].And[1];
    expect(choice).toEqual({ Variable: '$.location', StringMatches: `s3://${bucketNames(f).curated}/datasets/*/` });
  });

  test('gates and modelApprovalStatus', () => {
    const f = trainingStack({ metricDefinitions: METRICS, gates: GATES, modelApprovalStatus: ModelApprovalStatus.APPROVED });
    const states = definition(f).States;
    expect(states.Gate0.Choices[1]).toEqual({ Variable: '$.gateValues.g0[0]', NumericGreaterThanEquals: 0.9, Next: 'Gate1' });
    expect(states.Gate1.Choices[1]).toEqual({ Variable: '$.gateValues.g1[0]', NumericLessThan: 0.5, Next: 'PublishModel' });
    expect(states.PublishModel.Next).toBe('RegisterModel');
    expect(states.RegisterModel.Parameters.ModelApprovalStatus).toBe('Approved');
    expect(states.PublishModelRejected.Parameters.Entries[0].DetailType).toBe('Model Rejected');
    const other = definition(trainingStack({
      metricDefinitions: METRICS,
      gates: [
        { metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN, threshold: 0.5 },
        { metricName: 'validation:loss', comparison: MetricComparison.LESS_THAN_OR_EQUAL, threshold: 1 },
      ],
    })).States;
    expect(other.Gate0.Choices[1].NumericGreaterThan).toBe(0.5);
    expect(other.Gate1.Choices[1].NumericLessThanEquals).toBe(1);
  });

  test('eventBus receives the job\'s events', () => {
    const f = trainingStack((stack) => ({ eventBus: new events.EventBus(stack, 'Bus') }));
    const bus = logicalId(f.template, 'AWS::Events::EventBus');
    const states = definition(f).States;
    for (const name of ['PublishModelTrained', 'PublishTrainingFailed']) {
      expect(states[name].Parameters.Entries[0]).toMatchObject({ EventBusName: `${bus}.Arn`, Source: GpuTrainingJob.EVENT_SOURCE });
    }
  });

  test('fails if datasetTrigger is set without datasetPrefix (the trigger and the role would silently miss the pipeline\'s prefix)', () => {
    expect(() => trainingStack({ datasetTrigger: {}, datasetPrefix: undefined }))
      .toThrow('Training/Job: invalid datasetPrefix: received undefined; datasetTrigger needs it: set it to the zone prefix of the labeling pipeline');
    expect(() => trainingStack({ datasetTrigger: {}, datasetPrefix: '' })).not.toThrow();
  });

  test('datasetTrigger: a rule on the labeling pipeline\'s "Dataset Version Published" under the dataset prefix, with a dead-letter queue', () => {
    const f = trainingStack((stack) => ({ datasetTrigger: { eventBus: new events.EventBus(stack, 'PipelineBus'), pipelineName: 'hearing' } }));
    const curated = logicalId(f.template, 'AWS::S3::Bucket', 'LakeCurated');
    f.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(f.template, 'AWS::Events::EventBus', 'PipelineBus') },
      EventPattern: {
        'source': [EVENT_SOURCE],
        'detail-type': [DETAIL_TYPE.datasetVersionPublished],
        'detail': { pipeline: ['hearing'], location: [{ prefix: { 'Fn::Join': ['', ['s3://', { Ref: curated }, '/hearing/datasets/']] } }] },
      },
      Targets: [Match.objectLike({
        Arn: { Ref: logicalId(f.template, 'AWS::StepFunctions::StateMachine') },
        InputTransformer: { InputPathsMap: { 'detail-datasetVersion': '$.detail.datasetVersion', 'detail-location': '$.detail.location' }, InputTemplate: '{"datasetVersion":<detail-datasetVersion>,"location":<detail-location>}' },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(f.template, 'AWS::SQS::Queue'), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
      })],
    });
    f.template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(f.template, 'AWS::KMS::Key', 'JobKey'), 'Arn'] } });
    f.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
    expect(f.job.deadLetterQueueAlarm).toBeDefined();
  });

  test('schedule: a rule that starts a training on the given dataset version', () => {
    const f = trainingStack({ schedule: { schedule: events.Schedule.rate(Duration.days(7)), datasetVersion: 'hearing-v12' } });
    const curated = logicalId(f.template, 'AWS::S3::Bucket', 'LakeCurated');
    f.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(7 days)',
      Targets: [Match.objectLike({
        Input: { 'Fn::Join': ['', ['{"datasetVersion":"hearing-v12","location":"s3://', { Ref: curated }, '/hearing/datasets/hearing-v12/"}']] },
      })],
    });
  });

  test('consumers: a rule on this model\'s "Model Trained" events per consumer, with read access to the models', () => {
    const f = trainingStack((stack) => {
      const fnRole = new iam.Role(stack, 'FnRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      const fn = lambda.Function.fromFunctionAttributes(stack, 'Fn', { functionArn: 'arn:aws:lambda:eu-central-1:111111111111:function:deploy', role: fnRole, sameEnvironment: true });
      const role = new iam.Role(stack, 'ConsumerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      const queue = new sqs.Queue(stack, 'Q');
      return { consumers: [ModelConsumer.lambdaFunction(fn), ModelConsumer.eventTarget(new targets.SqsQueue(queue), role)] };
    });
    const rules = f.template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { 'source': [GpuTrainingJob.EVENT_SOURCE], 'detail-type': ['Model Trained'], 'detail': { model: ['hearing-who-grade'] } } },
    });
    expect(Object.keys(rules)).toHaveLength(2);
    const models = logicalId(f.template, 'AWS::S3::Bucket', 'LakeModels');
    for (const role of ['ConsumerRole', 'FnRole']) {
      expect(statementsOf(f.template, role)).toEqual(expect.arrayContaining([
        expect.objectContaining({ Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [models, 'Arn'] }, '/hearing-who-grade/*']] } }),
      ]));
    }
    f.template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Arn: 'arn:aws:lambda:eu-central-1:111111111111:function:deploy', DeadLetterConfig: Match.anyValue() })] });
  });

  test('ModelConsumer.stateMachine starts a state machine with a dead-letter queue and grants it the models', () => {
    const f = trainingStack((stack) => ({
      consumers: [ModelConsumer.stateMachine(new sfn.StateMachine(stack, 'Deploy', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Noop')) }))],
    }));
    const deploy = logicalId(f.template, 'AWS::StepFunctions::StateMachine', 'Deploy');
    f.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'detail-type': ['Model Trained'] },
      Targets: [Match.objectLike({ Arn: { Ref: deploy }, DeadLetterConfig: Match.anyValue() })],
    });
    expect(actionsOf(statementsOf(f.template, 'DeployRole'))).toEqual(expect.arrayContaining(['s3:GetObject', 'kms:Decrypt']));
  });

  test('alarmAction notifies on failure alarm and dead-letter alarm', () => {
    const f = trainingStack((stack) => ({ alarmAction: new cwActions.SnsAction(new sns.Topic(stack, 'Alarms')), datasetTrigger: {} }));
    const topic = { Ref: logicalId(f.template, 'AWS::SNS::Topic') };
    const alarms = Object.values(f.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(2);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
  });

  test('logRetention and removalPolicy', () => {
    const f = trainingStack({ logRetention: Duration.days(30), removalPolicy: RemovalPolicy.DESTROY });
    f.template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', Properties: { RetentionInDays: 30 } });
    f.template.hasResource('AWS::SageMaker::ModelPackageGroup', { DeletionPolicy: 'Delete' });
  });
});

describe('grants and metrics', () => {
  test('grantStart allows StartExecution of the state machine only', () => {
    const f = trainingStack({}, new App(), (job, stack) => job.grantStart(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() })));
    const t = f.template;
    expect(statementsOf(t, 'Operator')).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: logicalId(t, 'AWS::StepFunctions::StateMachine') } }]);
  });

  test('metricFailed, metricSucceeded and metricTime are the state machine\'s', () => {
    const f = trainingStack();
    expect([f.job.metricFailed().metricName, f.job.metricSucceeded().metricName, f.job.metricTime().metricName]).toEqual(['ExecutionsFailed', 'ExecutionsSucceeded', 'ExecutionTime']);
    expect(f.job.metricFailed().namespace).toBe('AWS/States');
  });
});

describe('TrainingImage', () => {
  test('fromAsset stages the build context at synth (no Docker) for linux/amd64 and grants pull on the assets repository', () => {
    const f = trainingStack({ trainingImage: TrainingImage.fromAsset(IMAGE_DIR) });
    const image: string = definition(f).States.Train.Parameters.AlgorithmSpecification.TrainingImage;
    expect(image).toMatch(/^111111111111\.dkr\.ecr\.eu-central-1\.amazonaws\.com\/cdk-hnb659fds-container-assets-111111111111-eu-central-1:[0-9a-f]{64}$/);
    const assembly = f.app.synth();
    const manifest = assembly.artifacts.find((a) => a instanceof cxapi.AssetManifestArtifact) as cxapi.AssetManifestArtifact;
    const images: any[] = Object.values(JSON.parse(fs.readFileSync(manifest.file, 'utf8')).dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0].source.platform).toBe('linux/amd64');
    expect(fs.existsSync(path.join(assembly.directory, images[0].source.directory, 'train.py'))).toBe(true);
    expect(actionsOf(statementsOf(f.template, 'JobTrainingRole'))).toEqual(expect.arrayContaining(['ecr:BatchGetImage', 'ecr:GetAuthorizationToken']));
  });

  test('fromEcrRepository with a digest', () => {
    const f = trainingStack((stack) => ({ trainingImage: TrainingImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'R', 'train'), `sha256:${'a'.repeat(64)}`) }));
    expect(definition(f).States.Train.Parameters.AlgorithmSpecification.TrainingImage).toBe(`111111111111.dkr.ecr.eu-central-1.amazonaws.com/train@sha256:${'a'.repeat(64)}`);
  });

  test('fromRegistry with an ECR URI grants pull on that repository', () => {
    const uri = '763104351884.dkr.ecr.eu-central-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311';
    const f = trainingStack({ trainingImage: TrainingImage.fromRegistry(uri) });
    expect(definition(f).States.Train.Parameters.AlgorithmSpecification.TrainingImage).toBe(uri);
    expect(statementsOf(f.template, 'JobTrainingRole')).toEqual(expect.arrayContaining([
      expect.objectContaining({
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:eu-central-1:763104351884:repository/pytorch-training']] },
      }),
    ]));
  });

  test('fromRegistry accepts a token (the caller grants pull)', () => {
    const f = trainingStack({ trainingImage: TrainingImage.fromRegistry(Token.asString({ Ref: 'ImageUri' })) });
    expect(Token.isUnresolved(f.job.trainingImageUri)).toBe(true);
    expect(definition(f).States.Train.Parameters.AlgorithmSpecification.TrainingImage).toBe('imageuri');
    expect(actionsOf(statementsOf(f.template, 'JobTrainingRole')).filter((a) => a.startsWith('ecr:'))).toEqual(['ecr:GetAuthorizationToken']);
  });

  test('fails if fromRegistry is not an ECR image', () => {
    expect(() => trainingStack({ trainingImage: TrainingImage.fromRegistry('pytorch/pytorch:2.3.0') }))
      .toThrow(/Training\/Job: invalid trainingImage: TrainingImage.fromRegistry\("pytorch\/pytorch:2.3.0"\) is not an ECR image URI/);
  });
});

describe('TrainingInstanceType', () => {
  test.each([
    ['ml.g4dn.xlarge', true, true], ['ml.g5.2xlarge', true, true], ['ml.g6.12xlarge', true, true], ['ml.g6e.xlarge', true, true],
    ['ml.p3.2xlarge', false, true], ['ml.p3.16xlarge', false, true], ['ml.p3dn.24xlarge', true, true], ['ml.p4d.24xlarge', true, true],
    ['ml.p4de.24xlarge', true, true], ['ml.p5.48xlarge', true, true], ['ml.p5en.48xlarge', true, true], ['ml.p2.xlarge', false, true],
    ['ml.m5.xlarge', false, false], ['ml.c5n.2xlarge', false, false], ['ml.m5dn.4xlarge', true, false], ['ml.c6id.large', true, false], ['ml.trn1.32xlarge', true, false],
  ])('%s: local NVMe %s, GPU %s', (name, nvme, gpu) => {
    const type = TrainingInstanceType.of(name);
    expect([type.name, type.hasLocalNvmeStorage, type.hasGpu, type.toString()]).toEqual([name, nvme, gpu, name]);
  });

  test('the constants agree with of()', () => {
    expect(TrainingInstanceType.ML_G5_XLARGE.hasLocalNvmeStorage).toBe(true);
    expect(TrainingInstanceType.ML_P3_2XLARGE.hasLocalNvmeStorage).toBe(false);
    expect(TrainingInstanceType.ML_P4D_24XLARGE.name).toBe('ml.p4d.24xlarge');
  });

  test.each(['g5.xlarge', 'ml.g5', 'ML.G5.XLARGE', 'ml.g5.xlarge '])('fails if the type is malformed (%s)', (name) => {
    expect(() => TrainingInstanceType.of(name)).toThrow(`invalid instanceType: received ${JSON.stringify(name)}; expected a SageMaker training instance type 'ml.<family>.<size>'`);
  });

  test('fails if the type is a token', () => {
    expect(() => TrainingInstanceType.of(Token.asString({ Ref: 'X' }))).toThrow(/invalid instanceType: received a token/);
  });
});

describe('validation', () => {
  const fails = (props: PartialProps | ((stack: Stack, lake: SecureDataLake) => PartialProps), message: string | RegExp) =>
    expect(() => trainingStack(props)).toThrow(message);

  test.each(['Hearing', 'hearing_model', '-hearing', 'hearing-', 'a'.repeat(41), ''])('fails if modelName is invalid (%s)', (modelName) => {
    fails({ modelName }, `Training/Job: invalid modelName: received ${JSON.stringify(modelName)}; expected 1 to 40 lower-case letters, digits or "-"`);
  });

  test.each(['hearing', '/hearing/', 'hearing//', 'he*/'])('fails if datasetPrefix is invalid (%s)', (datasetPrefix) => {
    fails({ datasetPrefix }, `Training/Job: invalid datasetPrefix: received ${JSON.stringify(datasetPrefix)}; expected "" or key segments each ending in "/"`);
  });

  test.each([0, 1.5, 101])('fails if instanceCount is %s', (instanceCount) => {
    fails({ instanceCount }, `Training/Job: invalid instanceCount: received ${instanceCount}; expected an integer from 1 to 100`);
  });

  test('fails if volumeSize is not whole GiB', () => {
    fails({ volumeSize: Size.mebibytes(1500) }, /Training\/Job: invalid volumeSize: .*expected whole GiB from 1 to 16384/);
  });

  test('fails if maxRuntime is over 28 days', () => {
    fails({ maxRuntime: Duration.days(29) }, 'Training/Job: invalid maxRuntime: received 29 days; expected 1 second to 28 days');
  });

  test('fails if spot training has no checkpoints', () => {
    fails({ useSpotInstances: true, checkpoints: false }, 'Training/Job: useSpotInstances needs checkpoints');
  });

  test('fails if maxWait is less than maxRuntime', () => {
    fails({ useSpotInstances: true, maxRuntime: Duration.hours(2), maxWait: Duration.hours(1) }, 'Training/Job: invalid maxWait: received 1 hour; expected at least maxRuntime (7200 seconds)');
  });

  test('fails if maxWait is set without spot', () => {
    fails({ maxWait: Duration.hours(1) }, 'Training/Job: maxWait applies to spot training only');
  });

  test('fails if vpcSubnets is set without vpc', () => {
    fails({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }, 'Training/Job: vpcSubnets needs vpc');
  });

  test('fails if volumeEncryptionKey is given for an instance type with local NVMe storage', () => {
    fails((stack) => ({ volumeEncryptionKey: new kms.Key(stack, 'K') }), 'Training/Job: volumeEncryptionKey cannot be used with ml.g5.xlarge: its storage is local NVMe');
  });

  test('fails if there are more than 100 hyperparameters', () => {
    const hyperparameters = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`h${i}`, '1']));
    fails({ hyperparameters }, 'Training/Job: invalid hyperparameters: received "101 entries"; expected at most 100');
  });

  test('fails if a hyperparameter value is too long', () => {
    fails({ hyperparameters: { x: 'y'.repeat(2501) } }, /Training\/Job: invalid hyperparameters.x: .*expected a string of at most 2500 characters/);
  });

  test('fails if an environment variable name is invalid', () => {
    fails({ environment: { '1BAD': 'x' } }, 'Training/Job: invalid environment key: received "1BAD"');
  });

  test('fails if there are more than 40 metric definitions', () => {
    const metricDefinitions = Array.from({ length: 41 }, (_, i) => ({ name: `m${i}`, regex: 'x=([0-9]+)' }));
    fails({ metricDefinitions }, 'Training/Job: invalid metricDefinitions: received "41 definitions"; expected at most 40');
  });

  test('fails if a metric name has a quote', () => {
    fails({ metricDefinitions: [{ name: 'it\'s', regex: 'x=([0-9]+)' }] }, 'Training/Job: invalid metricDefinitions[].name: received "it\'s"; expected 1 to 255 characters without quotes');
  });

  test('fails if a metric regex is empty', () => {
    fails({ metricDefinitions: [{ name: 'm', regex: '' }] }, 'Training/Job: invalid metricDefinitions[m].regex: received ""; expected 1 to 500 characters');
  });

  test('fails if a gate names a metric that is not defined', () => {
    fails({ metricDefinitions: METRICS, gates: [{ metricName: 'test:f1', comparison: MetricComparison.GREATER_THAN, threshold: 0.5 }] },
      'Training/Job: invalid gates[].metricName: received "test:f1"; expected one of the metricDefinitions names (validation:accuracy, validation:loss)');
  });

  test('fails if a gate threshold is not finite', () => {
    fails({ metricDefinitions: METRICS, gates: [{ metricName: 'validation:loss', comparison: MetricComparison.LESS_THAN, threshold: NaN }] },
      'Training/Job: invalid gates[validation:loss].threshold: received null; expected a finite number');
  });

  test('fails if two channels have the same name', () => {
    fails({ channels: [{ name: 'train', datasetFile: 'train.manifest' }, { name: 'train', datasetFile: 'validation.manifest' }] },
      'Training/Job: invalid channels[].name: received "train"; expected a unique name');
  });

  test('fails if there are no channels', () => {
    fails({ channels: [] }, 'Training/Job: invalid channels: received "0 channels"; expected 1 to 20 channels');
  });

  test('fails if a channel file escapes the dataset version', () => {
    fails({ channels: [{ name: 'train', datasetFile: '../x' }] }, /Training\/Job: invalid channels\[train\].datasetFile: received "..\/x"/);
  });

  test('fails if an AugmentedManifestFile channel is not in Pipe mode', () => {
    fails({ channels: [{ name: 'train', datasetFile: 'train.manifest', dataType: ChannelDataType.AUGMENTED_MANIFEST_FILE, inputMode: ChannelInputMode.FILE, attributeNames: ['source'] }] },
      'Training/Job: invalid channels[train].inputMode: received "File"; AugmentedManifestFile channels are read in Pipe mode only');
  });

  test('fails if an AugmentedManifestFile channel has no attribute names', () => {
    fails({ channels: [{ name: 'train', datasetFile: 'train.manifest', dataType: ChannelDataType.AUGMENTED_MANIFEST_FILE }] },
      'Training/Job: invalid channels[train].attributeNames: received undefined; AugmentedManifestFile channels need 1 to 16 attribute names');
  });

  test('fails if an S3Prefix channel has attribute names', () => {
    fails({ channels: [{ name: 'train', datasetFile: 'train.manifest', attributeNames: ['source'] }] },
      'Training/Job: invalid channels[train].attributeNames: received ["source"]; attributeNames apply to ChannelDataType.AUGMENTED_MANIFEST_FILE only');
  });

  test('fails if the scheduled dataset version is not a version name', () => {
    fails({ schedule: { schedule: events.Schedule.rate(Duration.days(1)), datasetVersion: 'v1/../x' } },
      'Training/Job: invalid schedule.datasetVersion: received "v1/../x"; expected 1 to 128 letters, digits');
  });

  test('a second job in the same stack needs another model name only (no clashing children)', () => {
    const f = trainingStack({}, new App(), (_job, stack, lake) => {
      new GpuTrainingJob(stack, 'Other', { lake, modelName: 'other', trainingImage: TrainingImage.fromRegistry('111111111111.dkr.ecr.eu-central-1.amazonaws.com/x:1') });
    });
    f.template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    f.template.resourceCountIs('AWS::SageMaker::ModelPackageGroup', 2);
  });
});
