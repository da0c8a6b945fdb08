/**
 * The state machines of a LabelingPipeline, each a standard workflow encrypted with the pipeline's
 * key, traced, and logging without execution data:
 *
 *   review:   StartReview → RequestReview (Lambda task with a task token, the review timeout)
 *             → RecordReview → Reviewed; a timeout requeues it (RequeueReview → AttemptsLeft?)
 *             until ExpireReview → ReviewExpired
 *   dataset:  BuildDatasetVersion → Publish? → PublishDatasetVersion → Published
 *                                           | ReportBlockedDatasetVersion → DatasetBlocked
 *   backfill: WhichZone? → BackfillRaw | BackfillQuarantine (Distributed Maps over the cleaning function)
 *
 * The state and construct IDs are part of the construct contract; every child is defined on the
 * pipeline itself.
 */
import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { grantPutPipelineEvents, restrictStateMachineTrust } from './pipeline-events';
import { PipelineResources } from './pipeline-handlers';
import { DETAIL_TYPE, EVENT_SOURCE } from './runtime/contract';
import { createEncryptedLogGroup } from '../private/encrypted-logs';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/** A standard state machine with the pipeline's key, X-Ray and logs without execution data. */
export function defineStateMachine(res: PipelineResources, id: string, definition: sfn.IChainable, comment: string): sfn.StateMachine {
  const scope = res.scope;
  const logGroup = createEncryptedLogGroup(scope, `${id}Logs`, res.encryptionKey, res.retention, RemovalPolicy.RETAIN);
  const name = `${Names.uniqueResourceName(scope, { maxLength: 80 - id.length - 1 })}-${id}`;
  const machine = new sfn.StateMachine(scope, id, {
    // A name known at synth: with a customer-managed key, the role may use the key only for the
    // encryption context of this state machine's ARN, which CDK builds from the name; and Step
    // Functions may assume the role only for this ARN.
    stateMachineName: name,
    comment: `${scope.node.path}: ${comment}`,
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    stateMachineType: sfn.StateMachineType.STANDARD,
    tracingEnabled: true,
    // Execution data (records, answers) stays out of the logs.
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(res.encryptionKey),
  });
  restrictStateMachineTrust(machine, name);
  return machine;
}

