import { Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { CleaningRules } from './cleaning-rules';
import { Labeler } from './labeler';
import { checkPipelineProps } from './pipeline-config';
import { eventRulesOfThisAccount, grantPutPipelineEvents, PipelineQueueTarget, restrictTrust } from './pipeline-events';
import { defineHandlerFunction, defineQueuePair, grantLedger, PipelineResources } from './pipeline-handlers';
import { DatasetQualityGates, DatasetSplit, ManifestSource, ReviewerAccessOptions, ReviewOptions } from './pipeline-options';
import { defineBackfillStateMachine, defineDatasetStateMachine, defineReviewStateMachine } from './pipeline-state-machines';
import { defineReviewApi } from './review-api-routes';
import { DETAIL_TYPE, ENV, EVENT_SOURCE, LEDGER, PipelineConfig } from './runtime/contract';
import { HandlerOptions } from '../api-options/handler-options';
import { SecureApiOptions } from '../api-options/secure-api-options';
import { LINEAGE_ROOT } from '../contract/lineage';
import { acknowledgeReviewed, apiRouteAcknowledgments, compliance, iam5Resource, REASON, ReviewedAcknowledgment } from '../private/acknowledgments';
import { allowLogsService, retentionAtLeast } from '../private/encrypted-logs';
import { invalidProp } from '../private/errors';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/** Properties of a `LabelingPipeline`. */
export interface LabelingPipelineProps extends HandlerOptions {
  /** The lake: uploads arrive in its raw zone; the pipeline writes the clean, quarantine and curated zones. */
  readonly lake: ISecureDataLake;

  /**
   * Name of the pipeline: events' `detail.pipeline`, the metrics' `service` dimension and the
   * default key prefix in the zones. Lowercase letters, digits and `-`.
   *
   * @default - the construct id, lowercased
   */
  readonly pipelineName?: string;

  /**
   * Key prefix of the uploads in the raw zone that the pipeline processes.
   *
   * @default 'uploads/'
   */
  readonly sourcePrefix?: string;

  /**
   * Key prefix under which the pipeline writes in the clean, quarantine and curated zones.
   *
   * @default - `<pipelineName>/`
   */
  readonly zonePrefix?: string;

  /** Validation, checks, pseudonymization and removal of fields. */
  readonly cleaningRules: CleaningRules;

  /** The labelers, combined by weighted vote. */
  readonly labelers: Labeler[];

  /** Name of the label attribute in manifests (e.g. `who-grade`). */
  readonly labelAttribute: string;

  /** The class names; a manifest's label value is the index in this list. */
  readonly classes: string[];

  /**
   * Weight of each labeler in the vote, by `ref` (`rules:who-grade@1`) or by kind and name.
   *
   * @default - every labeler weighs 1
   */
  readonly labelerWeights?: { [labeler: string]: number };

  /**
   * When records go to human review.
   *
   * @default - confidence below 0.8 or disagreement; 7 days per attempt, 3 attempts
   */
  readonly review?: ReviewOptions;

  /**
   * Serve the built-in review API (`GET /reviews`, `POST /reviews/{recordId}`).
   *
   * @default true
   */
  readonly reviewApiEnabled?: boolean;

  /**
   * The review API's REST API, authorization, CORS, throttling, WAF and logs.
   *
   * @default - a new hardened REST API with a new Cognito user pool
   */
  readonly reviewApi?: SecureApiOptions;

  /**
   * Who may review (a Cognito group, or IAM roles), and each reviewer's request limit. Signing in
   * is not enough: only reviewers may use the review routes.
   *
   * @default - members of the Cognito group `reviewers` (created in the pipeline's own user pool),
   * 1200 requests per reviewer and hour
   */
  readonly reviewers?: ReviewerAccessOptions;

  /**
   * Split fractions.
   *
   * @default - train 0.8, validation 0.1, test 0.1
   */
  readonly datasetSplit?: DatasetSplit;

  /**
   * Gates that block publishing a dataset version.
   *
   * @default - at least one labelled record
   */
  readonly qualityGates?: DatasetQualityGates;

  /**
   * Build a dataset version on this schedule (besides on demand).
   *
   * @default - on demand only (start the dataset state machine)
   */
  readonly datasetSchedule?: events.Schedule;

  /**
   * How manifests reference records.
   *
   * @default ManifestSource.INLINE
   */
  readonly manifestSource?: ManifestSource;

  /**
   * The bus for the pipeline's events.
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * The key for queues, the ledger table, state machines and log groups.
   *
   * @default - a new customer-managed key with rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Records per cleaning and labeling invocation.
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * Deliveries of a message before it moves to the dead-letter queue.
   *
   * @default 3
   */
  readonly maxReceiveCount?: number;

  /**
   * Timeout of the cleaning and labeling functions (queues' visibility timeout is 6 times this).
   *
   * @default Duration.seconds(60)
   */
  readonly handlerTimeout?: Duration;

  /**
   * Retention of the handlers' and state machines' logs.
   *
   * @default Duration.days(365)
   */
  readonly logRetention?: Duration;

  /**
   * What happens to the ledger table when it is removed from the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * An action for the pipeline's alarms (dead letters, failed executions).
   *
   * @default - alarms without actions
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/** CloudWatch namespace of the handlers' EMF metrics. */
const METRICS_NAMESPACE = 'cdk-secure-mlops/LabelingPipeline';

/**
 * Define a serverless data-preparation pipeline: every upload in the lake's raw zone is
 * validated, cleaned and pseudonymized (or quarantined with its reasons), labelled by rules,
 * functions or models (or by a human through the built-in review API when unsure), and versioned
 * into train/validation/test manifests with a dataset card and a data-quality report.
 *
 * Every record that enters ends in exactly one place: the clean zone, the quarantine zone (with a
 * sidecar of reason codes) or a dead-letter queue. Duplicate uploads and duplicate deliveries are
 * recognised by a content-derived record id and a ledger table.
 *
 * @example
 * import { Stack } from 'aws-cdk-lib';
 * import { CleaningRules, Labeler, LabelingPipeline, SecureDataLake } from 'cdk-secure-mlops';
 *
 * declare const stack: Stack;
 *
 * const lake = new SecureDataLake(stack, 'Lake');
 * const classes = ['normal', 'mild', 'moderate', 'moderately-severe', 'severe', 'profound', 'complete'];
 * new LabelingPipeline(stack, 'Hearing', {
 *   lake,
 *   cleaningRules: CleaningRules.fromFile('config/hearing-cleaning.json'),
 *   labelAttribute: 'who-grade',
 *   classes,
 *   labelers: [Labeler.rules({
 *     name: 'who-grade',
 *     classes,
 *     groups: [
 *       { id: 'left', fields: ['thresholds.left.500', 'thresholds.left.1000', 'thresholds.left.2000', 'thresholds.left.4000'] },
 *       { id: 'right', fields: ['thresholds.right.500', 'thresholds.right.1000', 'thresholds.right.2000', 'thresholds.right.4000'] },
 *     ],
 *     thresholds: [20, 35, 50, 65, 80, 95],
 *     boundaryMargin: 2.5,
 *   })],
 * });
 */
export class LabelingPipeline extends Construct {
  /** Name of the pipeline. */
  public readonly pipelineName: string;
  /** The key of the queues, the ledger, the state machines and the log groups. */
  public readonly encryptionKey: kms.IKey;
  /** The ledger table (source outcomes, records, pending reviews). */
  public readonly ledger: dynamodb.ITableV2;
  /** The bus the pipeline puts its events on. */
  public readonly eventBus: events.IEventBus;
  /** Raw-zone "Object Created" events wait here for the cleaning function. */
  public readonly cleaningQueue: sqs.IQueue;
  /** Cleaning messages that failed `maxReceiveCount` times. */
  public readonly cleaningDeadLetterQueue: sqs.IQueue;
  /** "Record Cleaned" events wait here for the labeling function. */
  public readonly labelingQueue: sqs.IQueue;
  /** Labeling messages that failed `maxReceiveCount` times. */
  public readonly labelingDeadLetterQueue: sqs.IQueue;
  /** Events that EventBridge could not deliver to the pipeline's queues or state machines. */
  public readonly eventsDeadLetterQueue: sqs.IQueue;
  /** The cleaning function (also the backfill's batch processor). */
  public readonly cleaningFunction: lambda.IFunction;
  /** The labeling function. */
  public readonly labelingFunction: lambda.IFunction;
  /** The state machine that waits for a human review of one record. */
  public readonly reviewStateMachine: sfn.IStateMachine;
  /** The state machine that builds (and publishes) a dataset version. */
  public readonly datasetStateMachine: sfn.IStateMachine;
  /** The state machine that re-runs a raw prefix or the quarantine (Distributed Map). */
  public readonly backfillStateMachine: sfn.IStateMachine;
  /** The review API's REST API, when enabled. */
  public readonly reviewRestApi?: apigw.IRestApi;
  /** The review API's user pool, when the construct created one. */
  public readonly reviewUserPool?: cognito.IUserPool;
  /** The review API's web ACL, when the construct created the API. */
  public readonly reviewWebAcl?: wafv2.CfnWebACL;
  /** The Cognito group whose members may review, with Cognito authorization of the review API. */
  public readonly reviewerGroupName?: string;
  /** Alarms of the pipeline (dead letters, failed executions). */
  public readonly alarms: cloudwatch.IAlarm[] = [];
  /** Key prefix of the pipeline's objects in the clean, quarantine and curated zones. */
  public readonly zonePrefix: string;

  constructor(scope: Construct, id: string, props: LabelingPipelineProps) {
    super(scope, id);
    const settings = checkPipelineProps(this, id, props);
    const { sourcePrefix, batchSize, maxReceiveCount, handlerTimeout, config } = settings;
    this.pipelineName = settings.pipelineName;
    this.zonePrefix = settings.zonePrefix;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? Duration.days(365);
    if (props.encryptionKey) {
      this.encryptionKey = props.encryptionKey;
    } else {
      const key = new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: `${this.node.path}: encrypts the labeling pipeline's queues, ledger, state machines and logs`,
        removalPolicy,
      });
      allowLogsService(key);
      this.encryptionKey = key;
    }
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'Bus', 'default');
    const res: PipelineResources = { scope: this, encryptionKey: this.encryptionKey, removalPolicy, retention: retentionAtLeast(logRetention) };

    // Events that EventBridge could not deliver to a queue or state machine (after its retries).
    this.eventsDeadLetterQueue = new sqs.Queue(this, 'EventsDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });

    // TableV2 renders the replica's customer-managed key per region and refuses a stack without
    // one; there the same two properties are written directly (the key of the deployment region).
    const regionAgnostic = Token.isUnresolved(Stack.of(this).region);
    const ledger = new dynamodb.TableV2(this, 'Ledger', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      // The reviewers' request counters expire at the end of their window.
      timeToLiveAttribute: LEDGER.ttlAttribute,
      encryption: regionAgnostic ? undefined : dynamodb.TableEncryptionV2.customerManagedKey(this.encryptionKey),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy,
    });
    if (regionAgnostic) {
      const cfnLedger = ledger.node.defaultChild as dynamodb.CfnGlobalTable;
      cfnLedger.addPropertyOverride('SSESpecification', { SSEEnabled: true, SSEType: 'KMS' });
      cfnLedger.addPropertyOverride('Replicas.0.SSESpecification', { KMSMasterKeyId: this.encryptionKey.keyArn });
    }
    this.ledger = ledger;

    const env: Record<string, string> = {
      [ENV.RAW_BUCKET]: props.lake.bucket(DataZone.RAW).bucketName,
      [ENV.RAW_PREFIX]: sourcePrefix,
      [ENV.CLEAN_BUCKET]: props.lake.bucket(DataZone.CLEAN).bucketName,
      [ENV.QUARANTINE_BUCKET]: props.lake.bucket(DataZone.QUARANTINE).bucketName,
      [ENV.CURATED_BUCKET]: props.lake.bucket(DataZone.CURATED).bucketName,
      [ENV.ZONE_PREFIX]: this.zonePrefix,
      [ENV.DATA_KEY_ARN]: props.lake.encryptionKey.keyArn,
      [ENV.LEDGER_TABLE]: ledger.tableName,
      [ENV.EVENT_BUS_NAME]: this.eventBus.eventBusName,
      [ENV.METRICS_NAMESPACE]: METRICS_NAMESPACE,
      POWERTOOLS_SERVICE_NAME: this.pipelineName,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    const p = this.zonePrefix;

    // --- cleaning ---------------------------------------------------------------------------
    const cleaning = defineQueuePair(res, 'Cleaning', handlerTimeout, maxReceiveCount);
    this.cleaningQueue = cleaning.queue;
    this.cleaningDeadLetterQueue = cleaning.dlq;
    const clean = defineHandlerFunction(res, {
      id: 'Clean',
      name: 'clean',
      config,
      props,
      timeout: handlerTimeout,
      description: 'Cleans, validates and pseudonymizes raw uploads',
      environment: { ...env, [ENV.HMAC_KEY_ID]: props.lake.pseudonymizationKey!.keyArn },
    });
    this.cleaningFunction = clean;
    props.lake.grantRead(clean, DataZone.RAW, `${sourcePrefix}*`);
    props.lake.grantWrite(clean, DataZone.CLEAN, `${p}records/*`);
    props.lake.grantReadWrite(clean, DataZone.QUARANTINE, `${p}quarantine/*`);
    props.lake.grantPseudonymize(clean);
    this.grantLedger(clean, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    grantPutPipelineEvents(this.eventBus, clean, [DETAIL_TYPE.recordCleaned, DETAIL_TYPE.recordQuarantined]);
    clean.addEventSource(new SqsEventSource(cleaning.queue, {
      batchSize,
      maxBatchingWindow: Duration.seconds(1),
      reportBatchItemFailures: true,
    }));
    new events.Rule(this, 'RawObjectCreated', {
      description: `${this.node.path}: new uploads in the raw zone`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.lake.bucket(DataZone.RAW).bucketName] },
          ...(sourcePrefix ? { object: { key: [{ prefix: sourcePrefix }] } } : {}),
        },
      },
      targets: [new PipelineQueueTarget(cleaning.queue, this.eventsDeadLetterQueue)],
    });

    // --- review state machine -----------------------------------------------------------------
    const reviewRecord = defineHandlerFunction(res, {
      id: 'ReviewRecord', name: 'review-record', config, props, timeout: Duration.seconds(30), description: 'Queues reviews and records human labels', environment: env,
    });
    props.lake.grantWrite(reviewRecord, DataZone.CURATED, `${p}labels/*`);
    props.lake.grantRead(reviewRecord, DataZone.CURATED, `${p}labels/*`);
    this.grantLedger(reviewRecord, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    grantPutPipelineEvents(this.eventBus, reviewRecord, [DETAIL_TYPE.recordLabelled]);
    this.reviewStateMachine = defineReviewStateMachine(res, reviewRecord, settings.reviewTimeout, settings.maxAttempts);

    // --- labeling ----------------------------------------------------------------------------
    const labeling = defineQueuePair(res, 'Labeling', handlerTimeout, maxReceiveCount);
    this.labelingQueue = labeling.queue;
    this.labelingDeadLetterQueue = labeling.dlq;
    const label = defineHandlerFunction(res, {
      id: 'Label',
      name: 'label',
      config,
      props,
      timeout: handlerTimeout,
      description: 'Labels clean records and routes unsure ones to review',
      environment: { ...env, [ENV.REVIEW_STATE_MACHINE_ARN]: this.reviewStateMachine.stateMachineArn },
    });
    this.labelingFunction = label;
    props.lake.grantRead(label, DataZone.CLEAN, `${p}records/*`);
    props.lake.grantWrite(label, DataZone.CURATED, `${p}labels/*`);
    props.lake.grantRead(label, DataZone.CURATED, `${p}labels/*`);
    this.grantLedger(label, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    grantPutPipelineEvents(this.eventBus, label, [DETAIL_TYPE.recordLabelled, DETAIL_TYPE.reviewRequested]);
    this.reviewStateMachine.grantStartExecution(label);
    for (const l of props.labelers) l._bind(label);
    label.addEventSource(new SqsEventSource(labeling.queue, {
      batchSize,
      maxBatchingWindow: Duration.seconds(1),
      reportBatchItemFailures: true,
    }));
    new events.Rule(this, 'RecordCleaned', {
      description: `${this.node.path}: records the cleaning step placed in the clean zone`,
      eventBus: this.eventBus,
      eventPattern: {
        source: [EVENT_SOURCE],
        detailType: [DETAIL_TYPE.recordCleaned],
        detail: { pipeline: [this.pipelineName] },
      },
      targets: [new PipelineQueueTarget(labeling.queue, this.eventsDeadLetterQueue)],
    });

    // --- dataset versions --------------------------------------------------------------------
    const dataset = defineHandlerFunction(res, {
      id: 'Dataset',
      name: 'dataset',
      config,
      props,
      timeout: Duration.minutes(15),
      description: 'Builds dataset versions: manifests, card, quality report',
      environment: env,
      memorySize: 3008,
    });
    props.lake.grantRead(dataset, DataZone.CLEAN, `${p}records/*`);
    // Versions are written once (If-None-Match); the handler never reads them back.
    props.lake.grantWrite(dataset, DataZone.CURATED, `${p}datasets/*`);
    // The version's lineage (event, records, index objects), also written once (src/contract/lineage.ts).
    props.lake.grantWrite(dataset, DataZone.CURATED, `${LINEAGE_ROOT}*`);
    this.grantLedger(dataset, 'dynamodb:Scan');
    this.datasetStateMachine = defineDatasetStateMachine(res, dataset, this.eventBus, this.pipelineName);
    if (props.datasetSchedule) {
      new events.Rule(this, 'DatasetSchedule', {
        description: `${this.node.path}: builds a dataset version on a schedule`,
        schedule: props.datasetSchedule,
        targets: [new targets.SfnStateMachine(this.datasetStateMachine, {
          input: events.RuleTargetInput.fromObject({}),
          deadLetterQueue: this.eventsDeadLetterQueue,
        })],
      });
      // The rule's role (aws-cdk-lib's `EventsRole` of the target): assumed by EventBridge for rules of this account only.
      restrictTrust(this.datasetStateMachine.node.findChild('EventsRole') as iam.IRole, 'events.amazonaws.com', eventRulesOfThisAccount(this));
    }

    // --- backfill ------------------------------------------------------------------------------
    this.backfillStateMachine = defineBackfillStateMachine(res, props.lake, clean, sourcePrefix, this.zonePrefix);

    // --- review API ---------------------------------------------------------------------------
    if (props.reviewApiEnabled ?? true) {
      const api = defineReviewApi({
        pipeline: this,
        props,
        config,
        env,
        reviewers: settings.reviewers,
        ledger,
        encryptionKey: this.encryptionKey,
        reviewStateMachine: this.reviewStateMachine,
      });
      this.reviewRestApi = api.restApi;
      this.reviewUserPool = api.userPool;
      this.reviewWebAcl = api.webAcl;
      if (settings.reviewers.kind === 'cognito-group') this.reviewerGroupName = settings.reviewers.groupName;
    } else if (props.reviewApi) {
      invalidProp(this, 'reviewApi', 'options', 'reviewApi is ignored when reviewApiEnabled is false; leave it out');
    }

    // --- alarms ---------------------------------------------------------------------------------
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${this.node.path}: ${description}`,
      });
      if (props.alarmAction) a.addAlarmAction(props.alarmAction);
      this.alarms.push(a);
      return a;
    };
    alarm('CleaningDeadLettersAlarm', cleaning.dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 'raw uploads failed cleaning repeatedly and wait in the dead-letter queue (redrive them after fixing the cause)');
    alarm('LabelingDeadLettersAlarm', labeling.dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 'clean records failed labeling repeatedly and wait in the dead-letter queue');
    alarm('EventsDeadLettersAlarm', this.eventsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 'EventBridge could not deliver pipeline events (see the dead-letter queue\'s message attributes for the error)');
    alarm('DatasetFailedAlarm', this.datasetStateMachine.metricFailed({ period: Duration.minutes(5) }), 'a dataset version build failed');
    alarm('BackfillFailedAlarm', this.backfillStateMachine.metricFailed({ period: Duration.minutes(5) }), 'a backfill failed');

    this.acknowledgeReviewed(props, config, { clean, label, reviewRecord, dataset }, sourcePrefix);
  }

  /** The reviewed acknowledgments of this construct's own resources (see src/private/acknowledgments.ts). */
  private acknowledgeReviewed(
    props: LabelingPipelineProps,
    config: PipelineConfig,
    fns: Record<'clean' | 'label' | 'reviewRecord' | 'dataset', lambda.IFunction>,
    sourcePrefix: string,
  ) {
    const stack = Stack.of(this);
    const p = this.zonePrefix;
    const zone = (z: DataZone) => props.lake.bucket(z).bucketArn;
    const role = (names: string) => new RegExp(`^(${names})Role/DefaultPolicy/Resource$`);
    const machineRole = (name: string) => new RegExp(`^${name}StateMachine/Role/DefaultPolicy/Resource$`);
    const handlers = /^(Clean|Label|ReviewRecord|Dataset)\/Resource$/;
    const objects = (names: string, resource: string): ReviewedAcknowledgment => (
      { at: role(names), ids: [iam5Resource(resource)], reason: REASON.pipelinePrefix }
    );
    const functionLabelers = config.labelers.flatMap((l) => (l.kind === 'rules' ? [] : [l.functionArn]));
    acknowledgeReviewed(this, [
      objects('Clean', `${zone(DataZone.RAW)}/${sourcePrefix}*`),
      objects('Clean|Label|Dataset', `${zone(DataZone.CLEAN)}/${p}records/*`),
      objects('Clean', `${zone(DataZone.QUARANTINE)}/${p}quarantine/*`),
      objects('Label|ReviewRecord', `${zone(DataZone.CURATED)}/${p}labels/*`),
      objects('Dataset', `${zone(DataZone.CURATED)}/${p}datasets/*`),
      objects('Dataset', `${zone(DataZone.CURATED)}/${LINEAGE_ROOT}*`),
      { at: role('Clean|Label|ReviewRecord|Dataset'), ids: [iam5Resource('*')], reason: REASON.xray },
      ...functionLabelers.map((arn) => ({ at: role('Label'), ids: [iam5Resource(`${arn}:*`)], reason: REASON.customLabeler })),
      { at: /^(Review|Dataset|Backfill)StateMachine\/Role\/DefaultPolicy\/Resource$/, ids: [iam5Resource('*')], reason: REASON.stateMachineLogsAndTracing },
      { at: machineRole('Review'), ids: [iam5Resource(`${fns.reviewRecord.functionArn}:*`)], reason: REASON.lambdaVersions },
      { at: machineRole('Dataset'), ids: [iam5Resource(`${fns.dataset.functionArn}:*`)], reason: REASON.lambdaVersions },
      { at: machineRole('Backfill'), ids: [iam5Resource(`${fns.clean.functionArn}:*`)], reason: REASON.lambdaVersions },
      {
        at: /^BackfillStateMachine\/DistributedMapPolicy\/Resource$/,
        ids: ['', '/*'].map((child) => iam5Resource(`arn:${stack.partition}:states:${stack.region}:${stack.account}:execution:${Fn.select(6, Fn.split(':', this.backfillStateMachine.stateMachineArn))}${child}:*`)),
        reason: REASON.distributedMap,
      },
      {
        at: /^((Clean|Label|ReviewRecord|Dataset)Role\/DefaultPolicy|(Review|Dataset|Backfill)StateMachine\/(Role\/DefaultPolicy|DistributedMapPolicy|EventsRole\/DefaultPolicy))\/Resource$/,
        ids: compliance('IAMNoInlinePolicy'),
        reason: REASON.inlinePolicy,
      },
      { at: /^(Clean|Label)\/Resource$/, ids: [...compliance('LambdaDLQ'), 'Serverless-LambdaDLQ'], reason: REASON.sqsLambdaDlq },
      { at: /^(ReviewRecord|Dataset)\/Resource$/, ids: [...compliance('LambdaDLQ'), 'Serverless-LambdaDLQ'], reason: REASON.syncLambdaDlq },
      ...(props.reservedConcurrency === undefined ? [{ at: handlers, ids: compliance('LambdaConcurrency'), reason: REASON.concurrency }] : []),
      ...(props.vpc === undefined ? [{ at: handlers, ids: compliance('LambdaInsideVPC'), reason: REASON.vpc }] : []),
      { at: /^(Clean|Label)\/SqsEventSource:[A-Za-z0-9]+\/Resource$/, ids: ['Serverless-LambdaEventSourceMappingDestination'], reason: REASON.eventSourceDestination },
      { at: /^EventsDeadLetterQueue\/Resource$/, ids: ['AwsSolutions-SQS3'], reason: REASON.isDeadLetterQueue },
      { at: /^(Cleaning|Labeling|Events)DeadLetterQueue\/Resource$/, ids: ['Serverless-SQSRedrivePolicy'], reason: REASON.terminalDeadLetterQueue },
      ...(props.alarmAction ? [] : [{ at: /^(CleaningDeadLetters|LabelingDeadLetters|EventsDeadLetters|DatasetFailed|BackfillFailed)Alarm\/Resource$/, ids: compliance('CloudWatchAlarmAction'), reason: REASON.alarmAction }]),
      ...(props.reviewApiEnabled ?? true ? apiRouteAcknowledgments(this, {
        handler: /^ReviewApi\/Handler\/Resource$/,
        handlerPolicy: /^ReviewApi\/HandlerRole\/DefaultPolicy\/Resource$/,
        reservedConcurrency: props.reservedConcurrency,
        inVpc: props.vpc !== undefined,
      }) : []),
    ]);
  }

  /**
   * Allow a principal to build a dataset version on demand.
   *
   * @param grantee the principal
   */
  public grantStartDatasetVersion(grantee: iam.IGrantable): iam.Grant {
    return this.datasetStateMachine.grantStartExecution(grantee);
  }

  /**
   * Allow a principal to start a backfill.
   *
   * @param grantee the principal
   */
  public grantStartBackfill(grantee: iam.IGrantable): iam.Grant {
    return this.backfillStateMachine.grantStartExecution(grantee);
  }

  /**
   * Records the cleaning step placed, by outcome (`clean`, `duplicate`, `quarantine`, `skipped`).
   *
   * @param outcome the outcome
   * @param props metric options
   */
  public metricRecords(outcome: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: `Records${outcome.charAt(0).toUpperCase()}${outcome.slice(1)}`,
      dimensionsMap: { service: this.pipelineName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * Messages waiting in the cleaning dead-letter queue.
   *
   * @param props metric options
   */
  public metricCleaningDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.cleaningDeadLetterQueue.metricApproximateNumberOfMessagesVisible(props);
  }

  /** Exact DynamoDB actions on the ledger, plus what they need of its key (`grantLedger`). */
  private grantLedger(grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
    return grantLedger(this.ledger, this.encryptionKey, grantee, ...actions);
  }
}
