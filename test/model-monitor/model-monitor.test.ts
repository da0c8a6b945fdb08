import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FEATURES } from './monitor-world';
import { SecureDataLake } from '../../src';
import { DriftMethod, ModelMonitor, ModelMonitorProps } from '../../src/model-monitor';
import { MONITOR_CONFIG_FILE, MONITOR_ENV, MonitorConfig } from '../../src/model-monitor/runtime/contract';

const ENV = { account: '111111111111', region: 'eu-central-1' };

function build(props: Partial<ModelMonitorProps> | ((stack: Stack) => Partial<ModelMonitorProps>) = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  const monitor = new ModelMonitor(stack, 'Monitor', { lake, captureName: 'hearing-who', ...(typeof props === 'function' ? props(stack) : props) });
  return { stack, lake, monitor, template: () => Template.fromStack(stack) };
}

// The staged asset directories (the drift job's code is its bundle plus the configuration file).
const fromAsset = jest.spyOn(lambda.Code, 'fromAsset');

/** The configuration file staged beside the drift job's bundle by the latest build(). */
function stagedConfig(): MonitorConfig {
  const dir = fromAsset.mock.calls.map((c) => c[0]).reverse().find((d) => fs.existsSync(path.join(d, MONITOR_CONFIG_FILE)))!;
  return JSON.parse(fs.readFileSync(path.join(dir, MONITOR_CONFIG_FILE), 'utf8'));
}

