import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ModelArtifact, SecureDataLake, ServerlessModelEndpoint } from '../../src';
import { createSecurityTestApp, expectNoUnacknowledgedFindings, formatSecurityReport, runSecurityChecks, SecurityReport } from '../support/security-harness';
import { useTemplateScans } from '../support/template-scanners';

const ENV = { account: '111111111111', region: 'eu-central-1' };
const MODEL_DIR = path.join(__dirname, '..', 'fixtures', 'models');
const META = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));

const scan = useTemplateScans();
const keep = (report: SecurityReport) => scan(report.templateFiles);

// Packaging is exercised in runtime-package.test.ts; here only the template matters.
const app = () => createSecurityTestApp({ context: { 'aws:cdk:bundling-stacks': [] } });

test('minimal configuration: zero unacknowledged findings', () => {
  const a = app();
  const stack = new Stack(a, 'EndpointMinimal', { env: ENV });
  new ServerlessModelEndpoint(stack, 'Predict', {
    model: ModelArtifact.fromAsset(path.join(MODEL_DIR, META.file), { version: META.version, classNames: META.classNames }),
  });
  const report = runSecurityChecks(a, { name: 'serverless-model-endpoint-minimal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});

test('maximal configuration: zero unacknowledged findings', () => {
  const a = app();
  const stack = new Stack(a, 'EndpointMaximal', { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  });
  const lake = new SecureDataLake(stack, 'Lake');
  new ServerlessModelEndpoint(stack, 'Predict', {
    model: ModelArtifact.fromDataLake(lake, 'hearing/v1/model.onnx', { version: META.version, classNames: META.classNames, sha256: META.sha256 }),
    allowedOrigins: ['https://app.example.com'],
    provisionedConcurrency: 1,
    autoScaling: { minCapacity: 1, maxCapacity: 4 },
    reservedConcurrency: 10,
    vpc,
    capture: { lake, samplingPercentage: 10 },
    alarmAction: new cwActions.SnsAction(new sns.Topic(stack, 'Alarms', {
      masterKey: new kms.Key(stack, 'AlarmsKey', { enableKeyRotation: true }),
      enforceSSL: true,
    })),
  });
  const report = runSecurityChecks(a, { name: 'serverless-model-endpoint-maximal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});

test('with prediction capture (defaults): zero unacknowledged findings', () => {
  const a = app();
  const stack = new Stack(a, 'EndpointCapture', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  new ServerlessModelEndpoint(stack, 'Predict', {
    model: ModelArtifact.fromAsset(path.join(MODEL_DIR, META.file), { version: META.version, classNames: META.classNames }),
    capture: { lake },
  });
  const report = runSecurityChecks(a, { name: 'serverless-model-endpoint-capture' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});
