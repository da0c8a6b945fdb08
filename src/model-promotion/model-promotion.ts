import { Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { defaultPromotedModelParameterName, promotedModel } from './promoted-model';
import { ModelPromotionProps, PromotedModelOptions } from './promotion-options';
import { buildPromotionStates, promotionObjectsPattern } from './promotion-states';
import { createPromotionAlarms, PromotionDeadLetterQueue, PromotionKey, scopeServiceTrust } from './promotion-support';
import { APPROVE_ENV, CHECK_ENV, LINEAGE_ENV } from './runtime/contract';
import { ModelTrainedDetail, TRAINING_DETAIL_TYPE, TRAINING_EVENT_SOURCE } from '../contract/events';
import { LINEAGE_ROOT } from '../contract/lineage';
import { MONITORING_KEYS } from '../contract/monitoring';
import { PROMOTION_DETAIL_TYPE, PROMOTION_EVENT_SOURCE, PROMOTION_KEYS, PROMOTION_MODEL_NAME_PATTERN } from '../contract/promotion';
import { acknowledgeReviewed, compliance, iam5Resource, REASON } from '../private/acknowledgments';
import { allowLogsService, createEncryptedLogGroup } from '../private/encrypted-logs';
import { invalidProp } from '../private/errors';
import { handlerCode, handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';
import { defineHandlerRole } from '../private/handler-role';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';
import { ModelArtifact } from '../serverless-model-endpoint/model-artifact';
import { ServerlessModelEndpoint } from '../serverless-model-endpoint/serverless-model-endpoint';

/**
 * Automated, gated promotion of new model versions to a ServerlessModelEndpoint, without a CDK
 * deployment.
 *
 * Each "Model Trained" event of the model starts the promotion state machine, once per model
 * version: it checks the model object's SHA-256 against its model record, the drift baseline and
 * the metric gates, optionally waits for a human approval, then points the endpoint function at
 * the new model (its variables, a new version) and lets CodeDeploy shift the live alias with the
 * endpoint's canary, rolling back on its errors and latency alarms (and `additionalAlarms`).
 * Every promotion, rejection, rollback and failure writes an audit record to the lake's models
 * zone (`monitoring/promotions/model=<model>%40<n>/`) and puts an event (source
 * `cdk-secure-mlops.model-promotion`). A version that serves all traffic also gets its OpenLineage
 * run event (model object → endpoint version, `lineageEndpointName`) in the lake's curated zone
 * under `lineage/`, written by `lineageFunction`; a failed write is retried, then recorded in the
 * audit record (`lineage.status` FAILED) without undoing the promotion.
 *
 * CloudFormation still holds the endpoint's first model: a later `cdk deploy` that changes the
 * endpoint function would put that model back. Every promotion therefore records the promoted
 * model in an SSM parameter (`promotedModelParameterName`); build the endpoint's model with
 * `ModelPromotion.promotedModel(...)`, which reads it at synthesis, and a deployment keeps the
 * promoted version (refresh the cached lookup with `cdk context --reset` before you deploy).
 *
 * @example
 * import { Duration, Stack } from 'aws-cdk-lib';
 * import * as iam from 'aws-cdk-lib/aws-iam';
 * import { MetricComparison, ModelPromotion, SecureDataLake, ServerlessModelEndpoint } from 'cdk-secure-mlops';
 *
 * declare const stack: Stack;
 * declare const lake: SecureDataLake;
 * declare const endpoint: ServerlessModelEndpoint;
 * declare const releaseManagers: iam.IRole;
 *
 * const promotion = new ModelPromotion(stack, 'Promotion', {
 *   endpoint,
 *   lake,
 *   modelName: 'hearing-who-grade',
 *   gates: [{ metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: 0.9 }],
 *   approval: { timeout: Duration.days(3) },
 * });
 * promotion.grantApprove(releaseManagers);
 */
export class ModelPromotion extends Construct {
  /** EventBridge `source` of the promotion's events. */
  public static readonly EVENT_SOURCE = PROMOTION_EVENT_SOURCE;
  /** `detail-type` of the event put when a version serves all traffic. */
  public static readonly DETAIL_TYPE_MODEL_PROMOTED = PROMOTION_DETAIL_TYPE.modelPromoted;
  /** `detail-type` of the event put when a version was refused. */
  public static readonly DETAIL_TYPE_PROMOTION_REJECTED = PROMOTION_DETAIL_TYPE.modelPromotionRejected;
  /** `detail-type` of the event put when CodeDeploy rolled a rollout back. */
  public static readonly DETAIL_TYPE_ROLLOUT_ROLLED_BACK = PROMOTION_DETAIL_TYPE.modelRolloutRolledBack;

  /**
   * The default name of the SSM parameter where a promotion of `modelName` records the promoted
   * model: `/cdk-secure-mlops/model-promotion/<modelName>/promoted-model`.
   */
  public static defaultPromotedModelParameterName(modelName: string): string {
    return defaultPromotedModelParameterName(modelName);
  }

  /**
   * The model an endpoint must be deployed with to keep the promoted version: the model the
   * promotion's SSM parameter names (read at synthesis through a context lookup; the stack needs
   * an explicit account and region), or `fallback` until a version was promoted.
   */
  public static promotedModel(scope: Construct, lake: ISecureDataLake, options: PromotedModelOptions): ModelArtifact {
    return promotedModel(scope, lake, options);
  }


  /** The promotion state machine (input `{"modelRecord": "s3://<models bucket>/<model>/records/<job>.json"}`). */
  public readonly stateMachine: sfn.IStateMachine;
  /** The model whose versions are promoted. */
  public readonly modelName: string;
  /** The folder of this model's audit records in the models zone (`monitoring/promotions/model=<model>%40`, then one folder per version). */
  public readonly auditPrefix: string;
  /** The key that encrypts the state machine, its logs and the dead-letter queue. */
  public readonly encryptionKey: kms.IKey;
  /** The candidate check. */
  public readonly checkFunction: lambda.IFunction;
  /** Writes each promotion's OpenLineage event to the lake's curated zone (`lineage/`). */
  public readonly lineageFunction: lambda.IFunction;
  /**
   * The endpoint's name in lineage (the promotion event's job `serverless-model-endpoint.<name>.promotion`
   * and output `<name>/<model version>`): the endpoint's `captureName`, so a captured prediction
   * joins its promotion, else a name derived from the endpoint's construct path (stable while the
   * endpoint keeps its path).
   */
  public readonly lineageEndpointName: string;
  /** The approval handler, with `approval`. */
  public readonly approveFunction?: lambda.IFunction;
  /** The approval URL (signed POST, IAM authorization), with `approval`. */
  public readonly approvalUrl?: string;
  /** The SSM parameter (String, JSON) where each promotion records the promoted model. */
  public readonly promotedModelParameterName: string;
  /** The bus of the promotion's events. */
  public readonly eventBus: events.IEventBus;
  /** Fires when an execution fails for a reason other than a verdict (a step failed, timed out or was aborted). */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** Fires when the dead-letter queue of the trigger holds an event. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** Where "Model Trained" events that could not start an execution go. */
  public readonly deadLetterQueue: sqs.IQueue;

  private readonly approveUrl?: lambda.FunctionUrl;
  private readonly lake: ISecureDataLake;

  constructor(scope: Construct, id: string, props: ModelPromotionProps) {
    super(scope, id);
    const { endpoint, lake } = props;
    this.lake = lake;
    if (Token.isUnresolved(props.modelName) || !PROMOTION_MODEL_NAME_PATTERN.test(props.modelName) || props.modelName === 'monitoring') {
      invalidProp(this, 'modelName', props.modelName, 'expected the GpuTrainingJob\'s model name: 1 to 40 lower-case letters, digits and hyphens, not "monitoring"');
    }
    const approvalTimeout = props.approval ? (props.approval.timeout ?? Duration.days(3)) : undefined;
    const approvalSeconds = approvalTimeout?.toSeconds();
    if (approvalSeconds !== undefined && !Token.isUnresolved(approvalSeconds) && (approvalSeconds < 60 || approvalSeconds > 364 * 24 * 3600)) {
      invalidProp(this, 'approval.timeout', approvalTimeout, 'expected 1 minute to 364 days (an execution lasts at most a year)');
    }
    for (const [i, g] of (props.gates ?? []).entries()) {
      if (typeof g.metricName !== 'string' || !/^[\x20-\x7e]{1,255}$/.test(g.metricName) || !Number.isFinite(g.threshold)) {
        invalidProp(this, `gates[${i}]`, g, 'expected a metric name (1 to 255 printable characters) and a finite threshold');
      }
    }
    const timeout = props.timeout ?? (approvalTimeout ?? Duration.seconds(0)).plus(Duration.hours(6));
    this.modelName = props.modelName;
    this.auditPrefix = PROMOTION_KEYS.modelPrefix(this.modelName);
    this.promotedModelParameterName = props.promotedModelParameterName ?? defaultPromotedModelParameterName(this.modelName);
    if (!Token.isUnresolved(this.promotedModelParameterName) && !/^(\/[A-Za-z0-9_.-]+){1,15}$/.test(this.promotedModelParameterName)) {
      invalidProp(this, 'promotedModelParameterName', this.promotedModelParameterName, 'expected an SSM parameter name such as "/my-app/promoted-model" (letters, digits, "_", ".", "-" in "/"-separated segments)');
    }
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'Bus', 'default');
    const models = lake.bucket(DataZone.MODELS);

    // ---- key and logs ------------------------------------------------------------------------------
    const key = new PromotionKey(this, 'Key', {
      enableKeyRotation: true,
      description: `${this.node.path}: encrypts the promotion state machine, its logs and dead-letter queue`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    allowLogsService(key);
    this.encryptionKey = key;
    const retention = logs.RetentionDays.ONE_YEAR;
    // A name known at synth: the key's encryption context and the check's DescribeExecution name it.
    const machineName = `${Names.uniqueResourceName(this, { maxLength: 67 })}-StateMachine`;
    const stack = Stack.of(this);
    const machineExecutions = `arn:${stack.partition}:states:${stack.region}:${stack.account}:execution:${machineName}:*`;

    // ---- the candidate check -----------------------------------------------------------------------
    const check = defineHandlerRole(this, { roleId: 'CheckRole', logGroupId: 'CheckLogs', description: `${this.node.path}: checks model versions before promotion`, vpc: props.vpc, logsKey: key, retention });
    const checkFunction = new lambda.Function(this, 'CheckFunction', {
      ...handlerDefaults(props),
      runtime: handlerRuntime(this, props.runtime),
      role: check.role,
      logGroup: check.logGroup,
      handler: 'index.handler',
      code: handlerCode(this, 'model-promotion', 'check-candidate'),
      description: `${this.node.path}: checks a model version (SHA-256, baseline, gates) before promotion`,
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment: {
        [CHECK_ENV.modelsBucket]: models.bucketName,
        [CHECK_ENV.modelName]: this.modelName,
        [CHECK_ENV.requireBaseline]: String(props.requireBaseline ?? true),
        [CHECK_ENV.gates]: JSON.stringify((props.gates ?? []).map((g) => ({
          metricName: g.metricName, comparison: g.comparison, threshold: g.threshold,
        }))),
        [CHECK_ENV.serviceName]: this.node.path,
      },
    });
    this.checkFunction = checkFunction;
    lake.grantRead(check.role, DataZone.MODELS, `${this.modelName}/records/*`);
    lake.grantRead(check.role, DataZone.MODELS, `${this.modelName}/models/*`);
    if (props.requireBaseline ?? true) lake.grantRead(check.role, DataZone.MODELS, `${MONITORING_KEYS.baselinesPrefix}*`);
    const claims = `${PROMOTION_KEYS.modelPrefix(this.modelName)}*/claim.json`;
    lake.grantRead(check.role, DataZone.MODELS, claims);
    lake.grantWrite(check.role, DataZone.MODELS, claims);
    // An operator's retry: the check confirms that the execution it takes the claim from ended.
    check.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [machineExecutions] }));

    // ---- the promotion's lineage -------------------------------------------------------------------
    // Its own function: only it may write lineage/ in the curated zone.
    this.lineageEndpointName = endpoint.captureName ?? Names.uniqueResourceName(endpoint, { maxLength: 64, separator: '-' });
    const curated = lake.bucket(DataZone.CURATED);
    const lineage = defineHandlerRole(this, { roleId: 'LineageRole', logGroupId: 'LineageLogs', description: `${this.node.path}: records promotions in lineage`, vpc: props.vpc, logsKey: key, retention });
    const lineageFunction = new lambda.Function(this, 'LineageFunction', {
      ...handlerDefaults(props),
      runtime: handlerRuntime(this, props.runtime),
      role: lineage.role,
      logGroup: lineage.logGroup,
      handler: 'index.handler',
      code: handlerCode(this, 'model-promotion', 'record-lineage'),
      description: `${this.node.path}: writes a promotion's OpenLineage event to the lake's curated zone`,
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: {
        [LINEAGE_ENV.curatedBucket]: curated.bucketName,
        [LINEAGE_ENV.kmsKeyArn]: lake.encryptionKey.keyArn,
        [LINEAGE_ENV.endpointName]: this.lineageEndpointName,
        [LINEAGE_ENV.serviceName]: this.node.path,
      },
    });
    this.lineageFunction = lineageFunction;
    lake.grantWrite(lineage.role, DataZone.CURATED, `${LINEAGE_ROOT}*`);

    // ---- the endpoint serves promoted models ------------------------------------------------------
    lake.grantRead(endpoint.handler, DataZone.MODELS, `${this.modelName}/models/*`);
    acknowledgeReviewed(endpoint, [{
      at: /^HandlerRole\/DefaultPolicy\/Resource$/,
      ids: [iam5Resource(`${models.bucketArn}/${this.modelName}/models/*`)],
      reason: REASON.promotionServing,
    }]);
    this.addRolloutAlarms(endpoint, props.additionalAlarms ?? []);

    // ---- the state machine -------------------------------------------------------------------------
    const logGroup = createEncryptedLogGroup(this, 'Logs', key, retention, RemovalPolicy.RETAIN);
    const start = buildPromotionStates(new Construct(this, 'States'), {
      modelName: this.modelName,
      checkFunction,
      lineageFunction,
      endpointFunction: endpoint.handler,
      deploymentGroup: endpoint.deploymentGroup,
      models,
      eventBus: this.eventBus,
      approvalTimeout,
      promotedModelParameter: this.promotedModelParameterName,
    });
    const machine = new sfn.StateMachine(this, 'StateMachine', {
      // A name known at synth: with a customer-managed key, the role may use the key only for the
      // encryption context of this state machine's ARN, which CDK builds from the name.
      stateMachineName: machineName,
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      timeout,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(key, Duration.minutes(5)),
    });
    this.stateMachine = machine;
    // Audit records and approval requests: SSE-KMS with the lake key (the bucket's default).
    lake.grantWrite(machine, DataZone.MODELS, promotionObjectsPattern(this.modelName));

    // ---- approval ----------------------------------------------------------------------------------
    if (approvalTimeout) {
      const approve = defineHandlerRole(this, { roleId: 'ApproveRole', logGroupId: 'ApproveLogs', description: `${this.node.path}: records approvers' decisions`, vpc: props.vpc, logsKey: key, retention });
      const approveFunction = new lambda.Function(this, 'ApproveFunction', {
        ...handlerDefaults(props),
        runtime: handlerRuntime(this, props.runtime),
        role: approve.role,
        logGroup: approve.logGroup,
        handler: 'index.handler',
        code: handlerCode(this, 'model-promotion', 'approve'),
        description: `${this.node.path}: approves or rejects a model version waiting for promotion`,
        memorySize: 256,
        timeout: Duration.seconds(10),
        environment: {
          [APPROVE_ENV.modelsBucket]: models.bucketName,
          [APPROVE_ENV.modelName]: this.modelName,
          [APPROVE_ENV.serviceName]: this.node.path,
        },
      });
      lake.grantRead(approve.role, DataZone.MODELS, `${PROMOTION_KEYS.modelPrefix(this.modelName)}*/approval-request.json`);
      machine.grantTaskResponse(approve.role);
      this.approveUrl = approveFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
      this.approveFunction = approveFunction;
      this.approvalUrl = this.approveUrl.url;
    }

    // ---- trigger ------------------------------------------------------------------------------------
    const dlq = new PromotionDeadLetterQueue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.deadLetterQueue = dlq;
    const rules = `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/*`;
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowEventBridgeDeadLetters',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLikeIfExists: { 'aws:SourceArn': rules } },
    }));
    const detail: { readonly [K in keyof ModelTrainedDetail]?: unknown } = { model: [this.modelName] };
    new events.Rule(this, 'Trigger', {
      eventBus: this.eventBus,
      description: `${this.node.path}: promote each new version of ${this.modelName}`,
      eventPattern: { source: [TRAINING_EVENT_SOURCE], detailType: [TRAINING_DETAIL_TYPE.modelTrained], detail },
      targets: [new targets.SfnStateMachine(machine, {
        input: events.RuleTargetInput.fromObject({ modelRecord: events.EventField.fromPath('$.detail.modelRecord') }),
        deadLetterQueue: dlq,
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
      })],
    });
    // EventBridge (for rules of this account) and Step Functions (for this state machine only) may
    // assume the roles aws-cdk-lib created for them.
    const eventsRole = machine.node.tryFindChild('EventsRole') as iam.Role | undefined;
    if (eventsRole) scopeServiceTrust(eventsRole, { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': rules } });
    const machineArn = `arn:${stack.partition}:states:${stack.region}:${stack.account}:stateMachine:${(machine.node.defaultChild as sfn.CfnStateMachine).stateMachineName}`;
    scopeServiceTrust(machine.role, { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': [machineArn, `${machineArn}:*`] } });

    const alarms = createPromotionAlarms(this, machine, dlq, props.alarmAction);
    this.failureAlarm = alarms.failure;
    this.deadLetterAlarm = alarms.deadLetter;

    // ---- acknowledgments ----------------------------------------------------------------------------
    const modelsArn = models.bucketArn;
    const promotions = `${modelsArn}/${promotionObjectsPattern(this.modelName)}`;
    acknowledgeReviewed(this, [
      { at: /^CheckRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource(`${modelsArn}/${this.modelName}/records/*`), iam5Resource(`${modelsArn}/${this.modelName}/models/*`)], reason: REASON.promotionCandidates },
      ...(props.requireBaseline ?? true ? [{ at: /^CheckRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource(`${modelsArn}/${MONITORING_KEYS.baselinesPrefix}*`)], reason: REASON.promotionBaselines }] : []),
      { at: /^CheckRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource(`${modelsArn}/${claims}`)], reason: REASON.promotionRecords },
      { at: /^CheckRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource(machineExecutions)], reason: REASON.promotionRetry },
      { at: /^LineageRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource(`${curated.bucketArn}/${LINEAGE_ROOT}*`)], reason: REASON.promotionLineage },
      { at: /^(CheckRole|ApproveRole|LineageRole)\/DefaultPolicy\/Resource$/, ids: [iam5Resource('*')], reason: REASON.xray },
      { at: /^StateMachine\/Role\/DefaultPolicy\/Resource$/, ids: [iam5Resource('*')], reason: REASON.stateMachineLogsAndTracing },
      { at: /^StateMachine\/Role\/DefaultPolicy\/Resource$/, ids: [iam5Resource(promotions)], reason: REASON.promotionRecords },
      {
        at: /^StateMachine\/Role\/DefaultPolicy\/Resource$/,
        ids: [checkFunction, lineageFunction].map((f) => iam5Resource(`<${Stack.of(f).getLogicalId(f.node.defaultChild as lambda.CfnFunction)}.Arn>:*`)),
        reason: REASON.lambdaVersions,
      },
      ...(approvalTimeout ? [{ at: /^ApproveRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource(`${modelsArn}/${PROMOTION_KEYS.modelPrefix(this.modelName)}*/approval-request.json`)], reason: REASON.promotionRecords }] : []),
      { at: /^((CheckRole|ApproveRole|LineageRole|StateMachine\/Role|StateMachine\/EventsRole)\/DefaultPolicy|RolloutAlarmsPolicy)\/Resource$/, ids: compliance('IAMNoInlinePolicy'), reason: REASON.inlinePolicy },
      { at: /^(CheckFunction|ApproveFunction|LineageFunction)\/Resource$/, ids: [...compliance('LambdaDLQ'), 'Serverless-LambdaDLQ'], reason: REASON.syncLambdaDlq },
      ...(props.reservedConcurrency === undefined ? [{ at: /^(CheckFunction|ApproveFunction|LineageFunction)\/Resource$/, ids: compliance('LambdaConcurrency'), reason: REASON.concurrency }] : []),
      ...(props.vpc === undefined ? [{ at: /^(CheckFunction|ApproveFunction|LineageFunction)\/Resource$/, ids: compliance('LambdaInsideVPC'), reason: REASON.vpc }] : []),
      { at: /^DeadLetterQueue\/Resource$/, ids: ['AwsSolutions-SQS3'], reason: REASON.isDeadLetterQueue },
      { at: /^DeadLetterQueue\/Resource$/, ids: ['Serverless-SQSRedrivePolicy'], reason: REASON.terminalDeadLetterQueue },
      ...(props.alarmAction ? [] : [{ at: /^(FailureAlarm|DeadLetterAlarm)\/Resource$/, ids: compliance('CloudWatchAlarmAction'), reason: REASON.alarmAction }]),
    ]);
  }

  /**
   * Allow a principal to approve or reject versions waiting for promotion (a signed POST to
   * `approvalUrl`). Only with `approval`.
   */
  public grantApprove(grantee: iam.IGrantable): iam.Grant {
    if (!this.approveUrl || !this.approveFunction) {
      throw new Error(`${this.node.path}: this promotion has no approval step (set the approval prop)`);
    }
    // Through the URL only: a direct invocation could forge the identity in the event.
    return iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunctionUrl'], resourceArns: [this.approveFunction.functionArn], conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } })
      .combine(iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [this.approveFunction.functionArn], conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } } }));
  }

  /**
   * Allow a principal to start a promotion by hand: input `{"modelRecord": "s3://..."}`. A version
   * is promoted once; to retry one whose promotion ended without promoting it (failed, rejected,
   * rolled back, timed out or aborted), add `"retryOf": "<ARN of that execution>"`.
   */
  public grantStart(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /**
   * Allow a principal to read this model's audit records, claims and approval requests (read-only,
   * no listing; the lake key through S3).
   */
  public grantReadAudit(grantee: iam.IGrantable): iam.Grant {
    return this.lake.grantRead(grantee, DataZone.MODELS, `${this.auditPrefix}*`);
  }

  /** Executions that ended in a failed state (rejections and rollbacks included). */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed(props);
  }

  /** Executions that succeeded (promotions and duplicates). */
  public metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricSucceeded(props);
  }

  /**
   * Roll back on `alarms` too: they join the deployment group, and the endpoint's deployment role
   * may read them (CodeDeploy polls them with that role).
   */
  private addRolloutAlarms(endpoint: ServerlessModelEndpoint, alarms: cloudwatch.IAlarm[]): iam.Policy | undefined {
    if (alarms.length === 0) return undefined;
    for (const alarm of alarms) endpoint.deploymentGroup.addAlarm(alarm);
    const role = endpoint.deploymentGroup.role;
    if (!role) return undefined;
    return new iam.Policy(this, 'RolloutAlarmsPolicy', {
      statements: [new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarms.map((a) => a.alarmArn) })],
      roles: [iam.Role.fromRoleArn(this, 'DeploymentRole', role.roleArn, { mutable: true })],
    });
  }
}
