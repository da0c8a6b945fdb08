import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ModelArtifact, PredictionCaptureOptions, SecureDataLake, ServerlessModelEndpoint, ServerlessModelEndpointProps } from '../../src';
import { CAPTURE_NAME_PATTERN } from '../../src/contract/monitoring';
import { defaultCaptureName } from '../../src/serverless-model-endpoint/prediction-capture';

/** Prediction capture in the template: the handler's variables, the writer, its grants, the subscription and the dead-letter queue. */
const ENV = { account: '111111111111', region: 'eu-central-1' };
const MODEL_DIR = path.join(__dirname, '..', 'fixtures', 'models');
const META = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));

function synth(capture?: Partial<PredictionCaptureOptions>, props: (stack: Stack) => Partial<ServerlessModelEndpointProps> = () => ({})) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  const endpoint = new ServerlessModelEndpoint(stack, 'Predict', {
    model: ModelArtifact.fromAsset(path.join(MODEL_DIR, META.file), { version: META.version, classNames: META.classNames }),
    ...(capture ? { capture: { lake, ...capture } } : {}),
    ...props(stack),
  });
  const template = Template.fromStack(stack);
  const id = (c: any) => stack.getLogicalId((c.node.defaultChild ?? c) as any);
  return { stack, lake, endpoint, template, id, resources: template.toJSON().Resources };
}

describe('with capture', () => {
  const { endpoint, template, id, resources, lake } = synth({ samplingPercentage: 25 });
  const writerId = id(endpoint.captureWriter);
  const predictFn = resources[id(endpoint.handler)];
  const writer = resources[writerId];

  test('the endpoint exposes its capture name, writer and alarm', () => {
    expect(endpoint.captureName).toBe('Test-Predict');
    expect(endpoint.captureWriter).toBeDefined();
    expect(endpoint.captureDeadLetterAlarm).toBeDefined();
  });

  test('the predict handler gets the sampling, the name and the size limit', () => {
    expect(predictFn.Properties.Environment.Variables).toMatchObject({ CAPTURE_PERCENT: '25', CAPTURE_NAME: 'Test-Predict', CAPTURE_MAX_BYTES: '200000' });
  });

  test('the writer: its own bundle, the models bucket, the lake key, the same service and namespace as the endpoint', () => {
    expect(writer.Properties).toMatchObject({
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 60,
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^PredictCaptureDeadLetterQueue/), 'Arn'] } },
      Environment: {
        Variables: {
          CAPTURE_BUCKET: { Ref: id(lake.modelsBucket) },
          CAPTURE_KEY_ARN: { 'Fn::GetAtt': [id(lake.encryptionKey), 'Arn'] },
          CAPTURE_NAME: 'Test-Predict',
          POWERTOOLS_SERVICE_NAME: 'Test/Predict',
          METRICS_NAMESPACE: 'cdk-secure-mlops/ServerlessModelEndpoint',
        },
      },
    });
    expect(writer.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  test('asynchronous invocations: retried twice, then the KMS-encrypted dead-letter queue, which is alarmed', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: writerId }, MaximumRetryAttempts: 2, Qualifier: '$LATEST',
    });
    const queues = Object.entries<any>(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(1);
    expect(queues[0][1].Properties).toMatchObject({
      KmsMasterKeyId: { 'Fn::GetAtt': [id(endpoint.logsKey), 'Arn'] }, MessageRetentionPeriod: 14 * 86400,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queues[0][0], 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('the subscription takes capture lines only from the endpoint function\'s log group to the writer', () => {
    const filters = Object.values<any>(template.findResources('AWS::Logs::SubscriptionFilter'));
    expect(filters).toHaveLength(1);
    expect(filters[0].Properties).toEqual({
      LogGroupName: { Ref: predictFn.Properties.LoggingConfig.LogGroup.Ref },
      DestinationArn: { 'Fn::GetAtt': [writerId, 'Arn'] },
      FilterPattern: '{ $.captureVersion = "1" }',
    });
    // CloudWatch Logs may invoke the writer for that log group only
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [writerId, 'Arn'] },
      Principal: 'logs.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [predictFn.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] },
    });
  });

  test('the writer role: PutObject under its capture prefix of the models zone, the lake key, the DLQ; no read', () => {
    const roleRef = writer.Properties.Role['Fn::GetAtt'][0];
    const policy = Object.values<any>(template.findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles.some((r: any) => r.Ref === roleRef));
    const statements = policy.Properties.PolicyDocument.Statement;
    const actions = statements.flatMap((s: any) => [s.Action].flat()).sort();
    expect([...new Set(actions)]).toEqual([
      'kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents',
      's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject', 'sqs:SendMessage',
      'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
    ]);
    const put = statements.find((s: any) => [s.Action].flat().includes('s3:PutObject'));
    expect(put.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(lake.modelsBucket), 'Arn'] }, '/monitoring/captures/endpoint=Test-Predict/*']] });
    const viaSqs = statements.find((s: any) => s.Condition?.StringEquals?.['kms:ViaService']);
    expect(viaSqs).toMatchObject({
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: { 'Fn::GetAtt': [id(endpoint.logsKey), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-central-1.amazonaws.com' } },
    });
  });

  test('capture metrics read the endpoint\'s namespace and service', () => {
    const stack = Stack.of(endpoint);
    expect(stack.resolve(endpoint.metricCapturesDropped().toMetricConfig().metricStat)).toMatchObject({
      namespace: 'cdk-secure-mlops/ServerlessModelEndpoint', metricName: 'CapturesDropped', statistic: 'Sum', dimensions: [{ name: 'service', value: 'Test/Predict' }],
    });
    expect(endpoint.metricCaptureDeliveryFailures().metricName).toBe('CaptureDeliveryFailures');
  });
});

