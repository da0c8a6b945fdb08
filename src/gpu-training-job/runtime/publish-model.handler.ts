/**
 * Lambda entry point of GpuTrainingJob's PublishModel task (publish-model.ts beside it): the
 * client and environment are read once per execution environment.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createPublishModelHandler, readPublishModelEnv } from './publish-model';
import { traced } from '../../private/runtime/tracing';

const s3 = traced(new S3Client({}));

export const handler = createPublishModelHandler({ s3, env: readPublishModelEnv(process.env) });
