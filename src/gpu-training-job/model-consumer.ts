import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * What the training job offers a consumer when binding it.
 */
export interface ModelConsumerBindOptions {
  /** The queue (encrypted, owned by the training job) for events the target could not take. */
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * How a consumer receives trained models.
 */
export interface ModelConsumerConfig {
  /** The target that receives each "Model Trained" event of the training job. */
  readonly target: events.IRuleTarget;

  /**
   * A principal that gets read access to the job's model artifacts and model records in the
   * models zone (S3 and the lake key).
   *
   * @default - no grant
   */
  readonly grantee?: iam.IGrantable;
}

/**
 * Something that takes over models that passed the gate: a deployment step, a notification, an
 * evaluation. It receives the "Model Trained" event (`GpuTrainingJob.DETAIL_TYPE_MODEL_TRAINED`),
 * whose detail names the model artifact (`modelArtifact`, an `s3://` URI of `model.tar.gz`), the
 * published ONNX file (`modelKey` in the models zone, and its `modelSha256`), its drift baseline
 * (`baselineKey`, null without one), the model record (`modelRecord`), the model package
 * (`modelPackageArn`), the dataset version and the final metrics.
 */
export interface IModelConsumer {
  /**
   * Bind the consumer to a training job.
   *
   * @param scope the training job
   * @param options what the job offers
   */
  bindModelConsumer(scope: Construct, options: ModelConsumerBindOptions): ModelConsumerConfig;
}

/**
 * Ready-made model consumers.
 */
export abstract class ModelConsumer {
  /**
   * A Lambda function (in any language) invoked asynchronously with each "Model Trained" event;
   * its role may read the model artifacts and records.
   *
   * @param handler the function
   */
  public static lambdaFunction(handler: lambda.IFunction): IModelConsumer {
    return {
      bindModelConsumer: (_scope: Construct, options: ModelConsumerBindOptions): ModelConsumerConfig => ({
        target: new targets.LambdaFunction(handler, {
          deadLetterQueue: options.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
        }),
        grantee: handler,
      }),
    };
  }

  /**
   * A state machine started with each "Model Trained" event as its input (the whole event); its
   * role may read the model artifacts and records.
   *
   * @param stateMachine the state machine
   */
  public static stateMachine(stateMachine: sfn.IStateMachine): IModelConsumer {
    return {
      bindModelConsumer: (_scope: Construct, options: ModelConsumerBindOptions): ModelConsumerConfig => ({
        target: new targets.SfnStateMachine(stateMachine, {
          deadLetterQueue: options.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
        }),
        grantee: stateMachine,
      }),
    };
  }

  /**
   * Any EventBridge rule target (configure its dead-letter queue yourself), and optionally a
   * principal that may read the model artifacts and records.
   *
   * @param target the rule target
   * @param grantee the principal that reads the models
   * @default - grantee: no grant
   */
  public static eventTarget(target: events.IRuleTarget, grantee?: iam.IGrantable): IModelConsumer {
    return { bindModelConsumer: (): ModelConsumerConfig => ({ target, grantee }) };
  }
}
