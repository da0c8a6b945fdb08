/**
 * The reference CI/CD pipeline (examples/reference-app/pipeline-stack.ts), synthesized offline with
 * a small app stage (one model endpoint and its smoke-test access): stage order, the approval
 * before Prod, the smoke tests, the encrypted artifacts and logs, and the security packs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Stage, StageProps } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import {
  DEFAULT_SMOKE_TEST_INPUT, ReferencePipelineStack, ReferencePipelineStackProps, SmokeTestAccess,
} from '../../examples/reference-app/pipeline-stack';
import { ApiAuthorization, ModelArtifact, ServerlessModelEndpoint } from '../../src';
import { createSecurityTestApp, expectNoUnacknowledgedFindings, formatSecurityReport, runSecurityChecks, SecurityReport } from '../support/security-harness';
import { useTemplateScans } from '../support/template-scanners';

const PIPELINE_ENV = { account: '111111111111', region: 'eu-central-1' };
const DEV_ENV = { account: '111111111111', region: 'eu-central-1' };
const PROD_ENV = { account: '222222222222', region: 'eu-central-1' };
const CONNECTION_ARN = 'arn:aws:codeconnections:eu-central-1:111111111111:connection/11111111-2222-3333-4444-555555555555';
const MODEL_DIR = path.join(__dirname, '..', 'fixtures', 'models');
const META = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));

/** A small app stage: one stack with a model endpoint and the smoke test's access to it. */
function endpointStage(options: { authorization?: ApiAuthorization; smokeTestAccess?: boolean } = {}) {
  return (scope: Construct, id: string, props: StageProps): Stage => {
    const stage = new Stage(scope, id, props);
    const stack = new Stack(stage, 'Predictions');
    const endpoint = new ServerlessModelEndpoint(stack, 'Predict', {
      model: ModelArtifact.fromAsset(path.join(MODEL_DIR, META.file), { version: META.version, classNames: META.classNames }),
      authorization: options.authorization,
    });
    if (options.smokeTestAccess ?? true) {
      new SmokeTestAccess(stack, 'SmokeTest', { endpoint, pipelineAccount: PIPELINE_ENV.account });
    }
    return stage;
  };
}

// Packaging is exercised in the endpoint's own tests; here only the templates matter.
const newApp = () => createSecurityTestApp({ context: { 'aws:cdk:bundling-stacks': [] } });

function pipelineProps(overrides: Partial<ReferencePipelineStackProps> = {}): ReferencePipelineStackProps {
  return {
    env: PIPELINE_ENV,
    connectionArn: CONNECTION_ARN,
    repository: 'example-org/cdk-secure-mlops',
    branch: 'main',
    devEnv: DEV_ENV,
    prodEnv: PROD_ENV,
    appStage: endpointStage(),
    ...overrides,
  };
}

function templateOf(directory: string, stack: Stack): Template {
  return Template.fromJSON(JSON.parse(fs.readFileSync(path.join(directory, stack.templateFile), 'utf8')));
}

interface Action { Name: string; RunOrder: number; ActionTypeId: { Category: string; Provider: string }; Configuration?: Record<string, any> }
interface PipelineStage { Name: string; Actions: Action[] }

function stagesOf(template: Template): PipelineStage[] {
  const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  expect(pipelines).toHaveLength(1);
  return pipelines[0].Properties.Stages;
}

const scan = useTemplateScans();

let report: SecurityReport;
let stack: ReferencePipelineStack;
let template: Template;
let stages: PipelineStage[];

beforeAll(() => {
  const app = newApp();
  stack = new ReferencePipelineStack(app, 'HearingTestPipeline', pipelineProps());
  report = runSecurityChecks(app, { name: 'reference-pipeline' });
  scan(report.templateFiles);
  template = templateOf(report.assemblyDirectory, stack);
  stages = stagesOf(template);
});

test('security packs: zero unacknowledged findings', () => {
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});

test('stages in order: Source, Build, UpdatePipeline, Assets, Dev, Prod', () => {
  expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'Dev', 'Prod']);
  const [source, build] = stages;
  expect(source.Actions).toEqual([expect.objectContaining({
    ActionTypeId: expect.objectContaining({ Category: 'Source', Provider: 'CodeStarSourceConnection' }),
    Configuration: expect.objectContaining({ ConnectionArn: CONNECTION_ARN, FullRepositoryId: 'example-org/cdk-secure-mlops', BranchName: 'main' }),
  })]);
  expect(build.Actions.map((a) => a.Name)).toEqual(['Synth']);
});

