/**
 * The PublishModel task of a GpuTrainingJob (publish-model.handler.ts is its entry): after the
 * gates passed, it reads the training job's `model.tar.gz` from the models zone as a stream,
 * takes out the ONNX model file and the drift baseline, checks that the baseline was computed for
 * this very model file (its `modelSha256`), and publishes both in the models zone:
 *
 *   <model>/models/<job>/model.onnx           the plain ONNX file (ModelArtifact.fromDataLake)
 *   monitoring/baselines/<model sha256>.json  the baseline, content-addressed by the model
 *
 * Both are written once (If-None-Match), encrypted with the lake key, with S3 verifying their
 * SHA-256 (x-amz-checksum-sha256). A retry of the same job finds its own objects there and
 * accepts them when their checksums are the ones it would write. The result goes into the model
 * record and the "Model Trained" event.
 *
 * When the input names the dataset version and its location, it then writes the training run's
 * OpenLineage event (COMPLETE: the dataset version in, the published ONNX file out with its
 * SHA-256 and model record; src/lineage/runtime/events.ts `trainingEvent`) under `lineage/` of the
 * curated zone (src/lineage/runtime/writer.ts: written once, SSE-KMS). The event's time comes from
 * the input (the state's entered time), so a retry writes the same objects.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  MAX_ARCHIVE_LIMIT_BYTES, MAX_BASELINE_BYTES, PUBLISH_MODEL_ENV, PUBLISH_MODEL_ERRORS, PUBLISHED_MODEL_KEYS, PublishModelInput, PublishModelResult,
} from './contract';
import { archiveKeyOf, checkBaseline, hexToBase64, lineageInputOf, PublishModelError } from './logic/publish';
import { readModelArchive } from './model-archive';
import { LineageInputError, RunEvent, trainingEvent } from '../../lineage/runtime/events';
import { writeLineageEvent } from '../../lineage/runtime/writer';
import { Environment, EnvironmentError, readEnvironment } from '../../private/runtime/env';
import { isMissing, isPreconditionFailed } from '../../private/runtime/sdk-errors';

/** The function's environment, checked. */
export interface PublishModelEnv {
  readonly modelsBucket: string;
  readonly lakeKeyArn: string;
  readonly modelName: string;
  readonly modelFileName: string;
  readonly baselineFileName: string;
  readonly requireBaseline: boolean;
  readonly maxArchiveBytes: number;
  /**
   * The curated zone's bucket (lineage; encrypted with the same lake key). The construct always
   * sets it (`CURATED_BUCKET` is required by `readPublishModelEnv`); a caller of
   * `createPublishModelHandler` without it gets no lineage event (logged).
   */
  readonly curatedBucket?: string;
}

/** Read the environment the construct sets (an `EnvironmentError` names what is missing or malformed). */
export function readPublishModelEnv(env: Environment): PublishModelEnv {
  const v = readEnvironment(env, PUBLISH_MODEL_ENV, Object.keys(PUBLISH_MODEL_ENV) as Array<keyof typeof PUBLISH_MODEL_ENV>, 'GpuTrainingJob');
  const maxArchiveBytes = Number(v.maxArchiveBytes);
  if (!Number.isSafeInteger(maxArchiveBytes) || maxArchiveBytes < 1 || maxArchiveBytes > MAX_ARCHIVE_LIMIT_BYTES) {
    throw new EnvironmentError(`${PUBLISH_MODEL_ENV.maxArchiveBytes} must be an integer from 1 to ${MAX_ARCHIVE_LIMIT_BYTES}`);
  }
  if (v.requireBaseline !== 'true' && v.requireBaseline !== 'false') {
    throw new EnvironmentError(`${PUBLISH_MODEL_ENV.requireBaseline} must be true or false`);
  }
  return { ...v, requireBaseline: v.requireBaseline === 'true', maxArchiveBytes };
}

/** A structured log line (names and figures only). */
export type PublishModelLog = (message: string, fields: Record<string, unknown>) => void;

