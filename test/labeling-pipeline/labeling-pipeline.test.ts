import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { hearingPipelineProps } from './pipeline-fixture';
import { ApiAuthorization, CleaningRules, Labeler, LabelingPipeline, LabelingPipelineProps, ScoreAggregate, SecureDataLake } from '../../src';
import { CONFIG_FILE, ENV as HANDLER_ENV, PipelineConfig } from '../../src/labeling-pipeline/runtime/contract';

const ENV = { account: '111111111111', region: 'eu-central-1' };

function build(extra: Partial<LabelingPipelineProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Pipe', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  const pipeline = new LabelingPipeline(stack, 'Hearing', { lake, ...hearingPipelineProps(), ...extra });
  return { app, stack, lake, pipeline, template: Template.fromStack(stack) };
}

/** Resolve a CloudFormation value that may be an `Fn::Join` of literals and references to a string. */
function flat(v: any): string {
  if (typeof v === 'string') return v;
  if (v?.['Fn::Join']) return v['Fn::Join'][1].map(flat).join(v['Fn::Join'][0]);
  if (v?.Ref) return `<${v.Ref}>`;
  if (v?.['Fn::GetAtt']) return `<${v['Fn::GetAtt'].join('.')}>`;
  return JSON.stringify(v);
}

const { app, pipeline, template } = build();
const assembly = app.synth();
const resources = template.toJSON().Resources as Record<string, any>;
const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
const statements = (roleIdPrefix: string) => Object.entries(resources)
  .filter(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith(roleIdPrefix))
  .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as any[]);

describe('queues', () => {
  test('both queues: CMK, TLS only, a DLQ after 3 receives, visibility 6 × the function timeout', () => {
    const queues = template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } });
    expect(Object.keys(queues)).toHaveLength(2);
    for (const q of Object.values(queues)) {
      expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HearingKey/), 'Arn'] });
      expect(q.Properties.RedrivePolicy.maxReceiveCount).toBe(3);
      expect(q.Properties.VisibilityTimeout).toBe(360);
    }
    template.resourcePropertiesCountIs('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    }, 5);
  });

  test('the event sources report partial batch failures', () => {
    template.resourcePropertiesCountIs('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 10 }, 2);
  });

  test('visibility timeout follows handlerTimeout; batch size and receives are props', () => {
    const t = build({ handlerTimeout: Duration.seconds(20), batchSize: 5, maxReceiveCount: 7 }).template;
    t.resourcePropertiesCountIs('AWS::SQS::Queue', { VisibilityTimeout: 120, RedrivePolicy: Match.objectLike({ maxReceiveCount: 7 }) }, 2);
    t.resourcePropertiesCountIs('AWS::Lambda::EventSourceMapping', { BatchSize: 5 }, 2);
  });
});

describe('events', () => {
  test('raw-zone uploads under the source prefix feed the cleaning queue, with a DLQ for undeliverable events', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.s3'],
        'detail-type': ['Object Created'],
        'detail': { bucket: { name: [{ Ref: Match.stringLikeRegexp('^LakeRaw') }] }, object: { key: [{ prefix: 'uploads/' }] } },
      },
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HearingEventsDeadLetterQueue'), 'Arn'] } } })],
    });
  });

  test('"Record Cleaned" events of this pipeline feed the labeling queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['cdk-secure-mlops.labeling-pipeline'], 'detail-type': ['Record Cleaned'], 'detail': { pipeline: ['hearing'] } },
    });
  });

  test('a dataset schedule starts the dataset state machine', () => {
    const t = build({ datasetSchedule: events.Schedule.rate(Duration.days(1)) }).template;
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^HearingDatasetStateMachine') }, Input: '{}' })],
    });
  });
});

describe('ledger', () => {
  test('CMK, point-in-time recovery, deletion protection, retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
          SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HearingKey'), 'Arn'] } },
        })],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      }),
    });
  });
});

