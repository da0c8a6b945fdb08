"""The reference MLOps app in Python: an online hearing test whose results help fit hearing aids.

A port of `ReferenceAppStack` (examples/reference-app/app.ts), written against the published
`cdk_secure_mlops` wheel the way a Python user would. One stack composes the constructs, wired
through their events:

    phone/web client --POST /uploads--> SecureDataLake raw zone
    raw zone "Object Created" --> LabelingPipeline (clean, pseudonymize, WHO-grade rules, review)
    "Dataset Version Published" --> GpuTrainingJob (SageMaker, gated, registered)
    model --> ServerlessModelEndpoint (POST /predict)

One user pool signs everyone in. The client's REST API serves upload and predict; the review
routes have a REST API of their own whose CORS allows exactly the review console's origin
(ReviewConsole: the reviewers' web console on CloudFront, with the audiogram view).

It reads the same configuration as the TypeScript app (examples/reference-app/config, the model
and the training script under examples/). Keep it in step with app.ts: python-tests/
test_reference_app.py requires both to synthesize the same resources.

    python python-tests/reference_app.py            # synthesize into ./cdk.out (or $CDK_OUTDIR)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_secure_mlops import (
    CleaningRules,
    DatasetQualityGates,
    DatasetSplit,
    DataEventsTrailOptions,
    DatasetTrigger,
    DriftMethod,
    DriftThresholds,
    GpuTrainingJob,
    Labeler,
    LabelingPipeline,
    MetricComparison,
    MetricGate,
    ModelArtifact,
    ModelMonitor,
    ModelPromotion,
    PredictionCaptureOptions,
    PredictionDriftOptions,
    PromotionApproval,
    PromotionGate,
    RetrainOnDrift,
    ReviewConsole,
    ReviewConsoleView,
    ReviewOptions,
    ReviewerAccessOptions,
    SecureApiOptions,
    SecureDataLake,
    SecureUploadApi,
    ServerlessModelEndpoint,
    TrainingImage,
    TrainingInstanceType,
    TrainingMetricDefinition,
)

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
"""The repository's examples/ folder (the reference app's configuration, model and training code)."""

CONFIG_DIR = EXAMPLES_DIR / "reference-app" / "config"
MODEL_DIR = EXAMPLES_DIR / "reference-app" / "model"
TRAINING_DIR = EXAMPLES_DIR / "training" / "hearing-who-grade"
"""The example PyTorch training script and its Dockerfile."""


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


LABELING: dict[str, Any] = _read_json(CONFIG_DIR / "labeling.json")
MODEL: dict[str, Any] = _read_json(MODEL_DIR / "model.json")
METRIC_DEFINITIONS = [TrainingMetricDefinition(**d) for d in _read_json(TRAINING_DIR / "metric-definitions.json")]

HYPERPARAMETERS = {"epochs": "60", "lr": "0.003", "batch-size": "64", "hidden-units": "32,32", "seed": "1",
                   "class-names": json.dumps(LABELING["task"]["classes"], separators=(",", ":"))}
"""Hyperparameters of the training job (strings, as SageMaker passes them)."""

MIN_VALIDATION_ACCURACY = 0.8
"""A model is registered only with at least this validation accuracy."""

MODEL_NAME = "hearing-who-grade"
"""The model's name in the training job, the model registry and the models zone."""

CAPTURE_NAME = "hearing-predict"
"""The endpoint's capture name: the partition of its prediction captures, ground truth and drift reports."""

DRIFT_THRESHOLDS = DriftThresholds(
    p_value_threshold=0.01,
    dataset_drift_share=0.25,
    prediction=PredictionDriftOptions(method=DriftMethod.JENSEN_SHANNON, threshold=0.15),
)
"""12 features tested at once: a per-feature p of 0.01, 3 drifted features make dataset drift, and the
predicted class against a small validation-split reference by Jensen-Shannon distance (see app.ts)."""

DEFAULT_ALLOWED_ORIGINS = ["https://hearing-test.example.com"]
DEFAULT_REVIEW_CONSOLE_DOMAIN_NAME = "review.hearing-test.example.com"

CONSOLE_DIR = EXAMPLES_DIR / "reference-app" / "console"
"""The reference app's review console views (TypeScript), bundled with esbuild like build-views.ts."""


def build_console_views(out_dir: Path) -> list[ReviewConsoleView]:
    """Bundle the audiogram view into `<out_dir>/views/audiogram.js` with the repository's esbuild and
    the options of examples/reference-app/console/build-views.ts (byte-identical output)."""
    esbuild = shutil.which("esbuild") or str(EXAMPLES_DIR.parent / "node_modules" / ".bin" / "esbuild")
    out_file = out_dir / "views" / "audiogram.js"
    subprocess.run([esbuild, str(CONSOLE_DIR / "audiogram-view.ts"), "--bundle", "--format=esm", "--target=es2022",
                    "--minify", "--legal-comments=none", "--log-level=warning", f"--outfile={out_file}"], check=True)
    return [ReviewConsoleView(name="Audiogram", file=str(out_file))]


