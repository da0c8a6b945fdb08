/**
 * Lambda entry point of a ModelPromotion's RecordLineage task (record-lineage.ts beside it):
 * client and environment are read once per execution environment.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createRecordLineageHandler, readRecordLineageEnv } from './record-lineage';
import { traced } from '../../private/runtime/tracing';

const s3 = traced(new S3Client({}));

export const handler = createRecordLineageHandler({ s3, env: readRecordLineageEnv(process.env) });