describe('handlers', () => {
  test('five functions on Node.js 24 (arm64), traced, JSON logs into CMK-encrypted log groups', () => {
    expect(functions).toHaveLength(5);
    for (const [, f] of functions) {
      expect(f.Properties.Runtime).toBe('nodejs24.x');
      expect(f.Properties.Architectures).toEqual(['arm64']);
      expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(f.Properties.LoggingConfig.LogFormat).toBe('JSON');
    }
    const groups = template.findResources('AWS::Logs::LogGroup');
    for (const g of Object.values(groups)) expect(g.Properties.KmsKeyId).toBeDefined();
  });

  test('every handler gets the contract\'s environment; only the cleaning handler and the review API get the HMAC key', () => {
    const common = ['RAW_BUCKET', 'RAW_PREFIX', 'CLEAN_BUCKET', 'QUARANTINE_BUCKET', 'CURATED_BUCKET', 'ZONE_PREFIX', 'DATA_KEY_ARN', 'LEDGER_TABLE', 'EVENT_BUS_NAME', 'METRICS_NAMESPACE'] as const;
    for (const [id, f] of functions) {
      const vars = f.Properties.Environment.Variables;
      for (const n of common) expect([id, n, vars[HANDLER_ENV[n]] !== undefined]).toEqual([id, n, true]);
      expect([id, vars.HMAC_KEY_ID !== undefined]).toEqual([id, id.startsWith('HearingClean') || id.startsWith('HearingReviewApiHandler')]);
    }
    const label = functions.find(([id]) => id.startsWith('HearingLabel'))![1];
    expect(label.Properties.Environment.Variables.REVIEW_STATE_MACHINE_ARN).toEqual({ Ref: expect.stringMatching(/^HearingReviewStateMachine/) });
    expect(label.Properties.Environment.Variables.ZONE_PREFIX).toBe('hearing/');
  });

  test('each handler asset holds its bundle and the pipeline configuration', () => {
    const outdir = assembly.directory;
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'Pipe.assets.json'), 'utf8'));
    for (const [id, f] of functions) {
      const hash = String(f.Properties.Code.S3Key).replace(/\.zip$/, '');
      const dir = path.join(outdir, manifest.files[hash].source.path);
      expect([id, fs.existsSync(path.join(dir, 'index.js'))]).toEqual([id, true]);
      const config: PipelineConfig = JSON.parse(fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
      expect(config.pipelineName).toBe('hearing');
      expect(config.cleaning.version).toBe('hearing-clean@1');
      expect(config.labelers.map((l) => l.kind)).toEqual(['rules']);
      expect(config.task).toMatchObject({ attribute: 'who-grade', review: { minConfidence: 0.8, sampleRate: 0.05 } });
      expect(config.manifestSource).toBe('inline');
    }
  });

  test('the cleaning role reads uploads only, writes records and quarantine, may pseudonymize, never deletes', () => {
    const st = statements('HearingCleanRole');
    const on = (action: string) => st.filter((s) => [s.Action].flat().includes(action)).map((s) => [s.Resource].flat().map(flat)).flat();
    expect(on('s3:GetObject').sort()).toEqual(['<LakeQuarantineBA300CC8.Arn>/hearing/quarantine/*', '<LakeRaw8A880B75.Arn>/uploads/*']);
    expect(on('s3:PutObject').sort()).toEqual(['<LakeCleanB0DDCC1A.Arn>/hearing/records/*', '<LakeQuarantineBA300CC8.Arn>/hearing/quarantine/*']);
    expect(on('kms:GenerateMac')).toEqual([expect.stringMatching(/^<LakePseudonymizationKey[0-9A-F]{8}\.Arn>$/)]);
    expect(on('dynamodb:PutItem')).toHaveLength(1);
    const all = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy').flatMap((r) => r.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
    expect(all.filter((a: string) => /Delete(Object|Bucket)|\*$/.test(a) && a.startsWith('s3:'))).toEqual([]);
    expect(all.filter((a: string) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });

  test('every role that uses the ledger may use its customer-managed key (TableV2 grants leave it out)', () => {
    const expected: Record<string, string[]> = {
      HearingCleanRole: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      HearingLabelRole: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      HearingReviewRecordRole: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      HearingDatasetRole: ['kms:Decrypt', 'kms:DescribeKey'],
      HearingReviewApiHandlerRole: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
    };
    for (const [role, actions] of Object.entries(expected)) {
      const onKey = statements(role).filter((st) => flat(st.Resource).startsWith('<HearingKey'))
        .flatMap((st) => [st.Action].flat()).filter((a: string) => a.startsWith('kms:'));
      expect([role, [...new Set(onKey)].sort()]).toEqual([role, actions]);
    }
  });

  test('a function labeler may be invoked by the labeling role only', () => {
    const { template: t, stack } = (() => {
      const a = new App();
      const s = new Stack(a, 'Fn', { env: ENV });
      const lake = new SecureDataLake(s, 'Lake');
      const fn = lambda.Function.fromFunctionArn(s, 'Custom', 'arn:aws:lambda:eu-central-1:111111111111:function:custom-labeler');
      const base = hearingPipelineProps();
      new LabelingPipeline(s, 'Hearing', { lake, ...base, labelers: [...base.labelers, Labeler.fromFunction(fn, { name: 'custom' })] });
      return { template: Template.fromStack(s), stack: s };
    })();
    expect(stack).toBeDefined();
    const policies = t.findResources('AWS::IAM::Policy');
    const invokers = Object.entries(policies).filter(([, p]) => p.Properties.PolicyDocument.Statement.some((s: any) => s.Action === 'lambda:InvokeFunction'
      && JSON.stringify(s.Resource).includes('custom-labeler'))).map(([id]) => id);
    expect(invokers).toEqual([expect.stringMatching(/^HearingLabelRole/)]);
  });
});

