import * as crypto from 'node:crypto';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PredictionCaptureOptions } from './capture-options';
import { CAPTURE_WRITER_ENV, DEFAULT_CAPTURE_MAX_BYTES, ENDPOINT_ENV, MAX_CAPTURE_MAX_BYTES, METRICS_NAMESPACE, MIN_CAPTURE_MAX_BYTES } from './runtime/contract';
import { CAPTURE_NAME_PATTERN, CAPTURE_VERSION, MONITORING_KEYS } from '../contract/monitoring';
import { acknowledgeReviewed, compliance, iam5Resource, ReviewedAcknowledgment, REASON } from '../private/acknowledgments';
import { invalidProp } from '../private/errors';
import { handlerCode, handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';
import { defineHandlerRole } from '../private/handler-role';
import { DataZone } from '../secure-data-lake/data-zone';

/** What the endpoint needs to build its capture. @internal */
export interface CaptureBuildOptions {
  readonly capture: PredictionCaptureOptions;
  /** The endpoint function's log group (the subscription's source). */
  readonly logGroup: logs.ILogGroup;
  readonly logsKey: kms.IKey;
  readonly retention: logs.RetentionDays;
  readonly serviceName: string;
  readonly runtime?: lambda.Runtime;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/** The capture's resources. @internal */
export interface BuiltCapture {
  readonly captureName: string;
  /** The predict handler's capture variables. */
  readonly environment: Record<string, string>;
  readonly writer: lambda.Function;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;
}

/** The default capture name of a construct: its path, sanitized to `CAPTURE_NAME_PATTERN`. @internal */
export function defaultCaptureName(scope: Construct): string {
  const name = scope.node.path.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/-+$/, '') || 'endpoint';
  if (name.length <= 64) return name;
  const hash = crypto.createHash('sha256').update(scope.node.path).digest('hex').slice(0, 8);
  return `${name.slice(0, 55).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`;
}

/**
 * Validate the capture options, and define the capture writer (`CaptureWriter`, its role and log
 * group), its dead-letter queue and alarm, and the subscription of the endpoint's log group.
 *
 * @internal
 */
export function definePredictionCapture(scope: Construct, options: CaptureBuildOptions): BuiltCapture {
  const { capture } = options;
  const percent = capture.samplingPercentage ?? 100;
  if (!Token.isUnresolved(percent) && !(Number.isFinite(percent) && percent > 0 && percent <= 100)) {
    invalidProp(scope, 'capture.samplingPercentage', percent, 'expected a number above 0 and at most 100 (leave capture unset for no capture)');
  }
  const captureName = capture.captureName ?? defaultCaptureName(scope);
  if (Token.isUnresolved(captureName) || !CAPTURE_NAME_PATTERN.test(captureName)) {
    invalidProp(scope, 'capture.captureName', captureName, 'expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit (it names an S3 partition)');
  }
  const maxBytes = capture.maxCaptureBytes ?? DEFAULT_CAPTURE_MAX_BYTES;
  if (!Token.isUnresolved(maxBytes) && !(Number.isInteger(maxBytes) && maxBytes >= MIN_CAPTURE_MAX_BYTES && maxBytes <= MAX_CAPTURE_MAX_BYTES)) {
    invalidProp(scope, 'capture.maxCaptureBytes', maxBytes,
      `expected an integer from ${MIN_CAPTURE_MAX_BYTES} to ${MAX_CAPTURE_MAX_BYTES} (CloudWatch Logs refuses events over 256 KiB)`);
  }

  const { lake } = options.capture;
  const path = scope.node.path;
  const { role, logGroup } = defineHandlerRole(scope, {
    roleId: 'CaptureWriterRole',
    logGroupId: 'CaptureWriterLogs',
    description: `${path}: writes prediction captures to the lake`,
    vpc: options.vpc,
    logsKey: options.logsKey,
    retention: options.retention,
  });
  const deadLetterQueue = new sqs.Queue(scope, 'CaptureDeadLetterQueue', {
    // The failed payloads hold captures: the same data as the log group, under the same key.
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: options.logsKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const stack = Stack.of(scope);
  // Lambda sends a failed payload to the queue with the function's role; SQS encrypts it with the key.
  role.addToPolicy(new iam.PolicyStatement({
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    resources: [options.logsKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `sqs.${stack.region}.amazonaws.com` } },
  }));

  const capturesPrefix = MONITORING_KEYS.capturesPrefix(captureName);
  const models = lake.bucket(DataZone.MODELS);
  const writer = new lambda.Function(scope, 'CaptureWriter', {
    description: `${path}: writes prediction captures to the lake`,
    ...handlerDefaults({ vpc: options.vpc, vpcSubnets: options.vpcSubnets }),
    runtime: handlerRuntime(scope, options.runtime),
    handler: 'index.handler',
    code: handlerCode(scope, 'serverless-model-endpoint', 'capture-writer'),
    role,
    logGroup,
    memorySize: 512,
    timeout: Duration.seconds(60),
    retryAttempts: 2,
    deadLetterQueue,
    environment: {
      [CAPTURE_WRITER_ENV.bucket]: models.bucketName,
      [CAPTURE_WRITER_ENV.keyArn]: lake.encryptionKey.keyArn,
      [CAPTURE_WRITER_ENV.captureName]: captureName,
      [CAPTURE_WRITER_ENV.serviceName]: options.serviceName,
      [CAPTURE_WRITER_ENV.metricsNamespace]: METRICS_NAMESPACE,
    },
  });
  lake.grantWrite(role, DataZone.MODELS, `${capturesPrefix}*`);

  new logs.SubscriptionFilter(scope, 'CaptureSubscription', {
    logGroup: options.logGroup,
    destination: new logsDestinations.LambdaDestination(writer),
    // Capture lines only: log records and EMF lines have no captureVersion.
    filterPattern: logs.FilterPattern.stringValue('$.captureVersion', '=', CAPTURE_VERSION),
  });

  const deadLetterAlarm = new cloudwatch.Alarm(scope, 'CaptureDeadLetterAlarm', {
    alarmDescription: `${path}: prediction captures could not be written to the lake (see the capture dead-letter queue)`,
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (options.alarmAction) {
    deadLetterAlarm.addAlarmAction(options.alarmAction);
    deadLetterAlarm.addOkAction(options.alarmAction);
  }

  const entries: ReviewedAcknowledgment[] = [
    { at: /^CaptureWriterRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource('*')], reason: REASON.xray },
    { at: /^CaptureWriterRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource(`${models.bucketArn}/${capturesPrefix}*`)], reason: REASON.capturePrefix },
    { at: /^CaptureWriterRole\/DefaultPolicy\/Resource$/, ids: compliance('IAMNoInlinePolicy'), reason: REASON.inlinePolicy },
    { at: /^CaptureWriter\/Resource$/, ids: compliance('LambdaConcurrency'), reason: REASON.captureWriterConcurrency },
    { at: /^CaptureDeadLetterQueue\/Resource$/, ids: ['Serverless-SQSRedrivePolicy'], reason: REASON.lambdaDeadLetterQueue },
    { at: /^CaptureWriter\/EventInvokeConfig\/Resource$/, ids: ['Serverless-LambdaAsyncFailureDestination'], reason: REASON.asyncDeadLetterQueue },
  ];
  if (!options.vpc) entries.push({ at: /^CaptureWriter\/Resource$/, ids: compliance('LambdaInsideVPC'), reason: REASON.vpc });
  if (!options.alarmAction) entries.push({ at: /^CaptureDeadLetterAlarm\/Resource$/, ids: compliance('CloudWatchAlarmAction'), reason: REASON.alarmAction });
  acknowledgeReviewed(scope, entries);

  return {
    captureName,
    environment: {
      [ENDPOINT_ENV.capturePercent]: String(percent),
      [ENDPOINT_ENV.captureName]: captureName,
      [ENDPOINT_ENV.captureMaxBytes]: String(maxBytes),
    },
    writer,
    deadLetterQueue,
    deadLetterAlarm,
  };
}
