/**
 * The review API of a LabelingPipeline (`GET /reviews`, `POST /reviews/{recordId}`): its handler,
 * who may call it (the reviewer group in the user pool, or the reviewer roles with their
 * `execute-api:Invoke` grant), the request validator and answer model, and the two methods,
 * under the pipeline's `ReviewApi` scope, on a new hardened REST API or the one the props name.
 *
 * Who is a reviewer is checked by the handler, for both kinds of authorization: a Cognito
 * authorizer only proves the token (any user of the pool passes it), and the routes may sit on a
 * REST API the pipeline does not own (a shared API's resource policy is its owner's; and for
 * callers of the same account an Allow in a resource policy grants nothing an identity policy
 * does not). The handler reads the verified claims and caller ARN that API Gateway passes.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { LabelingPipelineProps } from './labeling-pipeline';
import { ReviewerSettings } from './pipeline-config';
import { grantLedger, stageHandler } from './pipeline-handlers';
import { ENV, PipelineConfig } from './runtime/contract';
import { ApiRoute, createApiRoute, createHandlerRole } from '../private/api-route';
import { handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';
import type { ReviewApiSettings } from './runtime/logic/review-request';

/** What the review API is built from. */
export interface ReviewApiOptions {
  /** The pipeline (the routes are defined in its `ReviewApi` scope). */
  readonly pipeline: Construct;
  readonly props: LabelingPipelineProps;
  readonly config: PipelineConfig;
  /** Who may review, and how often. */
  readonly reviewers: ReviewerSettings;
  /** The environment every handler gets. */
  readonly env: Record<string, string>;
  readonly ledger: dynamodb.ITableV2;
  /** The key of the ledger. */
  readonly encryptionKey: kms.IKey;
  /** The state machine that waits for the reviewers' answers. */
  readonly reviewStateMachine: sfn.IStateMachine;
}

/** The review API's route, and the group the construct created for the reviewers. */
export interface ReviewApi extends ApiRoute {
  readonly reviewerGroup?: cognito.CfnUserPoolGroup;
}

/** Define the review API's handler and routes. */
export function defineReviewApi(options: ReviewApiOptions): ReviewApi {
  const { pipeline, props, config, env, reviewers } = options;
  const scope = new Construct(pipeline, 'ReviewApi');
  const route = createApiRoute(scope, props.reviewApi ?? {}, `${pipeline.node.path}: human review of records the labelers are unsure of`);
  const { role, logGroup } = createHandlerRole(scope, route, 'Lists pending reviews and accepts reviewers\' labels', props);
  const fn = new lambda.Function(scope, 'Handler', {
    description: `${pipeline.node.path}: review API`,
    runtime: handlerRuntime(pipeline, props.runtime),
    handler: 'index.handler',
    code: stageHandler(pipeline, 'review-api', config),
    role,
    logGroup,
    memorySize: 512,
    timeout: Duration.seconds(10),
    ...handlerDefaults(props),
    environment: {
      ...env,
      [ENV.ALLOWED_ORIGINS]: JSON.stringify(props.reviewApi?.allowedOrigins ?? []),
      [ENV.HMAC_KEY_ID]: props.lake.pseudonymizationKey!.keyArn,
      [ENV.REVIEW_API_SETTINGS]: reviewApiSettings(pipeline, reviewers),
    },
  });
  // Pending reviews (Query, GetItem, DeleteItem), the reviewers' answers (PutItem once, Query,
  // BatchGetItem) and request counters (UpdateItem).
  grantLedger(options.ledger, options.encryptionKey, fn,
    'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem');
  // The handler answers reviews: SendTaskSuccess only (no failure, no heartbeat).
  options.reviewStateMachine.grant(fn, 'states:SendTaskSuccess');
  // Reviewers are known by their keyed pseudonym only.
  props.lake.grantPseudonymize(fn);

  const validator = new apigw.RequestValidator(scope, 'RequestValidator', {
    restApi: route.restApi,
    validateRequestBody: true,
    validateRequestParameters: true,
  });
  const model = new apigw.Model(scope, 'ReviewAnswerModel', {
    restApi: route.restApi,
    contentType: 'application/json',
    description: 'Body of POST /reviews/{recordId}',
    schema: {
      schema: apigw.JsonSchemaVersion.DRAFT4,
      type: apigw.JsonSchemaType.OBJECT,
      additionalProperties: false,
      required: ['className'],
      properties: { className: { type: apigw.JsonSchemaType.STRING, enum: props.classes } },
    },
  });
  const integration = new apigw.LambdaIntegration(fn, { proxy: true });
  const reviews = route.restApi.root.addResource('reviews');
  const list = reviews.addMethod('GET', integration, {
    ...route.authorization._methodOptions(scope, route.restApi),
    requestValidator: validator,
    requestParameters: { 'method.request.querystring.limit': false, 'method.request.querystring.nextToken': false },
  });
  const answer = reviews.addResource('{recordId}').addMethod('POST', integration, {
    ...route.authorization._methodOptions(scope, route.restApi),
    requestValidator: validator,
    requestParameters: { 'method.request.path.recordId': true },
    requestModels: { 'application/json': model },
  });

  let reviewerGroup: cognito.CfnUserPoolGroup | undefined;
  if (reviewers.kind === 'cognito-group' && (reviewers.createGroup ?? route.userPool !== undefined)) {
    reviewerGroup = new cognito.CfnUserPoolGroup(scope, 'ReviewersGroup', {
      userPoolId: route.authorization.userPool!.userPoolId,
      groupName: reviewers.groupName,
      description: `${pipeline.node.path}: may use the review API (never data subjects)`,
    });
  }
  for (const reviewerRole of reviewers.roles) {
    iam.Grant.addToPrincipal({ grantee: reviewerRole, actions: ['execute-api:Invoke'], resourceArns: [list.methodArn, answer.methodArn] });
  }
  return { ...route, reviewerGroup };
}

/** `REVIEW_API_SETTINGS` of the handler (role ARNs may be tokens). */
function reviewApiSettings(scope: Construct, reviewers: ReviewerSettings): string {
  const settings: ReviewApiSettings = {
    access: reviewers.kind === 'iam-roles'
      ? { kind: 'iam-roles', roleArns: reviewers.roles.map((r) => r.roleArn) }
      : { kind: 'cognito-group', group: reviewers.groupName },
    maxRequestsPerWindow: reviewers.maxRequestsPerWindow,
    windowSeconds: reviewers.windowSeconds,
    fourEyesQualitySample: reviewers.fourEyesQualitySample,
  };
  return reviewers.kind === 'iam-roles' ? Stack.of(scope).toJsonString(settings) : JSON.stringify(settings);
}
