/**
 * The security packs (AwsSolutions, HIPAA.Security, NIST.800.53.R5, Serverless) and the
 * CloudFormation validator over a ModelPromotion, minimal and maximal: zero unacknowledged
 * findings, and none of the endpoint's acknowledgments goes stale.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { META, MODEL_NAME } from './promotion-fixture';
import { MetricComparison } from '../../src/gpu-training-job/training-options';
import { ModelPromotion } from '../../src/model-promotion';
import { SecureDataLake } from '../../src/secure-data-lake/secure-data-lake';
import { ModelArtifact } from '../../src/serverless-model-endpoint/model-artifact';
import { ServerlessModelEndpoint } from '../../src/serverless-model-endpoint/serverless-model-endpoint';
import { createSecurityTestApp, expectNoUnacknowledgedFindings, formatSecurityReport, runSecurityChecks, SecurityReport } from '../support/security-harness';
import { useTemplateScans } from '../support/template-scanners';

const ENV = { account: '111111111111', region: 'eu-central-1' };
const scan = useTemplateScans();
const keep = (report: SecurityReport) => scan(report.templateFiles);
const app = () => createSecurityTestApp({ context: { 'aws:cdk:bundling-stacks': [] } });

function endpointOf(stack: Stack, lake: SecureDataLake): ServerlessModelEndpoint {
  return new ServerlessModelEndpoint(stack, 'Predict', {
    model: ModelArtifact.fromDataLake(lake, `${MODEL_NAME}/models/first/model.onnx`, { version: `${MODEL_NAME}@1`, classNames: META.classNames, sha256: META.sha256 }),
  });
}

test('minimal configuration: zero unacknowledged findings', () => {
  const a = app();
  const stack = new Stack(a, 'PromotionMinimal', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  new ModelPromotion(stack, 'Promotion', { endpoint: endpointOf(stack, lake), lake, modelName: MODEL_NAME });
  const report = runSecurityChecks(a, { name: 'model-promotion-minimal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});

test('maximal configuration (approval, gates, drift alarm, VPC, reserved concurrency, alarm action): zero unacknowledged findings', () => {
  const a = app();
  const stack = new Stack(a, 'PromotionMaximal', { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  });
  const lake = new SecureDataLake(stack, 'Lake');
  const topic = new sns.Topic(stack, 'Alarms', { masterKey: new kms.Key(stack, 'AlarmsKey', { enableKeyRotation: true }), enforceSSL: true });
  const driftAlarm = new cloudwatch.Alarm(stack, 'DriftAlarm', {
    metric: new cloudwatch.Metric({ namespace: 'cdk-secure-mlops/ModelMonitor', metricName: 'PredictionDrift', period: Duration.hours(1) }),
    threshold: 1,
    evaluationPeriods: 1,
    actionsEnabled: true,
  });
  driftAlarm.addAlarmAction(new cwActions.SnsAction(topic));
  driftAlarm.addOkAction(new cwActions.SnsAction(topic));
  const promotion = new ModelPromotion(stack, 'Promotion', {
    endpoint: endpointOf(stack, lake),
    lake,
    modelName: MODEL_NAME,
    gates: [{ metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: 0.9 }],
    approval: { timeout: Duration.days(1) },
    additionalAlarms: [driftAlarm],
    vpc,
    reservedConcurrency: 2,
    alarmAction: new cwActions.SnsAction(topic),
  });
  expect(promotion.approvalUrl).toBeDefined();
  const report = runSecurityChecks(a, { name: 'model-promotion-maximal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});
