/**
 * The capture writer's pure part: decode a CloudWatch Logs subscription payload, check each log
 * event against the capture contract (`PredictionCapture`), and group the valid lines by model
 * version and hour of `capturedAt`, one lake object per group.
 *
 * A line that is not a capture of this endpoint is dropped with a reason code; its content is
 * never logged or returned. A valid line is re-serialized from the contract's fields only, in the
 * contract's order: a field the contract does not have (a request id, say) never reaches the lake.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { CAPTURE_VERSION, hourPartition, PredictionCapture } from '../../../contract/monitoring';
import { UUID_V7_PATTERN } from '../inference-id';

/** One log event of a subscription payload. */
export interface SubscriptionLogEvent {
  readonly id: string;
  readonly timestamp: number;
  readonly message: string;
}

/** A decoded subscription payload (CloudWatch Logs `awslogs.data`). */
export interface SubscriptionPayload {
  readonly messageType: string;
  readonly logGroup?: string;
  readonly logEvents: readonly SubscriptionLogEvent[];
}

/** The payload is not a gzipped, base64-encoded subscription message. */
export class MalformedPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedPayloadError';
  }
}

/** Decode `awslogs.data`: base64, gzip, JSON. Throws `MalformedPayloadError`. */
export function decodeSubscriptionPayload(data: unknown): SubscriptionPayload {
  if (typeof data !== 'string' || data.length === 0) throw new MalformedPayloadError('awslogs.data is missing');
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8'));
  } catch {
    throw new MalformedPayloadError('awslogs.data is not gzipped JSON');
  }
  const o = parsed as Partial<SubscriptionPayload> | null;
  if (!o || typeof o !== 'object' || typeof o.messageType !== 'string' || !Array.isArray(o.logEvents)) {
    throw new MalformedPayloadError('awslogs.data is not a subscription message (messageType, logEvents)');
  }
  const logEvents = o.logEvents.filter((e): e is SubscriptionLogEvent =>
    Boolean(e) && typeof e.id === 'string' && typeof e.message === 'string');
  return { messageType: o.messageType, logGroup: o.logGroup, logEvents };
}

/** Why a line was dropped (the `captureDropReason` of `CapturesDropped`). */
export type LineDropReason =
  | 'NOT_JSON' | 'NOT_A_CAPTURE' | 'UNSUPPORTED_VERSION' | 'OTHER_ENDPOINT'
  | 'INVALID_INFERENCE_ID' | 'INVALID_CAPTURED_AT' | 'INVALID_MODEL_VERSION' | 'INVALID_MODEL_SHA256'
  | 'INVALID_INPUTS' | 'INVALID_OUTPUTS' | 'INVALID_PREDICTED_CLASSES';

export type ParsedLine =
  | { readonly ok: true; readonly capture: PredictionCapture; readonly time: Date }
  | { readonly ok: false; readonly reason: LineDropReason };

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const MODEL_VERSION = /^[\x20-\x7e]{1,128}$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const drop = (reason: LineDropReason): ParsedLine => ({ ok: false, reason });

