/**
 * The review API of a LabelingPipeline (`GET /reviews`, `POST /reviews/{recordId}`): its handler,
 * the request validator and answer model, and the two methods, under the pipeline's `ReviewApi`
 * scope, on a new hardened REST API or the one the props name.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { LabelingPipelineProps } from './labeling-pipeline';
import { grantLedger, stageHandler } from './pipeline-handlers';
import { ENV, PipelineConfig } from './runtime/contract';
import { ApiRoute, createApiRoute, createHandlerRole } from '../private/api-route';
import { handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';

/** What the review API is built from. */
export interface ReviewApiOptions {
  /** The pipeline (the routes are defined in its `ReviewApi` scope). */
  readonly pipeline: Construct;
  readonly props: LabelingPipelineProps;
  readonly config: PipelineConfig;
  /** The environment every handler gets. */
  readonly env: Record<string, string>;
  readonly ledger: dynamodb.ITableV2;
  /** The key of the ledger. */
  readonly encryptionKey: kms.IKey;
  /** The state machine that waits for the reviewers' answers. */
  readonly reviewStateMachine: sfn.IStateMachine;
}

/** Define the review API's handler and routes. */
export function defineReviewApi(options: ReviewApiOptions): ApiRoute {
  const { pipeline, props, config, env } = options;
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
    },
  });
  grantLedger(options.ledger, options.encryptionKey, fn, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:DeleteItem');
  // The handler answers reviews: SendTaskSuccess only (no failure, no heartbeat).
  options.reviewStateMachine.grant(fn, 'states:SendTaskSuccess');

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
  reviews.addMethod('GET', integration, {
    ...route.authorization._methodOptions(scope, route.restApi),
    requestValidator: validator,
    requestParameters: { 'method.request.querystring.limit': false, 'method.request.querystring.nextToken': false },
  });
  reviews.addResource('{recordId}').addMethod('POST', integration, {
    ...route.authorization._methodOptions(scope, route.restApi),
    requestValidator: validator,
    requestParameters: { 'method.request.path.recordId': true },
    requestModels: { 'application/json': model },
  });
  return route;
}