test('the Synth step runs the whole test suite with the security packs before synthesizing', () => {
  const synth = Object.values(template.findResources('AWS::CodeBuild::Project'))
    .find((p) => String(p.Properties.Description ?? '').includes('/Build/Synth'));
  expect(synth).toBeDefined();
  const spec = JSON.parse(synth!.Properties.Source.BuildSpec);
  expect(spec.phases.install.commands).toEqual(['npm ci', 'npm install --global aws-cdk@2']);
  expect(spec.phases.install['runtime-versions']).toEqual({ nodejs: 22, python: '3.12' });
  const commands: string[] = spec.phases.build.commands;
  expect(commands[0]).toBe('npx projen test:all');
  expect(commands.at(-1)).toMatch(/^cdk synth --app ".*examples\/reference-app\/pipeline-stack\.ts" --output cdk\.out$/);
  expect(synth!.Properties.Environment).toEqual(expect.objectContaining({ PrivilegedMode: false, ComputeType: 'BUILD_GENERAL1_LARGE' }));
});

test('a manual approval comes before the Prod deployment, and not before Dev', () => {
  const dev = stages.find((s) => s.Name === 'Dev')!;
  const prod = stages.find((s) => s.Name === 'Prod')!;
  expect(dev.Actions.some((a) => a.ActionTypeId.Category === 'Approval')).toBe(false);
  const approval = prod.Actions.find((a) => a.ActionTypeId.Category === 'Approval');
  expect(approval).toEqual(expect.objectContaining({ Name: 'PromoteToProd', ActionTypeId: expect.objectContaining({ Provider: 'Manual' }) }));
  const deploys = prod.Actions.filter((a) => a.ActionTypeId.Category === 'Deploy');
  expect(deploys.length).toBeGreaterThan(0);
  for (const deploy of deploys) {
    expect(deploy.RunOrder).toBeGreaterThan(approval!.RunOrder);
  }
});