/** Check one log event message against the capture contract, for the endpoint `endpoint`. */
export function parseCaptureLine(message: string, endpoint: string): ParsedLine {
  let v: unknown;
  try {
    v = JSON.parse(message);
  } catch {
    return drop('NOT_JSON');
  }
  if (!isPlainObject(v) || !('captureVersion' in v)) return drop('NOT_A_CAPTURE');
  if (v.captureVersion !== CAPTURE_VERSION) return drop('UNSUPPORTED_VERSION');
  if (v.endpoint !== endpoint) return drop('OTHER_ENDPOINT');
  if (typeof v.inferenceId !== 'string' || !UUID_V7_PATTERN.test(v.inferenceId)) return drop('INVALID_INFERENCE_ID');
  const time = typeof v.capturedAt === 'string' && ISO_UTC.test(v.capturedAt) ? new Date(v.capturedAt) : undefined;
  if (!time || Number.isNaN(time.getTime())) return drop('INVALID_CAPTURED_AT');
  if (typeof v.modelVersion !== 'string' || !MODEL_VERSION.test(v.modelVersion)) return drop('INVALID_MODEL_VERSION');
  if (typeof v.modelSha256 !== 'string' || !SHA256_HEX.test(v.modelSha256)) return drop('INVALID_MODEL_SHA256');
  if (!isPlainObject(v.inputs) || Object.keys(v.inputs).length === 0) return drop('INVALID_INPUTS');
  if (!isPlainObject(v.outputs) || Object.keys(v.outputs).length === 0) return drop('INVALID_OUTPUTS');
  const classes = v.predictedClasses;
  if (classes !== undefined && (!Array.isArray(classes)
    || !classes.every((c) => c === null || typeof c === 'string' || (typeof c === 'number' && Number.isInteger(c))))) {
    return drop('INVALID_PREDICTED_CLASSES');
  }
  const capture: PredictionCapture = {
    captureVersion: CAPTURE_VERSION,
    endpoint,
    inferenceId: v.inferenceId,
    capturedAt: v.capturedAt as string,
    modelVersion: v.modelVersion,
    modelSha256: v.modelSha256,
    inputs: v.inputs,
    outputs: v.outputs,
    ...(classes !== undefined ? { predictedClasses: classes as Array<string | number | null> } : {}),
  };
  return { ok: true, capture, time };
}

/** The valid lines of one lake object: one model version, one hour. */
export interface CaptureGroup {
  readonly modelVersion: string;
  /** The start of the hour (UTC). */
  readonly hour: Date;
  /** JSON Lines, each without its newline, in the order received. */
  readonly lines: string[];
  /**
   * The object id: derived from the CloudWatch Logs event ids of the group's lines (unique per log
   * event, the same when Lambda retries the same payload), so a retry writes the same key again.
   */
  readonly objectId: string;
}

export interface GroupedCaptures {
  readonly groups: CaptureGroup[];
  /** Dropped lines per reason. */
  readonly dropped: Partial<Record<LineDropReason, number>>;
  readonly droppedCount: number;
  readonly validCount: number;
}

/** Check every log event and group the valid captures by model version and hour. */
export function groupCaptures(events: readonly SubscriptionLogEvent[], endpoint: string): GroupedCaptures {
  const byKey = new Map<string, { modelVersion: string; hour: Date; lines: string[]; ids: string[] }>();
  const dropped: Partial<Record<LineDropReason, number>> = {};
  let droppedCount = 0;
  let validCount = 0;
  for (const event of events) {
    const parsed = parseCaptureLine(event.message, endpoint);
    if (!parsed.ok) {
      dropped[parsed.reason] = (dropped[parsed.reason] ?? 0) + 1;
      droppedCount++;
      continue;
    }
    validCount++;
    const { modelVersion } = parsed.capture;
    const key = `${hourPartition(parsed.time)}\u0000${modelVersion}`;
    let group = byKey.get(key);
    if (!group) {
      const hour = new Date(parsed.time.getTime());
      hour.setUTCMinutes(0, 0, 0);
      group = { modelVersion, hour, lines: [], ids: [] };
      byKey.set(key, group);
    }
    group.lines.push(JSON.stringify(parsed.capture));
    group.ids.push(event.id);
  }
  const groups = [...byKey.values()].map((g) => ({
    modelVersion: g.modelVersion,
    hour: g.hour,
    lines: g.lines,
    objectId: objectIdOf(endpoint, g.modelVersion, g.hour, g.ids),
  }));
  return { groups, dropped, droppedCount, validCount };
}

/** 32 hex characters of SHA-256 over the group's identity and its log event ids. */
export function objectIdOf(endpoint: string, modelVersion: string, hour: Date, eventIds: readonly string[]): string {
  const h = createHash('sha256');
  h.update(`${endpoint}\u0000${modelVersion}\u0000${hour.toISOString()}`);
  for (const id of eventIds) h.update(`\u0000${id}`);
  return h.digest('hex').slice(0, 32);
}
