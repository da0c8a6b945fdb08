/**
 * Prediction capture on the request path: per 200 answer, a cheap sampling decision
 * (`random() < percent / 100`), and for a sampled request ONE JSON line (`PredictionCapture`)
 * written to stdout. No network call: Lambda ships stdout to the function's log group
 * asynchronously, and a subscription filter on that group hands the capture lines to the capture
 * writer, which puts them into the lake.
 *
 * The line carries the endpoint's capture name, the inference id, the time, the model version and
 * SHA-256, the validated inputs, the outputs and the predicted classes: never a request id, a
 * caller identity or a header (nothing of the API Gateway event but its body reaches this code).
 *
 * A capture never fails the prediction: a line over `maxBytes` (CloudWatch Logs refuses events
 * over 256 KiB) is not written, and anything that throws is caught; both are returned as a drop
 * with its reason, which the handler counts (`CapturesDropped`).
 */
import { CAPTURE_DROP_REASON } from './contract';
import type { PredictResponseBody } from './response';
import { CAPTURE_VERSION, PredictionCapture } from '../../contract/monitoring';

export interface CaptureOptions {
  /** The endpoint's capture name. */
  readonly endpoint: string;
  /** Above 0, at most 100. */
  readonly percent: number;
  /** Largest line in bytes (UTF-8, newline included). */
  readonly maxBytes: number;
  /** @default Math.random */
  readonly random?: () => number;
  /** Where a line goes (with its newline). @default process.stdout.write */
  readonly write?: (line: string) => void;
}

/** What one answered request contributes to a capture. */
export interface CaptureSubject {
  readonly inferenceId: string;
  /** Epoch milliseconds of the prediction (the inference id's time). */
  readonly time: number;
  readonly modelSha256: string;
  /** The request's validated inputs (name → nested array, batch form). */
  readonly inputs: Record<string, unknown>;
  /** The response body (outputs, model version, predictions). */
  readonly body: PredictResponseBody;
}

export type CaptureDropReason = typeof CAPTURE_DROP_REASON[keyof typeof CAPTURE_DROP_REASON];

/** Not sampled; or sampled, and written or dropped. */
export type CaptureOutcome =
  | { readonly sampled: false }
  | { readonly sampled: true; readonly written: true }
  | { readonly sampled: true; readonly written: false; readonly reason: CaptureDropReason; readonly bytes?: number };

const NOT_SAMPLED: CaptureOutcome = { sampled: false };
const WRITTEN: CaptureOutcome = { sampled: true, written: true };

/** The capture line of one prediction (without its newline). */
export function captureLine(endpoint: string, subject: CaptureSubject): string {
  const { body } = subject;
  const capture: PredictionCapture = {
    captureVersion: CAPTURE_VERSION,
    endpoint,
    inferenceId: subject.inferenceId,
    capturedAt: new Date(subject.time).toISOString(),
    modelVersion: body.modelVersion,
    modelSha256: subject.modelSha256,
    inputs: subject.inputs,
    outputs: body.outputs,
    ...(body.predictions ? { predictedClasses: body.predictions.map((p) => p.label ?? (p.index >= 0 ? p.index : null)) } : {}),
  };
  return JSON.stringify(capture);
}

/** The capture step of one endpoint: call it once per 200 answer. */
export function createCapture(options: CaptureOptions): (subject: CaptureSubject) => CaptureOutcome {
  const { endpoint, maxBytes } = options;
  const threshold = options.percent / 100;
  // (looked up per call, not captured: Math.random may be replaced, as tests do)
  const random = options.random ?? (() => Math.random());
  const write = options.write ?? ((line: string) => {
    process.stdout.write(line);
  });
  return (subject) => {
    try {
      if (!(random() < threshold)) return NOT_SAMPLED;
    } catch {
      return { sampled: true, written: false, reason: CAPTURE_DROP_REASON.error };
    }
    try {
      const line = captureLine(endpoint, subject) + '\n';
      // A UTF-16 code unit is at most 3 bytes of UTF-8: count the bytes only when it matters.
      if (line.length * 3 > maxBytes) {
        const bytes = Buffer.byteLength(line, 'utf8');
        if (bytes > maxBytes) return { sampled: true, written: false, reason: CAPTURE_DROP_REASON.tooLarge, bytes };
      }
      write(line);
      return WRITTEN;
    } catch {
      return { sampled: true, written: false, reason: CAPTURE_DROP_REASON.error };
    }
  };
}
