/**
 * Lambda entry point of the capture writer (capture-writer.ts beside it): the client and the
 * environment are read once per execution environment.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createCaptureWriter, readCaptureWriterEnv } from './capture-writer';
import { traced } from '../../private/runtime/tracing';

export const handler = createCaptureWriter({ s3: traced(new S3Client({})), env: readCaptureWriterEnv(process.env) });
