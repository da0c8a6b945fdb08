import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { ApiAuthorization, SecureDataLake, SecureUploadApi, SecureUploadApiProps } from '../../src';

const ENV = { account: '111111111111', region: 'eu-central-1' };

function synth(props: Partial<SecureUploadApiProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  const uploads = new SecureUploadApi(stack, 'Uploads', { lake, ...props });
  return { stack, lake, uploads, template: Template.fromStack(stack) };
}

describe('SecureUploadApi defaults', () => {
  const { template, stack, lake, uploads } = synth();
  const resources = template.toJSON().Resources;

  test('POST /uploads is Cognito-authorized, validated against a closed model', () => {
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'uploads' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: { Ref: Match.stringLikeRegexp('^UploadsAuthorizer') },
      RequestValidatorId: { Ref: Match.stringLikeRegexp('^UploadsRequestValidator') },
      RequestModels: { 'application/json': { Ref: Match.stringLikeRegexp('^UploadsUploadRequestModel') } },
      Integration: { Type: 'AWS_PROXY' },
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: {
        $schema: 'http://json-schema.org/draft-04/schema#',
        type: 'object',
        additionalProperties: false,
        required: ['contentType'],
        properties: {
          contentType: { type: 'string', enum: ['application/json'] },
          contentLength: { type: 'integer', minimum: 1, maximum: 5242880 },
        },
      },
    });
    // No unauthenticated method at all (no CORS preflight without allowedOrigins).
    for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
      expect(method.Properties.AuthorizationType).not.toBe('NONE');
    }
  });

  test('a new user pool: admin-created users, MFA required, strong passwords, threat protection', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: { MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      DeletionProtection: 'ACTIVE',
    });
    expect(uploads.userPool).toBeDefined();
  });

  test('stage: throttled, traced, JSON access logs without bodies, no data trace, no cache', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [Match.objectLike({
        DataTraceEnabled: false,
        LoggingLevel: 'ERROR',
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
        CachingEnabled: false,
        MetricsEnabled: true,
      })],
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
    });
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0];
    const format = JSON.parse(stage.Properties.AccessLogSetting.Format);
    expect(Object.values(format)).toEqual(expect.arrayContaining(['$context.requestId', '$context.status', '$context.identity.sourceIp']));
    expect(stage.Properties.AccessLogSetting.Format).not.toMatch(/body|requestOverride|\$input|header/i);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 50, BurstLimit: 100 },
      ApiStages: [{ ApiId: Match.anyValue(), Stage: Match.anyValue() }],
    });
  });

  test('every log group is KMS-encrypted with a rotating key and kept a year', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBe(3); // access logs, WAF logs, handler logs
    for (const group of groups) {
      expect(group.Properties.KmsKeyId).toBeDefined();
      expect(group.Properties.RetentionInDays).toBe(365);
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^aws-waf-logs-') });
  });

  test('WAF: managed common and known-bad-input rules plus a per-IP rate rule, logged with credentials redacted', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet', Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } } }),
        Match.objectLike({ Name: 'AWSManagedRulesKnownBadInputsRuleSet' }),
        Match.objectLike({ Name: 'RateLimitPerIp', Action: { Block: {} }, Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 500, EvaluationWindowSec: 300 } } }),
      ],
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: Match.anyValue(), WebACLArn: Match.anyValue() });
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'x-amz-security-token' } }],
    });
  });

  test('the handler: Node.js 24 on arm64, traced, JSON logs, configured for the raw zone', () => {
    const rawId = stack.getLogicalId(lake.rawBucket.node.defaultChild as any);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 5,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' }),
      Environment: {
        Variables: {
          BUCKET_NAME: { Ref: rawId },
          KMS_KEY_ARN: Match.anyValue(),
          HMAC_KEY_ID: { 'Fn::GetAtt': [stack.getLogicalId(lake.pseudonymizationKey!.node.defaultChild as any), 'Arn'] },
          KEY_PREFIX: 'uploads/',
          MAX_BYTES: '5242880',
          ALLOWED_CONTENT_TYPES: '["application/json"]',
          EXPIRY_SECONDS: '300',
          ALLOWED_ORIGINS: '[]',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      },
    });
  });

  test('the handler role: no managed policies; put under uploads/ in the raw zone, nothing else', () => {
    const rawId = stack.getLogicalId(lake.rawBucket.node.defaultChild as any);
    const role = Object.entries(resources).find(([id]) => id.startsWith('UploadsHandlerRole')) as [string, any];
    expect(role[1].Properties.ManagedPolicyArns).toBeUndefined();
    const policy = Object.values<any>(resources).find((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles[0].Ref === role[0]);
    const statements = policy.Properties.PolicyDocument.Statement;
    const s3Statements = statements.filter((s: any) => [].concat(s.Action).some((a: string) => a.startsWith('s3:')));
    expect(s3Statements).toEqual([{
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [rawId, 'Arn'] }, '/uploads/*']] },
    }]);
    const actions = statements.flatMap((s: any) => [].concat(s.Action));
    expect(actions).not.toContain('s3:GetObject');
    expect(actions.filter((a: string) => a.includes('*'))).toEqual([]);
  });

  test('the account CloudWatch role carries an inline policy, not the AWS-managed one', () => {
    template.hasResourceProperties('AWS::ApiGateway::Account', { CloudWatchRoleArn: Match.anyValue() });
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test('url is the stage URL of the new API', () => {
    const url = JSON.stringify(stack.resolve(uploads.url));
    expect(url).toMatch(/^\{"Fn::Join".*"https:\/\/",\{"Ref":"UploadsApi[0-9A-F]+"\},"\.execute-api\.eu-central-1\.".*"Ref":"UploadsApiDeploymentStagev1/);
  });
});

describe('SecureUploadApi props', () => {
  test('limits, content types, prefix, expiry and throttling reach the handler, model and stage', () => {
    const { template } = synth({
      maxObjectSize: Size.kibibytes(64),
      allowedContentTypes: ['application/json', 'text/csv'],
      keyPrefix: 'hearing/uploads/',
      urlExpiry: Duration.minutes(2),
      throttlingRateLimit: 5,
      throttlingBurstLimit: 10,
      wafRateLimit: 200,
      logRetention: Duration.days(30),
      reservedConcurrency: 3,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 3,
      Environment: { Variables: Match.objectLike({ MAX_BYTES: '65536', ALLOWED_CONTENT_TYPES: '["application/json","text/csv"]', KEY_PREFIX: 'hearing/uploads/', EXPIRY_SECONDS: '120' }) },
    });
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ properties: { contentType: { type: 'string', enum: ['application/json', 'text/csv'] }, contentLength: { type: 'integer', minimum: 1, maximum: 65536 } } }),
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 })] });
    template.hasResourceProperties('AWS::WAFv2::WebACL', { Rules: Match.arrayWith([Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: 200 }) } })]) });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: { 'Fn::Join': ['', [Match.anyValue(), '/hearing/uploads/*']] } })]) },
    });
  });

  test('allowedOrigins adds a CORS preflight for exactly those origins', () => {
    const { template } = synth({ allowedOrigins: ['https://app.example.com'] });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      Integration: Match.objectLike({
        IntegrationResponses: [Match.objectLike({ StatusCode: '204', ResponseParameters: Match.objectLike({ 'method.response.header.Access-Control-Allow-Origin': "'https://app.example.com'" }) })],
      }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ ALLOWED_ORIGINS: '["https://app.example.com"]' }) } });
    expect(JSON.stringify(template.toJSON())).not.toContain("'*'");
  });

  test('IAM authorization', () => {
    const { template } = synth({ authorization: ApiAuthorization.iam() });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'AWS_IAM' });
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
  });

  test('attaches to an existing REST API without touching its stage', () => {
    const app = new App();
    const stack = new Stack(app, 'Shared', { env: ENV });
    const api = new apigw.RestApi(stack, 'ClientApi', { deploy: false, cloudWatchRole: false });
    api.root.addMethod('GET', new apigw.MockIntegration(), { authorizationType: apigw.AuthorizationType.IAM });
    const lake = new SecureDataLake(stack, 'Lake');
    new SecureUploadApi(stack, 'Uploads', { lake, restApi: api, authorization: ApiAuthorization.iam(), manageAccountCloudWatchRole: false });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'uploads', RestApiId: { Ref: Match.stringLikeRegexp('^ClientApi') } });
  });

  test('a Cognito authorizer with scopes is shared by methods on the same API', () => {
    const { template } = synth({});
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    const app = new App();
    const stack = new Stack(app, 'Scopes', { env: ENV });
    const lake = new SecureDataLake(stack, 'Lake');
    const pool = new cognito.UserPool(stack, 'Pool');
    new SecureUploadApi(stack, 'Uploads', { lake, authorization: ApiAuthorization.cognito(pool, ['hearing/upload']) });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationScopes: ['hearing/upload'] });
  });
});

