/**
 * The ModelPromotion construct: its props' checks, the trigger, the state machine's settings, the
 * approval URL, the rollout alarms it adds to the endpoint's deployment group, and our static
 * rules on its definition (every Task state retries and catches).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ENV, MODEL_NAME, promotionDefinition, promotionStack } from './promotion-fixture';
import { CAPTURE_NAME_PATTERN } from '../../src/contract/monitoring';
import { MetricComparison } from '../../src/gpu-training-job/training-options';
import { ModelPromotion } from '../../src/model-promotion';
import { SecureDataLake } from '../../src/secure-data-lake/secure-data-lake';
import { ModelArtifact } from '../../src/serverless-model-endpoint/model-artifact';
import { ServerlessModelEndpoint } from '../../src/serverless-model-endpoint/serverless-model-endpoint';
import { checkStateMachines } from '../gpu-training-job/definition-checks';

test.each([
  ['an invalid model name', { modelName: 'Hearing_Model' }, /invalid modelName/],
  ['the reserved name monitoring', { modelName: 'monitoring' }, /invalid modelName/],
  ['an approval timeout under a minute', { approval: { timeout: Duration.seconds(30) } }, /invalid approval.timeout/],
  ['an approval timeout over 364 days', { approval: { timeout: Duration.days(400) } }, /invalid approval.timeout/],
  ['a gate with a NaN threshold', { gates: [{ metricName: 'a', comparison: MetricComparison.LESS_THAN, threshold: NaN }] }, /invalid gates\[0\]/],
])('refuses %s with a clear error', (_, props, message) => {
  expect(() => promotionStack(props as any)).toThrow(message);
});

describe('minimal', () => {
  const f = promotionStack();

  test('"Model Trained" events of the model start the state machine with the record URI only', () => {
    f.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['cdk-secure-mlops.gpu-training-job'], 'detail-type': ['Model Trained'], 'detail': { model: [MODEL_NAME] } },
      Targets: [Match.objectLike({
        InputTransformer: { InputPathsMap: { 'detail-modelRecord': '$.detail.modelRecord' }, InputTemplate: '{"modelRecord":<detail-modelRecord>}' },
        DeadLetterConfig: { Arn: Match.anyValue() },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
      })],
    });
  });

  test('the state machine is named, encrypted with its key, logged without execution data, traced, bounded', () => {
    f.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: Match.stringLikeRegexp('-StateMachine$'),
      EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: Match.anyValue() },
      LoggingConfiguration: Match.objectLike({ IncludeExecutionData: false, Level: 'ALL' }),
      TracingConfiguration: { Enabled: true },
    });
    expect(promotionDefinition(f).TimeoutSeconds).toBe(6 * 3600);
  });

  test('the lineage recorder knows the curated bucket, the lake key and the endpoint\'s lineage name (derived, capture off)', () => {
    expect(f.promotion.lineageEndpointName).toMatch(CAPTURE_NAME_PATTERN);
    expect(f.promotion.lineageEndpointName).toMatch(/^Promotion-Predict-[0-9A-F]{8}$/);
    f.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('OpenLineage event'),
      Environment: {
        Variables: Match.objectLike({
          CURATED_BUCKET: Match.anyValue(), LAKE_KEY_ARN: Match.anyValue(), ENDPOINT_NAME: f.promotion.lineageEndpointName,
        }),
      },
    });
    const states = promotionDefinition(f).States;
    expect(states.RolloutStatus.Choices[0].Next).toBe('RecordLineage');
    expect([states.RecordLineage.Next, states.LineageNotRecorded.Next]).toEqual(['RecordPromotedModel', 'RecordPromotedModel']);
    expect(states.RecordLineage.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'LineageNotRecorded' })]);
  });

  test('with capture, the endpoint\'s lineage name is its capture name (a captured prediction joins its promotion)', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Captured', { env: ENV });
    const lake = new SecureDataLake(stack, 'Lake');
    const endpoint = new ServerlessModelEndpoint(stack, 'Predict', {
      model: ModelArtifact.fromDataLake(lake, `${MODEL_NAME}/models/first/model.onnx`, { version: `${MODEL_NAME}@1`, classNames: ['a', 'b'], sha256: 'a'.repeat(64) }),
      capture: { lake, captureName: 'hearing-grade' },
    });
    const promotion = new ModelPromotion(stack, 'Promotion', { endpoint, lake, modelName: MODEL_NAME });
    expect(promotion.lineageEndpointName).toBe('hearing-grade');
  });

  test('without approval: no approval states, no approval function, grantApprove refuses', () => {
    expect(Object.keys(promotionDefinition(f).States)).not.toContain('WaitForApproval');
    expect(f.promotion.approvalUrl).toBeUndefined();
    expect(() => f.promotion.grantApprove(new iam.AnyPrincipal())).toThrow(/no approval step/);
  });

  test('the check knows the bucket, the model, the baseline requirement and no gates', () => {
    f.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('checks a model version'),
      Environment: { Variables: Match.objectLike({ MODEL_NAME, REQUIRE_BASELINE: 'true', GATES: '[]' }) },
    });
  });

  test('every Task state retries (bounded) and catches', () => {
    expect(checkStateMachines(f.template.toJSON())).toEqual([]);
  });

  test('the audit prefix names the model\'s versions', () => {
    expect(f.promotion.auditPrefix).toBe('monitoring/promotions/model=hearing-who-grade%40');
  });
});

describe('with approval, gates and a drift alarm', () => {
  let drift: cloudwatch.Alarm;
  const f = promotionStack((stack: Stack) => {
    drift = new cloudwatch.Alarm(stack, 'Drift', { metric: new cloudwatch.Metric({ namespace: 'x', metricName: 'PredictionDrift' }), threshold: 1, evaluationPeriods: 1 });
    return {
      approval: { timeout: Duration.hours(12) },
      gates: [{ metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: 0.9 }],
      additionalAlarms: [drift],
      requireBaseline: false,
    };
  });

  test('the approval function answers signed requests on an IAM-authorized URL', () => {
    f.template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    expect(f.promotion.approvalUrl).toBeDefined();
  });

  test('the wait is the approval timeout; the execution may last it plus 6 hours', () => {
    const d = promotionDefinition(f);
    expect(d.States.WaitForApproval.TimeoutSeconds).toBe(12 * 3600);
    expect(d.TimeoutSeconds).toBe(18 * 3600);
  });

  test('the drift alarm joins the endpoint\'s rollout alarms, and CodeDeploy\'s role may read it', () => {
    f.template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AlarmConfiguration: { Enabled: true, Alarms: Match.arrayWith([{ Name: Match.objectLike({ Ref: Match.stringLikeRegexp('^Drift') }) }]) },
    });
    f.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'cloudwatch:DescribeAlarms', Resource: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^Drift'), 'Arn'] }) })] },
      Roles: [Match.anyValue()],
    });
  });

  test('the gates and the baseline requirement reach the check', () => {
    f.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REQUIRE_BASELINE: 'false', GATES: '[{"metricName":"validation:accuracy","comparison":"GREATER_THAN_OR_EQUAL","threshold":0.9}]' }) },
    });
  });

  test('every Task state retries (bounded) and catches, the approval wait included', () => {
    expect(checkStateMachines(f.template.toJSON())).toEqual([]);
  });
});

test('the construct\'s static members name the contract\'s events', () => {
  const { EVENT_SOURCE, DETAIL_TYPE_MODEL_PROMOTED, DETAIL_TYPE_PROMOTION_REJECTED, DETAIL_TYPE_ROLLOUT_ROLLED_BACK } = ModelPromotion;
  expect([EVENT_SOURCE, DETAIL_TYPE_MODEL_PROMOTED, DETAIL_TYPE_PROMOTION_REJECTED, DETAIL_TYPE_ROLLOUT_ROLLED_BACK])
    .toEqual(['cdk-secure-mlops.model-promotion', 'Model Promoted', 'Model Promotion Rejected', 'Model Rollout Rolled Back']);
});

describe('following promotions', () => {
  const fallback = () => ModelArtifact.fromDataLake(
    new SecureDataLake(new Stack(new App(), 'Other', { env: ENV }), 'Lake'), `${MODEL_NAME}/models/first/model.onnx`, { version: `${MODEL_NAME}@1`, sha256: 'a'.repeat(64), classNames: ['x', 'y'] });

  /** The context key of the parameter's lookup (what cdk.context.json caches). */
  const lookupKey = (() => {
    const probe = new App();
    const stack = new Stack(probe, 'Probe', { env: ENV });
    ModelPromotion.promotedModel(stack, new SecureDataLake(stack, 'Lake'), { modelName: MODEL_NAME, fallback: fallback() });
    return probe.synth().manifest.missing![0].key;
  })();

  /** The endpoint's model as the app builds it, with the parameter's value in the context (as a lookup caches it). */
  function build(value?: string) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...(value !== undefined ? { [lookupKey]: value } : {}) } });
    const stack = new Stack(app, 'App', { env: ENV });
    return { model: ModelPromotion.promotedModel(stack, new SecureDataLake(stack, 'Lake'), { modelName: MODEL_NAME, fallback: fallback() }), key: lookupKey };
  }

  test('the lookup names the default parameter', () => {
    expect(build().key).toContain('parameterName=/cdk-secure-mlops/model-promotion/hearing-who-grade/promoted-model');
    expect(ModelPromotion.defaultPromotedModelParameterName('m')).toBe('/cdk-secure-mlops/model-promotion/m/promoted-model');
  });

  test('before any promotion (or unreadable): the fallback', () => {
    expect(build().model.version).toBe(`${MODEL_NAME}@1`);
    expect(build('not json').model.version).toBe(`${MODEL_NAME}@1`);
    expect(build(JSON.stringify({ MODEL_KEY: 'other/models/x.onnx', MODEL_SHA256: 'b'.repeat(64), MODEL_VERSION: 'other@2' })).model.version).toBe(`${MODEL_NAME}@1`);
  });

  test('after a promotion: the promoted model, with the fallback\'s class names', () => {
    const { model } = build(JSON.stringify({ MODEL_SOURCE: 's3', MODEL_KEY: `${MODEL_NAME}/models/job-7/model.onnx`, MODEL_SHA256: 'b'.repeat(64), MODEL_VERSION: `${MODEL_NAME}@7` }));
    expect([model.version, model.classNames]).toEqual([`${MODEL_NAME}@7`, ['x', 'y']]);
  });

  test('a parameter name that SSM would refuse is a clear error', () => {
    expect(() => promotionStack({ promotedModelParameterName: 'no-slash' })).toThrow(/invalid promotedModelParameterName/);
  });
});
