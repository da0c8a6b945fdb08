/**
 * Our own static rules on state machine definitions (security.md, static item 3): clean on the
 * construct's definitions, and red on crafted bad ones (each rule can fail).
 */
import { App, Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { checkDefinition, checkStateMachines, definitionOf } from './definition-checks';
import { definition, ENV, logicalId, trainingStack } from './training-fixture';
import { TrainingInstanceType } from '../../src/gpu-training-job';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const good = definition(trainingStack({ instanceType: TrainingInstanceType.ML_P3_2XLARGE, instanceCount: 2, useSpotInstances: true }));
const rules = (d: Record<string, any>, options?: { allowNetworkAccess?: boolean }) => checkDefinition(d, options).map((f) => `${f.state}: ${f.rule}`);
const broken = (edit: (d: Record<string, any>) => void) => {
  const d = clone(good);
  edit(d);
  return rules(d);
};

test('the construct\'s definitions pass: defaults, EBS instance with spot and several instances, VPC', () => {
  expect(rules(good)).toEqual([]);
  expect(checkStateMachines(trainingStack().template.toJSON())).toEqual([]);
  const vpc = trainingStack((stack) => ({
    vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-central-1a'], privateSubnetIds: ['subnet-a'] }),
  }));
  expect(checkStateMachines(vpc.template.toJSON())).toEqual([]);
});

test('network isolation opted out is a finding unless the check is told so', () => {
  const f = trainingStack({ networkIsolation: false });
  const id = logicalId(f.template, 'AWS::StepFunctions::StateMachine');
  expect(checkStateMachines(f.template.toJSON()).map((x) => x.rule)).toEqual(['training-network-isolation']);
  expect(checkStateMachines(f.template.toJSON(), { networkIsolationOptOut: [id] })).toEqual([]);
});

test('fails if a Task state has no Retry', () => {
  expect(broken((d) => { delete d.States.RegisterModel.Retry; })).toEqual(['RegisterModel: task-retry']);
});

test('fails if a retrier is unbounded', () => {
  expect(broken((d) => { d.States.WriteModelRecord.Retry[0].MaxAttempts = 99; })).toEqual(['WriteModelRecord: task-retry']);
});

test('fails if a Task state has no Catch (or one that does not catch everything)', () => {
  expect(broken((d) => { delete d.States.PublishModelTrained.Catch; })).toEqual(['PublishModelTrained: task-catch']);
  expect(broken((d) => { d.States.Train.Catch[0].ErrorEquals = ['SageMaker.AmazonSageMakerException']; })).toEqual(['Train: task-catch']);
});

test('fails if the training task retries failed jobs', () => {
  expect(broken((d) => { d.States.Train.Retry[0].ErrorEquals.push('States.TaskFailed'); })).toEqual(['Train: training-no-retry-on-failure']);
});

test('fails if the output is not encrypted with a KMS key', () => {
  expect(broken((d) => { delete d.States.Train.Parameters.OutputDataConfig.KmsKeyId; })).toEqual(['Train: training-output-kms']);
});

test('fails if an EBS instance type has no volume key', () => {
  expect(broken((d) => { delete d.States.Train.Parameters.ResourceConfig.VolumeKmsKeyId; })).toEqual(['Train: training-volume-kms']);
});

test('fails if an NVMe instance type has a volume key (SageMaker rejects it)', () => {
  expect(broken((d) => { d.States.Train.Parameters.ResourceConfig.InstanceType = 'ml.g5.2xlarge'; })).toEqual(['Train: training-volume-kms']);
});

test('fails if the instance type is not a literal and there is no volume key', () => {
  expect(broken((d) => {
    const rc = d.States.Train.Parameters.ResourceConfig;
    delete rc.InstanceType;
    delete rc.VolumeKmsKeyId;
    rc['InstanceType.$'] = '$.instanceType';
  })).toEqual(['Train: training-volume-kms']);
});

test('fails if network isolation is off', () => {
  expect(broken((d) => { d.States.Train.Parameters.EnableNetworkIsolation = false; })).toEqual(['Train: training-network-isolation']);
  expect(broken((d) => { delete d.States.Train.Parameters.EnableNetworkIsolation; })).toEqual(['Train: training-network-isolation']);
});

test('fails if several instances talk unencrypted', () => {
  expect(broken((d) => { d.States.Train.Parameters.EnableInterContainerTrafficEncryption = false; })).toEqual(['Train: training-inter-container-encryption']);
  expect(broken((d) => {
    const p = d.States.Train.Parameters;
    p.EnableInterContainerTrafficEncryption = false;
    p.ResourceConfig.InstanceCount = 1;
  })).toEqual([]);
});

test('fails if the max runtime is missing or over 28 days', () => {
  expect(broken((d) => { delete d.States.Train.Parameters.StoppingCondition.MaxRuntimeInSeconds; }))
    .toEqual(['Train: training-max-runtime', 'Train: training-spot-checkpoints']);
  expect(broken((d) => {
    d.States.Train.Parameters.StoppingCondition = { MaxRuntimeInSeconds: 29 * 86400, MaxWaitTimeInSeconds: 30 * 86400 };
  })).toEqual(['Train: training-max-runtime']);
});

test('fails if spot training has no checkpoints or a short max wait', () => {
  expect(broken((d) => { delete d.States.Train.Parameters.CheckpointConfig; })).toEqual(['Train: training-spot-checkpoints']);
  expect(broken((d) => { d.States.Train.Parameters.StoppingCondition.MaxWaitTimeInSeconds = 60; })).toEqual(['Train: training-spot-checkpoints']);
});

test('checks Task states nested in Parallel and Map states', () => {
  const task = clone(good.States.Train);
  delete task.Retry;
  delete task.Next;
  task.End = true;
  const d = {
    StartAt: 'P',
    States: {
      P: { Type: 'Parallel', Branches: [{ StartAt: 'T', States: { T: task } }], End: true },
      M: { Type: 'Map', ItemProcessor: { StartAt: 'T', States: { T: clone(task) } }, End: true },
    },
  };
  expect(rules(d)).toEqual(['P/Branch[0]/T: task-retry', 'M/T: task-retry']);
});

test('aws-cdk-lib\'s SageMakerCreateTrainingJob with its defaults fails the rules it does not set', () => {
  const stack = new Stack(new App(), 'Stock', { env: ENV });
  const train = new tasks.SageMakerCreateTrainingJob(stack, 'Train', {
    trainingJobName: sfn.JsonPath.stringAt('$.name'),
    algorithmSpecification: { trainingImage: tasks.DockerImage.fromRegistry('111111111111.dkr.ecr.eu-central-1.amazonaws.com/x:1') },
    inputDataConfig: [{ channelName: 'train', dataSource: { s3DataSource: { s3Location: tasks.S3Location.fromJsonExpression('$.train') } } }],
    outputDataConfig: { s3OutputLocation: tasks.S3Location.fromJsonExpression('$.out') },
    resourceConfig: { instanceCount: 2, instanceType: new ec2.InstanceType('p3.2xlarge'), volumeSize: Size.gibibytes(50) },
  });
  new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(train) });
  const template = Template.fromStack(stack).toJSON();
  const findings = checkStateMachines(template).map((f) => f.rule);
  expect(findings).toEqual(expect.arrayContaining([
    'task-retry', 'task-catch', 'training-output-kms', 'training-volume-kms', 'training-network-isolation', 'training-inter-container-encryption',
  ]));
  expect(definitionOf(template.Resources[logicalId(Template.fromJSON(template), 'AWS::StepFunctions::StateMachine')]).States.Train.Type).toBe('Task');
});

test('definitionOf reads plain strings and refuses what it cannot read', () => {
  expect(definitionOf({ Properties: { DefinitionString: '{"StartAt":"A","States":{}}' } })).toEqual({ StartAt: 'A', States: {} });
  expect(() => definitionOf({ Properties: { DefinitionString: { 'Fn::Sub': 'x' } } })).toThrow(/cannot read the state machine definition/);
});
