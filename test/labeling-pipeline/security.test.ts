import { Duration, Stack } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { hearingPipelineProps } from './pipeline-fixture';
import { Labeler, LabelingPipeline, ManifestSource, SecureDataLake } from '../../src';
import { createSecurityTestApp, expectNoUnacknowledgedFindings, formatSecurityReport, runSecurityChecks, SecurityReport } from '../support/security-harness';
import { useTemplateScans } from '../support/template-scanners';

const ENV = { account: '111111111111', region: 'eu-central-1' };
const scan = useTemplateScans();
const keep = (report: SecurityReport) => scan(report.templateFiles);

test('minimal configuration: zero unacknowledged findings', () => {
  const app = createSecurityTestApp();
  const stack = new Stack(app, 'LabelingMinimal', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  new LabelingPipeline(stack, 'Hearing', { lake, ...hearingPipelineProps() });
  const report = runSecurityChecks(app, { name: 'labeling-pipeline-minimal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});

test('maximal configuration: zero unacknowledged findings', () => {
  const app = createSecurityTestApp();
  const stack = new Stack(app, 'LabelingMaximal', { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  });
  const lake = new SecureDataLake(stack, 'Lake');
  const key = new kms.Key(stack, 'PipelineKey', { enableKeyRotation: true });
  const bus = new events.EventBus(stack, 'Bus', { kmsKey: key });
  const custom = lambda.Function.fromFunctionAttributes(stack, 'CustomLabeler', {
    functionArn: 'arn:aws:lambda:eu-central-1:111111111111:function:hearing-custom-labeler:live',
    sameEnvironment: true,
  });
  const base = hearingPipelineProps();
  new LabelingPipeline(stack, 'Hearing', {
    lake,
    ...base,
    pipelineName: 'hearing-tests',
    sourcePrefix: 'uploads/hearing/',
    zonePrefix: 'hearing/v1/',
    labelers: [...base.labelers, Labeler.fromFunction(custom, { name: 'custom', version: '2' })],
    labelerWeights: { 'rules:who-grade': 2 },
    review: { minConfidence: 0.9, qualitySampleRate: 0.1, timeout: Duration.days(2), maxAttempts: 5 },
    reviewApi: { allowedOrigins: ['https://review.example.com'], wafRateLimit: 200, throttlingRateLimit: 10 },
    datasetSchedule: events.Schedule.rate(Duration.days(1)),
    manifestSource: ManifestSource.REFERENCE,
    eventBus: bus,
    encryptionKey: key,
    batchSize: 25,
    maxReceiveCount: 5,
    handlerTimeout: Duration.seconds(90),
    reservedConcurrency: 20,
    vpc,
    alarmAction: new cwActions.SnsAction(new sns.Topic(stack, 'Alarms', {
      masterKey: new kms.Key(stack, 'AlarmsKey', { enableKeyRotation: true }),
      enforceSSL: true,
    })),
  });
  const report = runSecurityChecks(app, { name: 'labeling-pipeline-maximal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});