describe('SecureUploadApi validation', () => {
  const make = (props: Partial<SecureUploadApiProps>) => () => synth(props);

  test('fails if the URL expiry exceeds 5 minutes', () => {
    expect(make({ urlExpiry: Duration.minutes(6) })).toThrow('Test/Uploads: invalid urlExpiry: received "360 seconds"; expected 10 seconds to 5 minutes');
  });
  test('fails if the size cap is out of S3 range', () => {
    expect(make({ maxObjectSize: Size.gibibytes(6) })).toThrow(/invalid maxObjectSize: received "6442450944 bytes"; expected 1 byte to 5 GiB/);
  });
  test('fails if CORS allows any origin', () => {
    expect(make({ allowedOrigins: ['*'] })).toThrow('Test/Uploads: invalid allowedOrigins: received ["*"]; expected explicit origins such as "https://app.example.com" (no "*", no path)');
  });
  test('fails if the key prefix can escape or is malformed', () => {
    expect(make({ keyPrefix: '../raw' })).toThrow(/invalid keyPrefix: received "..\/raw"/);
    expect(make({ keyPrefix: 'uploads' })).toThrow(/invalid keyPrefix: received "uploads"/);
  });
  test('fails if content types are empty or malformed', () => {
    expect(make({ allowedContentTypes: [] })).toThrow(/invalid allowedContentTypes: received \[\]/);
    expect(make({ allowedContentTypes: ['json'] })).toThrow(/invalid allowedContentTypes: received \["json"\]/);
  });
  test('fails if subnets are given without a VPC', () => {
    expect(make({ vpcSubnets: {} })).toThrow('Test/Uploads: invalid vpcSubnets: received "a selection"; vpcSubnets needs vpc');
  });
  test('fails if CORS is set for an existing API', () => {
    const app = new App();
    const stack = new Stack(app, 'X', { env: ENV });
    const lake = new SecureDataLake(stack, 'Lake');
    const api = new apigw.RestApi(stack, 'Api');
    expect(() => new SecureUploadApi(stack, 'Uploads', { lake, restApi: api, allowedOrigins: ['https://a.example.com'] }))
      .toThrow('X/Uploads: invalid allowedOrigins: received ["https://a.example.com"]; CORS of an existing restApi is configured on that API; leave allowedOrigins out');
  });
});