test('without capture: no capture variable, writer, queue or subscription; the defaults of capture', () => {
  const off = synth();
  expect(off.endpoint.captureName).toBeUndefined();
  expect(off.endpoint.captureWriter).toBeUndefined();
  expect(Object.keys(off.resources[off.id(off.endpoint.handler)].Properties.Environment.Variables).filter((k) => k.startsWith('CAPTURE'))).toEqual([]);
  off.template.resourceCountIs('AWS::Logs::SubscriptionFilter', 0);
  off.template.resourceCountIs('AWS::SQS::Queue', 0);
  off.template.resourceCountIs('AWS::Lambda::Function', 1);

  const on = synth({});
  expect(on.resources[on.id(on.endpoint.handler)].Properties.Environment.Variables).toMatchObject({ CAPTURE_PERCENT: '100', CAPTURE_MAX_BYTES: '200000' });
});

test('capture name, sampling and size are given or validated with clear errors', () => {
  const named = synth({ captureName: 'hearing-who-grade.prod', maxCaptureBytes: 100_000, samplingPercentage: 0.5 });
  expect(named.endpoint.captureName).toBe('hearing-who-grade.prod');
  expect(named.resources[named.id(named.endpoint.handler)].Properties.Environment.Variables)
    .toMatchObject({ CAPTURE_NAME: 'hearing-who-grade.prod', CAPTURE_PERCENT: '0.5', CAPTURE_MAX_BYTES: '100000' });
  expect(() => synth({ samplingPercentage: 0 })).toThrow('Test/Predict: invalid capture.samplingPercentage: received 0; expected a number above 0 and at most 100 (leave capture unset for no capture)');
  expect(() => synth({ samplingPercentage: 101 })).toThrow('invalid capture.samplingPercentage: received 101');
  expect(() => synth({ samplingPercentage: NaN })).toThrow('invalid capture.samplingPercentage');
  expect(() => synth({ captureName: 'a/b' })).toThrow('Test/Predict: invalid capture.captureName: received "a/b"; expected 1 to 64 letters, digits');
  expect(() => synth({ captureName: '-x' })).toThrow('invalid capture.captureName');
  expect(() => synth({ captureName: 'x'.repeat(65) })).toThrow('invalid capture.captureName');
  expect(() => synth({ maxCaptureBytes: 300_000 })).toThrow('invalid capture.maxCaptureBytes: received 300000; expected an integer from 1024 to 262118');
  expect(() => synth({ maxCaptureBytes: 1000.5 })).toThrow('invalid capture.maxCaptureBytes');
});

test('an alarm action also notifies on the capture dead-letter alarm', () => {
  const { template } = synth({}, (stack) => ({ alarmAction: new cwActions.SnsAction(new sns.Topic(stack, 'Alarms')) }));
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'ApproximateNumberOfMessagesVisible', AlarmActions: Match.anyValue(), OKActions: Match.anyValue(),
  });
});

test('default capture names: the sanitized path, and a hash for a long one; always a valid partition value', () => {
  const app = new App();
  const stack = new Stack(app, 'MyStack');
  const nested = new Construct(new Construct(stack, 'Team A_1'), 'Predict.v2');
  expect(defaultCaptureName(nested)).toBe('MyStack-Team-A_1-Predict.v2');
  const long = new Construct(stack, 'x'.repeat(80));
  const name = defaultCaptureName(long);
  expect(name).toMatch(CAPTURE_NAME_PATTERN);
  expect(name).toHaveLength(64);
  expect(defaultCaptureName(new Construct(stack, 'y'.repeat(80)))).not.toBe(name);
  expect(defaultCaptureName(new Construct(new Construct(stack, '__'), '..'))).toBe('MyStack-__-..');
  expect(defaultCaptureName(new Construct(new Construct(app, '(x)'), '/'))).toMatch(CAPTURE_NAME_PATTERN);
});
