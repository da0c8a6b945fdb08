/**
 * The construct side of publishing models and retraining on drift: the PublishModel function
 * (environment, memory, VPC), the props that configure it, the reserved model name, and the
 * retraining rule ("Model Drift Detected" → the labeling pipeline's dataset state machine, through
 * a role EventBridge may assume for this account's rules only, with the job's dead-letter queue).
 */
import { Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { logicalId, PartialProps, trainingStack } from './training-fixture';
import { publishModelMemoryMiB } from '../../src/gpu-training-job/publish-model';
import { LabelingPipeline } from '../../src/labeling-pipeline/labeling-pipeline';
import { hearingPipelineProps } from '../labeling-pipeline/pipeline-fixture';

const ACCOUNT = '111111111111';

function publishFunction(t: Template): any {
  return t.toJSON().Resources[logicalId(t, 'AWS::Lambda::Function', 'JobPublishModel')].Properties;
}

describe('the PublishModel function', () => {
  const f = trainingStack();
  const fn = publishFunction(f.template);

  test('the bundled handler with its configuration in the environment, the lake key for what it writes', () => {
    expect(fn.Handler).toBe('index.handler');
    expect(fn.Runtime).toMatch(/^nodejs(2[4-9]|[3-9]\d)\.x$/);
    expect(fn.Architectures).toEqual(['arm64']);
    expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.Timeout).toBe(900);
    expect(fn.Environment.Variables).toMatchObject({
      MODEL_NAME: 'hearing-who-grade',
      MODEL_FILE_NAME: 'model.onnx',
      BASELINE_FILE_NAME: 'baseline.json',
      REQUIRE_BASELINE: 'false',
      MAX_ARCHIVE_BYTES: String(2 * 1024 ** 3),
      MODELS_BUCKET: { Ref: logicalId(f.template, 'AWS::S3::Bucket', 'LakeModels') },
      CURATED_BUCKET: { Ref: logicalId(f.template, 'AWS::S3::Bucket', 'LakeCurated') }, // the lineage event
      LAKE_KEY_ARN: { 'Fn::GetAtt': [f.stack.getLogicalId(f.lake.encryptionKey.node.defaultChild as any), 'Arn'] },
    });
  });

  test('memory holds the largest model file once, plus the runtime', () => {
    expect(fn.MemorySize).toBe(publishModelMemoryMiB(2 * 1024 ** 3));
    expect(publishModelMemoryMiB(2 * 1024 ** 3)).toBe(3072);
    expect(publishModelMemoryMiB(1024 ** 2)).toBe(1024);
    expect(publishModelMemoryMiB(5 * 1024 ** 3)).toBe(6912);
    const small = publishFunction(trainingStack({ maxArchiveSize: Size.mebibytes(100), modelFileName: 'net.onnx', baselineFileName: 'drift.json', requireBaseline: true }).template);
    expect(small.MemorySize).toBe(1024);
    expect(small.Environment.Variables).toMatchObject({
      MODEL_FILE_NAME: 'net.onnx', BASELINE_FILE_NAME: 'drift.json', REQUIRE_BASELINE: 'true', MAX_ARCHIVE_BYTES: String(100 * 1024 ** 2),
    });
  });

  test('its log group is encrypted with the job\'s key', () => {
    const logs = f.template.toJSON().Resources[logicalId(f.template, 'AWS::Logs::LogGroup', 'JobPublishModelLogs')].Properties;
    expect(logs.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(f.template, 'AWS::KMS::Key', 'JobKey'), 'Arn'] });
    expect(fn.LoggingConfig).toMatchObject({ LogGroup: { Ref: logicalId(f.template, 'AWS::Logs::LogGroup', 'JobPublishModelLogs') } });
  });

  test('outside a VPC by default, in the training VPC when the job has one', () => {
    expect(fn.VpcConfig).toBeUndefined();
    const inVpc = trainingStack((stack) => ({
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-central-1a'], privateSubnetIds: ['subnet-1'] }),
    }));
    expect(publishFunction(inVpc.template).VpcConfig).toMatchObject({ SubnetIds: ['subnet-1'] });
  });

  test('the state machine may invoke it (and nothing else of Lambda)', () => {
    const machineRole = logicalId(f.template, 'AWS::IAM::Role', 'JobStateMachineRole');
    const policy = Object.values<any>(f.template.findResources('AWS::IAM::Policy'))
      .find((p) => p.Properties.Roles.some((r: any) => r.Ref === machineRole));
    const lambdaStatements = policy.Properties.PolicyDocument.Statement.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('lambda:')));
    expect(lambdaStatements).toHaveLength(1);
    expect(lambdaStatements[0].Action).toBe('lambda:InvokeFunction');
    const fnId = logicalId(f.template, 'AWS::Lambda::Function', 'JobPublishModel');
    expect(lambdaStatements[0].Resource).toEqual([
      { 'Fn::GetAtt': [fnId, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fnId, 'Arn'] }, ':*']] },
    ]);
  });
});

