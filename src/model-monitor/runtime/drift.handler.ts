/**
 * Lambda entry point of the ModelMonitor's drift job (drift-job.ts beside it): clients, environment
 * and the monitor's configuration (monitor-config.json, staged beside this bundle) are read once
 * per execution environment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { MONITOR_CONFIG_FILE, MONITOR_ENV, MonitorConfig } from './contract';
import { createDriftJob } from './drift-job';
import { readEnvironment } from '../../private/runtime/env';
import { traced } from '../../private/runtime/tracing';

const config = JSON.parse(fs.readFileSync(path.join(__dirname, MONITOR_CONFIG_FILE), 'utf8')) as MonitorConfig;

export const handler = createDriftJob({
  s3: traced(new S3Client({})),
  events: traced(new EventBridgeClient({})),
  env: readEnvironment(process.env, MONITOR_ENV, ['modelsBucket', 'lakeKeyArn', 'eventBusName'], 'ModelMonitor'),
  config,
});
