/**
 * The ModelPromotion's supporting resources: its key, its dead-letter queue and its alarms.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { executionFailureAlarm } from '../private/state-machine-alarm';

/**
 * The promotion key: aws-cdk-lib's statement for CloudWatch Logs' log delivery
 * (`delivery.logs.amazonaws.com`, added for the state machine's encrypted logs) names this
 * account and its log resources (aws:SourceAccount, aws:SourceArn).
 */
export class PromotionKey extends kms.Key {
  public override addToResourcePolicy(statement: iam.PolicyStatement, allowNoOp?: boolean): iam.AddToResourcePolicyResult {
    if (statement.principals.some((p) => p instanceof iam.ServicePrincipal && p.service === 'delivery.logs.amazonaws.com')) {
      const stack = Stack.of(this);
      statement.addCondition('StringEquals', { 'aws:SourceAccount': stack.account });
      statement.addCondition('ArnLike', { 'aws:SourceArn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:*` });
    }
    return super.addToResourcePolicy(statement, allowNoOp);
  }
}

/**
 * The trigger's dead-letter queue: every statement aws-cdk-lib adds for a service principal (the
 * rule target's "events.amazonaws.com may send", limited to the rule's ARN) also names this account.
 */
export class PromotionDeadLetterQueue extends sqs.Queue {
  public override addToResourcePolicy(statement: iam.PolicyStatement): iam.AddToResourcePolicyResult {
    if (statement.effect === iam.Effect.ALLOW && statement.principals.some((p) => p instanceof iam.ServicePrincipal)) {
      statement.addCondition('StringEquals', { 'aws:SourceAccount': Stack.of(this).account });
    }
    return super.addToResourcePolicy(statement);
  }
}

/** Put conditions on the one service statement of a role's trust policy. */
export function scopeServiceTrust(role: iam.IRole, condition: Record<string, unknown>) {
  const cfn = role.node.defaultChild as iam.CfnRole;
  cfn.addPropertyOverride('AssumeRolePolicyDocument.Statement.0.Condition', condition);
}

/**
 * FailureAlarm: executions that ended in a Fail state (a rejection, a rollback or a failed step:
 * the audit record and the event say which), timed out or were aborted. DeadLetterAlarm: the
 * trigger's dead-letter queue holds an event.
 */
export function createPromotionAlarms(scope: Construct, machine: sfn.IStateMachine, dlq: sqs.IQueue, action?: cloudwatch.IAlarmAction) {
  const failure = executionFailureAlarm(scope, machine,
    `${scope.node.path}: a promotion execution failed (a rejection, a rollback or a failed step: see the audit record and the event), timed out or was aborted`);
  const deadLetter = new cloudwatch.Alarm(scope, 'DeadLetterAlarm', {
    alarmDescription: `${scope.node.path}: a "Model Trained" event could not start a promotion (see the dead-letter queue)`,
    metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (action) {
    for (const alarm of [failure, deadLetter]) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
  return { failure, deadLetter };
}
