import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  ApiAuthorization, DataZone, ModelArtifact, ModelPackaging, SecureDataLake, ServerlessModelEndpoint, ServerlessModelEndpointProps,
} from '../../src';

const ENV = { account: '111111111111', region: 'eu-central-1' };
export const MODEL_DIR = path.join(__dirname, '..', 'fixtures', 'models');
const META = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));
const MODEL_FILE = path.join(MODEL_DIR, META.file);
const assetModel = () => ModelArtifact.fromAsset(MODEL_FILE, { version: META.version, classNames: META.classNames });

/** Synthesize without staging the package (bundling is exercised in runtime-package.test.ts). */
function synth(props: Partial<ServerlessModelEndpointProps> = {}, extra?: (stack: Stack) => Partial<ServerlessModelEndpointProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: ENV });
  const endpoint = new ServerlessModelEndpoint(stack, 'Predict', { model: assetModel(), ...props, ...extra?.(stack) });
  return { stack, endpoint, template: Template.fromStack(stack) };
}

describe('ServerlessModelEndpoint defaults', () => {
  const { template, endpoint, stack } = synth();

  test('CloudWatch Logs may use the logs key for log groups of this account only (encryption context, aws:SourceAccount, aws:SourceArn)', () => {
    const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
    const keys = Object.entries<any>(template.findResources('AWS::KMS::Key')).filter(([id]) => id.startsWith('PredictLogsKey'));
    expect(keys).toHaveLength(1);
    const logs = keys[0][1].Properties.KeyPolicy.Statement.filter((x: any) => x.Principal?.Service);
    expect(logs).toEqual([expect.objectContaining({
      Sid: 'AllowCloudWatchLogsOfThisAccount',
      Principal: { Service: 'logs.eu-central-1.amazonaws.com' },
      Condition: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': arn(':logs:eu-central-1:111111111111:log-group:*') },
        StringEqualsIfExists: { 'aws:SourceAccount': '111111111111' },
        ArnLikeIfExists: { 'aws:SourceArn': arn(':logs:eu-central-1:111111111111:*') },
      },
    })]);
  });

  test('a Node.js 24 x86_64 function with the packaged model, traced, JSON logs, 1 GiB', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Architectures: ['x86_64'],
      MemorySize: 1024,
      Timeout: 10,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: {
        Variables: Match.objectLike({
          MODEL_SOURCE: 'asset',
          MODEL_PATH: 'model/model.onnx',
          MODEL_SHA256: META.sha256,
          MODEL_VERSION: META.version,
          CLASS_NAMES: JSON.stringify(META.classNames),
          MAX_BODY_BYTES: '262144',
          MAX_BATCH: '64',
        }),
      },
    });
    expect(endpoint.modelVersion).toBe(META.version);
  });

  test('the API invokes the live alias; new versions roll out by canary with automatic rollback on alarms', () => {
    const aliasId = stack.getLogicalId(endpoint.alias.node.defaultChild as any);
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live' });
    template.hasResource('AWS::Lambda::Alias', { UpdatePolicy: { CodeDeployLambdaAliasUpdate: Match.anyValue() } });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      AutoRollbackConfiguration: { Enabled: true, Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']) },
      AlarmConfiguration: { Enabled: true, Alarms: [Match.anyValue(), Match.anyValue()] },
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'COGNITO_USER_POOLS',
      Integration: { Type: 'AWS_PROXY', Uri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ Ref: aliasId }])] }) },
    });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'predict' });
  });

  test('alarms: errors plus the handler\'s 5xx answers, and p99 latency, of the live alias', () => {
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) => a.Properties.Metrics);
    expect(alarm!.Properties.Threshold).toBe(1);
    const metrics = alarm!.Properties.Metrics;
    expect(metrics.find((m: any) => m.Expression)).toMatchObject({ Expression: 'FILL(invocationErrors, 0) + FILL(serverErrors, 0)', ReturnData: true });
    expect(metrics.find((m: any) => m.Id === 'invocationErrors').MetricStat.Metric).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors' });
    expect(metrics.find((m: any) => m.Id === 'serverErrors').MetricStat.Metric).toEqual({
      Namespace: 'cdk-secure-mlops/ServerlessModelEndpoint',
      MetricName: 'ServerErrors',
      Dimensions: [{ Name: 'service', Value: 'Test/Predict' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 1000 });
  });

  test('no AWS-managed policy on any role, including CodeDeploy\'s', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetProvisionedConcurrencyConfig'] })]) },
    });
  });

  test('closed request model and validator', () => {
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ additionalProperties: false, required: ['inputs'], properties: { inputs: { type: 'object', minProperties: 1, maxProperties: 32 } } }),
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', RequestValidatorId: Match.anyValue() });
  });

  test('the code asset hash is deterministic: same inputs, same hash; another model, another hash', () => {
    const code = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function'))[0].Properties.Code.S3Key;
    expect(code(synth().template)).toBe(code(template));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-'));
    const other = path.join(tmp, 'other.onnx');
    fs.writeFileSync(other, Buffer.concat([fs.readFileSync(MODEL_FILE), Buffer.from([0])]));
    const changed = synth({ model: ModelArtifact.fromAsset(other, { version: 'x@2' }) }).template;
    expect(code(changed)).not.toBe(code(template));
    expect(code(synth({ architecture: lambda.Architecture.ARM_64 }).template)).not.toBe(code(template));
  });
});

