/**
 * Pure logic of the publish-model task: the task's input checked against the job's own archive
 * key, and the drift baseline checked against the model file it must describe. Errors carry the
 * names of `PUBLISH_MODEL_ERRORS` (the state machine reports them in "Training Failed") and
 * messages that quote no document value.
 */
import { createHash } from 'node:crypto';
import { MONITORING_KEYS } from '../../../contract/monitoring';
import { parseBaseline } from '../../../model-monitor/runtime/logic/baseline-document';
import { PUBLISH_MODEL_ERRORS, PUBLISHED_MODEL_KEYS, PublishedBaseline } from '../contract';

/** A publish-model failure: `name` is one of `PUBLISH_MODEL_ERRORS`. */
export class PublishModelError extends Error {
  public constructor(name: typeof PUBLISH_MODEL_ERRORS[keyof typeof PUBLISH_MODEL_ERRORS], message: string) {
    super(message);
    this.name = name;
  }
}

/** SageMaker training job names: 1 to 63 letters, digits and inner hyphens. */
const JOB_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** Lower-case hex SHA-256 of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Base64 SHA-256 (S3's `x-amz-checksum-sha256`) of a lower-case hex SHA-256. */
export function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/**
 * The archive key of the input, which must be exactly this model's archive of the named job in
 * the models bucket (anything else is refused: the task reads nothing else).
 */
export function archiveKeyOf(input: unknown, bucket: string, modelName: string): { key: string; trainingJobName: string } {
  const o = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const job = o.trainingJobName;
  const uri = o.modelArtifact;
  if (typeof job !== 'string' || !JOB_NAME.test(job)) {
    throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidInput, 'trainingJobName must be a SageMaker training job name (1 to 63 letters, digits and hyphens)');
  }
  const key = PUBLISHED_MODEL_KEYS.archive(modelName, job);
  if (uri !== `s3://${bucket}/${key}`) {
    throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidInput, `modelArtifact must be s3://${bucket}/${key}, the archive of the training job`);
  }
  return { key, trainingJobName: job };
}

/** A baseline ready to store: the checked document as written, its key and SHA-256. */
export interface CheckedBaseline extends PublishedBaseline {
  /** The document as stored (the checked fields of schema version 1, JSON). */
  readonly body: string;
}

/**
 * Check the archive's baseline (its bytes, or undefined when absent) against the model file's
 * SHA-256: null when absent and not required; else the document to store (only the fields of
 * schema version 1, re-serialized) under `MONITORING_KEYS.baseline(modelSha256)`.
 */
export function checkBaseline(bytes: Uint8Array | undefined, modelSha256: string, fileName: string, required: boolean): CheckedBaseline | null {
  if (bytes === undefined) {
    if (required) {
      throw new PublishModelError(PUBLISH_MODEL_ERRORS.baselineMissing, `the model archive holds no ${fileName}, and requireBaseline is set: the training script must write the drift baseline into the model directory`);
    }
    return null;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidBaseline, `${fileName} in the model archive is not JSON`);
  }
  let baseline;
  try {
    baseline = parseBaseline(doc);
  } catch (e) {
    // parseBaseline's messages give a JSON pointer and what was expected, never a value.
    throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidBaseline, `${fileName} in the model archive: ${e instanceof Error ? e.message : 'invalid'}`);
  }
  if (baseline.modelSha256 !== modelSha256) {
    throw new PublishModelError(PUBLISH_MODEL_ERRORS.baselineModelMismatch,
      `${fileName} in the model archive describes another model (its modelSha256 is not the SHA-256 of the archive's model file, ${modelSha256}): it must be computed for the model file it travels with`);
  }
  const body = JSON.stringify(baseline) + '\n';
  return { key: MONITORING_KEYS.baseline(modelSha256), sha256: sha256Hex(body), body };
}

/** What the training run's lineage event is built from (the task's input, checked). */
export interface LineageInput {
  readonly datasetVersion: string;
  /** `s3://<bucket>/<prefix>`: the dataset version's folder. */
  readonly datasetLocation: string;
  /** Epoch ms; undefined when the input names no time (the handler takes its clock). */
  readonly eventTime?: number;
}

const S3_LOCATION = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S+$/;

/**
 * The lineage part of the input: null when it names neither a dataset version nor a location (an
 * older state machine; no lineage is written), else both, checked. Half of it, or a malformed
 * value, is refused before anything is published.
 */
export function lineageInputOf(input: unknown): LineageInput | null {
  const o = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const { datasetVersion, datasetLocation, eventTime } = o;
  if (datasetVersion === undefined && datasetLocation === undefined) return null;
  const invalid = (message: string) => new PublishModelError(PUBLISH_MODEL_ERRORS.invalidInput, message);
  if (typeof datasetVersion !== 'string' || datasetVersion === '' || datasetVersion.length > 1024) {
    throw invalid('datasetVersion must be the dataset version\'s name (1 to 1024 characters) when datasetLocation is given');
  }
  if (typeof datasetLocation !== 'string' || datasetLocation.length > 2048 || !S3_LOCATION.test(datasetLocation)) {
    throw invalid('datasetLocation must be the dataset version\'s s3://<bucket>/<prefix>/ location when datasetVersion is given');
  }
  if (eventTime === undefined) return { datasetVersion, datasetLocation };
  const ms = typeof eventTime === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(eventTime) ? Date.parse(eventTime) : NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw invalid('eventTime must be an ISO-8601 date-time with a time zone (the state\'s entered time)');
  }
  return { datasetVersion, datasetLocation, eventTime: ms };
}
