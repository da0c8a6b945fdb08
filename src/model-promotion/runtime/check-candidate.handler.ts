/**
 * Lambda entry point of a ModelPromotion's CheckCandidate task (check-candidate.ts beside it):
 * client and environment are read once per execution environment.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createCheckCandidateHandler, readCheckCandidateEnv } from './check-candidate';
import { traced } from '../../private/runtime/tracing';

const s3 = traced(new S3Client({}));

export const handler = createCheckCandidateHandler({ s3, env: readCheckCandidateEnv(process.env) });
