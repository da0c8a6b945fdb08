/**
 * The states of a ModelPromotion's state machine:
 *
 *   ValidateInput → Init → CheckCandidate → CandidateVerdict
 *     DUPLICATE → AlreadyClaimed (another execution has this version)
 *     REJECTED  → CandidateRejected → [audit]
 *     ACCEPTED  → [RequestApproval → WaitForApproval → CheckDecision (ApprovalRejected | ApprovalTimedOut → [audit])]
 *       → ReadFunctionConfiguration → MergeModelEnvironment → UpdateModelEnvironment
 *       → WaitForUpdate → ReadUpdateStatus → UpdateStatus (InProgress: WaitForUpdate again)
 *       → PublishModelVersion → ReadLiveAlias → AlreadyLive (PromotedAlreadyLive → [audit])
 *       → BuildAppSpec → StartRollout → WaitForRollout → ReadRollout → RolloutStatus
 *         Succeeded → RecordLineage (retried; then LineageNotRecorded) → RecordPromotedModel
 *           → RolloutSucceeded → [audit]
 *         Failed | Stopped → RestoreModelEnvironment → RolloutRolledBack → [audit]
 *   [audit] = PrepareAudit → WriteAudit → PublishOutcome → Outcome → Promoted | Rejected | RolledBack | PromotionFailed
 *   a failed task: HasCandidate → StepFailed → [audit], or (no candidate yet) PublishInputFailed → InputFailed
 *
 * The endpoint switches models without a CDK deployment: the model's variables are merged into
 * the function's configuration (the revision read is the revision updated, and the version
 * published is the revision checked), a version is published and CodeDeploy shifts the live
 * alias to it with the endpoint's canary and alarms. The state and construct IDs are part of the
 * contract.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { CANDIDATE_STATUS, LIVE_ALIAS, PROMOTED_MODEL_ENV } from './runtime/contract';
import {
  PROMOTION_DETAIL_TYPE, PROMOTION_EVENT_SOURCE, PROMOTION_KEYS, PROMOTION_LINEAGE_STATUS, PROMOTION_OUTCOME, PROMOTION_SCHEMA_VERSION,
  PromotionOutcome, REJECTION_REASON,
} from '../contract/promotion';

/** What the states are built from. */
export interface PromotionStatesOptions {
  readonly modelName: string;
  /** The candidate check. */
  readonly checkFunction: lambda.IFunction;
  /** Writes the promotion's lineage event (record-lineage.ts). */
  readonly lineageFunction: lambda.IFunction;
  /** The endpoint's function. */
  readonly endpointFunction: lambda.IFunction;
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  /** The lake's models zone. */
  readonly models: s3.IBucket;
  readonly eventBus: events.IEventBus;
  /** The approval wait; undefined: no approval step. */
  readonly approvalTimeout?: Duration;
  /** The SSM parameter (name, starting with '/') where the promoted model is recorded for the app to follow. */
  readonly promotedModelParameter: string;
  /** Between two reads of the function's update status. @default 5 seconds */
  readonly updatePollInterval?: Duration;
  /** Between two reads of the rollout's status. @default 30 seconds */
  readonly rolloutPollInterval?: Duration;
}

type Retriable = { addRetry(p: sfn.RetryProps): unknown };
type Catchable = { addCatch(handler: sfn.IChainable, p: sfn.CatchProps): unknown };

