import { Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import {
  GpuTrainingJob, ISecureDataLake, LabelingPipeline, ModelArtifact, ModelMonitor, ModelPromotion, ReviewConsole, SecureDataLake, SecureUploadApi,
  ServerlessModelEndpoint, TrainingImage,
} from '../../src';
import { GATES, METRICS } from '../gpu-training-job/training-fixture';
import { hearingPipelineProps } from '../labeling-pipeline/pipeline-fixture';
import { MODEL_PATH } from '../serverless-model-endpoint/fixture';

/** The constructs `everyConstruct` defines. */
export interface EveryConstruct {
  readonly lake: SecureDataLake;
  readonly uploads: SecureUploadApi;
  readonly pipeline: LabelingPipeline;
  readonly training: GpuTrainingJob;
  readonly endpoint: ServerlessModelEndpoint;
  readonly monitor: ModelMonitor;
  readonly promotion: ModelPromotion;
  readonly reviewConsole: ReviewConsole;
}

/**
 * Every construct of the library with its defaults, wired as a user wires them: one API and
 * authorizer for uploads and predictions, the hearing pipeline, a training job started by the
 * pipeline's dataset versions (and retraining on drift), an endpoint (by default serving the
 * reference model as an asset) capturing its predictions, its drift monitor, the gated promotion of
 * trained models, and the reviewers' console.
 */
export function everyConstruct(stack: Stack, model: (lake: ISecureDataLake) => ModelArtifact = () => ModelArtifact.fromAsset(MODEL_PATH, { version: 'v1' })): EveryConstruct {
  const lake = new SecureDataLake(stack, 'Lake');
  const uploads = new SecureUploadApi(stack, 'Uploads', { lake });
  const pipeline = new LabelingPipeline(stack, 'Hearing', { ...hearingPipelineProps(), lake });
  const training = new GpuTrainingJob(stack, 'Training', {
    lake,
    modelName: 'hearing-who-grade',
    trainingImage: TrainingImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Repo', 'hearing-training'), 'v1'),
    metricDefinitions: METRICS,
    gates: GATES,
    datasetPrefix: pipeline.zonePrefix,
    datasetTrigger: { pipelineName: pipeline.pipelineName },
    retrainOnDrift: { pipeline },
  });
  const endpoint = new ServerlessModelEndpoint(stack, 'Predict', {
    model: model(lake),
    restApi: uploads.restApi,
    authorization: uploads.authorization,
    capture: { lake },
  });
  const monitor = new ModelMonitor(stack, 'Monitor', { lake, captureName: endpoint.captureName! });
  const promotion = new ModelPromotion(stack, 'Promotion', { endpoint, lake, modelName: 'hearing-who-grade' });
  const reviewConsole = new ReviewConsole(stack, 'ReviewConsole', {
    userPool: pipeline.reviewUserPool!,
    api: pipeline.reviewRestApi!,
    classes: ['normal', 'mild', 'moderate'],
    domainName: 'review.example.com',
    certificate: acm.Certificate.fromCertificateArn(stack, 'ConsoleCertificate', 'arn:aws:acm:us-east-1:111111111111:certificate/0f0e0d0c-0b0a-4909-8807-060504030201'),
    cognitoDomainPrefix: 'example-review',
  });
  return { lake, uploads, pipeline, training, endpoint, monitor, promotion, reviewConsole };
}
