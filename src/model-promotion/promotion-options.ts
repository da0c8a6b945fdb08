import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import { HandlerOptions } from '../api-options/handler-options';
import { MetricComparison } from '../gpu-training-job/training-options';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';
import { ModelArtifact } from '../serverless-model-endpoint/model-artifact';
import { ServerlessModelEndpoint } from '../serverless-model-endpoint/serverless-model-endpoint';

/**
 * A condition a model version must meet before it is promoted, on one of the final metrics its
 * model record states (the training job's `FinalMetricDataList`). A version whose record lacks
 * the metric fails the gate.
 */
export interface PromotionGate {
  /** The metric's name, as in the model record (e.g. `validation:accuracy`). */
  readonly metricName: string;
  /** How the metric is compared with the threshold. */
  readonly comparison: MetricComparison;
  /** The threshold (a finite number). */
  readonly threshold: number;
}

/**
 * A human approval between the checks and the rollout: the state machine writes an approval
 * request, puts a "Model Approval Requested" event and waits for a decision, which an approver
 * sends with a signed (IAM) POST to the promotion's approval URL (`approvalUrl`; allow approvers
 * with `grantApprove`). The audit record names the approver as IAM verified the request.
 */
export interface PromotionApproval {
  /**
   * How long a version waits for a decision; then it is rejected (APPROVAL_TIMED_OUT).
   *
   * @default Duration.days(3)
   */
  readonly timeout?: Duration;
}

/**
 * Properties of a `ModelPromotion`.
 */
export interface ModelPromotionProps extends HandlerOptions {
  /** The endpoint that serves the promoted versions (through its live alias and deployment group). */
  readonly endpoint: ServerlessModelEndpoint;

  /** The lake whose models zone holds the model records, models, baselines and audit records. */
  readonly lake: ISecureDataLake;

  /**
   * The model whose versions are promoted (the GpuTrainingJob's `modelName`): only its "Model
   * Trained" events start a promotion, and every permission is scoped to its folders.
   */
  readonly modelName: string;

  /**
   * The bus where "Model Trained" arrives and where the promotion's events go.
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * Metric gates on the model record's metrics (in addition to the training job's own gates).
   *
   * @default - none
   */
  readonly gates?: PromotionGate[];

  /**
   * Promote only a version whose drift baseline (`monitoring/baselines/<sha256>.json`) exists and
   * names its SHA-256.
   *
   * @default true
   */
  readonly requireBaseline?: boolean;

  /**
   * A human approval before the rollout.
   *
   * @default - none: a version that passes its checks is rolled out
   */
  readonly approval?: PromotionApproval;

  /**
   * More alarms that roll a rollout back (for example a prediction-drift alarm), added to the
   * endpoint's deployment group next to its errors and latency alarms.
   *
   * @default - the endpoint's alarms only
   */
  readonly additionalAlarms?: cloudwatch.IAlarm[];

  /**
   * How long a promotion may run, the approval wait and the rollout included.
   *
   * @default - the approval timeout plus 6 hours
   */
  readonly timeout?: Duration;

  /**
   * The SSM parameter (String) where each promotion records the promoted model (JSON: bucket, key,
   * SHA-256, version and S3 version id) for the app to deploy the endpoint with
   * (`ModelPromotion.promotedModel`). Written by the state machine, not by CloudFormation.
   *
   * @default - ModelPromotion.defaultPromotedModelParameterName(modelName)
   */
  readonly promotedModelParameterName?: string;

  /**
   * Where the failure alarm notifies.
   *
   * @default - no action
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * Options of `ModelPromotion.promotedModel`.
 */
export interface PromotedModelOptions {
  /** The promoted model's name (the ModelPromotion's `modelName`). */
  readonly modelName: string;

  /** The model to serve while no version was promoted (or the parameter cannot be read). */
  readonly fallback: ModelArtifact;

  /**
   * Class names of the promoted model.
   *
   * @default - the fallback's
   */
  readonly classNames?: string[];

  /**
   * The SSM parameter the ModelPromotion writes.
   *
   * @default - ModelPromotion.defaultPromotedModelParameterName(modelName)
   */
  readonly parameterName?: string;
}
