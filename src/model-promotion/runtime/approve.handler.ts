/**
 * Lambda entry point of a ModelPromotion's approval handler (approve.ts beside it): clients and
 * environment are read once per execution environment.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createApproveHandler, readApproveEnv } from './approve';
import { traced } from '../../private/runtime/tracing';

const s3 = traced(new S3Client({}));
const sfn = traced(new SFNClient({}));

export const handler = createApproveHandler({ s3, sfn, env: readApproveEnv(process.env) });
