import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * `FailureAlarm` of a construct's state machine: any execution that failed, timed out or was
 * aborted in 5 minutes.
 *
 * @internal
 */
export function executionFailureAlarm(scope: Construct, machine: sfn.IStateMachine, description: string): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, 'FailureAlarm', {
    alarmDescription: description,
    metric: new cloudwatch.MathExpression({
      expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
      usingMetrics: {
        failed: machine.metricFailed({ statistic: cloudwatch.Stats.SUM }),
        timedOut: machine.metricTimedOut({ statistic: cloudwatch.Stats.SUM }),
        aborted: machine.metricAborted({ statistic: cloudwatch.Stats.SUM }),
      },
      period: Duration.minutes(5),
      label: 'Failed, timed out or aborted executions',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