describe('ModelMonitor', () => {
  test('a daily schedule invokes the drift job; the job gets its bucket, key, bus and configuration', () => {
    const { stack, lake, template } = build();
    const t = template();
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 } })],
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 2048,
      Timeout: 900,
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      DeadLetterConfig: { TargetArn: Match.anyValue() },
      Environment: {
        Variables: Match.objectLike({
          [MONITOR_ENV.modelsBucket]: stack.resolve(lake.modelsBucket.bucketName),
          [MONITOR_ENV.lakeKeyArn]: stack.resolve(lake.encryptionKey.keyArn),
          [MONITOR_ENV.eventBusName]: 'default',
        }),
      },
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: 365 });
    const config = stagedConfig();
    expect(config).toEqual({
      captureName: 'hearing-who',
      service: 'Test/Monitor',
      windowHours: 24,
      minimumRows: 100,
      maxRowsPerModel: 100000,
      groundTruthLookbackDays: 30,
      maxGroundTruthLabels: 200000,
      drift: {},
    });
  });

  test('settings reach the job: features, input, window, thresholds, per-feature overrides', () => {
    const { template } = build({
      features: FEATURES,
      inputName: 'thresholds',
      window: Duration.hours(6),
      schedule: events.Schedule.rate(Duration.hours(6)),
      minimumRows: 50,
      groundTruthLookback: Duration.days(7),
      driftThresholds: {
        datasetDriftShare: 0.3,
        wassersteinThreshold: 0.15,
        features: [{ feature: 'left.8000', method: DriftMethod.KS, threshold: 0.01 }, { feature: 'right.250', enabled: false }],
        prediction: { method: DriftMethod.JENSEN_SHANNON, threshold: 0.2 },
      },
    });
    const t = template();
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
    expect(stagedConfig()).toMatchObject({
      features: FEATURES,
      inputName: 'thresholds',
      windowHours: 6,
      minimumRows: 50,
      groundTruthLookbackDays: 7,
      drift: {
        datasetDriftShare: 0.3,
        wassersteinThreshold: 0.15,
        features: { 'left.8000': { method: 'ks', threshold: 0.01 }, 'right.250': { enabled: false } },
        prediction: { method: 'jensen-shannon', threshold: 0.2 },
      },
    });
  });

  test('the drift alarm watches dataset or prediction drift; both alarms notify the alarm action', () => {
    const { template } = build((stack) => ({ alarmAction: new cwActions.SnsAction(new sns.Topic(stack, 'Alarms')) }));
    const t = template();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'MAX([dataset, prediction])' }),
        Match.objectLike({ Id: 'dataset', MetricStat: Match.objectLike({ Metric: { Namespace: 'cdk-secure-mlops/ModelMonitor', MetricName: 'DatasetDrift', Dimensions: [{ Name: 'service', Value: 'Test/Monitor' }] } }) }),
        Match.objectLike({ Id: 'prediction', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'PredictionDrift' }) }) }),
      ]),
      AlarmActions: [Match.anyValue()],
      OKActions: [Match.anyValue()],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', AlarmActions: [Match.anyValue()] });
  });

  test('metrics: namespace, service dimension, statistics', () => {
    const { stack, monitor } = build();
    const m = (metric: { namespace: string; metricName: string; statistic: string; dimensions?: Record<string, unknown> }) =>
      [metric.namespace, metric.metricName, metric.statistic, stack.resolve(metric.dimensions)];
    expect(m(monitor.metricAccuracy())).toEqual(['cdk-secure-mlops/ModelMonitor', 'Accuracy', 'Average', { service: 'Test/Monitor' }]);
    expect(m(monitor.metricDriftShare())).toEqual(['cdk-secure-mlops/ModelMonitor', 'DriftShare', 'Maximum', { service: 'Test/Monitor' }]);
    expect(m(monitor.metricDatasetDrift())[1]).toBe('DatasetDrift');
    expect(m(monitor.metricRowsEvaluated())[2]).toBe('Sum');
    expect(m(monitor.metricLabeledRows())[1]).toBe('LabeledRows');
    expect(monitor.reportsPrefix).toBe('monitoring/reports/endpoint=hearing-who/');
    expect(monitor.groundTruthPrefix).toBe('monitoring/ground-truth/endpoint=hearing-who/');
  });

  test('grantWriteGroundTruth: put under the ground-truth prefix with the lake key, nothing else', () => {
    const { stack, lake, monitor, template } = build();
    const role = new iam.Role(stack, 'Clinic', { assumedBy: new iam.AccountRootPrincipal() });
    monitor.grantWriteGroundTruth(role);
    const statements = Object.values(template().findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(stack.getLogicalId(role.node.defaultChild as iam.CfnRole)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Effect: 'Allow', Resource: { 'Fn::Join': ['', [stack.resolve(lake.modelsBucket.bucketArn), '/monitoring/ground-truth/endpoint=hearing-who/*']] } },
      { Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Effect: 'Allow', Resource: stack.resolve(lake.encryptionKey.keyArn) },
    ]);
  });

  test.each<[string, Partial<ModelMonitorProps>, RegExp]>([
    ['a capture name with a slash', { captureName: 'a/b' }, /invalid captureName: received "a\/b"/],
    ['an empty feature list', { features: [] }, /invalid features/],
    ['repeated features', { features: ['a', 'a'] }, /invalid features\[1\]: received "a"; expected unique names/],
    ['a window of 90 minutes', { window: Duration.minutes(90) }, /invalid window: received 1 hour 30 minutes; expected whole hours/],
    ['a window of 32 days', { window: Duration.days(32) }, /invalid window/],
    ['a lookback shorter than the window', { window: Duration.days(3), groundTruthLookback: Duration.days(2) }, /invalid groundTruthLookback/],
    ['a cap below the minimum', { minimumRows: 500, maxRowsPerModel: 100 }, /invalid maxRowsPerModel: received 100; expected an integer from 500/],
    ['an override of an unknown feature', { features: ['a'], driftThresholds: { features: [{ feature: 'b' }] } }, /driftThresholds.features\[0\].feature: received "b"; expected one of the features: a/],
    ['a p-value above 1', { driftThresholds: { features: [{ feature: 'a', method: DriftMethod.KS, threshold: 2 }] } }, /expected a p-value/],
    ['a dataset share of 0', { driftThresholds: { datasetDriftShare: 0 } }, /driftThresholds.datasetDriftShare/],
    ['a numeric test of the predicted class', { driftThresholds: { prediction: { method: DriftMethod.KS } } }, /driftThresholds.prediction.method: received "ks"; expected chi-squared or jensen-shannon/],
    ['a chi-squared p-value above 1 for the predicted class', { driftThresholds: { prediction: { method: DriftMethod.CHI_SQUARED, threshold: 1.5 } } }, /driftThresholds.prediction.threshold/],
    ['a timeout over 15 minutes', { timeout: Duration.minutes(16) }, /invalid timeout/],
  ])('rejects %s with a clear error', (_name, props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
