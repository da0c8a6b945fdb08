/**
 * The reference MLOps app: an online hearing test whose results help fit hearing aids.
 *
 * One stack composes the four constructs, wired through their events:
 *   phone/web client ──POST /uploads──► SecureDataLake raw zone
 *   raw zone "Object Created" ──► LabelingPipeline (clean, pseudonymize, WHO-grade rules, review)
 *   "Dataset Version Published" ──► GpuTrainingJob (SageMaker, gated, registered)
 *   "Model Trained" ──► ModelPromotion (hash, gates, baseline, a person's approval, canary) ──►
 *   ServerlessModelEndpoint (POST /predict, every prediction captured) ──► ModelMonitor (daily
 *   drift check; "Model Drift Detected" builds a fresh dataset version, which trains again)
 * One user pool signs everyone in. The client's REST API serves upload and predict; the review
 * routes have a REST API of their own whose CORS allows exactly the review console's origin
 * (ReviewConsole: the reviewers' web console on CloudFront, sign-in with the same pool). The
 * authorizers only prove a token of the pool; the review routes also require the `reviewers`
 * group (checked by the review handler), so patients, who upload, can never review.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { buildViews } from './console/build-views';
import { hearingLabelingProps } from './labeling-props';
import {
  DriftMethod, DriftThresholds, GpuTrainingJob, LabelingPipeline, MetricComparison, ModelArtifact, ModelMonitor, ModelPromotion, ReviewConsole, SecureDataLake,
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
export const HYPERPARAMETERS: Record<string, string> = {
  'epochs': '60', 'lr': '0.003', 'batch-size': '64', 'hidden-units': '32,32', 'seed': '1',
  // The endpoint's class names: the drift baseline's predicted classes must be the same strings.
  'class-names': JSON.stringify(LABELING.task.classes),
};
/** A model is registered only with at least this validation accuracy. */
export const MIN_VALIDATION_ACCURACY = 0.8;
/** The model's name in the training job, the model registry and the models zone. */
export const MODEL_NAME = 'hearing-who-grade';
/** The endpoint's capture name: the partition of its prediction captures, ground truth and drift reports. */
export const CAPTURE_NAME = 'hearing-predict';
/**
 * The drift settings of the hearing monitor.
 * - Twelve features are tested at once: at Evidently's per-feature p < 0.05, at least one
 *   undrifted feature is flagged in a large share of windows (about a third in the local run's
 *   setting, measured), so the per-feature level is 0.01.
 * - A calibration offset of one device shifts two frequencies of both ears (4 of 12 features),
 *   below Evidently's dataset share of 0.5: the dataset counts as drifted from 3 features (0.25).
 * - The predicted class's baseline is the model's class mix over its training and validation
 *   splits (train.py): a few hundred people in the local run. Chi-squared flags any class such a
 *   reference never saw ("complete" is rare), and the mix of 1000 later sessions of the same
 *   people differs from it by a Jensen–Shannon distance of 0.09 at the median, 0.12 at most over
 *   60 generated runs (measured): 0.15 keeps that out and still sees a real change of the mix.
 */
export const DRIFT_THRESHOLDS: DriftThresholds = {
  pValueThreshold: 0.01,
  datasetDriftShare: 0.25,
  prediction: { method: DriftMethod.JENSEN_SHANNON, threshold: 0.15 },
};

/** Properties of the reference app stack. */
export interface ReferenceAppStackProps extends StackProps {
  /** Origins of the web client. @default ['https://hearing-test.example.com'] */
  readonly allowedOrigins?: string[];
  /** Domain name of the review console. @default 'review.hearing-test.example.com' */
  readonly reviewConsoleDomainName?: string;
  /**
   * ARN of the review console's TLS certificate (us-east-1, for CloudFront).
   * @default - a placeholder ARN in the stack's account: set a real certificate to deploy
   */
  readonly reviewConsoleCertificateArn?: string;
  /** Prefix of the console's Cognito sign-in domain. @default 'hearing-review-<account>' */
  readonly reviewConsoleCognitoDomainPrefix?: string;
}

