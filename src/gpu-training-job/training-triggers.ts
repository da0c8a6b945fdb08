/**
 * The event plumbing of a GpuTrainingJob: the dead-letter queue of its rule targets, the service
 * principals scoped to this account, and the retraining rule ("Model Drift Detected" starts the
 * labeling pipeline's dataset state machine).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RetrainOnDrift } from './training-options';
import { DatasetVersionPublishedDetail } from '../contract/events';
import { MONITOR_DETAIL_TYPE, MONITOR_EVENT_SOURCE, ModelDriftDetectedDetail } from '../contract/monitoring';

/** The ARN pattern of the EventBridge rules of the construct's account and region (any bus). */
export function eventBridgeRules(scope: Construct): string {
  const stack = Stack.of(scope);
  return `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/*`;
}

/** EventBridge acting for a rule of this account and region. */
export function eventBridgeSource(scope: Construct): Record<string, unknown> {
  return {
    StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
    ArnLike: { 'aws:SourceArn': eventBridgeRules(scope) },
  };
}

/**
 * The dead-letter queue: every statement aws-cdk-lib adds for a service principal (the rule
 * targets' "events.amazonaws.com may send", already limited to the rule's ARN) also names this
 * account (aws:SourceAccount).
 */
export class DeadLetterQueue extends sqs.Queue {
  public override addToResourcePolicy(statement: iam.PolicyStatement): iam.AddToResourcePolicyResult {
    if (statement.effect === iam.Effect.ALLOW && statement.principals.some((p) => p instanceof iam.ServicePrincipal)) {
      statement.addCondition('StringEquals', { 'aws:SourceAccount': Stack.of(this).account });
    }
    return super.addToResourcePolicy(statement);
  }
}

/**
 * The training key: aws-cdk-lib's statement for CloudWatch Logs' log delivery
 * (`delivery.logs.amazonaws.com`, added for the state machine's encrypted logs) names this
 * account and its log resources (aws:SourceAccount, aws:SourceArn).
 */
export class ServiceScopedKey extends kms.Key {
  public override addToResourcePolicy(statement: iam.PolicyStatement, allowNoOp?: boolean): iam.AddToResourcePolicyResult {
    if (statement.principals.some((p) => p instanceof iam.ServicePrincipal && p.service === 'delivery.logs.amazonaws.com')) {
      const stack = Stack.of(this);
      statement.addCondition('StringEquals', { 'aws:SourceAccount': stack.account });
      statement.addCondition('ArnLike', { 'aws:SourceArn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:*` });
    }
    return super.addToResourcePolicy(statement, allowNoOp);
  }
}

/** The JSONPath of a field of a "Dataset Version Published" event's `detail`. */
export function datasetVersionPublished(field: keyof DatasetVersionPublishedDetail): string {
  return `$.detail.${field}`;
}

/** What the retraining rule is built from. */
export interface RetrainRuleOptions {
  readonly retrain: RetrainOnDrift;
  /** The job's bus (the default of `retrain.eventBus`). */
  readonly eventBus: events.IEventBus;
  readonly deadLetterQueue: sqs.IQueue;
  readonly modelName: string;
}

/**
 * `RetrainOnDrift` (a rule on "Model Drift Detected", optionally of one endpoint) and
 * `RetrainOnDriftRole`: EventBridge, for rules of this account only, may start the pipeline's
 * dataset state machine and nothing else. The dataset trigger trains on the version it publishes.
 */
export function defineRetrainOnDrift(scope: Construct, o: RetrainRuleOptions): events.Rule {
  const detail: { readonly [K in keyof ModelDriftDetectedDetail]?: unknown } = o.retrain.captureName ? { endpoint: [o.retrain.captureName] } : {};
  const role = new iam.Role(scope, 'RetrainOnDriftRole', {
    assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions(eventBridgeSource(scope)),
    description: `${scope.node.path}: starts a dataset version of the labeling pipeline when drift is detected`,
  });
  const machine = o.retrain.pipeline.datasetStateMachine;
  machine.grantStartExecution(role);
  return new events.Rule(scope, 'RetrainOnDrift', {
    eventBus: o.retrain.eventBus ?? o.eventBus,
    description: `${scope.node.path}: on drift${o.retrain.captureName ? ` of ${o.retrain.captureName}` : ''}, build a new dataset version to retrain ${o.modelName} on`,
    eventPattern: {
      source: [MONITOR_EVENT_SOURCE],
      detailType: [MONITOR_DETAIL_TYPE.modelDriftDetected],
      ...(Object.keys(detail).length > 0 ? { detail } : {}),
    },
    targets: [new targets.SfnStateMachine(machine, {
      input: events.RuleTargetInput.fromObject({}),
      role,
      deadLetterQueue: o.deadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(24),
    })],
  });
}
