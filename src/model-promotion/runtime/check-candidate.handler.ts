/**
 * Lambda entry point of a ModelPromotion's CheckCandidate task (check-candidate.ts beside it):
 * client and environment are read once per execution environment.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createCheckCandidateHandler, readCheckCandidateEnv } from './check-candidate';
import { traced } from '../../private/runtime/tracing';

const s3 = traced(new S3Client({}));
const sfn = traced(new SFNClient({}));

export const handler = createCheckCandidateHandler({ s3, sfn, env: readCheckCandidateEnv(process.env) });