const TRANSIENT_COMMON = ['ThrottlingException', 'ServiceUnavailable', 'InternalServerError'];
const TRANSIENT_S3 = ['S3.S3Exception', 'S3.SdkClientException', 'S3.InternalErrorException', ...TRANSIENT_COMMON];
const TRANSIENT_LAMBDA = ['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'Lambda.SdkClientException', ...TRANSIENT_COMMON];
/** The function is being updated (by a deployment, or a previous update still in progress). */
const LAMBDA_CONFLICT = ['Lambda.ResourceConflictException'];
const TRANSIENT_CODEDEPLOY = ['CodeDeploy.ThrottlingException', 'CodeDeploy.SdkClientException', 'CodeDeploy.CodeDeployException', ...TRANSIENT_COMMON];
const TRANSIENT_EVENTS = ['EventBridge.EventBridgeException', 'EventBridge.InternalException', 'EventBridge.FailedEntry', ...TRANSIENT_COMMON];

/** The candidate fields the state machine reads (`$.candidate.<field>`). */
const CANDIDATE_FIELDS = ['status', 'model', 'modelVersion', 'modelSha256', 'modelUri', 'modelRecord', 'reason', 'checks', 'auditPrefix', 'modelBucket', 'modelKey', 'approvalKey', 'environment'] as const;

/** The promotion keys of one model's versions, `monitoring/promotions/model=<model>%40*`: what the state machine may write. */
export function promotionObjectsPattern(modelName: string): string {
  return `${PROMOTION_KEYS.modelPrefix(modelName)}*`;
}

/** Define the states under `states` and return the start state. */
export function buildPromotionStates(states: Construct, o: PromotionStatesOptions): sfn.IChainable {
  const fn = o.endpointFunction;
  const bucket = o.models.bucketName;
  const approval = o.approvalTimeout !== undefined;

  // ---- the end: audit record, event, final state ---------------------------------------------------
  const auditFailed = new sfn.Fail(states, 'AuditFailed', { error: 'AuditFailed', causePath: '$.auditError.Error', comment: 'The audit record or the outcome event could not be written' });
  const prepareAudit = new sfn.Pass(states, 'PrepareAudit', {
    comment: 'The audit record\'s key: <version folder><time>-<outcome>.json',
    parameters: {
      key: sfn.JsonPath.format('{}{}-{}.json', sfn.JsonPath.stringAt('$.candidate.auditPrefix'), sfn.JsonPath.stringAt('$$.State.EnteredTime'), sfn.JsonPath.stringAt('$.outcome.outcome')),
      uri: sfn.JsonPath.format(`s3://${bucket}/{}{}-{}.json`, sfn.JsonPath.stringAt('$.candidate.auditPrefix'), sfn.JsonPath.stringAt('$$.State.EnteredTime'), sfn.JsonPath.stringAt('$.outcome.outcome')),
      recordedAt: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
    },
    resultPath: '$.audit',
  });
  const writeAudit = new tasks.CallAwsService(states, 'WriteAudit', {
    comment: 'The audit record (model version, SHA-256, checks, approver, deployment, times), written once per outcome',
    service: 's3',
    action: 'putObject',
    iamAction: 's3:PutObject',
    iamResources: [o.models.arnForObjects(promotionObjectsPattern(o.modelName))],
    parameters: {
      Bucket: bucket,
      Key: sfn.JsonPath.stringAt('$.audit.key'),
      ContentType: 'application/json',
      Body: {
        schemaVersion: PROMOTION_SCHEMA_VERSION,
        outcome: sfn.JsonPath.stringAt('$.outcome.outcome'),
        reason: sfn.JsonPath.stringAt('$.outcome.reason'),
        model: o.modelName,
        modelVersion: sfn.JsonPath.stringAt('$.candidate.modelVersion'),
        modelSha256: sfn.JsonPath.stringAt('$.candidate.modelSha256'),
        modelUri: sfn.JsonPath.stringAt('$.candidate.modelUri'),
        modelRecord: sfn.JsonPath.stringAt('$.candidate.modelRecord'),
        checks: sfn.JsonPath.objectAt('$.candidate.checks'),
        approval: sfn.JsonPath.objectAt('$.progress.decision'),
        lineage: sfn.JsonPath.objectAt('$.progress.lineage'),
        deployment: {
          deploymentId: sfn.JsonPath.stringAt('$.progress.rollout.deploymentId'),
          previousVersion: sfn.JsonPath.stringAt('$.progress.live.version'),
          targetVersion: sfn.JsonPath.stringAt('$.progress.published.version'),
          status: sfn.JsonPath.stringAt('$.progress.rolloutStatus.status'),
        },
        execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        recordedAt: sfn.JsonPath.stringAt('$.audit.recordedAt'),
      },
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  retry(writeAudit, TRANSIENT_S3, 3);
  writeAudit.addCatch(auditFailed, { errors: ['States.ALL'], resultPath: '$.auditError' });

  const publishOutcome = new tasks.EventBridgePutEvents(states, 'PublishOutcome', {
    entries: [{
      eventBus: o.eventBus,
      source: PROMOTION_EVENT_SOURCE,
      detailType: sfn.JsonPath.stringAt('$.outcome.detailType'),
      detail: sfn.TaskInput.fromObject({
        model: o.modelName,
        modelVersion: sfn.JsonPath.stringAt('$.candidate.modelVersion'),
        modelSha256: sfn.JsonPath.stringAt('$.candidate.modelSha256'),
        outcome: sfn.JsonPath.stringAt('$.outcome.outcome'),
        reason: sfn.JsonPath.stringAt('$.outcome.reason'),
        record: sfn.JsonPath.stringAt('$.audit.uri'),
        deploymentId: sfn.JsonPath.stringAt('$.progress.rollout.deploymentId'),
        execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
      }),
    }],
    resultPath: sfn.JsonPath.DISCARD,
  });
  retry(publishOutcome, TRANSIENT_EVENTS, 3);
  publishOutcome.addCatch(auditFailed, { errors: ['States.ALL'], resultPath: '$.auditError' });

  const outcomeChoice = new sfn.Choice(states, 'Outcome')
    .when(sfn.Condition.stringEquals('$.outcome.outcome', PROMOTION_OUTCOME.promoted), new sfn.Succeed(states, 'Promoted', { comment: 'The version serves all traffic of the live alias' }))
    .when(sfn.Condition.stringEquals('$.outcome.outcome', PROMOTION_OUTCOME.rejected), new sfn.Fail(states, 'Rejected', { error: 'PromotionRejected', causePath: '$.outcome.reason' }))
    .when(sfn.Condition.stringEquals('$.outcome.outcome', PROMOTION_OUTCOME.rolledBack), new sfn.Fail(states, 'RolledBack', { error: 'RolloutRolledBack', causePath: '$.outcome.reason' }))
    .otherwise(new sfn.Fail(states, 'PromotionFailed', { error: 'PromotionFailed', causePath: '$.outcome.reason' }));
  prepareAudit.next(writeAudit).next(publishOutcome).next(outcomeChoice);

  const DETAIL: Record<PromotionOutcome, string> = {
    [PROMOTION_OUTCOME.promoted]: PROMOTION_DETAIL_TYPE.modelPromoted,
    [PROMOTION_OUTCOME.rejected]: PROMOTION_DETAIL_TYPE.modelPromotionRejected,
    [PROMOTION_OUTCOME.rolledBack]: PROMOTION_DETAIL_TYPE.modelRolloutRolledBack,
    [PROMOTION_OUTCOME.failed]: PROMOTION_DETAIL_TYPE.modelPromotionFailed,
  };
  /** A Pass that sets `$.outcome` (a literal reason, or a JSONPath to one) and goes on to the audit. */
  const outcome = (id: string, value: PromotionOutcome, reason: string): sfn.Pass => {
    const pass = new sfn.Pass(states, id, {
      parameters: { outcome: value, detailType: DETAIL[value], reason: reason.startsWith('$') ? sfn.JsonPath.stringAt(reason) : reason },
      resultPath: '$.outcome',
    });
    pass.next(prepareAudit);
    return pass;
  };

  // ---- failures ------------------------------------------------------------------------------------
  const inputFailed = new sfn.Fail(states, 'InputFailed', { errorPath: '$.failure.Error', causePath: '$.failure.Cause', comment: 'No model version could be read from the input: nothing was claimed or changed' });
  const publishInputFailed = new tasks.EventBridgePutEvents(states, 'PublishInputFailed', {
    entries: [{
      eventBus: o.eventBus,
      source: PROMOTION_EVENT_SOURCE,
      detailType: PROMOTION_DETAIL_TYPE.modelPromotionFailed,
      detail: sfn.TaskInput.fromObject({
        model: o.modelName,
        outcome: PROMOTION_OUTCOME.failed,
        reason: sfn.JsonPath.stringAt('$.failure.Error'),
        execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
      }),
    }],
    resultPath: sfn.JsonPath.DISCARD,
  });
  retry(publishInputFailed, TRANSIENT_EVENTS, 3);
  publishInputFailed.addCatch(inputFailed, { errors: ['States.ALL'], resultPath: '$.failureEventError' });
  publishInputFailed.next(inputFailed);
  const stepFailed = outcome('StepFailed', PROMOTION_OUTCOME.failed, '$.failure.Error');
  const hasCandidate = new sfn.Choice(states, 'HasCandidate', { comment: 'A failure after the candidate was claimed is audited under its version' })
    .when(sfn.Condition.isPresent('$.candidate.auditPrefix'), stepFailed)
    .otherwise(publishInputFailed);
  const onError = (state: Catchable) => state.addCatch(hasCandidate, { errors: ['States.ALL'], resultPath: '$.failure' });
  const fail = (id: string, error: string, cause: string): sfn.Pass => {
    const pass = new sfn.Pass(states, id, { result: sfn.Result.fromObject({ Error: error, Cause: cause }), resultPath: '$.failure' });
    pass.next(hasCandidate);
    return pass;
  };

  // ---- input, defaults, candidate check ------------------------------------------------------------
  const rejectInput = new sfn.Pass(states, 'RejectInput', {
    parameters: { failure: { Error: 'InvalidInput', Cause: `expected {"modelRecord": "s3://${bucket}/${o.modelName}/records/<training job>.json"}` } },
  });
  rejectInput.next(publishInputFailed);
  const init = new sfn.Pass(states, 'Init', {
    comment: 'What the audit record reads, before any step sets it',
    result: sfn.Result.fromObject({
      decision: { decision: approval ? 'PENDING' : 'NOT_REQUIRED', approver: null, decidedAt: null, comment: null },
      live: { version: null },
      published: { version: null },
      rollout: { deploymentId: null },
      rolloutStatus: { status: null },
      lineage: { status: PROMOTION_LINEAGE_STATUS.notEmitted },
    }),
    resultPath: '$.progress',
  });
  const validate = new sfn.Choice(states, 'ValidateInput', { comment: 'A model record URI (the check validates it further)' })
    .when(sfn.Condition.and(sfn.Condition.isPresent('$.modelRecord'), sfn.Condition.isString('$.modelRecord')), init)
    .otherwise(rejectInput);

  const check = new tasks.LambdaInvoke(states, 'CheckCandidate', {
    comment: 'Validate the record URI, claim the version, hash the model, find the baseline, evaluate the gates',
    lambdaFunction: o.checkFunction,
    payload: sfn.TaskInput.fromObject({
      modelRecord: sfn.JsonPath.stringAt('$.modelRecord'),
      execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
      request: sfn.JsonPath.objectAt('$$.Execution.Input'),
    }),
    resultSelector: Object.fromEntries(CANDIDATE_FIELDS.map((f) => [f, sfn.JsonPath.objectAt(`$.Payload.${f}`)])),
    resultPath: '$.candidate',
    retryOnServiceExceptions: true,
  });
  // The check is re-entrant for its execution (it finds its own claim): S3's transient errors,
  // thrown by the function under their names, are retried, so a version is not left claimed by a
  // failed check. InvalidCandidate and anything else go to the failure path.
  retry(check, ['States.Timeout', 'InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout', 'TimeoutError', 'NetworkingError'], 3);
  onError(check);
  init.next(check);

  // ---- the rollout ---------------------------------------------------------------------------------
  const readConfig = new tasks.CallAwsService(states, 'ReadFunctionConfiguration', {
    comment: 'The endpoint function\'s variables and revision',
    service: 'lambda',
    action: 'getFunctionConfiguration',
    iamAction: 'lambda:GetFunctionConfiguration',
    iamResources: [fn.functionArn],
    parameters: { FunctionName: fn.functionArn },
    resultSelector: { variables: sfn.JsonPath.objectAt('$.Environment.Variables'), revisionId: sfn.JsonPath.stringAt('$.RevisionId') },
    resultPath: '$.function',
  });
  retry(readConfig, TRANSIENT_LAMBDA, 3);
  onError(readConfig);
  const merge = new sfn.Pass(states, 'MergeModelEnvironment', {
    comment: `The function's variables with the model's replaced (${Object.values(PROMOTED_MODEL_ENV).join(', ')})`,
    parameters: { variables: sfn.JsonPath.jsonMerge(sfn.JsonPath.objectAt('$.function.variables'), sfn.JsonPath.objectAt('$.candidate.environment')) },
    resultPath: '$.merged',
  });
  const update = new tasks.CallAwsService(states, 'UpdateModelEnvironment', {
    comment: 'Point $LATEST at the new model, only if nobody changed the function since it was read (RevisionId)',
    service: 'lambda',
    action: 'updateFunctionConfiguration',
    iamAction: 'lambda:UpdateFunctionConfiguration',
    iamResources: [fn.functionArn],
    parameters: {
      FunctionName: fn.functionArn,
      RevisionId: sfn.JsonPath.stringAt('$.function.revisionId'),
      Environment: { Variables: sfn.JsonPath.objectAt('$.merged.variables') },
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  retry(update, TRANSIENT_LAMBDA, 3);
  onError(update);
  const waitUpdate = new sfn.Wait(states, 'WaitForUpdate', { time: sfn.WaitTime.duration(o.updatePollInterval ?? Duration.seconds(5)) });
  const readUpdate = new tasks.CallAwsService(states, 'ReadUpdateStatus', {
    service: 'lambda',
    action: 'getFunctionConfiguration',
    iamAction: 'lambda:GetFunctionConfiguration',
    iamResources: [fn.functionArn],
    parameters: { FunctionName: fn.functionArn },
    resultSelector: {
      status: sfn.JsonPath.stringAt('$.LastUpdateStatus'),
      sha256: sfn.JsonPath.stringAt(`$.Environment.Variables.${PROMOTED_MODEL_ENV.modelSha256}`),
      revisionId: sfn.JsonPath.stringAt('$.RevisionId'),
    },
    resultPath: '$.update',
  });
  retry(readUpdate, TRANSIENT_LAMBDA, 3);
  onError(readUpdate);
  const publishVersion = new tasks.CallAwsService(states, 'PublishModelVersion', {
    comment: 'A version of exactly the revision that was checked (RevisionId)',
    service: 'lambda',
    action: 'publishVersion',
    iamAction: 'lambda:PublishVersion',
    iamResources: [fn.functionArn],
    parameters: {
      FunctionName: fn.functionArn,
      RevisionId: sfn.JsonPath.stringAt('$.update.revisionId'),
      Description: sfn.JsonPath.format('{} (sha256 {})', sfn.JsonPath.stringAt('$.candidate.modelVersion'), sfn.JsonPath.stringAt('$.candidate.modelSha256')),
    },
    resultSelector: { version: sfn.JsonPath.stringAt('$.Version') },
    resultPath: '$.progress.published',
  });
  retry(publishVersion, [...TRANSIENT_LAMBDA, ...LAMBDA_CONFLICT], 5);
  onError(publishVersion);
  const readAlias = new tasks.CallAwsService(states, 'ReadLiveAlias', {
    service: 'lambda',
    action: 'getAlias',
    iamAction: 'lambda:GetAlias',
    iamResources: [`${fn.functionArn}:${LIVE_ALIAS}`],
    parameters: { FunctionName: fn.functionArn, Name: LIVE_ALIAS },
    resultSelector: { version: sfn.JsonPath.stringAt('$.FunctionVersion') },
    resultPath: '$.progress.live',
  });
  retry(readAlias, TRANSIENT_LAMBDA, 3);
  onError(readAlias);
  const appSpec = new sfn.Pass(states, 'BuildAppSpec', {
    comment: 'The AppSpec of a Lambda deployment: the live alias from its version to the new one',
    parameters: {
      version: '0.0',
      Resources: [{
        endpoint: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Name: fn.functionName,
            Alias: LIVE_ALIAS,
            CurrentVersion: sfn.JsonPath.stringAt('$.progress.live.version'),
            TargetVersion: sfn.JsonPath.stringAt('$.progress.published.version'),
          },
        },
      }],
    },
    resultPath: '$.appSpec',
  });
  const dg = o.deploymentGroup;
  const startRollout = new tasks.CallAwsService(states, 'StartRollout', {
    comment: 'CodeDeploy shifts the live alias with the endpoint\'s deployment configuration, and rolls back on its alarms',
    service: 'codedeploy',
    action: 'createDeployment',
    iamAction: 'codedeploy:CreateDeployment',
    iamResources: [dg.deploymentGroupArn],
    additionalIamStatements: [
      new iam.PolicyStatement({ actions: ['codedeploy:GetDeploymentConfig'], resources: [dg.deploymentConfig.deploymentConfigArn] }),
      new iam.PolicyStatement({ actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'], resources: [dg.application.applicationArn] }),
    ],
    parameters: {
      ApplicationName: dg.application.applicationName,
      DeploymentGroupName: dg.deploymentGroupName,
      Description: sfn.JsonPath.format('Promote {}', sfn.JsonPath.stringAt('$.candidate.modelVersion')),
      Revision: { RevisionType: 'AppSpecContent', AppSpecContent: { Content: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.appSpec')) } },
    },
    resultSelector: { deploymentId: sfn.JsonPath.stringAt('$.DeploymentId') },
    resultPath: '$.progress.rollout',
  });
  // Another deployment of the group in progress: wait for it (10 tries over about an hour).
  startRollout.addRetry({
    errors: ['CodeDeploy.DeploymentLimitExceededException'], interval: Duration.seconds(60), maxAttempts: 10, backoffRate: 1.5, maxDelay: Duration.minutes(10),
  });
  retry(startRollout, TRANSIENT_CODEDEPLOY, 3);
  onError(startRollout);
  const waitRollout = new sfn.Wait(states, 'WaitForRollout', { time: sfn.WaitTime.duration(o.rolloutPollInterval ?? Duration.seconds(30)) });
  const readRollout = new tasks.CallAwsService(states, 'ReadRollout', {
    service: 'codedeploy',
    action: 'getDeployment',
    iamAction: 'codedeploy:GetDeployment',
    iamResources: [dg.deploymentGroupArn],
    parameters: { DeploymentId: sfn.JsonPath.stringAt('$.progress.rollout.deploymentId') },
    resultSelector: { status: sfn.JsonPath.stringAt('$.DeploymentInfo.Status') },
    resultPath: '$.progress.rolloutStatus',
  });
  retry(readRollout, TRANSIENT_CODEDEPLOY, 3);
  onError(readRollout);

  // Promoted: the app can follow (the parameter names the model a redeployment must keep).
  const stack = Stack.of(states);
  const recordPromoted = new tasks.CallAwsService(states, 'RecordPromotedModel', {
    comment: 'The promoted model\'s bucket, key, SHA-256, version and object version, for the app to deploy the endpoint with',
    service: 'ssm',
    action: 'putParameter',
    iamAction: 'ssm:PutParameter',
    iamResources: [`arn:${stack.partition}:ssm:${stack.region}:${stack.account}:parameter${o.promotedModelParameter}`],
    parameters: {
      Name: o.promotedModelParameter,
      Type: 'String',
      Overwrite: true,
      Value: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.candidate.environment')),
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  retry(recordPromoted, ['SSM.TooManyUpdatesException', 'SSM.InternalServerErrorException', ...TRANSIENT_COMMON], 3);
  recordPromoted.addCatch(outcome('PromotedNotRecorded', PROMOTION_OUTCOME.promoted, 'PROMOTED_MODEL_PARAMETER_NOT_WRITTEN'), { errors: ['States.ALL'], resultPath: '$.recordError' });
  recordPromoted.next(outcome('RolloutSucceeded', PROMOTION_OUTCOME.promoted, ''));

  // Rolled back: $LATEST goes back to the variables it had (the live alias already did).
  const rolledBack = outcome('RolloutRolledBack', PROMOTION_OUTCOME.rolledBack, '$.progress.rolloutStatus.status');
  const restore = new tasks.CallAwsService(states, 'RestoreModelEnvironment', {
    comment: 'Point $LATEST back at the model it served, unless someone changed the function since the update (RevisionId)',
    service: 'lambda',
    action: 'updateFunctionConfiguration',
    iamAction: 'lambda:UpdateFunctionConfiguration',
    iamResources: [fn.functionArn],
    parameters: {
      FunctionName: fn.functionArn,
      RevisionId: sfn.JsonPath.stringAt('$.update.revisionId'),
      Environment: { Variables: sfn.JsonPath.objectAt('$.function.variables') },
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  retry(restore, [...TRANSIENT_LAMBDA, ...LAMBDA_CONFLICT], 5);
  restore.addCatch(rolledBack, { errors: ['States.ALL'], resultPath: '$.restoreError' });
  restore.next(rolledBack);

  // The version serves all traffic: its lineage (model version → endpoint version). Idempotent
  // (the event time is this state's entered time, the same for every try), so transient errors are
  // retried; after the last try the failure is recorded in the audit record and the promotion goes on.
  const recordLineage = new tasks.LambdaInvoke(states, 'RecordLineage', {
    comment: 'The promotion\'s OpenLineage event in the lake\'s curated zone (lineage/)',
    lambdaFunction: o.lineageFunction,
    payload: sfn.TaskInput.fromObject({
      modelVersion: sfn.JsonPath.stringAt('$.candidate.modelVersion'),
      modelSha256: sfn.JsonPath.stringAt('$.candidate.modelSha256'),
      modelBucket: sfn.JsonPath.stringAt('$.candidate.modelBucket'),
      modelKey: sfn.JsonPath.stringAt('$.candidate.modelKey'),
      previousEnvironment: sfn.JsonPath.objectAt('$.function.variables'),
      promotedAt: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
    }),
    resultSelector: { status: sfn.JsonPath.stringAt('$.Payload.status'), eventKey: sfn.JsonPath.stringAt('$.Payload.eventKey') },
    resultPath: '$.progress.lineage',
    retryOnServiceExceptions: true,
  });
  // S3's and KMS's transient errors, thrown by the function under their names (a LineageInputError
  // or an AccessDenied would fail again: straight to LineageNotRecorded).
  recordLineage.addRetry({
    errors: ['States.Timeout', 'InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout', 'TimeoutError', 'NetworkingError', 'ThrottlingException', 'KMSInternalException'],
    interval: Duration.seconds(5),
    maxAttempts: 5,
    backoffRate: 2,
    maxDelay: Duration.minutes(2),
    jitterStrategy: sfn.JitterType.FULL,
  });
  const lineageNotRecorded = new sfn.Pass(states, 'LineageNotRecorded', {
    comment: 'The version stays promoted; the audit record says the lineage event is missing (lineage.status FAILED)',
    parameters: { status: PROMOTION_LINEAGE_STATUS.failed, error: sfn.JsonPath.stringAt('$.lineageError.Error') },
    resultPath: '$.progress.lineage',
  });
  recordLineage.addCatch(lineageNotRecorded, { errors: ['States.ALL'], resultPath: '$.lineageError' });
  recordLineage.next(recordPromoted);
  lineageNotRecorded.next(recordPromoted);

  const rolloutStatus = new sfn.Choice(states, 'RolloutStatus')
    .when(sfn.Condition.stringEquals('$.progress.rolloutStatus.status', 'Succeeded'), recordLineage)
    .when(sfn.Condition.or(
      sfn.Condition.stringEquals('$.progress.rolloutStatus.status', 'Failed'),
      sfn.Condition.stringEquals('$.progress.rolloutStatus.status', 'Stopped'),
    ), restore)
    .otherwise(waitRollout);
  waitRollout.next(readRollout).next(rolloutStatus);
  appSpec.next(startRollout).next(waitRollout);

  const alreadyLive = new sfn.Choice(states, 'AlreadyLive', { comment: 'The published version is the live one (the same configuration was promoted before)' })
    .when(sfn.Condition.stringEqualsJsonPath('$.progress.live.version', '$.progress.published.version'), outcome('PromotedAlreadyLive', PROMOTION_OUTCOME.promoted, 'ALREADY_LIVE'))
    .otherwise(appSpec);
  publishVersion.next(readAlias).next(alreadyLive);

  const updateStatus = new sfn.Choice(states, 'UpdateStatus')
    .when(sfn.Condition.and(
      sfn.Condition.stringEquals('$.update.status', 'Successful'),
      sfn.Condition.stringEqualsJsonPath('$.update.sha256', '$.candidate.modelSha256'),
    ), publishVersion)
    .when(sfn.Condition.stringEquals('$.update.status', 'InProgress'), waitUpdate)
    .when(sfn.Condition.stringEquals('$.update.status', 'Successful'),
      fail('ConcurrentChange', 'ConcurrentChange', 'the function was changed by someone else during the update: nothing was published'))
    .otherwise(fail('UpdateFailed', 'UpdateFailed', 'the function configuration update failed (LastUpdateStatus Failed): the live alias is unchanged'));
  readConfig.next(merge).next(update).next(waitUpdate).next(readUpdate).next(updateStatus);

  // ---- approval ------------------------------------------------------------------------------------
  let accepted: sfn.IChainable = readConfig;
  if (o.approvalTimeout) {
    const requestApproval = new tasks.EventBridgePutEvents(states, 'RequestApproval', {
      entries: [{
        eventBus: o.eventBus,
        source: PROMOTION_EVENT_SOURCE,
        detailType: PROMOTION_DETAIL_TYPE.modelApprovalRequested,
        detail: sfn.TaskInput.fromObject({
          model: o.modelName,
          modelVersion: sfn.JsonPath.stringAt('$.candidate.modelVersion'),
          modelSha256: sfn.JsonPath.stringAt('$.candidate.modelSha256'),
          outcome: 'approval-requested',
          reason: '',
          record: sfn.JsonPath.format(`s3://${bucket}/{}`, sfn.JsonPath.stringAt('$.candidate.approvalKey')),
          deploymentId: sfn.JsonPath.stringAt('$.progress.rollout.deploymentId'),
          execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
        }),
      }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    retry(requestApproval, TRANSIENT_EVENTS, 3);
    onError(requestApproval);
    const waitApproval = new tasks.CallAwsService(states, 'WaitForApproval', {
      comment: 'The approval request (with the task token) for the approval handler; waits for its decision',
      service: 's3',
      action: 'putObject',
      iamAction: 's3:PutObject',
      iamResources: [o.models.arnForObjects(promotionObjectsPattern(o.modelName))],
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      taskTimeout: sfn.Timeout.duration(o.approvalTimeout),
      parameters: {
        Bucket: bucket,
        Key: sfn.JsonPath.stringAt('$.candidate.approvalKey'),
        ContentType: 'application/json',
        Body: {
          taskToken: sfn.JsonPath.taskToken,
          modelVersion: sfn.JsonPath.stringAt('$.candidate.modelVersion'),
          modelSha256: sfn.JsonPath.stringAt('$.candidate.modelSha256'),
          modelUri: sfn.JsonPath.stringAt('$.candidate.modelUri'),
          checks: sfn.JsonPath.objectAt('$.candidate.checks'),
          requestedAt: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
          execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
        },
      },
      resultSelector: {
        decision: sfn.JsonPath.stringAt('$.decision'),
        approver: sfn.JsonPath.stringAt('$.approver'),
        decidedAt: sfn.JsonPath.stringAt('$.decidedAt'),
        comment: sfn.JsonPath.stringAt('$.comment'),
      },
      resultPath: '$.progress.decision',
    });
    retry(waitApproval, TRANSIENT_S3, 2);
    const timedOut = new sfn.Pass(states, 'ApprovalTimedOut', {
      // A Result, not Parameters: aws-cdk-lib drops null values from Parameters.
      result: sfn.Result.fromObject({ decision: 'TIMED_OUT', approver: null, decidedAt: null, comment: null }),
      resultPath: '$.progress.decision',
    });
    timedOut.next(outcome('ApprovalExpired', PROMOTION_OUTCOME.rejected, REJECTION_REASON.approvalTimedOut));
    waitApproval.addCatch(timedOut, { errors: ['States.Timeout'], resultPath: '$.failure' });
    onError(waitApproval);
    const decision = new sfn.Choice(states, 'CheckDecision', { comment: 'The approver\'s decision (the approval handler sends APPROVED or REJECTED)' })
      .when(sfn.Condition.stringEquals('$.progress.decision.decision', 'APPROVED'), readConfig)
      .otherwise(outcome('ApprovalRejected', PROMOTION_OUTCOME.rejected, REJECTION_REASON.approvalRejected));
    requestApproval.next(waitApproval).next(decision);
    accepted = requestApproval;
  }

  check.next(new sfn.Choice(states, 'CandidateVerdict')
    .when(sfn.Condition.stringEquals('$.candidate.status', CANDIDATE_STATUS.duplicate),
      new sfn.Succeed(states, 'AlreadyClaimed', { comment: 'Another execution claimed this model version: nothing was changed' }))
    .when(sfn.Condition.stringEquals('$.candidate.status', CANDIDATE_STATUS.accepted), accepted)
    .otherwise(outcome('CandidateRejected', PROMOTION_OUTCOME.rejected, '$.candidate.reason')));

  return validate;
}

function retry(state: Retriable, errors: string[], maxAttempts: number) {
  state.addRetry({
    errors, interval: Duration.seconds(2), maxAttempts, backoffRate: 2, maxDelay: Duration.seconds(60), jitterStrategy: sfn.JitterType.FULL,
  });
}