test('each stage deploys to its own environment and runs a smoke test after its last deployment', () => {
  for (const [name, env] of [['Dev', DEV_ENV], ['Prod', PROD_ENV]] as const) {
    const stage = stages.find((s) => s.Name === name)!;
    const deploys = stage.Actions.filter((a) => a.ActionTypeId.Category === 'Deploy');
    const smoke = stage.Actions.filter((a) => a.Name === 'SmokeTest');
    expect(smoke).toHaveLength(1);
    expect(smoke[0].ActionTypeId.Provider).toBe('CodeBuild');
    expect(smoke[0].RunOrder).toBeGreaterThan(Math.max(...deploys.map((d) => d.RunOrder)));
    // The stage's outputs reach the smoke test as environment variables.
    const variables = JSON.parse(smoke[0].Configuration!.EnvironmentVariables);
    expect(variables.map((v: { name: string }) => v.name)).toEqual(expect.arrayContaining(['PREDICT_URL', 'SMOKE_ROLE_ARN', 'SMOKE_MODE', 'SMOKE_TARGET']));
    expect(variables.find((v: { name: string }) => v.name === 'PREDICT_URL').value).toMatch(/^#\{.+\.SmokeTestPredictUrl[0-9A-F]{8}\}$/);
    // Deployment roles are the bootstrap roles of the stage's own account.
    expect(JSON.stringify(deploys.map((d) => (d as any).RoleArn))).toContain(`cdk-hnb659fds-deploy-role-${env.account}-${env.region}`);
  }
});

test('the smoke test may assume only its stage\'s smoke-test role, and checks a known prediction', () => {
  for (const [name, env] of [['Dev', DEV_ENV], ['Prod', PROD_ENV]] as const) {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp(`Pipeline${name}SmokeTestRole`) }],
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${env.account}:role/${SmokeTestAccess.roleNameFor(name)}`]] },
        }]),
      },
    });
  }
  const smoke = Object.values(template.findResources('AWS::CodeBuild::Project'))
    .find((p) => String(p.Properties.Description ?? '').includes('/Dev/SmokeTest'))!;
  const env = Object.fromEntries(smoke.Properties.Environment.EnvironmentVariables.map((v: { Name: string; Value: string }) => [v.Name, v.Value]));
  expect(JSON.parse(env.SMOKE_INPUT)).toEqual(DEFAULT_SMOKE_TEST_INPUT);
  expect(env.EXPECTED_LABEL).toBe('normal');
  expect(env.STAGE_REGION).toBe(DEV_ENV.region);
  const commands: string[] = JSON.parse(smoke.Properties.Source.BuildSpec).phases.build.commands;
  const script = commands.join('\n');
  expect(script).toMatch(/test "\$code" = 401 \|\| test "\$code" = 403/); // unauthenticated call refused
  expect(script).toContain('aws sts assume-role --role-arn "$SMOKE_ROLE_ARN"');
  expect(script).toContain('awscurl --service execute-api');
  expect(script).toContain('aws lambda invoke');
  expect(script).toContain('EXPECTED_LABEL');
  expect(smoke.Properties.Environment.PrivilegedMode).toBe(false);
});

test('artifacts: a customer-managed key with rotation, TLS-only, versioned bucket with access logs', () => {
  const keyId = template.getResourceId('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('pipeline artifacts') } });
  template.hasResourceProperties('AWS::KMS::Key', { Description: Match.stringLikeRegexp('pipeline artifacts'), EnableKeyRotation: true });
  for (const key of Object.values(template.findResources('AWS::KMS::Key'))) {
    expect(key.Properties.EnableKeyRotation).toBe(true);
  }
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: {
      ServerSideEncryptionConfiguration: [{
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
        BucketKeyEnabled: true,
      }],
    },
    VersioningConfiguration: { Status: 'Enabled' },
    LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^AccessLogs') }, LogFilePrefix: 'artifacts/' },
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
  });
  const bucketId = template.getResourceId('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.anyValue() } });
  template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
    ArtifactStore: { Type: 'S3', Location: { Ref: bucketId }, EncryptionKey: { Id: { 'Fn::GetAtt': [keyId, 'Arn'] }, Type: 'KMS' } },
  });
  template.hasResourceProperties('AWS::S3::BucketPolicy', {
    Bucket: { Ref: bucketId },
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
  });
});

test('every CodeBuild project: artifact key, encrypted log group, no privileged mode', () => {
  const keyId = template.getResourceId('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('pipeline artifacts') } });
  const logsKeyId = template.getResourceId('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('build logs') } });
  template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [logsKeyId, 'Arn'] }, RetentionInDays: 365 });
  const logGroupId = template.getResourceId('AWS::Logs::LogGroup', { Properties: { KmsKeyId: Match.anyValue() } });
  const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
  expect(projects.length).toBe(5); // Synth, SelfMutate, one asset, two smoke tests
  for (const project of projects) {
    expect(project.Properties.EncryptionKey).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(project.Properties.LogsConfig.CloudWatchLogs).toEqual(expect.objectContaining({ Status: 'ENABLED', GroupName: { Ref: logGroupId } }));
    expect(project.Properties.Environment.PrivilegedMode).toBe(false); // no image assets here
  }
});

test('the app stage: the smoke-test role trusts only the pipeline account and may invoke only the live alias (Cognito route)', () => {
  const stageStack = report.templateFiles.find((f) => /assembly-HearingTestPipeline-Prod/.test(f) && /Predictions/.test(f))!;
  const prod = Template.fromJSON(JSON.parse(fs.readFileSync(stageStack, 'utf8')));
  prod.hasResourceProperties('AWS::IAM::Role', {
    RoleName: 'Prod-predict-smoke-test',
    AssumeRolePolicyDocument: {
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] } } }],
    },
  });
  const aliasId = prod.getResourceId('AWS::Lambda::Alias', { Properties: { Name: 'live' } });
  prod.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { Ref: aliasId } }] },
    Roles: [{ Ref: Match.stringLikeRegexp('^SmokeTestRole') }],
  });
  prod.hasOutput('*', { Value: 'FUNCTION' });
});

test('an IAM-authorized route: the smoke-test role may call exactly that method, signed with SigV4', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const pipelineStack = new ReferencePipelineStack(app, 'IamPipeline', pipelineProps({ appStage: endpointStage({ authorization: ApiAuthorization.iam() }) }));
  const dev = Template.fromStack(pipelineStack.dev.node.findChild('Predictions') as Stack);
  dev.hasOutput('*', { Value: 'ROUTE' });
  dev.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: [{
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/POST/predict$')])] },
      }],
    },
  });
});

test('a custom smoke-test input is passed as is and no class is expected', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const input = { inputs: { features: [Array(12).fill(0)] } };
  const pipelineStack = new ReferencePipelineStack(app, 'CustomInput', pipelineProps({ smokeTestInput: input }));
  const smoke = Object.values(Template.fromStack(pipelineStack).findResources('AWS::CodeBuild::Project'))
    .find((p) => String(p.Properties.Description ?? '').includes('/Prod/SmokeTest'))!;
  const env = Object.fromEntries(smoke.Properties.Environment.EnvironmentVariables.map((v: { Name: string; Value: string }) => [v.Name, v.Value]));
  expect(JSON.parse(env.SMOKE_INPUT)).toEqual(input);
  expect(env.EXPECTED_LABEL).toBe('');
});

test('fails if the app stage has no SmokeTestAccess', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  expect(() => new ReferencePipelineStack(app, 'NoSmoke', pipelineProps({ appStage: endpointStage({ smokeTestAccess: false }) })))
    .toThrow(/NoSmoke\/Dev: expected exactly one CfnOutput 'PredictUrl' in the stage, found 0\. Add a SmokeTestAccess/);
});

test('fails if SmokeTestAccess is defined outside a Stage', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const plain = new Stack(app, 'Plain');
  const endpoint = new ServerlessModelEndpoint(plain, 'Predict', {
    model: ModelArtifact.fromAsset(path.join(MODEL_DIR, META.file), { version: META.version, classNames: META.classNames }),
  });
  expect(() => new SmokeTestAccess(plain, 'SmokeTest', { endpoint, pipelineAccount: '111111111111' }))
    .toThrow(/Plain\/SmokeTest: SmokeTestAccess must be defined inside a Stage/);
});