export interface PublishModelDeps {
  readonly s3: S3Client;
  readonly env: PublishModelEnv;
  /** @default one JSON line on stdout */
  readonly log?: PublishModelLog;
  /** Epoch ms, for a lineage event whose input names no time. @default Date.now */
  readonly now?: () => number;
}

const defaultLog: PublishModelLog = (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields }));

/** The task's handler: `PublishModelInput` in, `PublishModelResult` out, or a `PUBLISH_MODEL_ERRORS` error. */
export function createPublishModelHandler(deps: PublishModelDeps): (event: PublishModelInput) => Promise<PublishModelResult> {
  const { s3, env } = deps;
  const log = deps.log ?? defaultLog;
  return async (event) => {
    const { key, trainingJobName } = archiveKeyOf(event, env.modelsBucket, env.modelName);
    const lineageInput = lineageInputOf(event);
    const lineage = env.curatedBucket ? lineageInput : null;
    let body;
    try {
      body = (await s3.send(new GetObjectCommand({ Bucket: env.modelsBucket, Key: key }))).Body;
    } catch (e) {
      if (isMissing(e)) throw new PublishModelError(PUBLISH_MODEL_ERRORS.archiveMissing, `no model archive at s3://${env.modelsBucket}/${key}`);
      throw e;
    }
    if (!body) throw new PublishModelError(PUBLISH_MODEL_ERRORS.archiveMissing, `no model archive at s3://${env.modelsBucket}/${key}`);
    const archive = await readModelArchive(body as AsyncIterable<Uint8Array>, {
      modelFileName: env.modelFileName,
      baselineFileName: env.baselineFileName,
      maxBytes: env.maxArchiveBytes,
    });
    if (!archive.model) {
      throw new PublishModelError(PUBLISH_MODEL_ERRORS.modelFileMissing,
        `the model archive of ${trainingJobName} holds no ${env.modelFileName}: the training script must export the model to ONNX into the model directory (SM_MODEL_DIR)`);
    }
    const { data, sha256 } = archive.model;
    const baseline = checkBaseline(archive.baseline, sha256, env.baselineFileName, env.requireBaseline);

    const modelKey = PUBLISHED_MODEL_KEYS.modelFile(env.modelName, trainingJobName);
    // Built before anything is written: an input the lineage builder refuses publishes nothing.
    let lineageEvent: RunEvent | null = null;
    if (lineage) {
      try {
        lineageEvent = trainingEvent({
          model: env.modelName,
          trainingJobName,
          datasetVersion: lineage.datasetVersion,
          datasetLocation: lineage.datasetLocation,
          eventTime: lineage.eventTime ?? (deps.now ?? Date.now)(),
          // The package ARN is not known yet (RegisterModel comes after): the model record names it.
          output: {
            bucket: env.modelsBucket,
            key: modelKey,
            sha256,
            modelRecord: `s3://${env.modelsBucket}/${PUBLISHED_MODEL_KEYS.record(env.modelName, trainingJobName)}`,
          },
        });
      } catch (e) {
        if (e instanceof LineageInputError) throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidInput, `the lineage event cannot be built: ${e.message}`);
        throw e;
      }
    }
    const modelWrite = await putOnce(deps, modelKey, data, sha256, 'application/octet-stream', data.length);
    if (modelWrite.outcome === 'different') {
      throw new PublishModelError(PUBLISH_MODEL_ERRORS.modelConflict,
        `another object is stored at s3://${env.modelsBucket}/${modelKey} (its SHA-256 is not ${sha256}); published models are never overwritten`);
    }
    let published: { key: string; sha256: string } | null = null;
    let baselineWrite: string = 'none';
    if (baseline) {
      const put = await putOnce(deps, baseline.key, Buffer.from(baseline.body), baseline.sha256, 'application/json', MAX_BASELINE_BYTES);
      baselineWrite = put.outcome;
      if (put.outcome === 'different' && !put.storedSha256) {
        throw new PublishModelError(PUBLISH_MODEL_ERRORS.modelConflict,
          `another object larger than ${MAX_BASELINE_BYTES} bytes is stored at s3://${env.modelsBucket}/${baseline.key}; baselines are never overwritten`);
      }
      // Baselines are content-addressed by the model: the same model bytes trained again (the same
      // data and seed) find the first baseline there; it stays, and the record names what is stored.
      published = { key: baseline.key, sha256: put.storedSha256 };
    }
    // Last: the event names the published model, so it is written once the model is there.
    const lineageWrite = lineageEvent && env.curatedBucket
      ? await writeLineageEvent(s3, { bucket: env.curatedBucket, kmsKeyArn: env.lakeKeyArn }, lineageEvent)
      : null;
    if (!lineageWrite) {
      log(lineageInput
        ? 'no lineage event written: no curated bucket is configured'
        : 'no lineage event written: the input names no datasetVersion and datasetLocation', { trainingJobName });
    }
    log('model published', {
      trainingJobName,
      modelSha256: sha256,
      modelBytes: data.length,
      archiveBytes: archive.archiveBytes,
      model: modelWrite.outcome,
      baseline: baselineWrite,
      lineageObjectsWritten: lineageWrite?.written ?? 0,
      lineageObjectsExisting: lineageWrite?.existing ?? 0,
    });
    return {
      modelSha256: sha256,
      modelKey,
      modelBytes: data.length,
      baselineKey: published?.key ?? null,
      baselineSha256: published?.sha256 ?? null,
      model: { key: modelKey, sha256, bytes: data.length },
      baseline: published,
      lineageEventKey: lineageWrite?.eventKey ?? null,
    };
  };
}

