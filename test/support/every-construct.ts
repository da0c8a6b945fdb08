import { Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import {
  GpuTrainingJob, ISecureDataLake, LabelingPipeline, ModelArtifact, SecureDataLake, SecureUploadApi, ServerlessModelEndpoint, TrainingImage,
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
}

/**
 * Every construct of the library with its defaults, wired as a user wires them: one API and
 * authorizer for uploads and predictions, the hearing pipeline, a training job started by the
 * pipeline's dataset versions, an endpoint (by default serving the reference model as an asset).
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
  });
  const endpoint = new ServerlessModelEndpoint(stack, 'Predict', {
    model: model(lake),
    restApi: uploads.restApi,
    authorization: uploads.authorization,
  });
  return { lake, uploads, pipeline, training, endpoint };
}