describe('validation', () => {
  const fails = (props: PartialProps, message: RegExp) => expect(() => trainingStack(props)).toThrow(message);

  test('the model name "monitoring" is reserved: it is the monitoring folder of the models zone', () => {
    fails({ modelName: 'monitoring' }, /Training\/Job: invalid modelName: received "monitoring"; .*reserved.*monitoring folder of the models zone/);
    expect(() => trainingStack({ modelName: 'monitoring-2' })).not.toThrow();
  });

  test.each([
    ['modelFileName', 'models/model.onnx'],
    ['modelFileName', '..'],
    ['modelFileName', ''],
    ['baselineFileName', 'a b.json'],
    ['baselineFileName', '.'],
  ])('%s %j is not a file name of the model directory', (prop, value) => {
    fails({ [prop]: value }, new RegExp(`invalid ${prop}: .*file name at the top of the model directory`));
  });

  test('the model file and the baseline are two files', () => {
    fails({ modelFileName: 'model.onnx', baselineFileName: 'model.onnx' }, /modelFileName and baselineFileName are both "model.onnx"/);
  });

  test.each([Size.kibibytes(512), Size.gibibytes(6)])('maxArchiveSize %s is outside 1 MiB to 5 GiB', (size) => {
    fails({ maxArchiveSize: size }, /invalid maxArchiveSize: .*1 MiB to 5 GiB .*PutObject/);
  });
});

describe('retrainOnDrift', () => {
  /** A stack with a labeling pipeline and a job trained on its versions. */
  function retrainStack(retrain: (pipeline: LabelingPipeline, stack: Stack) => PartialProps) {
    let pipeline!: LabelingPipeline;
    const f = trainingStack((stack, lake) => {
      pipeline = new LabelingPipeline(stack, 'Hearing', { ...hearingPipelineProps(), lake });
      return { datasetPrefix: pipeline.zonePrefix, datasetTrigger: { pipelineName: pipeline.pipelineName }, ...retrain(pipeline, stack) };
    });
    return { ...f, pipeline };
  }

  test('a drift event of the endpoint starts the pipeline\'s dataset state machine, with the job\'s dead-letter queue', () => {
    const f = retrainStack((pipeline) => ({ retrainOnDrift: { pipeline, captureName: 'hearing-who-grade' } }));
    const t = f.template;
    const datasetMachine = f.stack.getLogicalId(f.pipeline.datasetStateMachine.node.defaultChild as any);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['cdk-secure-mlops.model-monitor'], 'detail-type': ['Model Drift Detected'], 'detail': { endpoint: ['hearing-who-grade'] } },
      Targets: [Match.objectLike({
        Arn: { Ref: datasetMachine },
        Input: '{}',
        RoleArn: { 'Fn::GetAtt': [logicalId(t, 'AWS::IAM::Role', 'JobRetrainOnDriftRole'), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(t, 'AWS::SQS::Queue', 'JobDeadLetterQueue'), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
      })],
    });
  });

  test('the rule\'s role: EventBridge for this account\'s rules only, and only StartExecution of the dataset state machine', () => {
    const f = retrainStack((pipeline) => ({ retrainOnDrift: { pipeline } }));
    const t = f.template.toJSON();
    const roleId = logicalId(f.template, 'AWS::IAM::Role', 'JobRetrainOnDriftRole');
    const trust = t.Resources[roleId].Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } });
    expect(trust[0].Condition.StringEquals).toEqual({ 'aws:SourceAccount': ACCOUNT });
    expect(JSON.stringify(trust[0].Condition.ArnLike['aws:SourceArn'])).toContain(`:events:eu-central-1:${ACCOUNT}:rule/*`);
    const policy = Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId));
    expect(policy.Properties.PolicyDocument.Statement).toEqual([{
      Action: 'states:StartExecution',
      Effect: 'Allow',
      Resource: { Ref: f.stack.getLogicalId(f.pipeline.datasetStateMachine.node.defaultChild as any) },
    }]);
  });

  test('without captureName, drift of any endpoint on the bus; another bus when given', () => {
    const f = retrainStack((pipeline, stack) => ({
      retrainOnDrift: { pipeline, eventBus: new events.EventBus(stack, 'MonitorBus', { kmsKey: new kms.Key(stack, 'BusKey', { enableKeyRotation: true }) }) },
    }));
    const rules = Object.values<any>(f.template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventPattern?.source?.[0] === 'cdk-secure-mlops.model-monitor');
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.EventPattern).toEqual({ 'source': ['cdk-secure-mlops.model-monitor'], 'detail-type': ['Model Drift Detected'] });
    expect(rules[0].Properties.EventBusName).toEqual({ Ref: logicalId(f.template, 'AWS::Events::EventBus', 'MonitorBus') });
  });

  test('needs datasetTrigger: the new dataset version is what trains', () => {
    expect(() => retrainStack((pipeline) => ({ datasetTrigger: undefined, retrainOnDrift: { pipeline } })))
      .toThrow(/retrainOnDrift needs datasetTrigger: drift starts a new dataset version of the pipeline, and the dataset trigger trains on it/);
  });

  test('the pipeline must be the one whose versions the job trains on', () => {
    expect(() => retrainStack((pipeline) => ({ datasetPrefix: 'other/', datasetTrigger: {}, retrainOnDrift: { pipeline } })))
      .toThrow(/invalid retrainOnDrift.pipeline.zonePrefix: received "hearing\/"; expected the job's datasetPrefix \("other\/"\).*never start a training/);
    expect(() => retrainStack((pipeline) => ({ datasetTrigger: { pipelineName: 'another' }, retrainOnDrift: { pipeline } })))
      .toThrow(/invalid retrainOnDrift.pipeline.pipelineName: received "hearing"; .*datasetTrigger listens to \("another"\)/);
  });

  test('captureName must be a capture name', () => {
    expect(() => retrainStack((pipeline) => ({ retrainOnDrift: { pipeline, captureName: 'no spaces/here' } })))
      .toThrow(/invalid retrainOnDrift.captureName/);
  });
});