describe('ServerlessModelEndpoint props', () => {
  test('a model in the lake\'s models zone: downloaded at init, read access to that key only', () => {
    const sha = 'a'.repeat(64);
    const { template, stack } = synth({}, (s) => {
      const lake = new SecureDataLake(s, 'Lake');
      return { model: ModelArtifact.fromDataLake(lake, 'hearing/v3/model.onnx', { version: 'hearing@3', sha256: sha }) };
    });
    const lake = stack.node.findChild('Lake') as SecureDataLake;
    const models = stack.getLogicalId(lake.bucket(DataZone.MODELS).node.defaultChild as any);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MODEL_SOURCE: 's3', MODEL_BUCKET: { Ref: models }, MODEL_KEY: 'hearing/v3/model.onnx', MODEL_SHA256: sha }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [models, 'Arn'] }, '/hearing/v3/model.onnx']] } },
          Match.objectLike({ Action: 'kms:Decrypt' }),
        ]),
      },
    });
  });

  test('rollout, concurrency, autoscaling, sizes, arm64 and IAM authorization', () => {
    const { template } = synth({
      deploymentConfig: codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
      provisionedConcurrency: 2,
      reservedConcurrency: 20,
      autoScaling: { minCapacity: 2, maxCapacity: 10, utilizationTarget: 0.6 },
      memorySize: 2048,
      timeout: Duration.seconds(20),
      maxRequestSize: Size.kibibytes(64),
      maxBatchSize: 8,
      architecture: lambda.Architecture.ARM_64,
      authorization: ApiAuthorization.iam(),
      resourcePath: 'grade',
      latencyAlarmThreshold: Duration.millis(300),
    });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute' });
    template.hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 10 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 0.6 }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 20,
      MemorySize: 2048,
      Timeout: 20,
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ MAX_BODY_BYTES: '65536', MAX_BATCH: '8' }) },
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'AWS_IAM', Integration: Match.objectLike({ TimeoutInMillis: 21000 }) });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'grade' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', Threshold: 300 });
  });

  test('grantInvoke allows execute-api:Invoke on the POST method only', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const s = new Stack(app, 'G', { env: ENV });
    const endpoint = new ServerlessModelEndpoint(s, 'Predict', { model: assetModel(), authorization: ApiAuthorization.iam() });
    const role = new iam.Role(s, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
    endpoint.grantInvoke(role);
    const policy = Object.values(Template.fromStack(s).findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles[0].Ref.startsWith('Client'));
    expect(policy!.Properties.PolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Action: 'execute-api:Invoke',
      Resource: { 'Fn::Join': ['', expect.arrayContaining([':execute-api:eu-central-1:111111111111:', { Ref: expect.stringMatching(/^PredictApiDeploymentStagev1/) }, '/POST/predict'])] },
    }]);
  });

  test('attaches to an existing REST API', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const s = new Stack(app, 'Shared', { env: ENV });
    const api = new apigw.RestApi(s, 'ClientApi', { cloudWatchRole: false, deploy: false });
    api.root.addMethod('GET', new apigw.MockIntegration(), { authorizationType: apigw.AuthorizationType.IAM });
    new ServerlessModelEndpoint(s, 'Predict', { model: assetModel(), restApi: api, authorization: ApiAuthorization.iam(), manageAccountCloudWatchRole: false });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    t.resourceCountIs('AWS::WAFv2::WebACL', 0);
    t.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'predict', RestApiId: { Ref: Match.stringLikeRegexp('^ClientApi') } });
  });

  test('container packaging: an image function built from a staged context on the base image pinned by digest', () => {
    const containerBaseImage = `public.ecr.aws/lambda/nodejs:24@sha256:${'b'.repeat(64)}`; // a test value, never built
    const { template, stack } = synth({ packaging: ModelPackaging.CONTAINER_IMAGE, containerBaseImage });
    template.hasResourceProperties('AWS::Lambda::Function', { PackageType: 'Image', Architectures: ['x86_64'] });
    const assembly = (stack.node.root as App).synth();
    const images = fs.readdirSync(assembly.directory).filter((d) => d.startsWith('asset.') && fs.existsSync(path.join(assembly.directory, d, 'Dockerfile')));
    expect(images).toHaveLength(1);
    expect(fs.readFileSync(path.join(assembly.directory, images[0], 'Dockerfile'), 'utf8')).toContain(`FROM --platform=linux/amd64 ${containerBaseImage}\n`);
  });
});

