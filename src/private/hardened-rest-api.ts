import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { createEncryptedLogGroup, retentionAtLeast } from './encrypted-logs';

/** @internal */
export interface HardenedRestApiOptions {
  readonly description: string;
  readonly logsKey: kms.IKey;
  readonly logRetention: Duration;
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  readonly wafRateLimit: number;
  readonly allowedOrigins?: string[];
  readonly manageAccountCloudWatchRole: boolean;
}

/** @internal */
export interface HardenedRestApi {
  readonly api: apigw.RestApi;
  readonly webAcl: wafv2.CfnWebACL;
  readonly accessLogGroup: logs.ILogGroup;
}

/**
 * Access log fields: who called what, when, and with which outcome. No bodies, no headers, no
 * query strings (they may carry personal data).
 */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  protocol: '$context.protocol',
  sourceIp: '$context.identity.sourceIp',
  principalId: '$context.authorizer.principalId',
  wafStatus: '$context.waf.status',
  errorType: '$context.error.responseType',
});

/**
 * Define a regional REST API with the library's defaults: WAF (AWS managed common and known-bad
 * input rules plus a per-IP rate rule, logged with the authorization header redacted), stage
 * throttling, X-Ray, JSON access logs without bodies in a KMS-encrypted log group, execution
 * logging at ERROR level without data tracing, no caching, and explicit CORS.
 *
 * @internal
 */
export function createHardenedRestApi(scope: Construct, options: HardenedRestApiOptions): HardenedRestApi {
  const retention = retentionAtLeast(options.logRetention);
  const accessLogGroup = createEncryptedLogGroup(scope, 'AccessLogs', options.logsKey, retention, RemovalPolicy.RETAIN);

  const api = new apigw.RestApi(scope, 'Api', {
    description: options.description,
    endpointTypes: [apigw.EndpointType.REGIONAL],
    cloudWatchRole: false,
    deployOptions: {
      stageName: 'v1',
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogGroup),
      accessLogFormat: apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      tracingEnabled: true,
      metricsEnabled: true,
      cachingEnabled: false,
      throttlingRateLimit: options.throttlingRateLimit,
      throttlingBurstLimit: options.throttlingBurstLimit,
    },
    defaultCorsPreflightOptions: options.allowedOrigins && options.allowedOrigins.length > 0
      ? {
        allowOrigins: options.allowedOrigins,
        allowMethods: ['OPTIONS', 'POST', 'GET'],
        allowHeaders: ['Content-Type', 'Authorization', 'X-Amz-Date', 'X-Amz-Security-Token'],
        maxAge: Duration.hours(1),
      }
      : undefined,
    disableExecuteApiEndpoint: false,
  });

  const stack = Stack.of(scope);
  if (options.manageAccountCloudWatchRole) {
    // Execution logging needs the account-level API Gateway CloudWatch role. CDK's own option
    // attaches an AWS-managed policy; this one carries the same actions inline.
    const role = new iam.Role(scope, 'CloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway account role: writes execution logs to CloudWatch Logs',
    });
    role.addToPolicy(new iam.PolicyStatement({
      actions: [
        'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams',
        'logs:PutLogEvents', 'logs:GetLogEvents', 'logs:FilterLogEvents',
      ],
      resources: [`arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:API-Gateway-Execution-Logs_*`],
    }));
    const account = new apigw.CfnAccount(scope, 'Account', { cloudWatchRoleArn: role.roleArn });
    api.deploymentStage.node.addDependency(account);
  }

  const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'WebAcl', sampledRequestsEnabled: false },
    rules: [
      managedRule('AWSManagedRulesCommonRuleSet', 10),
      managedRule('AWSManagedRulesKnownBadInputsRuleSet', 20),
      {
        name: 'RateLimitPerIp',
        priority: 30,
        action: { block: {} },
        statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: options.wafRateLimit, evaluationWindowSec: 300 } },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'RateLimitPerIp', sampledRequestsEnabled: false },
      },
    ],
  });
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', {
    resourceArn: api.deploymentStage.stageArn,
    webAclArn: webAcl.attrArn,
  });
  // WAF logs go to a log group whose name must start with aws-waf-logs-.
  const wafLogGroupName = `aws-waf-logs-${scope.node.addr.slice(0, 16)}`;
  const wafLogGroup = new logs.LogGroup(scope, 'WafLogs', {
    logGroupName: wafLogGroupName,
    encryptionKey: options.logsKey,
    retention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const wafLogging = new wafv2.CfnLoggingConfiguration(scope, 'WafLogging', {
    resourceArn: webAcl.attrArn,
    // WAF wants the log group ARN without the trailing ':*'.
    logDestinationConfigs: [`arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${wafLogGroupName}`],
    redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'x-amz-security-token' } }],
  });
  wafLogging.node.addDependency(wafLogGroup);

  // A usage plan on the stage: the place to attach API keys and quotas per client later; its
  // throttle matches the stage's.
  api.addUsagePlan('UsagePlan', {
    description: `${options.description}: default usage plan`,
    throttle: { rateLimit: options.throttlingRateLimit, burstLimit: options.throttlingBurstLimit },
    apiStages: [{ api, stage: api.deploymentStage }],
  });

  return { api, webAcl, accessLogGroup };
}

function managedRule(name: string, priority: number): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: false },
  };
}