describe('state machines', () => {
  test('three standard state machines: CMK-encrypted, traced, logs without execution data', () => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    expect(Object.keys(machines).sort().map((k) => k.replace(/[0-9A-F]{8}$/, ''))).toEqual(['HearingBackfillStateMachine', 'HearingDatasetStateMachine', 'HearingReviewStateMachine']);
    for (const m of Object.values(machines)) {
      expect(m.Properties.StateMachineType).toBe('STANDARD');
      expect(m.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(m.Properties.LoggingConfiguration).toMatchObject({ IncludeExecutionData: false, Level: 'ALL' });
      expect(m.Properties.EncryptionConfiguration).toMatchObject({ Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^HearingKey/), 'Arn'] } });
    }
  });

  test('the review waits for a task token with the review timeout and requeues up to maxAttempts', () => {
    const t = build({ review: { timeout: Duration.days(2), maxAttempts: 4 } }).template;
    const m = Object.values(t.findResources('AWS::StepFunctions::StateMachine')).find((x) => JSON.stringify(x).includes('RequestReview'))!;
    const def = JSON.parse(flat(m.Properties.DefinitionString));
    expect(def.States.RequestReview.Resource).toMatch(/lambda:invoke\.waitForTaskToken$/);
    expect(def.States.RequestReview.TimeoutSeconds).toBe(2 * 86400);
    expect(def.States.RequestReview.Catch[0].ErrorEquals).toEqual(['States.Timeout']);
    expect(def.States['AttemptsLeft?'].Choices[0]).toMatchObject({ Variable: '$.attempt', NumericGreaterThan: 4 });
  });
});

describe('review API', () => {
  test('GET /reviews and POST /reviews/{recordId}, both authorized and validated; the answer model allows the classes only', () => {
    const methods = template.findResources('AWS::ApiGateway::Method');
    expect(Object.values(methods).map((m) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'POST']);
    for (const m of Object.values(methods)) {
      expect(m.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
      expect(m.Properties.RequestValidatorId).toBeDefined();
    }
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({
        additionalProperties: false,
        required: ['className'],
        properties: { className: { type: 'string', enum: ['normal', 'mild', 'moderate', 'moderately-severe', 'severe', 'profound', 'complete'] } },
      }),
    });
    expect(pipeline.reviewRestApi).toBeDefined();
  });

  test('reviewApiEnabled: false serves no API', () => {
    const t = build({ reviewApiEnabled: false }).template;
    t.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    t.resourceCountIs('AWS::Lambda::Function', 4);
  });
});

