/**
 * Who may speak for a LabelingPipeline, and which service may act for it:
 *
 * - `events:PutEvents` only with the pipeline's source and the detail types of the role's own
 *   decisions (`events:source`, `events:detail-type`): a compromised cleaning function cannot
 *   announce "Dataset Version Published", the one event a GpuTrainingJob trains on.
 * - EventBridge writes to the pipeline's queues only for the pipeline's rules (queue policies with
 *   `aws:SourceArn` = the rule), and uses the pipeline's key and assumes its roles only for rules of
 *   this account (`aws:SourceAccount`, `aws:SourceArn` like this account's rules: the rules'
 *   ARNs themselves would make the key or role depend on the rule that depends on them).
 * - Step Functions assumes a state machine's role only for that state machine (`aws:SourceArn`,
 *   `aws:SourceAccount`).
 *
 * On the account's default bus the pipeline adds no bus policy: it is the account's, shared by
 * every application, and a Deny for every other principal would also lock out the roles of any
 * other LabelingPipeline, which emits the same source. The conditions above keep the pipeline's
 * own roles to their own events; other principals of the account that may put events on the bus
 * can still emit the pipeline's source, which is why consumers verify the state an event names
 * (a GpuTrainingJob checks the dataset card's `published` flag) rather than trust the event.
 */
import { Names, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { IConstruct } from 'constructs';
import { EVENT_SOURCE } from './runtime/contract';

/**
 * Allow `grantee` to put the pipeline's events of `detailTypes` on `bus`, and nothing else there.
 * `events:source` and `events:detail-type` are multivalued keys (one value per entry of a
 * PutEvents call): every entry must be one of ours (`ForAllValues`), and the keys must be present
 * (`Null: false`; `ForAllValues` alone is true for a request without them).
 */
export function grantPutPipelineEvents(bus: events.IEventBus, grantee: iam.IGrantable, detailTypes: readonly string[]): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['events:PutEvents'],
    resourceArns: [bus.eventBusArn],
    conditions: {
      'ForAllValues:StringEquals': { 'events:source': [EVENT_SOURCE], 'events:detail-type': [...detailTypes] },
      'Null': { 'events:source': 'false', 'events:detail-type': 'false' },
    },
  });
}

/** `aws:SourceAccount` = this account and `aws:SourceArn` like an EventBridge rule of this account and region. */
export function eventRulesOfThisAccount(scope: IConstruct): Record<string, Record<string, unknown>> {
  const stack = Stack.of(scope);
  return {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/*` },
  };
}

/** EventBridge acting for a rule of this account (the key's and roles' trusted service principal). */
export function eventBridgeForThisAccount(scope: IConstruct): iam.IPrincipal {
  return new iam.ServicePrincipal('events.amazonaws.com').withConditions(eventRulesOfThisAccount(scope));
}

/**
 * A rule target that delivers to one of the pipeline's queues (and undeliverable events to its
 * dead-letter queue): the queue policy allows `sqs:SendMessage` to EventBridge for this rule only
 * (`aws:SourceArn`). Unlike aws-cdk-lib's `SqsQueue` target, it leaves the queue's key alone (that
 * target drops the rule condition on encrypted queues and grants EventBridge the key without any
 * condition); the pipeline grants the key once, for rules of this account.
 */
export class PipelineQueueTarget implements events.IRuleTarget {
  constructor(private readonly queue: sqs.IQueue, private readonly deadLetterQueue: sqs.IQueue) {}

  public bind(rule: events.IRule): events.RuleTargetConfig {
    const onlyThisRule = { ArnEquals: { 'aws:SourceArn': rule.ruleArn } };
    this.queue.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [this.queue.queueArn],
      conditions: onlyThisRule,
    }));
    this.deadLetterQueue.addToResourcePolicy(new iam.PolicyStatement({
      sid: `AllowEventRule${Names.nodeUniqueId(rule.node)}`,
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [this.deadLetterQueue.queueArn],
      conditions: onlyThisRule,
    }));
    return { arn: this.queue.queueArn, targetResource: this.queue, deadLetterConfig: { arn: this.deadLetterQueue.queueArn } };
  }
}

/**
 * Replace the trust policy of a role that a service assumes (a state machine's role, a rule's
 * role) with one that names the service and `conditions` (aws-cdk-lib builds these roles itself,
 * from the bare service principal).
 */
export function restrictTrust(role: iam.IRole, service: string, conditions: Record<string, Record<string, unknown>>): void {
  const cfnRole = role.node.defaultChild as iam.CfnRole;
  cfnRole.assumeRolePolicyDocument = new iam.PolicyDocument({
    statements: [new iam.PolicyStatement({
      actions: ['sts:AssumeRole'],
      principals: [new iam.ServicePrincipal(service).withConditions(conditions)],
    })],
  });
}

/** Step Functions may assume the state machine's role only for that state machine (and its Map runs). */
export function restrictStateMachineTrust(machine: sfn.StateMachine, name: string): void {
  const stack = Stack.of(machine);
  const arn = `arn:${stack.partition}:states:${stack.region}:${stack.account}:stateMachine:${name}`;
  restrictTrust(machine.role, 'states.amazonaws.com', {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': [arn, `${arn}:*`, `${arn}/*`] },
  });
}
