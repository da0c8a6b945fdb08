/**
 * The local AWS world of the end-to-end run: the lake's zones, keys, the ledger, the event bus,
 * queues and rules, created in moto_server the way the synthesized stack declares them, so the
 * handlers run unchanged against it.
 *
 * What moto does here for real: S3 with versioning and SSE-KMS, S3 → EventBridge "Object Created"
 * notifications, EventBridge rules with SQS targets, SQS redrive to dead-letter queues, KMS
 * (symmetric data key, HMAC key with GenerateMac), DynamoDB, Step Functions StartExecution.
 * What it does not do: execute state machines (the run interprets them locally with
 * aws-local-stepfunctions) and evaluate IAM, bucket or key policies (the test suite proves those
 * with the IAM simulator).
 */
import { DynamoDBClient, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ENV, EVENT_SOURCE } from '../../../src/labeling-pipeline/runtime/contract';
import type { LocalAws } from '../../local-aws/local-aws';

/** SDK clients pointed at moto. */
export interface Clients {
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly ddb: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly sqs: SQSClient;
  readonly sfn: SFNClient;
}

/** Queue URLs of the run. */
export interface Queues {
  readonly cleaning: string;
  readonly cleaningDlq: string;
  readonly labeling: string;
  readonly labelingDlq: string;
  /** Every pipeline event, for the report. */
  readonly observer: string;
}

/** Everything the handlers and the driver need. */
export interface World {
  readonly clients: Clients;
  /** The handlers' environment (every `ENV` name the construct sets). */
  readonly env: Record<keyof typeof ENV, string>;
  readonly modelsBucket: string;
  readonly queues: Queues;
  readonly reviewStateMachineArn: string;
}

/** What the synthesized stack says about the pipeline (see run.ts). */
export interface WorldSpec {
  readonly pipelineName: string;
  readonly rawPrefix: string;
  readonly zonePrefix: string;
  /** The raw-zone rule's event pattern, as synthesized (bucket name replaced). */
  readonly rawEventPattern: Record<string, unknown>;
  /** The "Record Cleaned" rule's event pattern, as synthesized. */
  readonly cleanedEventPattern: Record<string, unknown>;
  /** Deliveries before the dead-letter queue, as synthesized. */
  readonly maxReceiveCount: number;
  /** The review state machine's definition (created in moto for StartExecution). */
  readonly reviewDefinition: string;
  /** The review API's `REVIEW_API_SETTINGS` (who may review, how often), as synthesized. */
  readonly reviewApiSettings: string;
}

export function clientsFor(aws: LocalAws): Clients {
  const c = { ...aws.clientConfig, maxAttempts: 3 };
  return {
    s3: new S3Client(c), kms: new KMSClient(c), ddb: new DynamoDBClient(c),
    events: new EventBridgeClient(c), sqs: new SQSClient(c), sfn: new SFNClient(c),
  };
}

/** Create the world in moto. */
export async function createWorld(aws: LocalAws, spec: WorldSpec): Promise<World> {
  const clients = clientsFor(aws);
  const { s3, kms, ddb, events, sqs, sfn } = clients;
  const name = (zone: string) => `hearing-${zone}`;
  const dataKey = await kms.send(new CreateKeyCommand({ Description: 'lake data key' }));
  const hmacKey = await kms.send(new CreateKeyCommand({ Description: 'pseudonymization key', KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
  const buckets = { raw: name('raw'), clean: name('clean'), quarantine: name('quarantine'), curated: name('curated'), models: name('models') };
  for (const b of Object.values(buckets)) {
    await s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: aws.region as any } }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  // The lake turns on EventBridge notifications on its zones (SecureDataLake).
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: buckets.raw, NotificationConfiguration: { EventBridgeConfiguration: {} } }));
  const table = name('ledger');
  await ddb.send(new CreateTableCommand({
    TableName: table,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
  const bus = name('bus');
  await events.send(new CreateEventBusCommand({ Name: bus }));

  const queue = async (q: string, dlqArn?: string) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({
      QueueName: name(q),
      Attributes: {
        VisibilityTimeout: '1',
        ...(dlqArn ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: spec.maxReceiveCount }) } : {}),
      },
    }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    return { url: QueueUrl!, arn };
  };
  const cleaningDlq = await queue('cleaning-dlq');
  const cleaning = await queue('cleaning', cleaningDlq.arn);
  const labelingDlq = await queue('labeling-dlq');
  const labeling = await queue('labeling', labelingDlq.arn);
  const observer = await queue('observer');

  const rule = async (ruleName: string, busName: string | undefined, pattern: unknown, arn: string) => {
    await events.send(new PutRuleCommand({ Name: ruleName, EventBusName: busName, EventPattern: JSON.stringify(pattern) }));
    await events.send(new PutTargetsCommand({ Rule: ruleName, EventBusName: busName, Targets: [{ Id: 'queue', Arn: arn }] }));
  };
  const rawPattern = JSON.parse(JSON.stringify(spec.rawEventPattern)) as any;
  rawPattern.detail.bucket.name = [buckets.raw];
  await rule('raw-object-created', undefined, rawPattern, cleaning.arn);
  await rule('record-cleaned', bus, spec.cleanedEventPattern, labeling.arn);
  await rule('observer', bus, { source: [EVENT_SOURCE] }, observer.arn);

  const machine = await sfn.send(new CreateStateMachineCommand({
    name: 'hearing-review',
    roleArn: 'arn:aws:iam::123456789012:role/hearing-review',
    definition: spec.reviewDefinition,
  }));

  const env: Record<keyof typeof ENV, string> = {
    RAW_BUCKET: buckets.raw,
    RAW_PREFIX: spec.rawPrefix,
    CLEAN_BUCKET: buckets.clean,
    QUARANTINE_BUCKET: buckets.quarantine,
    CURATED_BUCKET: buckets.curated,
    ZONE_PREFIX: spec.zonePrefix,
    DATA_KEY_ARN: dataKey.KeyMetadata!.Arn!,
    HMAC_KEY_ID: hmacKey.KeyMetadata!.Arn!,
    LEDGER_TABLE: table,
    EVENT_BUS_NAME: bus,
    REVIEW_STATE_MACHINE_ARN: machine.stateMachineArn!,
    METRICS_NAMESPACE: 'cdk-secure-mlops/LabelingPipeline',
    ALLOWED_ORIGINS: '[]',
    REVIEW_API_SETTINGS: spec.reviewApiSettings,
  };
  return {
    clients,
    env,
    modelsBucket: buckets.models,
    queues: { cleaning: cleaning.url, cleaningDlq: cleaningDlq.url, labeling: labeling.url, labelingDlq: labelingDlq.url, observer: observer.url },
    reviewStateMachineArn: machine.stateMachineArn!,
  };
}
