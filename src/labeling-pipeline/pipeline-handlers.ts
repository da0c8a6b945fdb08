/**
 * The building blocks of a LabelingPipeline's message flow: an encrypted queue with its
 * dead-letter queue, a handler function (its role, log group and staged bundle) and the exact
 * grants on the ledger. Every child is defined on the pipeline itself (the IDs are part of the
 * construct contract).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { LabelingPipelineProps } from './labeling-pipeline';
import { eventBridgeForThisAccount } from './pipeline-events';
import { CONFIG_FILE, PipelineConfig } from './runtime/contract';
import { handlerCode, handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';
import { defineHandlerRole } from '../private/handler-role';

/** The pipeline's handlers (bundle names). */
export type HandlerName = 'clean' | 'label' | 'review-api' | 'review-record' | 'dataset';

/** What the queues and handlers of a pipeline share. */
export interface PipelineResources {
  /** The pipeline (every child is defined on it). */
  readonly scope: Construct;
  /** The key of the queues, the ledger, the state machines and the log groups. */
  readonly encryptionKey: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
  /** Retention of the handlers' and state machines' logs. */
  readonly retention: logs.RetentionDays;
}

/** A queue (`<id>Queue`) and its dead-letter queue (`<id>DeadLetterQueue`), both with the pipeline's key. */
export function defineQueuePair(
  res: PipelineResources, id: string, handlerTimeout: Duration, maxReceiveCount: number,
): { queue: sqs.Queue; dlq: sqs.Queue } {
  const dlq = new sqs.Queue(res.scope, `${id}DeadLetterQueue`, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: res.encryptionKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: res.removalPolicy,
  });
  const queue = new sqs.Queue(res.scope, `${id}Queue`, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: res.encryptionKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    // Lambda's guidance for SQS event sources: at least 6 × the function timeout.
    visibilityTimeout: Duration.seconds(handlerTimeout.toSeconds() * 6),
    deadLetterQueue: { queue: dlq, maxReceiveCount },
    removalPolicy: res.removalPolicy,
  });
  // EventBridge delivers the raw-zone and pipeline events into the encrypted queue, for rules of
  // this account only.
  res.encryptionKey.grant(eventBridgeForThisAccount(res.scope), 'kms:GenerateDataKey', 'kms:Decrypt');
  return { queue, dlq };
}

/** What a handler function is built from. */
export interface HandlerFunctionOptions {
  /** Construct id of the function (its role is `<id>Role`, its log group `<id>Logs`). */
  readonly id: string;
  readonly name: HandlerName;
  readonly config: PipelineConfig;
  readonly props: LabelingPipelineProps;
  readonly timeout: Duration;
  readonly description: string;
  readonly environment: Record<string, string>;
  /** @default 1024 */
  readonly memorySize?: number;
}

/** A handler function: the bundle staged with the pipeline's configuration file. */
export function defineHandlerFunction(res: PipelineResources, options: HandlerFunctionOptions): lambda.Function {
  const { id, props } = options;
  const path = res.scope.node.path;
  const { role, logGroup } = defineHandlerRole(res.scope, {
    roleId: `${id}Role`,
    logGroupId: `${id}Logs`,
    description: `${path}: ${options.description}`,
    vpc: props.vpc,
    logsKey: res.encryptionKey,
    retention: res.retention,
  });
  return new lambda.Function(res.scope, id, {
    description: `${path}: ${options.description}`,
    runtime: handlerRuntime(res.scope, props.runtime),
    handler: 'index.handler',
    code: stageHandler(res.scope, options.name, options.config),
    role,
    logGroup,
    memorySize: options.memorySize ?? 1024,
    timeout: options.timeout,
    ...handlerDefaults(props),
    environment: options.environment,
  });
}

/** A handler bundle staged with the pipeline's configuration file. */
export function stageHandler(scope: Construct, name: HandlerName, config: PipelineConfig): lambda.Code {
  return handlerCode(scope, 'labeling-pipeline', name, { [CONFIG_FILE]: JSON.stringify(config, null, 2) + '\n' });
}

/**
 * Exact DynamoDB actions on the ledger, plus what they need of the table's customer-managed key
 * (TableV2's grants leave the key out): Decrypt and DescribeKey to read, Encrypt and
 * GenerateDataKey to write.
 */
export function grantLedger(ledger: dynamodb.ITableV2, key: kms.IKey, grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
  const writes = actions.some((a) => /:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(a));
  const keyActions = ['kms:Decrypt', 'kms:DescribeKey', ...(writes ? ['kms:Encrypt', 'kms:GenerateDataKey'] : [])];
  return ledger.grants.actions(grantee, ...actions).combine(key.grant(grantee, ...keyActions));
}
