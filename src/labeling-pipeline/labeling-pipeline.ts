import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
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
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { CleaningRules } from './cleaning-rules';
import { Labeler } from './labeler';
import { CONFIG_FILE, DETAIL_TYPE, ENV, EVENT_SOURCE, PipelineConfig } from './runtime/contract';
import { HandlerOptions } from '../api-options/handler-options';
import { SecureApiOptions } from '../api-options/secure-api-options';
import { acknowledgeReviewed, apiRouteAcknowledgments, compliance, iam5Resource, REASON, ReviewedAcknowledgment } from '../private/acknowledgments';
import { createApiRoute, createHandlerRole } from '../private/api-route';
import { allowLogsService, createEncryptedLogGroup, retentionAtLeast } from '../private/encrypted-logs';
import { invalidProp } from '../private/errors';
import { handlerCode, handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';
import { defineHandlerRole } from '../private/handler-role';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';
import { compileSplitter } from './runtime/logic/dataset';
import { compileLabelTask, LabelTaskConfig } from './runtime/logic/labeling';

/** How dataset manifests reference the records. */
export enum ManifestSource {
  /**
   * Each line carries the clean record inline (`source`): a training channel is self-contained,
   * which SageMaker's File mode with an S3 prefix channel needs.
   */
  INLINE = 'inline',
  /** Each line references the clean record (`source-ref`, an `s3://` URI). */
  REFERENCE = 'ref',
}

/** When a record goes to human review, and how long a review may take. */
export interface ReviewOptions {
  /**
   * A combined confidence below this goes to review.
   *
   * @default 0.8
   */
  readonly minConfidence?: number;
  /**
   * Fraction of auto-accepted records also sent to review (quality control), 0 to 1.
   *
   * @default 0
   */
  readonly qualitySampleRate?: number;
  /**
   * Salt of the quality sample's hash (change it to draw a different sample).
   *
   * @default ''
   */
  readonly qualitySampleSalt?: string;
  /**
   * Send a record to review when labelers disagree.
   *
   * @default true
   */
  readonly onDisagreement?: boolean;
  /**
   * How long one review may wait before it goes back to the queue.
   *
   * @default Duration.days(7)
   */
  readonly timeout?: Duration;
  /**
   * How many times a review is queued before it expires (the execution fails with `ReviewExpired`).
   *
   * @default 3
   */
  readonly maxAttempts?: number;
}

/** Fractions of the train, validation and test splits (assigned by subject pseudonym hash). */
export interface DatasetSplit {
  /** Fraction of subjects in the training split. */
  readonly train: number;
  /** Fraction of subjects in the validation split. */
  readonly validation: number;
  /** Fraction of subjects in the test split. */
  readonly test: number;
  /**
   * Salt of the split hash (change it to draw new splits).
   *
   * @default ''
   */
  readonly salt?: string;
}

/** Dataset-level gates: a version that fails one is written but not published. */
export interface DatasetQualityGates {
  /**
   * Fewest labelled records.
   *
   * @default 1
   */
  readonly minRecords?: number;
  /**
   * Highest share of quarantined records among all records, 0 to 1.
   *
   * @default 1
   */
  readonly maxQuarantineRate?: number;
  /**
   * Fewest records in each split with a non-zero fraction.
   *
   * @default 0
   */
  readonly minPerSplit?: number;
  /**
   * Highest share of clean records still waiting for review, 0 to 1.
   *
   * @default 1
   */
  readonly maxUnlabelledRate?: number;
}

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

/** The pipeline's handlers. */
type HandlerName = 'clean' | 'label' | 'review-api' | 'review-record' | 'dataset';

/** This library's version, recorded in dataset cards (lib/labeling-pipeline → package.json). */
const LIBRARY_VERSION: string = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;

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
  /** Alarms of the pipeline (dead letters, failed executions). */
  public readonly alarms: cloudwatch.IAlarm[] = [];
  /** Key prefix of the pipeline's objects in the clean, quarantine and curated zones. */
  public readonly zonePrefix: string;

  private readonly handlerRetention: logs.RetentionDays;
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: LabelingPipelineProps) {
    super(scope, id);
    this.pipelineName = props.pipelineName ?? id.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(this.pipelineName)) {
      invalidProp(this, 'pipelineName', this.pipelineName, 'expected 1 to 63 lowercase letters, digits or "-", starting with a letter or digit');
    }
    const prefixPattern = /^([A-Za-z0-9._-]+\/)*$/;
    const sourcePrefix = props.sourcePrefix ?? 'uploads/';
    if (!prefixPattern.test(sourcePrefix)) {
      invalidProp(this, 'sourcePrefix', sourcePrefix, 'expected "" or path segments of letters, digits, ".", "_" or "-", each followed by "/"');
    }
    this.zonePrefix = props.zonePrefix ?? `${this.pipelineName}/`;
    if (!prefixPattern.test(this.zonePrefix)) {
      invalidProp(this, 'zonePrefix', this.zonePrefix, 'expected "" or path segments of letters, digits, ".", "_" or "-", each followed by "/"');
    }
    if (!props.lake.pseudonymizationKey) {
      invalidProp(this, 'lake', 'a lake without a pseudonymization key', 'the cleaning step pseudonymizes identifiers with the lake\'s HMAC key: import the lake with pseudonymizationKeyArn');
    }
    const batchSize = props.batchSize ?? 10;
    if (!Token.isUnresolved(batchSize) && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 100)) {
      invalidProp(this, 'batchSize', batchSize, 'expected an integer from 1 to 100');
    }
    const maxReceiveCount = props.maxReceiveCount ?? 3;
    if (!Token.isUnresolved(maxReceiveCount) && !(Number.isInteger(maxReceiveCount) && maxReceiveCount >= 1 && maxReceiveCount <= 20)) {
      invalidProp(this, 'maxReceiveCount', maxReceiveCount, 'expected an integer from 1 to 20');
    }
    const handlerTimeout = props.handlerTimeout ?? Duration.seconds(60);
    if (!Token.isUnresolved(handlerTimeout.toSeconds()) && (handlerTimeout.toSeconds() < 5 || handlerTimeout.toSeconds() > 900)) {
      invalidProp(this, 'handlerTimeout', handlerTimeout.toHumanString(), 'expected 5 seconds to 15 minutes');
    }
    if (props.vpcSubnets && !props.vpc) invalidProp(this, 'vpcSubnets', 'a selection', 'vpcSubnets needs vpc');

    const config = this.pipelineConfig(props);
    const review = props.review ?? {};
    const reviewTimeout = review.timeout ?? Duration.days(7);
    const maxAttempts = review.maxAttempts ?? 3;
    if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= 100)) {
      invalidProp(this, 'review.maxAttempts', maxAttempts, 'expected an integer from 1 to 100');
    }
    const reviewSeconds = reviewTimeout.toSeconds();
    if (!Token.isUnresolved(reviewSeconds) && (reviewSeconds < 60 || reviewSeconds * maxAttempts > 365 * 24 * 3600)) {
      invalidProp(this, 'review.timeout', reviewTimeout.toHumanString(), 'expected at least 1 minute, and timeout × maxAttempts within a year (a standard execution\'s limit)');
    }

    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? Duration.days(365);
    this.handlerRetention = retentionAtLeast(logRetention);
    if (props.encryptionKey) {
      this.encryptionKey = props.encryptionKey;
    } else {
      const key = new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: `${this.node.path}: encrypts the labeling pipeline's queues, ledger, state machines and logs`,
        removalPolicy: this.removalPolicy,
      });
      allowLogsService(key);
      this.encryptionKey = key;
    }
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'Bus', 'default');

    // Events that EventBridge could not deliver to a queue or state machine (after its retries).
    this.eventsDeadLetterQueue = new sqs.Queue(this, 'EventsDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: this.removalPolicy,
    });

    // TableV2 renders the replica's customer-managed key per region and refuses a stack without
    // one; there the same two properties are written directly (the key of the deployment region).
    const regionAgnostic = Token.isUnresolved(Stack.of(this).region);
    const ledger = new dynamodb.TableV2(this, 'Ledger', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      encryption: regionAgnostic ? undefined : dynamodb.TableEncryptionV2.customerManagedKey(this.encryptionKey),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: this.removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy: this.removalPolicy,
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
    const cleaning = this.queuePair('Cleaning', handlerTimeout, maxReceiveCount);
    this.cleaningQueue = cleaning.queue;
    this.cleaningDeadLetterQueue = cleaning.dlq;
    const clean = this.handler('Clean', 'clean', config, props, handlerTimeout, 'Cleans, validates and pseudonymizes raw uploads', {
      ...env,
      [ENV.HMAC_KEY_ID]: props.lake.pseudonymizationKey!.keyArn,
    });
    this.cleaningFunction = clean;
    props.lake.grantRead(clean, DataZone.RAW, `${sourcePrefix}*`);
    props.lake.grantWrite(clean, DataZone.CLEAN, `${p}records/*`);
    props.lake.grantReadWrite(clean, DataZone.QUARANTINE, `${p}quarantine/*`);
    props.lake.grantPseudonymize(clean);
    this.grantLedger(clean, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    this.eventBus.grantPutEventsTo(clean);
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
      targets: [new targets.SqsQueue(cleaning.queue, { deadLetterQueue: this.eventsDeadLetterQueue })],
    });

    // --- review state machine -----------------------------------------------------------------
    const reviewRecord = this.handler('ReviewRecord', 'review-record', config, props, Duration.seconds(30), 'Queues reviews and records human labels', env);
    props.lake.grantWrite(reviewRecord, DataZone.CURATED, `${p}labels/*`);
    props.lake.grantRead(reviewRecord, DataZone.CURATED, `${p}labels/*`);
    this.grantLedger(reviewRecord, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    this.eventBus.grantPutEventsTo(reviewRecord);
    this.reviewStateMachine = this.reviewMachine(reviewRecord, reviewTimeout, maxAttempts);

    // --- labeling ----------------------------------------------------------------------------
    const labeling = this.queuePair('Labeling', handlerTimeout, maxReceiveCount);
    this.labelingQueue = labeling.queue;
    this.labelingDeadLetterQueue = labeling.dlq;
    const label = this.handler('Label', 'label', config, props, handlerTimeout, 'Labels clean records and routes unsure ones to review', {
      ...env,
      [ENV.REVIEW_STATE_MACHINE_ARN]: this.reviewStateMachine.stateMachineArn,
    });
    this.labelingFunction = label;
    props.lake.grantRead(label, DataZone.CLEAN, `${p}records/*`);
    props.lake.grantWrite(label, DataZone.CURATED, `${p}labels/*`);
    props.lake.grantRead(label, DataZone.CURATED, `${p}labels/*`);
    this.grantLedger(label, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    this.eventBus.grantPutEventsTo(label);
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
      targets: [new targets.SqsQueue(labeling.queue, { deadLetterQueue: this.eventsDeadLetterQueue })],
    });

    // --- dataset versions --------------------------------------------------------------------
    const dataset = this.handler('Dataset', 'dataset', config, props, Duration.minutes(15), 'Builds dataset versions: manifests, card, quality report', env, 3008);
    props.lake.grantRead(dataset, DataZone.CLEAN, `${p}records/*`);
    // Versions are written once (If-None-Match); the handler never reads them back.
    props.lake.grantWrite(dataset, DataZone.CURATED, `${p}datasets/*`);
    this.grantLedger(dataset, 'dynamodb:Scan');
    this.datasetStateMachine = this.datasetMachine(dataset);
    if (props.datasetSchedule) {
      new events.Rule(this, 'DatasetSchedule', {
        description: `${this.node.path}: builds a dataset version on a schedule`,
        schedule: props.datasetSchedule,
        targets: [new targets.SfnStateMachine(this.datasetStateMachine, {
          input: events.RuleTargetInput.fromObject({}),
          deadLetterQueue: this.eventsDeadLetterQueue,
        })],
      });
    }

    // --- backfill ------------------------------------------------------------------------------
    this.backfillStateMachine = this.backfillMachine(props.lake, clean, sourcePrefix);

    // --- review API ---------------------------------------------------------------------------
    if (props.reviewApiEnabled ?? true) {
      const api = this.reviewApiRoutes(props, config, env);
      this.reviewRestApi = api.restApi;
      this.reviewUserPool = api.userPool;
      this.reviewWebAcl = api.webAcl;
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

  /**
   * Exact DynamoDB actions on the ledger, plus what they need of the table's customer-managed key
   * (TableV2's grants leave the key out): Decrypt and DescribeKey to read, Encrypt and
   * GenerateDataKey to write.
   */
  private grantLedger(grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
    const writes = actions.some((a) => /:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(a));
    const keyActions = ['kms:Decrypt', 'kms:DescribeKey', ...(writes ? ['kms:Encrypt', 'kms:GenerateDataKey'] : [])];
    return this.ledger.grants.actions(grantee, ...actions).combine(this.encryptionKey.grant(grantee, ...keyActions));
  }

  private pipelineConfig(props: LabelingPipelineProps): PipelineConfig {
    if (props.labelers.length === 0) invalidProp(this, 'labelers', '[]', 'expected at least one labeler');
    const refs = props.labelers.map((l) => l.ref);
    const dup = refs.find((r, i) => refs.indexOf(r) !== i);
    if (dup) invalidProp(this, 'labelers', dup, 'expected labelers with distinct names and versions');
    for (const l of props.labelers) {
      const extra = (l._classes() ?? []).filter((c) => !props.classes.includes(c));
      if (extra.length) invalidProp(this, 'labelers', l.ref, `its classes ${JSON.stringify(extra)} are not in classes ${JSON.stringify(props.classes)}`);
    }
    const review = props.review ?? {};
    const task: LabelTaskConfig = {
      attribute: props.labelAttribute,
      classes: props.classes,
      ...(props.labelerWeights ? { weights: props.labelerWeights } : {}),
      review: {
        minConfidence: review.minConfidence ?? 0.8,
        sampleRate: review.qualitySampleRate ?? 0,
        sampleSalt: review.qualitySampleSalt ?? '',
        onDisagreement: review.onDisagreement ?? true,
      },
    };
    try {
      compileLabelTask(task);
    } catch (e) {
      invalidProp(this, 'labelAttribute/classes/review', props.labelAttribute, (e as Error).message);
    }
    const s = props.datasetSplit ?? { train: 0.8, validation: 0.1, test: 0.1 };
    const split = { train: s.train, validation: s.validation, test: s.test, salt: s.salt ?? '' };
    try {
      compileSplitter(split);
    } catch (e) {
      invalidProp(this, 'datasetSplit', JSON.stringify(split), (e as Error).message);
    }
    return {
      pipelineName: this.pipelineName,
      cleaning: props.cleaningRules._toConfig(),
      labelers: props.labelers.map((l) => l._spec()),
      task,
      split,
      // Field by field, in a fixed order: the staged file (and so the asset hash) must not depend on
      // the key order a caller (or jsii, for Python) delivers.
      ...(props.qualityGates ? {
        gates: definedOnly({
          minRecords: props.qualityGates.minRecords,
          maxQuarantineRate: props.qualityGates.maxQuarantineRate,
          minPerSplit: props.qualityGates.minPerSplit,
          maxUnlabelledRate: props.qualityGates.maxUnlabelledRate,
        }),
      } : {}),
      manifestSource: props.manifestSource ?? ManifestSource.INLINE,
      libraryVersion: LIBRARY_VERSION,
    };
  }

  private queuePair(id: string, handlerTimeout: Duration, maxReceiveCount: number): { queue: sqs.Queue; dlq: sqs.Queue } {
    const dlq = new sqs.Queue(this, `${id}DeadLetterQueue`, {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: this.removalPolicy,
    });
    const queue = new sqs.Queue(this, `${id}Queue`, {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // Lambda's guidance for SQS event sources: at least 6 × the function timeout.
      visibilityTimeout: Duration.seconds(handlerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: dlq, maxReceiveCount },
      removalPolicy: this.removalPolicy,
    });
    // EventBridge delivers the raw-zone and pipeline events into the encrypted queue.
    this.encryptionKey.grant(new iam.ServicePrincipal('events.amazonaws.com'), 'kms:GenerateDataKey', 'kms:Decrypt');
    return { queue, dlq };
  }

  /** A handler function: the bundle staged with the pipeline's configuration file. */
  private handler(
    id: string,
    name: HandlerName,
    config: PipelineConfig,
    props: LabelingPipelineProps,
    timeout: Duration,
    description: string,
    environment: Record<string, string>,
    memorySize = 1024,
  ): lambda.Function {
    const { role, logGroup } = defineHandlerRole(this, {
      roleId: `${id}Role`,
      logGroupId: `${id}Logs`,
      description: `${this.node.path}: ${description}`,
      vpc: props.vpc,
      logsKey: this.encryptionKey,
      retention: this.handlerRetention,
    });
    return new lambda.Function(this, id, {
      description: `${this.node.path}: ${description}`,
      runtime: handlerRuntime(this, props.runtime),
      handler: 'index.handler',
      code: stageHandler(this, name, config),
      role,
      logGroup,
      memorySize,
      timeout,
      ...handlerDefaults(props),
      environment,
    });
  }

  private stateMachine(id: string, definition: sfn.IChainable, comment: string): sfn.StateMachine {
    const logGroup = createEncryptedLogGroup(this, `${id}Logs`, this.encryptionKey, this.handlerRetention, RemovalPolicy.RETAIN);
    const machine = new sfn.StateMachine(this, id, {
      // A name known at synth: with a customer-managed key, the role may use the key only for the
      // encryption context of this state machine's ARN, which CDK builds from the name.
      stateMachineName: `${Names.uniqueResourceName(this, { maxLength: 80 - id.length - 1 })}-${id}`,
      comment: `${this.node.path}: ${comment}`,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      // Execution data (records, answers) stays out of the logs.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(this.encryptionKey),
    });
    return machine;
  }

  private reviewMachine(fn: lambda.IFunction, timeout: Duration, maxAttempts: number): sfn.StateMachine {
    const failed = new sfn.Fail(this, 'ReviewFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const start = new sfn.Pass(this, 'StartReview', {
      parameters: { 'input.$': '$', 'attempt': 1 },
    });
    const request = new tasks.LambdaInvoke(this, 'RequestReview', {
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
    const nextAttempt = new sfn.Pass(this, 'RequeueReview', {
      parameters: { 'input.$': '$.input', 'attempt.$': 'States.MathAdd($.attempt, 1)' },
      comment: 'The review timed out: queue it again',
    });
    const expire = new tasks.LambdaInvoke(this, 'ExpireReview', {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({ action: 'expire', recordId: sfn.JsonPath.stringAt('$.input.recordId') }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    expire.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
    expire.addCatch(failed, { resultPath: '$.error' });
    const expired = new sfn.Fail(this, 'ReviewExpired', { error: 'ReviewExpired', cause: `no reviewer answered in ${maxAttempts} attempt(s) of ${timeout.toHumanString()}` });
    request.addCatch(nextAttempt, { errors: ['States.Timeout'], resultPath: '$.error' });
    request.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
    const record = new tasks.LambdaInvoke(this, 'RecordReview', {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({ action: 'record', answer: sfn.JsonPath.objectAt('$.answer') }),
      resultPath: sfn.JsonPath.DISCARD,
      comment: 'Append the human label and make it current',
    });
    record.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
    record.addCatch(failed, { resultPath: '$.error' });
    nextAttempt.next(new sfn.Choice(this, 'AttemptsLeft?')
      .when(sfn.Condition.numberGreaterThan('$.attempt', maxAttempts), expire.next(expired))
      .otherwise(request));
    return this.stateMachine('ReviewStateMachine', start.next(request).next(record).next(new sfn.Succeed(this, 'Reviewed')), 'waits for a human review of one record');
  }

  private datasetMachine(fn: lambda.IFunction): sfn.StateMachine {
    const failed = new sfn.Fail(this, 'DatasetFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    // No `payload`: with payloadResponseOnly the function gets the state input (a payload of
    // `fromJsonPathAt('$')` renders `"Parameters": "$"`, aws/aws-cdk#34260).
    const build = new tasks.LambdaInvoke(this, 'BuildDatasetVersion', {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      resultPath: '$.result',
      comment: 'Write the manifests, the dataset card and the quality report',
    });
    build.addRetry({ errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
    build.addCatch(failed, { resultPath: '$.error' });
    const put = (id: string, detailType: string) => {
      const t = new tasks.EventBridgePutEvents(this, id, {
        entries: [{
          eventBus: this.eventBus,
          source: EVENT_SOURCE,
          detailType,
          detail: sfn.TaskInput.fromObject({
            pipeline: this.pipelineName,
            datasetVersion: sfn.JsonPath.stringAt('$.result.datasetVersion'),
            location: sfn.JsonPath.stringAt('$.result.location'),
            counts: sfn.JsonPath.objectAt('$.result.counts'),
            blockedReasons: sfn.JsonPath.listAt('$.result.blockedReasons'),
          }),
        }],
        resultPath: sfn.JsonPath.DISCARD,
      });
      t.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
      t.addCatch(failed, { resultPath: '$.error' });
      return t;
    };
    const published = put('PublishDatasetVersion', DETAIL_TYPE.datasetVersionPublished).next(new sfn.Succeed(this, 'Published'));
    const blocked = put('ReportBlockedDatasetVersion', DETAIL_TYPE.datasetVersionBlocked)
      .next(new sfn.Fail(this, 'DatasetBlocked', { error: 'DatasetBlocked', cause: 'a quality gate failed; see quality-report.json of the version' }));
    const definition = build.next(new sfn.Choice(this, 'Publish?')
      .when(sfn.Condition.booleanEquals('$.result.publish', true), published)
      .otherwise(blocked));
    return this.stateMachine('DatasetStateMachine', definition, 'builds and publishes a dataset version');
  }

  private backfillMachine(lake: ISecureDataLake, fn: lambda.IFunction, sourcePrefix: string): sfn.StateMachine {
    const failed = new sfn.Fail(this, 'BackfillFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const map = (id: string, zone: DataZone, prefix: string) => {
      const bucket = lake.bucket(zone);
      const m = new sfn.DistributedMap(this, id, {
        itemReader: new sfn.S3ObjectsItemReader({ bucket, prefix }),
        itemBatcher: new sfn.ItemBatcher({ maxItemsPerBatch: 50, batchInput: { bucket: bucket.bucketName } }),
        maxConcurrency: 10,
        resultSelector: { 'batches.$': 'States.ArrayLength($)' },
        resultPath: '$.result',
        comment: `Re-run the cleaning of every object under the prefix in the ${zone} zone`,
      });
      // No `payload`: the function gets the batch itself (see BuildDatasetVersion).
      const batch = new tasks.LambdaInvoke(this, `${id}Batch`, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
      });
      batch.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 4, backoffRate: 2 });
      m.itemProcessor(batch);
      m.addCatch(failed, { resultPath: '$.error' });
      return m;
    };
    const raw = map('BackfillRaw', DataZone.RAW, sourcePrefix);
    const quarantine = map('BackfillQuarantine', DataZone.QUARANTINE, `${this.zonePrefix}quarantine/`);
    const rawRerun = raw.next(new sfn.Succeed(this, 'RawRerun'));
    // Without `zone` the raw zone (a rule on a missing path would fail the Choice with States.Runtime).
    const definition = new sfn.Choice(this, 'WhichZone?')
      .when(sfn.Condition.not(sfn.Condition.isPresent('$.zone')), rawRerun)
      .when(sfn.Condition.stringEquals('$.zone', 'quarantine'), quarantine.next(new sfn.Succeed(this, 'QuarantineRerun')))
      .otherwise(rawRerun);
    const machine = this.stateMachine('BackfillStateMachine', definition, 'reprocesses the raw uploads or the quarantine (idempotent)');
    return machine;
  }

  private reviewApiRoutes(props: LabelingPipelineProps, config: PipelineConfig, env: Record<string, string>) {
    const scope = new Construct(this, 'ReviewApi');
    const route = createApiRoute(scope, props.reviewApi ?? {}, `${this.node.path}: human review of records the labelers are unsure of`);
    const { role, logGroup } = createHandlerRole(scope, route, 'Lists pending reviews and accepts reviewers\' labels', props);
    const fn = new lambda.Function(scope, 'Handler', {
      description: `${this.node.path}: review API`,
      runtime: handlerRuntime(this, props.runtime),
      handler: 'index.handler',
      code: stageHandler(this, 'review-api', config),
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
    this.grantLedger(fn, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:DeleteItem');
    // The handler answers reviews: SendTaskSuccess only (no failure, no heartbeat).
    this.reviewStateMachine.grant(fn, 'states:SendTaskSuccess');

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
}

/** The object without its undefined members. */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A handler bundle staged with the pipeline's configuration file. */
function stageHandler(scope: Construct, name: HandlerName, config: PipelineConfig): lambda.Code {
  return handlerCode(scope, 'labeling-pipeline', name, { [CONFIG_FILE]: JSON.stringify(config, null, 2) + '\n' });
}
