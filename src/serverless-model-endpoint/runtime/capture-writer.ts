/**
 * The capture writer: invoked by CloudWatch Logs (a subscription filter on the endpoint function's
 * log group that matches capture lines only), asynchronously. It decodes the payload, checks each
 * line against the capture contract (logic/capture-lines.ts), and writes one JSON Lines object per
 * model version and hour to the lake's models zone at `MONITORING_KEYS.captureObject(...)`, with
 * SSE-KMS under the lake's key.
 *
 * Delivery: every group is put; if any PutObject fails, the invocation fails after the others
 * finished, so Lambda retries the same payload (twice, then the dead-letter queue). The object ids
 * derive from the log event ids, and each put is conditional (If-None-Match: *): on a retry the
 * objects already written answer 412 and are left as they are, so every valid line ends in
 * exactly one object, or in the dead-letter queue.
 *
 * Logs and metrics carry counts, reason codes and keys (endpoint, model version, hour), never a
 * line's content.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { CAPTURE_WRITER_ENV, ENDPOINT_METRIC } from './contract';
import { CaptureGroup, decodeSubscriptionPayload, groupCaptures, MalformedPayloadError } from './logic/capture-lines';
import { MONITORING_KEYS } from '../../contract/monitoring';
import { Environment, readEnvironment } from '../../private/runtime/env';
import { createMetrics, MetricLineWriter, metricRecorder } from '../../private/runtime/metrics';
import { errorInfo, isPreconditionFailed } from '../../private/runtime/sdk-errors';

export type CaptureWriterEnv = Record<keyof typeof CAPTURE_WRITER_ENV, string>;

/** Read the writer's environment (a missing variable fails the init phase, naming it). */
export function readCaptureWriterEnv(env: Environment): CaptureWriterEnv {
  return readEnvironment(env, CAPTURE_WRITER_ENV, ['bucket', 'keyArn', 'captureName', 'serviceName', 'metricsNamespace'], 'ServerlessModelEndpoint');
}

export interface CaptureWriterDeps {
  readonly s3: S3Client;
  readonly env: CaptureWriterEnv;
  /** Structured log (codes and counts only). @default - a Powertools Logger */
  readonly log?: (level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>) => void;
  /** EMF line sink. @default - stdout */
  readonly writeMetrics?: MetricLineWriter;
}

/** What one invocation did. */
export interface CaptureWriterResult {
  readonly objects: number;
  readonly delivered: number;
  /** Objects a previous attempt had already written (412 on the conditional put). */
  readonly alreadyWritten: number;
  readonly dropped: number;
}

/** A PutObject failed: thrown after the other groups were written, so that Lambda retries. */
export class CaptureDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureDeliveryError';
  }
}

export function createCaptureWriter(deps: CaptureWriterDeps): (event: CloudWatchLogsEvent) => Promise<CaptureWriterResult> {
  const { s3, env } = deps;
  const logger = deps.log ? undefined : new Logger({ serviceName: env.serviceName });
  const log = deps.log ?? ((level, message, fields) => logger![level](message, fields));
  const metrics = createMetrics(env.metricsNamespace, env.serviceName);
  const count = { name: '', unit: 'Count' as const };
  const emitDelivered = metricRecorder(metrics, [{ ...count, name: ENDPOINT_METRIC.capturesDelivered }], deps.writeMetrics);
  const emitDropped = metricRecorder(metrics, [{ ...count, name: ENDPOINT_METRIC.capturesDropped }], deps.writeMetrics);
  const emitFailures = metricRecorder(metrics, [{ ...count, name: ENDPOINT_METRIC.captureDeliveryFailures }], deps.writeMetrics);

  async function put(group: CaptureGroup): Promise<'written' | 'existed'> {
    const key = MONITORING_KEYS.captureObject(env.captureName, group.modelVersion, group.hour, group.objectId);
    try {
      await s3.send(new PutObjectCommand({
        Bucket: env.bucket,
        Key: key,
        Body: group.lines.join('\n') + '\n',
        ContentType: 'application/x-ndjson',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: env.keyArn,
        IfNoneMatch: '*',
      }));
      return 'written';
    } catch (e) {
      if (isPreconditionFailed(e)) return 'existed';
      throw e;
    }
  }

  return async (event) => {
    let payload;
    try {
      payload = decodeSubscriptionPayload(event?.awslogs?.data);
    } catch (e) {
      if (!(e instanceof MalformedPayloadError)) throw e;
      // Not from CloudWatch Logs, or corrupted: a retry cannot help. Counted, not retried.
      log('error', 'capture payload dropped', { code: 'MALFORMED_PAYLOAD', error: e.message });
      emitDropped([1], { captureDropReason: 'MALFORMED_PAYLOAD' });
      return { objects: 0, delivered: 0, alreadyWritten: 0, dropped: 1 };
    }
    if (payload.messageType !== 'DATA_MESSAGE') {
      // CloudWatch Logs' CONTROL_MESSAGE checks that the destination is reachable.
      return { objects: 0, delivered: 0, alreadyWritten: 0, dropped: 0 };
    }
    const grouped = groupCaptures(payload.logEvents, env.captureName);
    for (const [reason, n] of Object.entries(grouped.dropped)) {
      log('warn', 'capture lines dropped', { code: reason, lines: n });
      emitDropped([n], { captureDropReason: reason });
    }
    const outcomes = await Promise.allSettled(grouped.groups.map(put));
    let delivered = 0;
    let alreadyWritten = 0;
    const failures: string[] = [];
    outcomes.forEach((o, i) => {
      const g = grouped.groups[i];
      const where = { modelVersion: g.modelVersion, hour: g.hour.toISOString(), lines: g.lines.length };
      if (o.status === 'fulfilled') {
        if (o.value === 'written') delivered += g.lines.length;
        else alreadyWritten++;
        return;
      }
      const info = errorInfo(o.reason);
      failures.push(info.error);
      log('error', 'capture object not written', { ...where, ...info });
    });
    if (delivered > 0) emitDelivered([delivered], { objects: grouped.groups.length - failures.length - alreadyWritten });
    if (failures.length > 0) {
      emitFailures([failures.length], { objects: grouped.groups.length });
      throw new CaptureDeliveryError(`${failures.length} of ${grouped.groups.length} capture objects were not written (${[...new Set(failures)].join(', ')}); the invocation fails so that Lambda retries it`);
    }
    log('info', 'captures delivered', { objects: grouped.groups.length, lines: grouped.validCount, alreadyWritten, dropped: grouped.droppedCount });
    return { objects: grouped.groups.length, delivered, alreadyWritten, dropped: grouped.droppedCount };
  };
}