describe('reviewers (authentication is not authorization)', () => {
  const settingsOf = (t: Template) => {
    const fn = Object.entries(t.toJSON().Resources as Record<string, any>).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('HearingReviewApiHandler'))![1];
    return fn.Properties.Environment.Variables.REVIEW_API_SETTINGS;
  };

  test('every review method has the Cognito authorizer; the built-in user pool gets the reviewers group, which the handler checks', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    expect(methods).toHaveLength(2);
    for (const m of methods) {
      expect(m.Properties).toMatchObject({ AuthorizationType: 'COGNITO_USER_POOLS', AuthorizerId: { Ref: expect.stringMatching(/^HearingReviewApiAuthorizer/) } });
    }
    template.resourceCountIs('AWS::Cognito::UserPoolGroup', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
      GroupName: 'reviewers',
      UserPoolId: { Ref: Match.stringLikeRegexp('^HearingReviewApiUserPool') },
    });
    template.hasResourceProperties('AWS::Cognito::UserPool', { AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
    expect(JSON.parse(settingsOf(template))).toEqual({
      access: { kind: 'cognito-group', group: 'reviewers' }, maxRequestsPerWindow: 1200, windowSeconds: 3600, fourEyesQualitySample: false,
    });
    expect(pipeline.reviewerGroupName).toBe('reviewers');
  });

  test('the review handler may pseudonymize (GenerateMac on the lake\'s HMAC key), count requests and record answers in the ledger', () => {
    const st = statements('HearingReviewApiHandlerRole');
    const on = (action: string) => st.filter((s) => [s.Action].flat().includes(action)).map((s) => [s.Resource].flat().map(flat)).flat();
    expect(on('kms:GenerateMac')).toEqual([expect.stringMatching(/^<LakePseudonymizationKey[0-9A-F]{8}\.Arn>$/)]);
    for (const a of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']) expect([a, on(a).length]).toEqual([a, 1]);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
  });

  test('a chosen group, request limit, window and four-eyes reach the handler; a user pool that is passed in gets the group only when asked', () => {
    const a = new App();
    const s = new Stack(a, 'Shared', { env: ENV });
    const lake = new SecureDataLake(s, 'Lake');
    const pool = new cognito.UserPool(s, 'Patients', { selfSignUpEnabled: false });
    const base = hearingPipelineProps();
    const reviewApi = { authorization: ApiAuthorization.cognito(pool) };
    new LabelingPipeline(s, 'Hearing', {
      lake,
      ...base,
      reviewApi,
      review: { ...base.review, fourEyesQualityControl: true },
      reviewers: { groupName: 'audiologists', maxRequestsPerWindow: 300, requestWindow: Duration.minutes(10) },
    });
    new LabelingPipeline(s, 'Tinnitus', { lake, ...base, pipelineName: 'tinnitus', reviewApi, reviewers: { groupName: 'tinnitus-reviewers', createGroup: true } });
    const t = Template.fromStack(s);
    expect(JSON.parse(settingsOf(t))).toEqual({
      access: { kind: 'cognito-group', group: 'audiologists' }, maxRequestsPerWindow: 300, windowSeconds: 600, fourEyesQualitySample: true,
    });
    t.resourceCountIs('AWS::Cognito::UserPoolGroup', 1);
    t.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'tinnitus-reviewers', UserPoolId: { Ref: Match.stringLikeRegexp('^Patients') } });
  });

  test('IAM authorization: the reviewer roles may invoke exactly the two review methods, and the handler knows their ARNs', () => {
    const a = new App();
    const s = new Stack(a, 'Iam', { env: ENV });
    const lake = new SecureDataLake(s, 'Lake');
    const reviewer = new iam.Role(s, 'Audiologist', { assumedBy: new iam.AccountPrincipal('111111111111') });
    const p = new LabelingPipeline(s, 'Hearing', { lake, ...hearingPipelineProps(), reviewApi: { authorization: ApiAuthorization.iam() }, reviewers: { roles: [reviewer] } });
    const t = Template.fromStack(s);
    for (const m of Object.values(t.findResources('AWS::ApiGateway::Method'))) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
    t.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    t.resourceCountIs('AWS::Cognito::UserPool', 0);
    const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((x) => JSON.stringify(x.Properties.Roles).includes('Audiologist'))!;
    const invoke = policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Action === 'execute-api:Invoke');
    expect(invoke).toHaveLength(1);
    const arns = [invoke[0].Resource].flat().map(flat);
    expect(arns).toHaveLength(2);
    expect(arns[0]).toMatch(/^arn:<AWS::Partition>:execute-api:eu-central-1:111111111111:<HearingReviewApi\w+>\/.+\/GET\/reviews$/);
    expect(arns[1]).toMatch(/^arn:<AWS::Partition>:execute-api:eu-central-1:111111111111:<HearingReviewApi\w+>\/.+\/POST\/reviews\/\*$/);
    const settings = JSON.parse(flat(settingsOf(t)));
    expect(settings.access).toEqual({ kind: 'iam-roles', roleArns: [expect.stringMatching(/^<Audiologist[0-9A-F]{8}\.Arn>$/)] });
    expect(p.reviewerGroupName).toBeUndefined();
  });

  test('fails if the reviewers do not fit the authorization, or their limits are out of range', () => {
    const fails = (extra: Partial<LabelingPipelineProps>, message: RegExp) => expect(() => build(extra)).toThrow(message);
    const role = (stack: Stack) => iam.Role.fromRoleArn(stack, 'R', 'arn:aws:iam::111111111111:role/reviewer');
    fails({ reviewApi: { authorization: ApiAuthorization.iam() } }, /reviewers\.roles.*name the roles that may review/);
    fails({ reviewApi: { authorization: ApiAuthorization.iam() }, reviewers: { roles: [] } }, /reviewers\.roles/);
    fails({ reviewers: { roles: [role(new Stack())] } }, /roles apply to IAM authorization/);
    fails({ reviewers: { groupName: 'a,b' } }, /reviewers\.groupName/);
    fails({ reviewers: { groupName: '' } }, /reviewers\.groupName/);
    fails({ reviewers: { maxRequestsPerWindow: 0 } }, /maxRequestsPerWindow/);
    fails({ reviewers: { requestWindow: Duration.seconds(30) } }, /requestWindow/);
    fails({ reviewers: { requestWindow: Duration.days(2) } }, /requestWindow/);
    fails({ reviewApiEnabled: false, reviewers: { groupName: 'x' } }, /reviewers is ignored/);
  });

  test('four-eyes without a quality sample is a warning', () => {
    const a = new App();
    const s = new Stack(a, 'Warn', { env: ENV });
    new LabelingPipeline(s, 'Hearing', { lake: new SecureDataLake(s, 'Lake'), ...hearingPipelineProps(), review: { fourEyesQualityControl: true } });
    Annotations.fromStack(s).hasWarning('/Warn/Hearing', Match.stringLikeRegexp('fourEyesQualityControl has no effect'));
  });
});

