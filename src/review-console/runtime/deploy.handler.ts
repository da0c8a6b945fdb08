/**
 * Lambda entry point of ReviewConsole's deployment custom resource (bundled to
 * assets/review-console/runtime/deploy.handler/index.js). The handler is in deploy.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createDeployHandler } from './deploy';

const logger = new Logger({ serviceName: 'review-console-deploy' });
const handle = createDeployHandler({
  s3: new S3Client({}),
  env: { SITE_BUCKET: process.env.SITE_BUCKET, SITE_KEY_ARN: process.env.SITE_KEY_ARN },
  log: (message, fields) => logger.info(message, fields),
});

/** CloudFormation custom resource: copy the console's files and write config.json. */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  return handle(event);
}