/** The review state machine: waits for a human review of one record (requeued on timeout). */
export function defineReviewStateMachine(res: PipelineResources, fn: lambda.IFunction, timeout: Duration, maxAttempts: number): sfn.StateMachine {
  const scope = res.scope;
  const failed = new sfn.Fail(scope, 'ReviewFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const start = new sfn.Pass(scope, 'StartReview', {
    parameters: { 'input.$': '$', 'attempt': 1 },
  });
  const request = new tasks.LambdaInvoke(scope, 'RequestReview', {
    lambdaFunction: fn,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      action: 'request',
      taskToken: sfn.JsonPath.taskToken,
      attempt: sfn.JsonPath.numberAt('$.attempt'),
      input: sfn.JsonPath.objectAt('$.input'),
    }),
    taskTimeout: sfn.Timeout.duration(timeout),
    resultPath: '$.answer',
    comment: 'Queue the record for the review API and wait for a reviewer\'s answer',
  });
  request.addRetry({ errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
  // Throttling or a fault of the handler's own dependency (DynamoDB) fails the function with the
  // SDK error's name; putting the item again is idempotent. (Not States.TaskFailed: that would also
  // retry permanent errors.)
  request.addRetry({
    errors: ['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'InternalServerError', 'ServiceUnavailable'],
    interval: Duration.seconds(5),
    maxAttempts: 3,
    backoffRate: 2,
  });
  const nextAttempt = new sfn.Pass(scope, 'RequeueReview', {
    parameters: { 'input.$': '$.input', 'attempt.$': 'States.MathAdd($.attempt, 1)' },
    comment: 'The review timed out: queue it again',
  });
  const expire = new tasks.LambdaInvoke(scope, 'ExpireReview', {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({ action: 'expire', recordId: sfn.JsonPath.stringAt('$.input.recordId') }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  expire.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
  expire.addCatch(failed, { resultPath: '$.error' });
  const expired = new sfn.Fail(scope, 'ReviewExpired', { error: 'ReviewExpired', cause: `no reviewer answered in ${maxAttempts} attempt(s) of ${timeout.toHumanString()}` });
  request.addCatch(nextAttempt, { errors: ['States.Timeout'], resultPath: '$.error' });
  request.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
  const record = new tasks.LambdaInvoke(scope, 'RecordReview', {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({ action: 'record', answer: sfn.JsonPath.objectAt('$.answer') }),
    resultPath: sfn.JsonPath.DISCARD,
    comment: 'Append the human label and make it current',
  });
  record.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
  record.addCatch(failed, { resultPath: '$.error' });
  nextAttempt.next(new sfn.Choice(scope, 'AttemptsLeft?')
    .when(sfn.Condition.numberGreaterThan('$.attempt', maxAttempts), expire.next(expired))
    .otherwise(request));
  return defineStateMachine(res, 'ReviewStateMachine', start.next(request).next(record).next(new sfn.Succeed(scope, 'Reviewed')), 'waits for a human review of one record');
}

/** The dataset state machine: builds a dataset version, then publishes it or reports it blocked. */
export function defineDatasetStateMachine(
  res: PipelineResources, fn: lambda.IFunction, eventBus: events.IEventBus, pipelineName: string,
): sfn.StateMachine {
  const scope = res.scope;
  const failed = new sfn.Fail(scope, 'DatasetFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
  // No `payload`: with payloadResponseOnly the function gets the state input (a payload of
  // `fromJsonPathAt('$')` renders `"Parameters": "$"`, aws/aws-cdk#34260).
  const build = new tasks.LambdaInvoke(scope, 'BuildDatasetVersion', {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    resultPath: '$.result',
    comment: 'Write the manifests, the dataset card and the quality report',
  });
  build.addRetry({ errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
  build.addCatch(failed, { resultPath: '$.error' });
  // The events, in the ASL of an EventBridgePutEvents task, whose role may put only these two
  // detail types of the pipeline's source (an EventBridgePutEvents task would grant the bus
  // without conditions).
  const put = (id: string, detailType: string) => {
    const t = new sfn.CustomState(scope, id, {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Stack.of(scope).partition}:states:::events:putEvents`,
        Parameters: {
          Entries: [{
            Detail: {
              'pipeline': pipelineName,
              'datasetVersion.$': '$.result.datasetVersion',
              'location.$': '$.result.location',
              'counts.$': '$.result.counts',
              'blockedReasons.$': '$.result.blockedReasons',
            },
            DetailType: detailType,
            EventBusName: eventBus.eventBusArn,
            Source: EVENT_SOURCE,
          }],
        },
        ResultPath: null,
      },
    });
    t.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
    t.addCatch(failed, { resultPath: '$.error' });
    return t;
  };
  const published = put('PublishDatasetVersion', DETAIL_TYPE.datasetVersionPublished).next(new sfn.Succeed(scope, 'Published'));
  const blocked = put('ReportBlockedDatasetVersion', DETAIL_TYPE.datasetVersionBlocked)
    .next(new sfn.Fail(scope, 'DatasetBlocked', { error: 'DatasetBlocked', cause: 'a quality gate failed; see quality-report.json of the version' }));
  const definition = build.next(new sfn.Choice(scope, 'Publish?')
    .when(sfn.Condition.booleanEquals('$.result.publish', true), published)
    .otherwise(blocked));
  const machine = defineStateMachine(res, 'DatasetStateMachine', definition, 'builds and publishes a dataset version');
  grantPutPipelineEvents(eventBus, machine, [DETAIL_TYPE.datasetVersionPublished, DETAIL_TYPE.datasetVersionBlocked]);
  return machine;
}

/** The backfill state machine: re-runs the cleaning of the raw uploads or of the quarantine. */
export function defineBackfillStateMachine(
  res: PipelineResources, lake: ISecureDataLake, fn: lambda.IFunction, sourcePrefix: string, zonePrefix: string,
): sfn.StateMachine {
  const scope = res.scope;
  const failed = new sfn.Fail(scope, 'BackfillFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const map = (id: string, zone: DataZone, prefix: string) => {
    const bucket = lake.bucket(zone);
    const m = new sfn.DistributedMap(scope, id, {
      itemReader: new sfn.S3ObjectsItemReader({ bucket, prefix }),
      itemBatcher: new sfn.ItemBatcher({ maxItemsPerBatch: 50, batchInput: { bucket: bucket.bucketName } }),
      maxConcurrency: 10,
      resultSelector: { 'batches.$': 'States.ArrayLength($)' },
      resultPath: '$.result',
      comment: `Re-run the cleaning of every object under the prefix in the ${zone} zone`,
    });
    // No `payload`: the function gets the batch itself (see BuildDatasetVersion).
    const batch = new tasks.LambdaInvoke(scope, `${id}Batch`, {
      lambdaFunction: fn,
      payloadResponseOnly: true,
    });
    batch.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 4, backoffRate: 2 });
    m.itemProcessor(batch);
    m.addCatch(failed, { resultPath: '$.error' });
    return m;
  };
  const raw = map('BackfillRaw', DataZone.RAW, sourcePrefix);
  const quarantine = map('BackfillQuarantine', DataZone.QUARANTINE, `${zonePrefix}quarantine/`);
  const rawRerun = raw.next(new sfn.Succeed(scope, 'RawRerun'));
  // Without `zone` the raw zone (a rule on a missing path would fail the Choice with States.Runtime).
  const definition = new sfn.Choice(scope, 'WhichZone?')
    .when(sfn.Condition.not(sfn.Condition.isPresent('$.zone')), rawRerun)
    .when(sfn.Condition.stringEquals('$.zone', 'quarantine'), quarantine.next(new sfn.Succeed(scope, 'QuarantineRerun')))
    .otherwise(rawRerun);
  const machine = defineStateMachine(res, 'BackfillStateMachine', definition, 'reprocesses the raw uploads or the quarantine (idempotent)');
  return machine;
}