/** What `putOnce` found: the outcome and the SHA-256 (lower-case hex) of what is stored at the key. */
interface PutOnce {
  readonly outcome: 'written' | 'same' | 'different';
  readonly storedSha256: string;
}

/**
 * Write an object once: `written`, or `same` when it is already there with the same SHA-256 (a
 * retry of the same job), or `different` when something else is there (with its SHA-256).
 */
async function putOnce(deps: PublishModelDeps, key: string, body: Buffer, sha256: string, contentType: string, readLimit: number): Promise<PutOnce> {
  const { s3, env } = deps;
  try {
    await s3.send(new PutObjectCommand({
      Bucket: env.modelsBucket,
      Key: key,
      Body: body,
      ContentLength: body.length,
      ContentType: contentType,
      // S3 verifies the bytes against it and keeps it (HeadObject with ChecksumMode).
      ChecksumSHA256: hexToBase64(sha256),
      IfNoneMatch: '*',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: env.lakeKeyArn,
    }));
    return { outcome: 'written', storedSha256: sha256 };
  } catch (e) {
    if (!isPreconditionFailed(e)) throw e;
  }
  const stored = await storedSha256(deps, key, readLimit);
  return { outcome: stored === sha256 ? 'same' : 'different', storedSha256: stored };
}

/**
 * The SHA-256 of the object at `key`: the checksum S3 verified when it was written, or (an object
 * written without one, or a store that keeps none) its bytes hashed as they are read; '' when it
 * is larger than `readLimit`.
 */
async function storedSha256(deps: PublishModelDeps, key: string, readLimit: number): Promise<string> {
  const { s3, env } = deps;
  const head = await s3.send(new HeadObjectCommand({ Bucket: env.modelsBucket, Key: key, ChecksumMode: 'ENABLED' }));
  if (head.ChecksumSHA256 && head.ChecksumType !== 'COMPOSITE' && !head.ChecksumSHA256.includes('-')) {
    return Buffer.from(head.ChecksumSHA256, 'base64').toString('hex');
  }
  if ((head.ContentLength ?? 0) > readLimit) return '';
  const got = await s3.send(new GetObjectCommand({ Bucket: env.modelsBucket, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of got.Body as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    if (bytes > readLimit) return '';
    hash.update(chunk);
  }
  return hash.digest('hex');
}
