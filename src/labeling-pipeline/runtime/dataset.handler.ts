/**
 * Lambda entry point of the dataset-version task (dataset.ts beside it): clients, environment and
 * pipeline configuration are read once per execution environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { createDatasetHandler, DATASET_ENV } from './dataset';
import { loadPipelineConfig, readEnv } from './pipeline-io';
import { traced } from '../../private/runtime/tracing';

const s3 = traced(new S3Client({}));
const ddb = traced(new DynamoDBClient({}));

export const handler = createDatasetHandler({ s3, ddb, env: readEnv(process.env, DATASET_ENV), config: loadPipelineConfig() });
