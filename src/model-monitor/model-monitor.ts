import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { driftConfigOf } from './drift-settings';
import { grantDriftJob } from './monitor-grants';
import { DriftThresholds } from './monitor-options';
import { MONITOR_CONFIG_FILE, MONITOR_ENV, MONITOR_METRIC, MONITOR_METRICS_NAMESPACE, MonitorConfig } from './runtime/contract';
import { HandlerOptions } from '../api-options/handler-options';
import { CAPTURE_NAME_PATTERN, MONITORING_KEYS } from '../contract/monitoring';
import { acknowledgeReviewed, compliance, iam5Resource, REASON } from '../private/acknowledgments';
import { allowLogsService, retentionAtLeast } from '../private/encrypted-logs';
import { invalidProp } from '../private/errors';
import { handlerCode, handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';
import { defineHandlerRole } from '../private/handler-role';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/**
 * Properties of a `ModelMonitor`.
 */
export interface ModelMonitorProps extends HandlerOptions {
  /** The data lake whose models zone holds the captures, baselines, ground truth and reports. */
  readonly lake: ISecureDataLake;

  /**
   * The endpoint's capture name (`ServerlessModelEndpoint.captureName`): letters, digits, `.`,
   * `_`, `-`, at most 64.
   */
  readonly captureName: string;

  /**
   * Names of the columns of the model input's feature matrix, in order. The baseline of every
   * model must have exactly these features; a model whose baseline differs is reported, not
   * evaluated.
   *
   * @default - the features of each model's baseline
   */
  readonly features?: string[];

  /**
   * Which `inputs` entry of the captured request is the feature matrix (one row per example).
   *
   * @default - the request's only input
   */
  readonly inputName?: string;

  /**
   * When the drift job runs. Each run evaluates the `window` that ends at the scheduled time
   * (floored to the hour).
   *
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * Length of the window of captures evaluated by a run: whole hours, 1 hour to 31 days.
   *
   * @default Duration.days(1)
   */
  readonly window?: Duration;

  /**
   * Below this many captured examples of a model in a window, the report says "not enough data"
   * and nothing is raised.
   *
   * @default 100
   */
  readonly minimumRows?: number;

  /**
   * The most examples of one model a run keeps for the evaluation: beyond it, a uniform sample
   * of this size is evaluated (the rest counted in the report). Bounds the job's memory (about
   * 200 bytes per example of 12 features).
   *
   * @default 100000
   */
  readonly maxRowsPerModel?: number;

  /**
   * Thresholds and per-feature tests of the drift evaluation.
   *
   * @default - Evidently's defaults
   */
  readonly driftThresholds?: DriftThresholds;

  /**
   * The bus the "Model Drift Detected" events are put on.
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * Where the drift and failure alarms notify (for example an SNS topic action).
   *
   * @default - no action: the alarms show in the console
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;

  /**
   * How far back ground truth is read (whole days, at least the window): labels written in this
   * many days before the window's end are joined to the captures.
   *
   * @default Duration.days(30)
   */
  readonly groundTruthLookback?: Duration;

  /**
   * The most ground-truth labels one run keeps (later ones are counted, not joined).
   *
   * @default 200000
   */
  readonly maxGroundTruthLabels?: number;

  /**
   * Memory of the drift job in MiB.
   *
   * @default 2048
   */
  readonly memorySize?: number;

  /**
   * Timeout of one run (at most 15 minutes).
   *
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;

  /**
   * How long the drift job's logs are kept.
   *
   * @default Duration.days(365)
   */
  readonly logRetention?: Duration;

  /**
   * Key of the monitor's log group and dead-letter queue (CloudWatch Logs must be allowed to use it).
   *
   * @default - a new customer-managed key with rotation
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Watches the predictions a `ServerlessModelEndpoint` captures for drift: a scheduled drift job
 * compares each window of captures with the baseline of the model that made them (feature by
 * feature and the predicted classes, with Evidently's default tests), writes a JSON and an HTML
 * report to the lake, publishes metrics, raises an alarm and puts a "Model Drift Detected" event.
 * Ground truth written later under `groundTruthPrefix` (`grantWriteGroundTruth`) is joined to the
 * captures and reported as accuracy over time.
 *
 * @example
 * import { Stack } from 'aws-cdk-lib';
 * import { ModelMonitor, SecureDataLake, ServerlessModelEndpoint } from 'cdk-secure-mlops';
 *
 * declare const stack: Stack;
 * declare const lake: SecureDataLake;
 * declare const endpoint: ServerlessModelEndpoint;
 *
 * const monitor = new ModelMonitor(stack, 'Monitor', {
 *   lake,
 *   captureName: endpoint.captureName!,
 *   features: ['left.250', 'left.500', 'left.1000', 'left.2000', 'left.4000', 'left.8000',
 *     'right.250', 'right.500', 'right.1000', 'right.2000', 'right.4000', 'right.8000'],
 *   driftThresholds: { features: [{ feature: 'left.8000', threshold: 0.2 }] },
 * });
 */
export class ModelMonitor extends Construct {
  /** The drift job. */
  public readonly driftJob: lambda.IFunction;
  /** In alarm while the latest run found dataset or prediction drift. */
  public readonly driftAlarm: cloudwatch.Alarm;
  /** In alarm when a run failed (its event then waits in `deadLetterQueue`). */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** Runs that failed their retries. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The rule that starts the drift job. */
  public readonly scheduleRule: events.Rule;
  /** Key of the monitor's logs and dead-letter queue. */
  public readonly encryptionKey: kms.IKey;
  /** The endpoint's capture name. */
  public readonly captureName: string;
  /** Where the reports are written in the models zone (`monitoring/reports/endpoint=<captureName>/`). */
  public readonly reportsPrefix: string;
  /** Where ground truth is read from in the models zone (`monitoring/ground-truth/endpoint=<captureName>/`). */
  public readonly groundTruthPrefix: string;

  private readonly lake: ISecureDataLake;
  private readonly service: string;

  public constructor(scope: Construct, id: string, props: ModelMonitorProps) {
    super(scope, id);
    const config = this.validate(props);
    this.lake = props.lake;
    this.captureName = props.captureName;
    this.service = config.service;
    this.reportsPrefix = MONITORING_KEYS.reportsPrefix(props.captureName);
    this.groundTruthPrefix = MONITORING_KEYS.groundTruthPrefix(props.captureName);
    const bus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    if (props.encryptionKey) {
      this.encryptionKey = props.encryptionKey;
    } else {
      const key = new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: `${this.node.path}: encrypts the drift job's logs and dead-letter queue`,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      allowLogsService(key);
      this.encryptionKey = key;
    }

    const { role, logGroup } = defineHandlerRole(this, {
      roleId: 'DriftJobRole',
      logGroupId: 'DriftJobLogs',
      description: `${this.node.path}: the drift job of capture ${props.captureName}`,
      vpc: props.vpc,
      logsKey: this.encryptionKey,
      retention: retentionAtLeast(props.logRetention ?? Duration.days(365)),
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const fn = new lambda.Function(this, 'DriftJob', {
      description: `${this.node.path}: drift of the predictions captured by ${props.captureName}`,
      runtime: handlerRuntime(this, props.runtime),
      handler: 'index.handler',
      code: handlerCode(this, 'model-monitor', 'drift', { [MONITOR_CONFIG_FILE]: JSON.stringify(config, null, 2) + '\n' }),
      role,
      logGroup,
      memorySize: props.memorySize ?? 2048,
      timeout: props.timeout ?? Duration.minutes(15),
      ...handlerDefaults(props),
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
      environment: {
        [MONITOR_ENV.modelsBucket]: props.lake.bucket(DataZone.MODELS).bucketName,
        [MONITOR_ENV.lakeKeyArn]: props.lake.encryptionKey.keyArn,
        [MONITOR_ENV.eventBusName]: bus.eventBusName,
        POWERTOOLS_SERVICE_NAME: config.service,
      },
    });
    this.driftJob = fn;
    // Lambda sends failed asynchronous invocations to the KMS-encrypted queue with the function's
    // role (aws-cdk-lib grants sqs:SendMessage only).
    this.encryptionKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    grantDriftJob(fn, props.lake, props.captureName, bus);

    this.scheduleRule = new events.Rule(this, 'Schedule', {
      schedule: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      description: `${this.node.path}: evaluate the latest window of ${props.captureName}'s captures for drift`,
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.hours(6), deadLetterQueue: this.deadLetterQueue })],
    });
    // EventBridge encrypts what it could not deliver with the queue's key (rules of this account;
    // their ARNs cannot be named: the rule refers to the queue). A key of the user's is theirs to allow.
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowEventBridgeDeadLetters',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        ArnLike: { 'aws:SourceArn': `arn:${Stack.of(this).partition}:events:${Stack.of(this).region}:${Stack.of(this).account}:rule/*` },
      },
    }));

    this.driftAlarm = new cloudwatch.Alarm(this, 'DriftAlarm', {
      alarmDescription: `${this.node.path}: the latest window of ${props.captureName}'s predictions drifted (dataset or predicted classes); see the drift report under ${this.reportsPrefix}`,
      metric: new cloudwatch.MathExpression({
        expression: 'MAX([dataset, prediction])',
        usingMetrics: { dataset: this.metricDatasetDrift(), prediction: this.metricPredictionDrift() },
        period: Duration.hours(1),
        label: 'Drift (dataset or prediction)',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // A run publishes once per schedule: between runs the alarm keeps the latest run's verdict.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    this.failureAlarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription: `${this.node.path}: a drift run failed (its event is kept in the dead-letter queue after the retries)`,
      metric: fn.metricErrors({ period: Duration.hours(1), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmAction) {
      for (const alarm of [this.driftAlarm, this.failureAlarm]) {
        alarm.addAlarmAction(props.alarmAction);
        alarm.addOkAction(props.alarmAction);
      }
    }
    this.acknowledge(props);
  }

  /** Accuracy over the ground truth received in each window (published only when some joined a capture). */
  public metricAccuracy(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MONITOR_METRIC.accuracy, { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  /** Ground-truth labels received in each window that joined a captured prediction. */
  public metricLabeledRows(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MONITOR_METRIC.labeledRows, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** The drifted share of the tested features (the most of any model of a window). */
  public metricDriftShare(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MONITOR_METRIC.driftShare, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** 1 when a window's dataset drifted, else 0. */
  public metricDatasetDrift(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MONITOR_METRIC.datasetDrift, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** 1 when a window's predicted-class distribution drifted, else 0. */
  public metricPredictionDrift(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MONITOR_METRIC.predictionDrift, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Captured examples evaluated per window. */
  public metricRowsEvaluated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MONITOR_METRIC.rowsEvaluated, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** Capture lines that failed validation per window. */
  public metricInvalidCaptureLines(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MONITOR_METRIC.invalidCaptureLines, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /**
   * Allow a principal to write ground truth (JSON Lines of `{"inferenceId", "example", "trueClass"}`)
   * under `groundTruthPrefix` (put only, with the lake key; no read, no delete). Write objects to
   * `<groundTruthPrefix>date=<YYYY-MM-DD>/<id>.jsonl`, the day of writing: the job reads the `date=`
   * partitions of its lookback only.
   */
  public grantWriteGroundTruth(grantee: iam.IGrantable): iam.Grant {
    return this.lake.grantWrite(grantee, DataZone.MODELS, `${this.groundTruthPrefix}*`);
  }

  private metric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: MONITOR_METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.service },
      period: Duration.hours(1),
      ...props,
    });
  }

  private validate(props: ModelMonitorProps): MonitorConfig {
    if (!Token.isUnresolved(props.captureName) && !CAPTURE_NAME_PATTERN.test(props.captureName)) {
      invalidProp(this, 'captureName', props.captureName, 'expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit (ServerlessModelEndpoint.captureName)');
    }
    if (Token.isUnresolved(props.captureName)) {
      invalidProp(this, 'captureName', props.captureName, 'expected a literal capture name (it names key prefixes of the lake\'s policies at synth)');
    }
    const features = props.features;
    if (features !== undefined) {
      if (features.length === 0) invalidProp(this, 'features', features, 'expected at least one feature name, or leave it unset to take the baseline\'s');
      features.forEach((f, i) => {
        if (typeof f !== 'string' || f.length === 0) invalidProp(this, `features[${i}]`, f, 'expected a non-empty name');
        if (features.indexOf(f) !== i) invalidProp(this, `features[${i}]`, f, 'expected unique names');
      });
    }
    if (props.inputName !== undefined && props.inputName.length === 0) invalidProp(this, 'inputName', props.inputName, 'expected the name of a model input');
    const window = props.window ?? Duration.days(1);
    const windowHours = window.toHours({ integral: false });
    if (!(Number.isInteger(windowHours) && windowHours >= 1 && windowHours <= 31 * 24)) {
      invalidProp(this, 'window', window, 'expected whole hours from 1 hour to 31 days');
    }
    const lookback = props.groundTruthLookback ?? Duration.days(30);
    const lookbackDays = lookback.toDays({ integral: false });
    if (!(Number.isInteger(lookbackDays) && lookbackDays >= 1 && lookbackDays <= 400 && lookbackDays * 24 >= windowHours)) {
      invalidProp(this, 'groundTruthLookback', lookback, 'expected whole days from 1 to 400, and at least the window');
    }
    const integer = (name: string, v: number | undefined, fallback: number, min: number, max: number): number => {
      const value = v ?? fallback;
      if (!(Number.isInteger(value) && value >= min && value <= max)) invalidProp(this, name, value, `expected an integer from ${min} to ${max}`);
      return value;
    };
    const minimumRows = integer('minimumRows', props.minimumRows, 100, 1, 1_000_000);
    const maxRowsPerModel = integer('maxRowsPerModel', props.maxRowsPerModel, 100_000, minimumRows, 2_000_000);
    const maxGroundTruthLabels = integer('maxGroundTruthLabels', props.maxGroundTruthLabels, 200_000, 1, 5_000_000);
    integer('memorySize', props.memorySize, 2048, 512, 10240);
    if (props.timeout && props.timeout.toSeconds() > 900) invalidProp(this, 'timeout', props.timeout, 'expected at most 15 minutes (the Lambda limit)');
    if (props.vpcSubnets && !props.vpc) invalidProp(this, 'vpcSubnets', props.vpcSubnets, 'expected a vpc with them');
    return {
      captureName: props.captureName,
      service: this.node.path,
      ...(features ? { features: [...features] } : {}),
      ...(props.inputName !== undefined ? { inputName: props.inputName } : {}),
      windowHours,
      minimumRows,
      maxRowsPerModel,
      groundTruthLookbackDays: lookbackDays,
      maxGroundTruthLabels,
      drift: driftConfigOf(this, props.driftThresholds, features),
    };
  }

  private acknowledge(props: ModelMonitorProps) {
    const models = this.lake.bucket(DataZone.MODELS).bucketArn;
    const e = this.captureName;
    const policy = /^DriftJobRole\/DefaultPolicy\/Resource$/;
    const handler = /^DriftJob\/Resource$/;
    acknowledgeReviewed(this, [
      { at: policy, ids: [iam5Resource('*')], reason: REASON.xray },
      { at: policy, ids: compliance('IAMNoInlinePolicy'), reason: REASON.inlinePolicy },
      {
        at: policy,
        ids: [
          MONITORING_KEYS.capturesPrefix(e), MONITORING_KEYS.groundTruthPrefix(e), MONITORING_KEYS.baselinesPrefix, MONITORING_KEYS.reportsPrefix(e),
        ].map((p) => iam5Resource(`${models}/${p}*`)),
        reason: REASON.monitorPrefixes,
      },
      { at: /^DeadLetterQueue\/Resource$/, ids: ['Serverless-SQSRedrivePolicy'], reason: REASON.monitorDeadLetterQueue },
      { at: /^DriftJob\/EventInvokeConfig\/Resource$/, ids: ['Serverless-LambdaAsyncFailureDestination'], reason: REASON.monitorAsyncFailure },
      ...(props.reservedConcurrency === undefined ? [{ at: handler, ids: compliance('LambdaConcurrency'), reason: REASON.monitorConcurrency }] : []),
      ...(props.vpc === undefined ? [{ at: handler, ids: compliance('LambdaInsideVPC'), reason: REASON.vpc }] : []),
      ...(props.alarmAction === undefined
        ? [{ at: /^(DriftAlarm|FailureAlarm)\/Resource$/, ids: compliance('CloudWatchAlarmAction'), reason: REASON.alarmAction }]
        : []),
    ]);
  }
}
