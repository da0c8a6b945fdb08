/**
 * Shell helpers shared by the LabelingPipeline handlers: the typed environment reader, the staged
 * configuration file, SDK clients built once, EMF metric lines and events. Bundled into each
 * handler (never imported by the construct).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CONFIG_FILE, DETAIL_TYPE, ENV, EVENT_SOURCE, PipelineConfig, PipelineEventDetail } from './contract';
import { Environment, readEnvironment } from '../../private/runtime/env';
import { createMetrics, MetricDefinition, MetricLineWriter, metricRecorder, MetricRecorder } from '../../private/runtime/metrics';

/** Typed reader of the variables a handler needs; a missing one is a clear init error. */
export function readEnv<K extends keyof typeof ENV>(env: Environment, names: readonly K[]): Record<K, string> {
  return readEnvironment(env, ENV, names, 'LabelingPipeline');
}

/**
 * The pipeline configuration staged beside the bundle (`dir` defaults to the handler's own
 * directory). `PIPELINE_CONFIG_FILE` overrides the path (tests and local runs).
 */
export function loadPipelineConfig(dir: string = __dirname, env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  const file = env.PIPELINE_CONFIG_FILE ?? path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the pipeline configuration ${file}: ${(e as Error).message}`);
  }
  return JSON.parse(text) as PipelineConfig;
}

/**
 * EMF writer (Powertools Metrics) for one fixed metric set under the pipeline's namespace and
 * `service` dimension: one record per call, on stdout or, given `write`, handed to it as a line.
 */
export function metricWriter(namespace: string, service: string, metrics: MetricDefinition[], write?: MetricLineWriter): MetricRecorder {
  return metricRecorder(createMetrics(namespace, service), metrics, write);
}

/** One pipeline event (identifiers and codes only). */
export interface PipelineEvent {
  readonly detailType: typeof DETAIL_TYPE[keyof typeof DETAIL_TYPE];
  readonly detail: PipelineEventDetail;
}

/**
 * Put events on the bus, 10 per call. Throws when any entry failed (the caller's retry puts them
 * again: events are at-least-once, consumers dedupe on `detail.recordId` / `detail.datasetVersion`).
 */
export async function putEvents(client: EventBridgeClient, busName: string, events: readonly PipelineEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 10) {
    const chunk = events.slice(i, i + 10);
    const res = await client.send(new PutEventsCommand({
      Entries: chunk.map((e) => ({ EventBusName: busName, Source: EVENT_SOURCE, DetailType: e.detailType, Detail: JSON.stringify(e.detail) })),
    }));
    if ((res.FailedEntryCount ?? 0) > 0) {
      const codes = [...new Set((res.Entries ?? []).map((x) => x.ErrorCode).filter(Boolean))].join(', ');
      throw new Error(`PutEvents: ${res.FailedEntryCount} of ${chunk.length} entries failed (${codes})`);
    }
  }
}

/** `s3://bucket/key`. */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