describe('events cannot be forged into training; service principals are scoped', () => {
  const policies = (t: Template) => Object.entries(t.toJSON().Resources as Record<string, any>).filter(([, r]) => r.Type === 'AWS::IAM::Policy');
  const putEventsStatements = (t: Template) => policies(t).flatMap(([id, r]) => (r.Properties.PolicyDocument.Statement as any[])
    .filter((st) => [st.Action].flat().includes('events:PutEvents')).map((st) => [id.replace(/[0-9A-F]{8}$/, ''), st] as const));

  test('every events:PutEvents grant names the pipeline\'s source and the role\'s own detail types, all present', () => {
    const byPolicy = Object.fromEntries(putEventsStatements(template).map(([id, st]) => [id, st.Condition]));
    const condition = (...types: string[]) => ({
      'ForAllValues:StringEquals': { 'events:source': ['cdk-secure-mlops.labeling-pipeline'], 'events:detail-type': types },
      'Null': { 'events:source': 'false', 'events:detail-type': 'false' },
    });
    expect(byPolicy).toEqual({
      HearingCleanRoleDefaultPolicy: condition('Record Cleaned', 'Record Quarantined'),
      HearingLabelRoleDefaultPolicy: condition('Record Labelled', 'Review Requested'),
      HearingReviewRecordRoleDefaultPolicy: condition('Record Labelled'),
      HearingDatasetStateMachineRoleDefaultPolicy: condition('Dataset Version Published', 'Dataset Version Blocked'),
    });
  });

  test('the dataset state machine puts its events itself (the same ASL as an EventBridgePutEvents task)', () => {
    const m = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).find((x) => JSON.stringify(x).includes('PublishDatasetVersion'))!;
    const def = JSON.parse(flat(m.Properties.DefinitionString));
    expect(def.States.PublishDatasetVersion).toMatchObject({
      Type: 'Task',
      Resource: 'arn:<AWS::Partition>:states:::events:putEvents',
      ResultPath: null,
      Parameters: { Entries: [{ DetailType: 'Dataset Version Published', Source: 'cdk-secure-mlops.labeling-pipeline', Detail: expect.objectContaining({ 'pipeline': 'hearing', 'datasetVersion.$': '$.result.datasetVersion' }) }] },
      Retry: [expect.objectContaining({ ErrorEquals: ['States.ALL'] })],
      Catch: [expect.objectContaining({ Next: 'DatasetFailed' })],
    });
  });

  test('EventBridge may send to a pipeline queue only for the rule that targets it (aws:SourceArn)', () => {
    const allows = Object.entries(template.findResources('AWS::SQS::QueuePolicy')).flatMap(([id, p]) => (p.Properties.PolicyDocument.Statement as any[])
      .filter((st) => st.Effect === 'Allow').map((st) => [id, st] as const));
    expect(allows.length).toBeGreaterThanOrEqual(4);
    for (const [id, st] of allows) {
      expect([id, st.Principal]).toEqual([id, { Service: 'events.amazonaws.com' }]);
      expect([id, st.Action]).toEqual([id, 'sqs:SendMessage']);
      expect([id, st.Condition]).toEqual([id, { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/^Hearing(RawObjectCreated|RecordCleaned)/), 'Arn'] } } }]);
    }
  });

  test('EventBridge may use the pipeline key only for rules of this account; no service principal uses it unconditioned', () => {
    const key = Object.entries(template.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('HearingKey'))![1];
    const services = (key.Properties.KeyPolicy.Statement as any[]).filter((st) => st.Principal?.Service);
    const eventBridge = services.filter((st) => st.Principal.Service === 'events.amazonaws.com');
    expect(eventBridge).toEqual([{
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:SourceAccount': '111111111111' },
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-central-1:111111111111:rule/*']] } },
      },
    }]);
    // CloudWatch Logs is scoped by its encryption context (log groups of this account and region);
    // aws-cdk-lib's state machine encryption adds delivery.logs (kms:Decrypt*) without a hook (open).
    for (const st of services.filter((x) => x.Principal.Service !== 'delivery.logs.amazonaws.com')) expect([st.Principal.Service, st.Condition]).toEqual([st.Principal.Service, expect.any(Object)]);
  });

  test('Step Functions assumes a state machine\'s role only for that state machine; EventBridge a rule\'s role only for rules of this account', () => {
    const t = build({ datasetSchedule: events.Schedule.rate(Duration.days(1)) }).template;
    const roles = Object.entries(t.findResources('AWS::IAM::Role'));
    const trusts = roles.flatMap(([id, r]) => (r.Properties.AssumeRolePolicyDocument.Statement as any[]).map((st) => [id, st] as const))
      .filter(([, st]) => ['states.amazonaws.com', 'events.amazonaws.com'].includes(st.Principal?.Service));
    expect(trusts.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'HearingBackfillStateMachineRole', 'HearingDatasetStateMachineEventsRole', 'HearingDatasetStateMachineRole', 'HearingReviewStateMachineRole',
    ]);
    const machines = t.findResources('AWS::StepFunctions::StateMachine');
    for (const [id, st] of trusts) {
      expect([id, st.Condition.StringEquals]).toEqual([id, { 'aws:SourceAccount': '111111111111' }]);
      const arns = [st.Condition.ArnLike['aws:SourceArn']].flat().map(flat);
      if (st.Principal.Service === 'events.amazonaws.com') {
        expect(arns).toEqual(['arn:<AWS::Partition>:events:eu-central-1:111111111111:rule/*']);
      } else {
        const machine = Object.values(machines).find((m) => m.Properties.RoleArn['Fn::GetAtt'][0] === id)!;
        const arn = `arn:<AWS::Partition>:states:eu-central-1:111111111111:stateMachine:${machine.Properties.StateMachineName}`;
        expect(arns).toEqual([arn, `${arn}:*`, `${arn}/*`]);
      }
    }
  });
});

describe('Labeler.rules', () => {
  test('states the WHO grade without custom code, equal to the hearing fixture\'s rules', () => {
    const fixture = hearingPipelineProps().labelers[0];
    const typed = Labeler.rules({
      name: 'who-grade',
      classes: ['normal', 'mild', 'moderate', 'moderately-severe', 'severe', 'profound', 'complete'],
      groups: [
        { id: 'left', fields: ['thresholds.left.500', 'thresholds.left.1000', 'thresholds.left.2000', 'thresholds.left.4000'] },
        { id: 'right', fields: ['thresholds.right.500', 'thresholds.right.1000', 'thresholds.right.2000', 'thresholds.right.4000'] },
      ],
      within: ScoreAggregate.MEAN,
      across: ScoreAggregate.MIN,
      thresholds: [20, 35, 50, 65, 80, 95],
      boundaryMargin: 2.5,
      maxConfidence: 0.97,
      confidenceAtBoundary: 0.5,
      conditions: [
        { id: 'unreliable-responses', ratioOf: ['catchTrials.falsePositives', 'catchTrials.presented'], above: 0.34, abstain: true },
        { id: 'some-false-positives', ratioOf: ['catchTrials.falsePositives', 'catchTrials.presented'], above: 0.15, confidenceFactor: 0.7 },
        { id: 'noisy-room', field: 'ambientNoiseDbA', above: 40, confidenceFactor: 0.8 },
      ],
    });
    expect(typed.ref).toBe(fixture.ref);
    const withDefaults = (c: any) => ({ abstain: false, confidenceFactor: 1, ...c });
    const norm = (spec: any) => ({ ...spec.rules, conditions: spec.rules.conditions.map(withDefaults) });
    expect(norm(typed._spec())).toEqual(norm(fixture._spec()));
  });

  test('fails if a condition names both or neither of field and ratioOf', () => {
    expect(() => Labeler.rules({ name: 'x', classes: ['a', 'b'], groups: [{ id: 'g', fields: ['v'] }], thresholds: [1], conditions: [{ id: 'c', above: 1 }] }))
      .toThrow(/each condition needs exactly one of field and ratioOf/);
  });

  test('fails if thresholds do not fit the classes (validated by the handler\'s own compiler)', () => {
    expect(() => Labeler.rules({ name: 'x', classes: ['a', 'b', 'c'], groups: [{ id: 'g', fields: ['v'] }], thresholds: [1] })).toThrow(/threshold/);
  });
});

describe('validation', () => {
  const fails = (extra: Partial<LabelingPipelineProps>, message: RegExp) => expect(() => build(extra)).toThrow(message);

  test('fails if the pipeline name is not a lowercase slug', () => fails({ pipelineName: 'Hearing Tests' }, /pipelineName.*lowercase/));
  test('fails if a prefix is not folder-like', () => {
    fails({ sourcePrefix: 'uploads' }, /sourcePrefix/);
    fails({ zonePrefix: '/abs/' }, /zonePrefix/);
  });
  test('fails if batch size, receives or timeout are out of range', () => {
    fails({ batchSize: 0 }, /batchSize.*1 to 100/);
    fails({ maxReceiveCount: 0 }, /maxReceiveCount/);
    fails({ handlerTimeout: Duration.minutes(20) }, /handlerTimeout/);
  });
  test('fails if there are no labelers, or two with the same ref', () => {
    fails({ labelers: [] }, /labelers.*at least one/);
    const l = hearingPipelineProps().labelers[0];
    fails({ labelers: [l, l] }, /distinct/);
  });
  test('fails if a labeler answers classes the task does not have', () => fails({ classes: ['normal', 'mild'] }, /not in classes/));
  test('fails if the split fractions are invalid', () => fails({ datasetSplit: { train: 0.9, validation: 0.9, test: 0.1 } }, /datasetSplit/));
  test('fails if review attempts or timeout are out of range', () => {
    fails({ review: { maxAttempts: 0 } }, /maxAttempts/);
    fails({ review: { timeout: Duration.seconds(10) } }, /review\.timeout/);
  });
  test('fails if reviewApi options are given with the API disabled', () => fails({ reviewApiEnabled: false, reviewApi: { wafRateLimit: 100 } }, /reviewApi is ignored/));
  test('fails if the cleaning rules do not compile, naming the problem', () => {
    expect(() => CleaningRules.fromObject({ checks: [{ id: 'r', type: 'range', path: 'age', min: 'zero' }] })).toThrow(/range|min/);
    expect(() => CleaningRules.fromFile('/nonexistent/rules.json')).toThrow(/cannot read/);
  });
  test('fails if the subject field is not pseudonymized (the subject would enter the ledger and the splits in clear)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const doc = require(path.join(__dirname, '..', 'fixtures', 'hearing', 'cleaning-config.json'));
    const rules = (over: Record<string, unknown>) => CleaningRules.fromObject({ ...doc, ...over });
    fails({ cleaningRules: rules({ pseudonymize: [] }) }, /invalid cleaningRules\.subjectField: received "patientId"; the subject identifier must be pseudonymized/);
    fails({ cleaningRules: rules({ pseudonymize: ['sessionId'] }) }, /cleaningRules\.subjectField/);
    fails({ cleaningRules: rules({ pseudonymize: ['patientId.*'] }) }, /cleaningRules\.subjectField/);
    fails({ cleaningRules: rules({ pseudonymize: undefined }) }, /cleaningRules\.subjectField/);
    // A pattern that covers it, or no subject field at all, is fine.
    expect(() => build({ cleaningRules: rules({ pseudonymize: ['*'] }) })).not.toThrow();
    expect(() => build({ cleaningRules: rules({ pseudonymize: [], subjectField: undefined }) })).not.toThrow();
  });
  test('fails if the lake has no pseudonymization key', () => {
    const a = new App();
    const s = new Stack(a, 'Imp', { env: ENV });
    const arn = (z: string) => `arn:aws:s3:::lake-${z}`;
    const lake = SecureDataLake.fromSecureDataLakeAttributes(s, 'Lake', {
      rawBucketArn: arn('raw'),
      cleanBucketArn: arn('clean'),
      curatedBucketArn: arn('curated'),
      quarantineBucketArn: arn('quarantine'),
      modelsBucketArn: arn('models'),
      encryptionKeyArn: 'arn:aws:kms:eu-central-1:111111111111:key/11111111-2222-3333-4444-555555555555',
    });
    expect(() => new LabelingPipeline(s, 'Hearing', { lake, ...hearingPipelineProps() })).toThrow(/pseudonymization key/);
  });
});
