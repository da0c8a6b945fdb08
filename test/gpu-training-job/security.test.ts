/**
 * The GpuTrainingJob's minimal and maximal configurations through the security harness (cdk-nag
 * packs + CloudFormation validator, reviewed acknowledgments), cfn-lint and checkov, and our own
 * definition checks (security.md, static item 3).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { checkStateMachines } from './definition-checks';
import { ENV, GATES, IMAGE_DIR, METRICS } from './training-fixture';
import { GpuTrainingJob, ModelConsumer, TrainingImage, TrainingInstanceType } from '../../src/gpu-training-job';
import { LabelingPipeline } from '../../src/labeling-pipeline/labeling-pipeline';
import { SecureDataLake } from '../../src/secure-data-lake/secure-data-lake';
import { createSecurityTestApp, expectNoUnacknowledgedFindings, formatSecurityReport, runSecurityChecks, SecurityReport } from '../support/security-harness';
import { useTemplateScans } from '../support/template-scanners';

const scan = useTemplateScans();
const keep = (report: SecurityReport) => scan(report.templateFiles);

test('minimal configuration: zero unacknowledged findings', () => {
  const app = createSecurityTestApp();
  const stack = new Stack(app, 'TrainingMinimal', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  new GpuTrainingJob(stack, 'Training', {
    lake,
    modelName: 'hearing-who-grade',
    trainingImage: TrainingImage.fromAsset(IMAGE_DIR),
  });
  const report = runSecurityChecks(app, { name: 'gpu-training-job-minimal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
  expect(checkStateMachines(app.synth().getStackByName(stack.stackName).template)).toEqual([]);
});

test('maximal configuration: zero unacknowledged findings', () => {
  const app = createSecurityTestApp();
  const stack = new Stack(app, 'TrainingMaximal', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  });
  const alarmsKey = new kms.Key(stack, 'AlarmsKey', { enableKeyRotation: true });
  const alarms = new sns.Topic(stack, 'Alarms', { masterKey: alarmsKey, enforceSSL: true });
  const bus = new events.EventBus(stack, 'Bus', { kmsKey: new kms.Key(stack, 'BusKey', { enableKeyRotation: true }) });
  // A consumer: a queue that a deployment step reads, and the role of that step.
  const consumerKey = new kms.Key(stack, 'ConsumerKey', { enableKeyRotation: true });
  const consumerDlq = new sqs.Queue(stack, 'ConsumerDlq', { encryptionMasterKey: consumerKey, enforceSSL: true });
  const consumerQueue = new sqs.Queue(stack, 'ConsumerQueue', {
    encryptionMasterKey: consumerKey,
    enforceSSL: true,
    deadLetterQueue: { queue: consumerDlq, maxReceiveCount: 5 },
  });
  const consumerRole = new iam.Role(stack, 'ConsumerRole', { assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com') });
  new GpuTrainingJob(stack, 'Training', {
    lake,
    modelName: 'hearing-who-grade',
    datasetPrefix: 'hearing/',
    trainingImage: TrainingImage.fromAsset(IMAGE_DIR),
    instanceType: TrainingInstanceType.ML_P3_2XLARGE,
    instanceCount: 2,
    maxRuntime: Duration.hours(12),
    useSpotInstances: true,
    maxWait: Duration.hours(36),
    vpc,
    hyperparameters: { 'epochs': '20', 'hidden-units': '32,32' },
    metricDefinitions: METRICS,
    gates: GATES,
    environment: { PYTHONHASHSEED: '0' },
    eventBus: bus,
    datasetTrigger: { pipelineName: 'hearing' },
    schedule: { schedule: events.Schedule.cron({ weekDay: 'MON', hour: '3', minute: '0' }), datasetVersion: 'hearing-v12' },
    consumers: [ModelConsumer.eventTarget(new targets.SqsQueue(consumerQueue, { deadLetterQueue: consumerDlq }), consumerRole)],
    alarmAction: new cwActions.SnsAction(alarms),
  });
  const report = runSecurityChecks(app, { name: 'gpu-training-job-maximal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
  expect(checkStateMachines(app.synth().getStackByName(stack.stackName).template)).toEqual([]);
});

test('retraining on drift (a required baseline): zero unacknowledged findings', () => {
  const app = createSecurityTestApp();
  const stack = new Stack(app, 'TrainingRetrain', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  // The pipeline's own resources are checked by its security tests (test/labeling-pipeline): here
  // a stand-in with its dataset state machine, so that the findings are the job's own.
  const pipeline = {
    pipelineName: 'hearing',
    zonePrefix: 'hearing/',
    datasetStateMachine: sfn.StateMachine.fromStateMachineName(stack, 'DatasetStateMachine', 'hearing-dataset'),
  } as unknown as LabelingPipeline;
  new GpuTrainingJob(stack, 'Training', {
    lake,
    modelName: 'hearing-who-grade',
    datasetPrefix: pipeline.zonePrefix,
    trainingImage: TrainingImage.fromAsset(IMAGE_DIR),
    datasetTrigger: { pipelineName: pipeline.pipelineName },
    requireBaseline: true,
    retrainOnDrift: { pipeline, captureName: 'hearing-who-grade' },
  });
  const report = runSecurityChecks(app, { name: 'gpu-training-job-retrain' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
  expect(checkStateMachines(app.synth().getStackByName(stack.stackName).template)).toEqual([]);
});