class ReferenceAppStack(Stack):
    """The reference app stack."""

    def __init__(self, scope: Construct, construct_id: str, *,
                 allowed_origins: Optional[Sequence[str]] = None,
                 review_console_domain_name: Optional[str] = None,
                 review_console_certificate_arn: Optional[str] = None,
                 review_console_cognito_domain_prefix: Optional[str] = None,
                 **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        allowed_origins = list(allowed_origins or DEFAULT_ALLOWED_ORIGINS)
        review_console_domain_name = review_console_domain_name or DEFAULT_REVIEW_CONSOLE_DOMAIN_NAME
        task = LABELING["task"]
        gates = LABELING["gates"]

        self.lake = SecureDataLake(self, "Lake", data_events_trail=DataEventsTrailOptions())

        # Every alarm of the flow notifies one encrypted topic (subscribe the on-call to it).
        self.alarm_topic = sns.Topic(
            self, "Alarms",
            master_key=kms.Key(self, "AlarmsKey", enable_key_rotation=True,
                               description="encrypts the alarm notifications topic"),
            enforce_ssl=True,
        )
        alarm_action = cw_actions.SnsAction(self.alarm_topic)

        # The client's REST API and authorizer: created by the upload route, shared by predict.
        self.uploads = SecureUploadApi(self, "Uploads", lake=self.lake, allowed_origins=allowed_origins)
        self.api = self.uploads.rest_api
        shared = dict(rest_api=self.api, authorization=self.uploads.authorization, logs_key=self.uploads.logs_key)

        self.pipeline = LabelingPipeline(
            self, "Hearing",
            lake=self.lake,
            pipeline_name="hearing",
            cleaning_rules=CleaningRules.from_file(str(CONFIG_DIR / "cleaning-rules.json")),
            label_attribute=task["attribute"],
            classes=task["classes"],
            labelers=[Labeler.rules_from_object(LABELING["rules"])],
            review=ReviewOptions(
                min_confidence=task["review"]["minConfidence"],
                quality_sample_rate=task["review"]["sampleRate"],
                quality_sample_salt=task["review"]["sampleSalt"],
                timeout=Duration.days(3),
            ),
            # The review routes' own REST API (same user pool): CORS for exactly the review console.
            review_api=SecureApiOptions(
                authorization=self.uploads.authorization,
                logs_key=self.uploads.logs_key,
                allowed_origins=[f"https://{review_console_domain_name}"],
                manage_account_cloud_watch_role=False,
            ),
            # Patients sign in to the same pool to upload: only the `reviewers` group may review.
            reviewers=ReviewerAccessOptions(group_name="reviewers", create_group=True),
            dataset_split=DatasetSplit(**LABELING["split"]),
            quality_gates=DatasetQualityGates(
                min_records=gates["minRecords"],
                max_quarantine_rate=gates["maxQuarantineRate"],
                max_unlabelled_rate=gates["maxUnlabelledRate"],
            ),
            dataset_schedule=events.Schedule.cron(hour="2", minute="0"),
            alarm_action=alarm_action,
        )

        # A published dataset version starts a gated training run on a GPU (spot, with checkpoints).
        self.training = GpuTrainingJob(
            self, "Training",
            lake=self.lake,
            model_name=MODEL_NAME,
            dataset_prefix=self.pipeline.zone_prefix,
            training_image=TrainingImage.from_asset(str(TRAINING_DIR)),
            instance_type=TrainingInstanceType.ML_G5_XLARGE,
            use_spot_instances=True,
            max_runtime=Duration.hours(2),
            max_wait=Duration.hours(4),
            hyperparameters=HYPERPARAMETERS,
            metric_definitions=METRIC_DEFINITIONS,
            gates=[MetricGate(metric_name="validation:accuracy",
                              comparison=MetricComparison.GREATER_THAN_OR_EQUAL,
                              threshold=MIN_VALIDATION_ACCURACY)],
            dataset_trigger=DatasetTrigger(pipeline_name=self.pipeline.pipeline_name),
            require_baseline=True,
            retrain_on_drift=RetrainOnDrift(pipeline=self.pipeline, capture_name=CAPTURE_NAME),
            alarm_action=alarm_action,
        )

        # Serves the committed example model until a gated model replaces it.
        self.endpoint = ServerlessModelEndpoint(
            self, "Predict",
            **shared,
            alarm_action=alarm_action,
            # The promoted model once ModelPromotion has switched the endpoint (SSM context lookup).
            # jsii passes a struct that is the last argument as keyword arguments in Python.
            model=ModelPromotion.promoted_model(
                self, self.lake,
                model_name=MODEL_NAME,
                fallback=ModelArtifact.from_asset(str(MODEL_DIR / MODEL["file"]),
                                                  version=MODEL["version"], class_names=task["classes"]),
                class_names=task["classes"],
            ),
            capture=PredictionCaptureOptions(lake=self.lake, capture_name=CAPTURE_NAME, sampling_percentage=100),
        )

        # Daily drift check of the captured predictions against the served model's baseline.
        self.monitor = ModelMonitor(
            self, "Monitor",
            lake=self.lake,
            capture_name=self.endpoint.capture_name,
            features=MODEL["features"]["order"],
            drift_thresholds=DRIFT_THRESHOLDS,
            alarm_action=alarm_action,
        )

        # Gated promotion of trained models: hash, gates, baseline, a person's approval, canary.
        self.promotion = ModelPromotion(
            self, "Promotion",
            endpoint=self.endpoint,
            lake=self.lake,
            model_name=MODEL_NAME,
            event_bus=self.training.event_bus,
            gates=[PromotionGate(metric_name="validation:accuracy",
                                 comparison=MetricComparison.GREATER_THAN_OR_EQUAL,
                                 threshold=MIN_VALIDATION_ACCURACY)],
            require_baseline=True,
            approval=PromotionApproval(timeout=Duration.days(3)),
            additional_alarms=[self.monitor.drift_alarm],
            alarm_action=alarm_action,
        )

        # The reviewers' web console: CloudFront + private S3, sign-in with the same user pool
        # (reviewers group only), the audiogram view for hearing-test records.
        views_dir = Path(tempfile.gettempdir()) / f"reference-app-console-views-{os.getpid()}"
        self.review_console = ReviewConsole(
            self, "ReviewConsole",
            user_pool=self.uploads.user_pool,
            api=self.pipeline.review_rest_api,
            classes=task["classes"],
            domain_name=review_console_domain_name,
            certificate=acm.Certificate.from_certificate_arn(
                self, "ReviewConsoleCertificate",
                review_console_certificate_arn
                or f"arn:aws:acm:us-east-1:{self.account}:certificate/00000000-0000-4000-8000-000000000000"),
            cognito_domain_prefix=review_console_cognito_domain_prefix or f"hearing-review-{self.account}",
            reviewer_group="reviewers",
            views=build_console_views(views_dir),
            title="Hearing test review",
        )

        self._dashboard()

    def _dashboard(self) -> None:
        """One dashboard for the whole flow: uploads -> cleaning -> labeling -> datasets -> predictions."""
        p, training, endpoint = self.pipeline, self.training, self.endpoint
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{self.stack_name}-flow",
                                         default_interval=Duration.days(1))
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Records by outcome (cleaning)",
                left=[p.metric_records(outcome) for outcome in ("clean", "duplicate", "quarantine")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dead letters",
                left=[p.metric_cleaning_dead_letters(),
                      p.labeling_dead_letter_queue.metric_approximate_number_of_messages_visible(),
                      p.events_dead_letter_queue.metric_approximate_number_of_messages_visible()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dataset versions and reviews",
                left=[p.dataset_state_machine.metric_succeeded(), p.dataset_state_machine.metric_failed(),
                      p.review_state_machine.metric_started()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Training runs",
                left=[training.metric_succeeded(), training.metric_failed()],
                right=[training.metric_time()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Predictions",
                left=[endpoint.metric_invocations(), endpoint.metric_errors(), endpoint.metric_server_errors()],
                right=[endpoint.metric_duration()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Drift and accuracy of the served model",
                left=[self.monitor.metric_drift_share(), self.monitor.metric_dataset_drift(),
                      self.monitor.metric_prediction_drift()],
                right=[self.monitor.metric_accuracy()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Prediction captures",
                left=[endpoint.metric_captures_dropped(), endpoint.metric_capture_delivery_failures()],
                right=[self.monitor.metric_rows_evaluated()],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(
                title="Alarms",
                alarms=[*p.alarms, training.failure_alarm, endpoint.errors_alarm, endpoint.latency_alarm,
                        self.monitor.drift_alarm, self.monitor.failure_alarm, endpoint.capture_dead_letter_alarm,
                        self.promotion.failure_alarm, self.promotion.dead_letter_alarm],
                width=24,
            ),
        )


if __name__ == "__main__":
    app = App()
    ReferenceAppStack(app, "HearingTestApp", env=Environment(account="111111111111", region="eu-central-1"))
    app.synth()