/** The review console's views (the audiogram), bundled once per process at synth. */
let referenceViewsDir: string | undefined;
function referenceViews(): { dir: string; views: Array<{ name: string; module: string }> } {
  const dir = referenceViewsDir ?? path.join(os.tmpdir(), `reference-app-console-views-${process.pid}`);
  const views = buildViews(dir);
  referenceViewsDir = dir;
  return { dir, views };
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
  public readonly reviewConsole: ReviewConsole;
  public readonly monitor: ModelMonitor;
  public readonly promotion: ModelPromotion;

  constructor(scope: Construct, id: string, props: ReferenceAppStackProps = {}) {
    super(scope, id, props);
    const allowedOrigins = props.allowedOrigins ?? ['https://hearing-test.example.com'];
    const reviewConsoleDomainName = props.reviewConsoleDomainName ?? 'review.hearing-test.example.com';

    this.lake = new SecureDataLake(this, 'Lake', { dataEventsTrail: {} });

    // Every alarm of the flow notifies one encrypted topic (subscribe the on-call to it).
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      masterKey: new kms.Key(this, 'AlarmsKey', { enableKeyRotation: true, description: 'encrypts the alarm notifications topic' }),
      enforceSSL: true,
    });
    const alarmAction = new cwActions.SnsAction(this.alarmTopic);

    // The client's REST API and authorizer: created by the upload route, shared by predict.
    this.uploads = new SecureUploadApi(this, 'Uploads', { lake: this.lake, allowedOrigins });
    this.api = this.uploads.restApi;
    const shared = { restApi: this.api, authorization: this.uploads.authorization, logsKey: this.uploads.logsKey };

    const hearing = hearingLabelingProps(LABELING, path.join(CONFIG_DIR, 'cleaning-rules.json'));
    this.pipeline = new LabelingPipeline(this, 'Hearing', {
      ...hearing,
      lake: this.lake,
      pipelineName: 'hearing',
      review: { ...hearing.review, timeout: Duration.days(3) },
      // The review routes' own REST API (same user pool): CORS for exactly the review console.
      reviewApi: {
        authorization: this.uploads.authorization,
        logsKey: this.uploads.logsKey,
        allowedOrigins: [`https://${reviewConsoleDomainName}`],
        manageAccountCloudWatchRole: false,
      },
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
      modelName: MODEL_NAME,
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
      // Every model carries its drift baseline (baseline.json beside model.onnx, from train.py).
      requireBaseline: true,
      // Drift of the served model builds a fresh dataset version (with the newest records), which
      // the dataset trigger above then trains on.
      retrainOnDrift: { pipeline: this.pipeline, captureName: CAPTURE_NAME },
      alarmAction,
    });

    // Serves the committed example model until ModelPromotion (below) switches the endpoint to a
    // trained one; from then on, every synthesis reads the promoted model (an SSM context lookup),
    // so a later deployment keeps it.
    this.endpoint = new ServerlessModelEndpoint(this, 'Predict', {
      ...shared,
      alarmAction,
      model: ModelPromotion.promotedModel(this, this.lake, {
        modelName: MODEL_NAME,
        fallback: ModelArtifact.fromAsset(path.join(MODEL_DIR, MODEL.file), { version: MODEL.version, classNames: LABELING.task.classes }),
        classNames: LABELING.task.classes,
      }),
      // Every prediction is captured to the lake's models zone (monitoring/captures/, expired by
      // the lake after 90 days) for the drift monitor; clinical traffic is low, so 100 %.
      capture: { lake: this.lake, captureName: CAPTURE_NAME, samplingPercentage: 100 },
    });

    // Daily drift check of the captured predictions against the served model's baseline: report
    // (JSON + HTML) in the lake, metrics, an alarm, and "Model Drift Detected" (retraining above).
    this.monitor = new ModelMonitor(this, 'Monitor', {
      lake: this.lake,
      captureName: this.endpoint.captureName!,
      features: MODEL.features.order,
      driftThresholds: DRIFT_THRESHOLDS,
      alarmAction,
    });

    // A trained model that passed the training gates is checked again (SHA-256 against its record,
    // the gates, its drift baseline), waits for a person's approval (production: a clinician or
    // release manager, `grantApprove`), then rolls out through the endpoint's canary; the drift
    // alarm joins the rollout's alarms. Every outcome is audited in the lake and announced.
    this.promotion = new ModelPromotion(this, 'Promotion', {
      endpoint: this.endpoint,
      lake: this.lake,
      modelName: MODEL_NAME,
      eventBus: this.training.eventBus,
      gates: [{ metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: MIN_VALIDATION_ACCURACY }],
      requireBaseline: true,
      approval: { timeout: Duration.days(3) },
      additionalAlarms: [this.monitor.driftAlarm],
      alarmAction,
    });

    // The reviewers' web console: CloudFront + private S3, sign-in with the same user pool
    // (reviewers group only), the audiogram view for hearing-test records.
    const consoleViews = referenceViews();
    this.reviewConsole = new ReviewConsole(this, 'ReviewConsole', {
      userPool: this.uploads.userPool!,
      api: this.pipeline.reviewRestApi!,
      classes: LABELING.task.classes,
      domainName: reviewConsoleDomainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'ReviewConsoleCertificate',
        props.reviewConsoleCertificateArn ?? `arn:aws:acm:us-east-1:${this.account}:certificate/00000000-0000-4000-8000-000000000000`),
      cognitoDomainPrefix: props.reviewConsoleCognitoDomainPrefix ?? `hearing-review-${this.account}`,
      reviewerGroup: 'reviewers',
      views: consoleViews.views.map((v) => ({ name: v.name, file: path.join(consoleViews.dir, v.module) })),
      title: 'Hearing test review',
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
      new cloudwatch.GraphWidget({
        title: 'Drift and accuracy of the served model',
        left: [this.monitor.metricDriftShare(), this.monitor.metricDatasetDrift(), this.monitor.metricPredictionDrift()],
        right: [this.monitor.metricAccuracy()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Prediction captures',
        left: [this.endpoint.metricCapturesDropped(), this.endpoint.metricCaptureDeliveryFailures()],
        right: [this.monitor.metricRowsEvaluated()],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [
          ...p.alarms, this.training.failureAlarm, this.endpoint.errorsAlarm, this.endpoint.latencyAlarm,
          this.monitor.driftAlarm, this.monitor.failureAlarm, this.endpoint.captureDeadLetterAlarm!,
          this.promotion.failureAlarm, this.promotion.deadLetterAlarm,
        ],
        width: 24,
      }),
    );
  }
}