describe('ServerlessModelEndpoint validation', () => {
  const make = (props: Partial<ServerlessModelEndpointProps>) => () => synth(props);
  test('fails if the container packaging has no base image pinned by digest', () => {
    expect(make({ packaging: ModelPackaging.CONTAINER_IMAGE })).toThrow(
      /^Test\/Predict: invalid containerBaseImage: received undefined; expected the Lambda base image pinned by digest, such as public\.ecr\.aws\/lambda\/nodejs:\d+@sha256:<64 hex digits>/,
    );
    expect(make({ packaging: ModelPackaging.CONTAINER_IMAGE, containerBaseImage: 'public.ecr.aws/lambda/nodejs:24' })).toThrow(
      /invalid containerBaseImage: received "public\.ecr\.aws\/lambda\/nodejs:24"; expected the Lambda base image pinned by digest/,
    );
    expect(make({ containerBaseImage: `public.ecr.aws/lambda/nodejs:24@sha256:${'c'.repeat(64)}` })).toThrow(
      /invalid containerBaseImage: .*it applies to packaging ModelPackaging.CONTAINER_IMAGE only/,
    );
  });
  test('fails if the timeout exceeds the API Gateway integration limit', () => {
    expect(make({ timeout: Duration.seconds(30) })).toThrow('Test/Predict: invalid timeout: received 30 seconds; expected 1 to 29 seconds (API Gateway ends an integration after 29 seconds)');
  });
  test('fails if memory is too small for the runtime', () => {
    expect(make({ memorySize: 256 })).toThrow('Test/Predict: invalid memorySize: received 256; expected 512 to 10240 MiB (the ONNX runtime alone needs about 200 MiB)');
  });
  test('fails if the request size exceeds the Lambda payload limit', () => {
    expect(make({ maxRequestSize: Size.mebibytes(7) })).toThrow(/invalid maxRequestSize: received "7340032 bytes"; expected 64 bytes to 6 MiB/);
  });
  test('fails if autoscaling bounds are inverted', () => {
    expect(make({ autoScaling: { minCapacity: 5, maxCapacity: 2 } })).toThrow(/invalid autoScaling: .*expected 1 <= minCapacity <= maxCapacity/);
  });
  test('fails if the model file does not exist or an S3 model has no valid hash', () => {
    expect(make({ model: ModelArtifact.fromAsset('/nope/model.onnx', { version: 'v' }) }))
      .toThrow('Test/Predict: invalid model: ModelArtifact.fromAsset("/nope/model.onnx") is not a file; give the path of an .onnx file');
    expect(() => synth({}, (s) => ({ model: ModelArtifact.fromDataLake(new SecureDataLake(s, 'Lake'), 'm.onnx', { version: 'v', sha256: 'abc' }) })))
      .toThrow('Test/Predict: invalid model sha256: received "abc"; expected 64 lower-case hex characters (sha256sum of the .onnx file)');
  });
  test('fails if the resource path is not one segment', () => {
    expect(make({ resourcePath: 'a/b' })).toThrow(/invalid resourcePath: received "a\/b"/);
  });
});
