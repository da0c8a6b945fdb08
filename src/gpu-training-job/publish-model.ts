/**
 * The function of a GpuTrainingJob's PublishModel task (`PublishModel`, its role
 * `PublishModelRole` and log group `PublishModelLogs`): it reads the training job's model.tar.gz
 * and publishes the ONNX file and the drift baseline in the models zone (see
 * runtime/publish-model.ts), then writes the training run's lineage event in the curated zone.
 * Its role reads this model's training output, reads and writes (never deletes) only the
 * published models of this model and the baselines, and writes (no read, no delete) under the
 * curated zone's `lineage/`.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PUBLISH_MODEL_ENV } from './runtime/contract';
import { MODEL_KEYS, TrainingConfig } from './training-config';
import { LINEAGE_ROOT } from '../contract/lineage';
import { MONITORING_KEYS } from '../contract/monitoring';
import { handlerCode, handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';
import { defineHandlerRole } from '../private/handler-role';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/** What the function is built from. */
export interface PublishModelFunctionOptions {
  readonly config: TrainingConfig;
  readonly lake: ISecureDataLake;
  /** The job's key (the log group). */
  readonly logsKey: kms.IKey;
  readonly retention: logs.RetentionDays;
  /** The training job's VPC, if any (the function runs there too). */
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/** Memory to hold the model file (at most maxArchiveBytes) once, plus the runtime: 1 to 10 GiB. */
export function publishModelMemoryMiB(maxArchiveBytes: number): number {
  return Math.min(10240, Math.max(1024, Math.ceil((maxArchiveBytes / 1024 ** 2) * 1.25) + 512));
}

/** Define the PublishModel function and its grants. */
export function definePublishModelFunction(scope: Construct, o: PublishModelFunctionOptions): lambda.Function {
  const { config, lake } = o;
  const path = scope.node.path;
  const { role, logGroup } = defineHandlerRole(scope, {
    roleId: 'PublishModelRole',
    logGroupId: 'PublishModelLogs',
    description: `${path}: publishes the ONNX file and drift baseline of each trained ${config.modelName} model`,
    vpc: o.vpc,
    logsKey: o.logsKey,
    retention: o.retention,
  });
  const fn = new lambda.Function(scope, 'PublishModel', {
    description: `${path}: publishes the ONNX file and drift baseline of each trained model`,
    runtime: handlerRuntime(scope),
    handler: 'index.handler',
    code: handlerCode(scope, 'gpu-training-job', 'publish-model'),
    role,
    logGroup,
    memorySize: publishModelMemoryMiB(config.maxArchiveBytes),
    timeout: Duration.minutes(15),
    ...handlerDefaults({ vpc: o.vpc, vpcSubnets: o.vpcSubnets }),
    environment: {
      [PUBLISH_MODEL_ENV.modelsBucket]: lake.bucket(DataZone.MODELS).bucketName,
      [PUBLISH_MODEL_ENV.lakeKeyArn]: lake.encryptionKey.keyArn,
      [PUBLISH_MODEL_ENV.modelName]: config.modelName,
      [PUBLISH_MODEL_ENV.modelFileName]: config.modelFileName,
      [PUBLISH_MODEL_ENV.baselineFileName]: config.baselineFileName,
      [PUBLISH_MODEL_ENV.requireBaseline]: String(config.requireBaseline),
      [PUBLISH_MODEL_ENV.maxArchiveBytes]: String(config.maxArchiveBytes),
      [PUBLISH_MODEL_ENV.curatedBucket]: lake.bucket(DataZone.CURATED).bucketName,
    },
  });
  lake.grantRead(fn, DataZone.MODELS, `${MODEL_KEYS.trainingJobs(config.modelName)}*`);
  // Read as well as write: a retry compares what an earlier attempt stored (If-None-Match refused it).
  lake.grantReadWrite(fn, DataZone.MODELS, `${MODEL_KEYS.models(config.modelName)}*`);
  lake.grantReadWrite(fn, DataZone.MODELS, `${MONITORING_KEYS.baselinesPrefix}*`);
  // The training run's lineage event and its index objects, written once (If-None-Match), never read back.
  lake.grantWrite(fn, DataZone.CURATED, `${LINEAGE_ROOT}*`);
  return fn;
}
