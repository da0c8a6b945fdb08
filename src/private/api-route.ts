import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { createLogsKey, retentionAtLeast } from './encrypted-logs';
import { invalidProp } from './errors';
import { defineHandlerRole } from './handler-role';
import { createHardenedRestApi } from './hardened-rest-api';
import { createUserPool } from './user-pool';
import { ApiAuthorization } from '../api-options/api-authorization';
import { HandlerOptions } from '../api-options/handler-options';
import { SecureApiOptions } from '../api-options/secure-api-options';

/** @internal */
export interface ApiRoute {
  readonly restApi: apigw.IRestApi;
  readonly authorization: ApiAuthorization;
  readonly logsKey: kms.IKey;
  readonly logRetention: Duration;
  readonly userPool?: cognito.IUserPool;
  readonly webAcl?: wafv2.CfnWebACL;
}

/**
 * Validate the shared API options and create what they leave to the construct: the logs key,
 * the default user pool, and (unless attached to an existing API) the hardened REST API.
 *
 * @internal
 */
export function createApiRoute(scope: Construct, options: SecureApiOptions, description: string): ApiRoute {
  if (options.allowedOrigins?.some((o) => o === '*' || !/^https?:\/\/[^/*\s]+$/.test(o))) {
    invalidProp(scope, 'allowedOrigins', options.allowedOrigins, 'expected explicit origins such as "https://app.example.com" (no "*", no path)');
  }
  if (options.restApi && options.allowedOrigins) {
    invalidProp(scope, 'allowedOrigins', options.allowedOrigins, 'CORS of an existing restApi is configured on that API; leave allowedOrigins out');
  }
  const logRetention = options.logRetention ?? Duration.days(365);
  const logsKey = options.logsKey ?? createLogsKey(scope, 'LogsKey', RemovalPolicy.RETAIN);

  let authorization = options.authorization;
  let userPool: cognito.IUserPool | undefined;
  if (!authorization) {
    userPool = createUserPool(scope);
    authorization = ApiAuthorization.cognito(userPool);
  }

  if (options.restApi) {
    return { restApi: options.restApi, authorization, logsKey, logRetention, userPool };
  }
  const hardened = createHardenedRestApi(scope, {
    description,
    logsKey,
    logRetention,
    throttlingRateLimit: options.throttlingRateLimit ?? 50,
    throttlingBurstLimit: options.throttlingBurstLimit ?? 100,
    wafRateLimit: options.wafRateLimit ?? 500,
    allowedOrigins: options.allowedOrigins,
    manageAccountCloudWatchRole: options.manageAccountCloudWatchRole ?? true,
  });
  return { restApi: hardened.api, authorization, logsKey, logRetention, userPool, webAcl: hardened.webAcl };
}

/**
 * Define the execution role of a handler (no AWS-managed policies) and its KMS-encrypted log
 * group, which the role may write to (`defineHandlerRole`: ids `HandlerRole`, `HandlerLogs`, the
 * route's logs key); validate the handler options.
 *
 * @internal
 */
export function createHandlerRole(
  scope: Construct,
  route: ApiRoute,
  description: string,
  options: HandlerOptions,
): { role: iam.Role; logGroup: logs.LogGroup } {
  if (options.vpcSubnets && !options.vpc) {
    invalidProp(scope, 'vpcSubnets', 'a selection', 'vpcSubnets needs vpc');
  }
  return defineHandlerRole(scope, {
    roleId: 'HandlerRole',
    logGroupId: 'HandlerLogs',
    description,
    vpc: options.vpc,
    logsKey: route.logsKey,
    retention: retentionAtLeast(route.logRetention),
  });
}

/** @internal */
export interface ValidatedPostOptions {
  /** Path segment under the API root. */
  readonly path: string;
  /** Construct id of the request model (part of the construct contract). */
  readonly modelId: string;
  /** Properties and required members of the closed JSON body (additionalProperties: false). */
  readonly properties: Record<string, apigw.JsonSchema>;
  readonly required: string[];
  readonly integration: apigw.Integration;
}

/**
 * Add `POST /<path>` to the route's API: the route's authorization, a closed JSON request model
 * and a validator that checks body and parameters.
 *
 * @internal
 */
export function addValidatedPost(
  scope: Construct,
  route: ApiRoute,
  options: ValidatedPostOptions,
): { resource: apigw.Resource; method: apigw.Method } {
  const requestModel = new apigw.Model(scope, options.modelId, {
    restApi: route.restApi,
    contentType: 'application/json',
    description: `Body of POST /${options.path}`,
    schema: {
      schema: apigw.JsonSchemaVersion.DRAFT4,
      type: apigw.JsonSchemaType.OBJECT,
      additionalProperties: false,
      required: options.required,
      properties: options.properties,
    },
  });
  const requestValidator = new apigw.RequestValidator(scope, 'RequestValidator', {
    restApi: route.restApi,
    validateRequestBody: true,
    validateRequestParameters: true,
  });
  const resource = route.restApi.root.addResource(options.path);
  const method = resource.addMethod('POST', options.integration, {
    ...route.authorization._methodOptions(scope, route.restApi),
    requestValidator,
    requestModels: { 'application/json': requestModel },
  });
  return { resource, method };
}
