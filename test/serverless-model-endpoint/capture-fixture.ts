/** CloudWatch Logs subscription payloads and capture lines for the capture writer's tests. */
import { gzipSync } from 'node:zlib';
import { PredictionCapture } from '../../src/contract/monitoring';
import { uuidv7 } from '../../src/serverless-model-endpoint/runtime/inference-id';

export const SHA = 'c'.repeat(64);

/** A valid capture line's object (override any field). */
export function captureOf(overrides: Partial<Record<keyof PredictionCapture, unknown>> & Record<string, unknown> = {}): Record<string, unknown> {
  const t = Date.parse(String(overrides.capturedAt ?? '2026-03-01T13:45:00.000Z'));
  return {
    captureVersion: '1',
    endpoint: 'hearing',
    inferenceId: uuidv7(t),
    capturedAt: new Date(t).toISOString(),
    modelVersion: 'hearing-who-grade@1',
    modelSha256: SHA,
    inputs: { features: [[10, 20, 25, 30, 35, 45, 25, 25, 30, 30, 40, 50]] },
    outputs: { logits: [[0.1, 2.5, 0.3, -1, -2, -3, -4]] },
    predictedClasses: ['mild'],
    ...overrides,
  };
}

let nextId = 1;
/** A log event id like CloudWatch's (56 digits), unique in the test process. */
export const eventId = () => String(nextId++).padStart(56, '3');

/** The `awslogs.data` of a DATA_MESSAGE with these messages. */
export function subscriptionEvent(
  messages: readonly string[], options: { messageType?: string; ids?: string[] } = {},
): { awslogs: { data: string } } {
  const payload = {
    messageType: options.messageType ?? 'DATA_MESSAGE',
    owner: '111111111111',
    logGroup: '/aws/lambda/predict',
    logStream: '2026/03/01/[7]abcdef',
    subscriptionFilters: ['CaptureSubscription'],
    logEvents: messages.map((message, i) => ({ id: options.ids?.[i] ?? eventId(), timestamp: 1_772_372_700_000 + i, message })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(payload))).toString('base64') } };
}
