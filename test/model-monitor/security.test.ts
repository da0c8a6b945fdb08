import { Duration, Stack } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FEATURES } from './monitor-world';
import { SecureDataLake } from '../../src';
import { DriftMethod, ModelMonitor } from '../../src/model-monitor';
import { createSecurityTestApp, expectNoUnacknowledgedFindings, formatSecurityReport, runSecurityChecks, SecurityReport } from '../support/security-harness';
import { useTemplateScans } from '../support/template-scanners';

const ENV = { account: '111111111111', region: 'eu-central-1' };
const scan = useTemplateScans();
const keep = (report: SecurityReport) => scan(report.templateFiles);

test('minimal configuration: zero unacknowledged findings', () => {
  const app = createSecurityTestApp();
  const stack = new Stack(app, 'MonitorMinimal', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  new ModelMonitor(stack, 'Monitor', { lake, captureName: 'hearing-who' });
  const report = runSecurityChecks(app, { name: 'model-monitor-minimal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});

test('maximal configuration: zero unacknowledged findings', () => {
  const app = createSecurityTestApp();
  const stack = new Stack(app, 'MonitorMaximal', { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  });
  const lake = new SecureDataLake(stack, 'Lake');
  const key = new kms.Key(stack, 'BusKey', { enableKeyRotation: true });
  const bus = new events.EventBus(stack, 'Bus', { kmsKey: key });
  new ModelMonitor(stack, 'Monitor', {
    lake,
    captureName: 'hearing-who.v2',
    features: FEATURES,
    inputName: 'thresholds',
    schedule: events.Schedule.rate(Duration.hours(6)),
    window: Duration.hours(6),
    minimumRows: 500,
    maxRowsPerModel: 50_000,
    driftThresholds: { datasetDriftShare: 0.25, features: [{ feature: 'left.8000', method: DriftMethod.WASSERSTEIN, threshold: 0.2 }] },
    eventBus: bus,
    groundTruthLookback: Duration.days(14),
    reservedConcurrency: 1,
    vpc,
    alarmAction: new cwActions.SnsAction(new sns.Topic(stack, 'Alarms', {
      masterKey: new kms.Key(stack, 'AlarmsKey', { enableKeyRotation: true }),
      enforceSSL: true,
    })),
  });
  const report = runSecurityChecks(app, { name: 'model-monitor-maximal' });
  keep(report);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});
