/**
 * The reference MLOps app: an online hearing test whose results help fit hearing aids.
 *
 * One stack composes the four constructs, wired through their events:
 *   phone/web client ──POST /uploads──► SecureDataLake raw zone
 *   raw zone "Object Created" ──► LabelingPipeline (clean, pseudonymize, WHO-grade rules, review)
 *   "Dataset Version Published" ──► GpuTrainingJob (SageMaker, gated, registered)
 *   model ──► ServerlessModelEndpoint (POST /predict)
 * One REST API with one Cognito authorizer serves the client: upload, predict and review. The
 * authorizer only proves a token of the user pool; the review routes also require the `reviewers`
 * group (checked by the review handler), so patients, who upload, can never review.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { hearingLabelingProps } from './labeling-props';
import {
  GpuTrainingJob, LabelingPipeline, MetricComparison, ModelArtifact, SecureDataLake,
  SecureUploadApi, ServerlessModelEndpoint, TrainingImage, TrainingInstanceType,
} from '../../src';

/** Configuration of the hearing-test example (data, not code: the constructs are domain-agnostic). */
export const CONFIG_DIR = path.join(__dirname, 'config');
export const MODEL_DIR = path.join(__dirname, 'model');
export const LABELING = JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, 'labeling.json'), 'utf8'));
export const MODEL = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));
/** The example PyTorch training script and its Dockerfile (examples/training/hearing-who-grade). */
export const TRAINING_DIR = path.join(__dirname, '..', 'training', 'hearing-who-grade');
export const METRIC_DEFINITIONS = JSON.parse(fs.readFileSync(path.join(TRAINING_DIR, 'metric-definitions.json'), 'utf8'));
/** Hyperparameters of the training job (strings, as SageMaker passes them); the local run uses them too. */
export const HYPERPARAMETERS: Record<string, string> = { 'epochs': '60', 'lr': '0.003', 'batch-size': '64', 'hidden-units': '32,32', 'seed': '1' };
/** A model is registered only with at least this validation accuracy. */
export const MIN_VALIDATION_ACCURACY = 0.8;

/** Properties of the reference app stack. */
export interface ReferenceAppStackProps extends StackProps {
  /** Origins of the web client. @default ['https://hearing-test.example.com'] */
  readonly allowedOrigins?: string[];
}

/** The reference app stack. */
export class ReferenceAppStack extends Stack {
  public readonly lake: SecureDataLake;
  public readonly uploads: SecureUploadApi;
  public readonly pipeline: LabelingPipeline;
  public readonly training: GpuTrainingJob;
  public readonly endpoint: ServerlessModelEndpoint;
  public readonly api: apigw.IRestApi;
  public readonly alarmTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: ReferenceAppStackProps = {}) {
    super(scope, id, props);
    const allowedOrigins = props.allowedOrigins ?? ['https://hearing-test.example.com'];

    this.lake = new SecureDataLake(this, 'Lake', { dataEventsTrail: {} });

    // Every alarm of the flow notifies one encrypted topic (subscribe the on-call to it).
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      masterKey: new kms.Key(this, 'AlarmsKey', { enableKeyRotation: true, description: 'encrypts the alarm notifications topic' }),
      enforceSSL: true,
    });
    const alarmAction = new cwActions.SnsAction(this.alarmTopic);

    // The client's one REST API and one authorizer: created by the upload route, shared by the others.
    this.uploads = new SecureUploadApi(this, 'Uploads', { lake: this.lake, allowedOrigins });
    this.api = this.uploads.restApi;
    const shared = { restApi: this.api, authorization: this.uploads.authorization, logsKey: this.uploads.logsKey };

    const hearing = hearingLabelingProps(LABELING, path.join(CONFIG_DIR, 'cleaning-rules.json'));
    this.pipeline = new LabelingPipeline(this, 'Hearing', {
      ...hearing,
      lake: this.lake,
      pipelineName: 'hearing',
      review: { ...hearing.review, timeout: Duration.days(3) },
      reviewApi: shared,
      // Patients sign in to the same user pool to upload: signing in must not make anyone a
      // reviewer. Only members of the `reviewers` group (audiologists, added by an administrator)
      // may list records or label them; the pipeline creates the group in the shared pool.
      reviewers: { groupName: 'reviewers', createGroup: true },
      datasetSchedule: events.Schedule.cron({ hour: '2', minute: '0' }),
      alarmAction,
    });

    // A published dataset version starts a gated training run on a GPU (spot, with checkpoints).
    this.training = new GpuTrainingJob(this, 'Training', {
      lake: this.lake,
      modelName: 'hearing-who-grade',
      datasetPrefix: this.pipeline.zonePrefix,
      trainingImage: TrainingImage.fromAsset(TRAINING_DIR),
      instanceType: TrainingInstanceType.ML_G5_XLARGE,
      useSpotInstances: true,
      maxRuntime: Duration.hours(2),
      maxWait: Duration.hours(4),
      hyperparameters: HYPERPARAMETERS,
      metricDefinitions: METRIC_DEFINITIONS,
      gates: [{ metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: MIN_VALIDATION_ACCURACY }],
      datasetTrigger: { pipelineName: this.pipeline.pipelineName },
      alarmAction,
    });

    // Serves the committed example model until a gated model replaces it: set the model's key from
    // the "Model Trained" event (ModelArtifact.fromDataLake) and deploy; CodeDeploy shifts traffic.
    this.endpoint = new ServerlessModelEndpoint(this, 'Predict', {
      ...shared,
      alarmAction,
      model: ModelArtifact.fromAsset(path.join(MODEL_DIR, MODEL.file), {
        version: MODEL.version,
        classNames: LABELING.task.classes,
      }),
    });

    this.dashboard();
  }

  /** One dashboard for the whole flow: uploads → cleaning → labeling → datasets → predictions. */
  private dashboard(): void {
    const p = this.pipeline;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${this.stackName}-flow`, defaultInterval: Duration.days(1) });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Records by outcome (cleaning)',
        left: ['clean', 'duplicate', 'quarantine'].map((o) => p.metricRecords(o)),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters',
        left: [
          p.metricCleaningDeadLetters(),
          p.labelingDeadLetterQueue.metricApproximateNumberOfMessagesVisible(),
          p.eventsDeadLetterQueue.metricApproximateNumberOfMessagesVisible(),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dataset versions and reviews',
        left: [p.datasetStateMachine.metricSucceeded(), p.datasetStateMachine.metricFailed(), p.reviewStateMachine.metricStarted()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Training runs',
        left: [this.training.metricSucceeded(), this.training.metricFailed()],
        right: [this.training.metricTime()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Predictions',
        left: [this.endpoint.metricInvocations(), this.endpoint.metricErrors(), this.endpoint.metricServerErrors()],
        right: [this.endpoint.metricDuration()],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...p.alarms, this.training.failureAlarm, this.endpoint.errorsAlarm, this.endpoint.latencyAlarm],
        width: 24,
      }),
    );
  }
}
