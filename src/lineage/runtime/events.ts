/**
 * OpenLineage 2-0-2 run events of the ML lifecycle, built as plain JSON (there is no JavaScript
 * OpenLineage client): a dataset-version build (source records → dataset version), a training run
 * (dataset version → model version) and a promotion (model version → endpoint version). Pure: no
 * SDK, no clock or randomness unless given (`runId` and `eventTime` are inputs; `uuidV7` makes ids).
 *
 * The tests validate every builder's output against the vendored 2-0-2 JSON Schema
 * (test/fixtures/openlineage/) and the custom facets against docs/lineage-facets.json.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  endpointDatasetId, LINEAGE_FACET_DEFS, LINEAGE_FACETS, LINEAGE_FACETS_SCHEMA_URL, LINEAGE_JOB_NAMESPACE, LINEAGE_JOBS, LINEAGE_PRODUCER,
  LineageDatasetId, LineageSourceRecord, MAX_INLINE_SOURCE_RECORDS, OPENLINEAGE_RUN_EVENT_SCHEMA_URL, s3DatasetId,
} from '../../contract/lineage';

// ---- the OpenLineage shapes the library emits (a subset of RunEvent 2-0-2) ----------------------

/** `_producer` and `_schemaURL` of every facet. */
export interface BaseFacet {
  readonly _producer: string;
  readonly _schemaURL: string;
}
/** A facet: the base fields and its own. */
export type Facet = BaseFacet & Record<string, unknown>;

/** An input dataset of a run. */
export interface InputDataset extends LineageDatasetId {
  readonly facets?: Record<string, Facet>;
  readonly inputFacets?: Record<string, Facet>;
}
/** An output dataset of a run. */
export interface OutputDataset extends LineageDatasetId {
  readonly facets?: Record<string, Facet>;
  readonly outputFacets?: Record<string, Facet>;
}

/** The event types the library emits. */
export type LineageEventType = 'COMPLETE' | 'FAIL';

/** An OpenLineage RunEvent. */
export interface RunEvent {
  readonly eventType: LineageEventType;
  /** ISO-8601 UTC. */
  readonly eventTime: string;
  readonly producer: string;
  readonly schemaURL: string;
  readonly run: { readonly runId: string; readonly facets?: Record<string, Facet> };
  readonly job: { readonly namespace: string; readonly name: string; readonly facets?: Record<string, Facet> };
  readonly inputs: InputDataset[];
  readonly outputs: OutputDataset[];
}

/** Thrown for an input the builders refuse (the message names the field, never a record value). */
export class LineageInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LineageInputError';
  }
}

// ---- ids -----------------------------------------------------------------------------------------

/**
 * A UUID version 7: the first 48 bits are `ms` (Unix time in milliseconds), the other 74 are from
 * `seed` (SHA-256 of it: the same ms and seed give the same id, so a retried emission is
 * idempotent) or random.
 */
export function uuidV7(ms: number, seed?: string): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** 48) throw new LineageInputError(`uuidV7: time must be an integer number of ms in [0, 2^48), got ${ms}`);
  const rand = seed === undefined ? randomBytes(10) : createHash('sha256').update(seed).digest().subarray(0, 10);
  const b = Buffer.alloc(16);
  b.writeUIntBE(ms, 0, 6);
  rand.copy(b, 6);
  b[6] = 0x70 + (b[6] % 16); // version 7
  b[8] = 0x80 + (b[8] % 64); // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The Unix time in ms of a UUID version 7, or undefined when `id` is not one. */
export function uuidV7Time(id: string): number | undefined {
  if (typeof id !== 'string' || !UUID_V7.test(id)) return undefined;
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

// ---- facets --------------------------------------------------------------------------------------

/** `_producer` / `_schemaURL` of one of the library's custom facets. */
export function facetBase(facet: keyof typeof LINEAGE_FACETS): BaseFacet {
  return { _producer: LINEAGE_PRODUCER, _schemaURL: `${LINEAGE_FACETS_SCHEMA_URL}#/$defs/${LINEAGE_FACET_DEFS[facet]}` };
}

/** The source-records input facet's own fields (see docs/lineage-facets.json). */
export interface SourceRecordsFacetFields {
  readonly recordCount: number;
  /** SHA-256 of the records object's text (`recordsJsonLines`), hex. */
  readonly recordsSha256: string;
  /** Key of the records object in the curated zone (set when the records are not all inline). */
  readonly recordsKey?: string;
  /** The records, when at most MAX_INLINE_SOURCE_RECORDS. */
  readonly records?: LineageSourceRecord[];
}

/** The records object's text: one LineageSourceRecord per line, sorted by record id. */
export function recordsJsonLines(records: readonly LineageSourceRecord[]): string {
  return sortedRecords(records).map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
}

function sortedRecords(records: readonly LineageSourceRecord[]): LineageSourceRecord[] {
  return records
    .map((r) => ({
      recordId: r.recordId,
      subject: r.subject,
      ...(r.cleanRef !== undefined ? { cleanRef: r.cleanRef } : {}),
      ...(r.source !== undefined ? { source: r.source } : {}),
      ...(r.sourceVersionId !== undefined ? { sourceVersionId: r.sourceVersionId } : {}),
    }))
    .sort((a, b) => (a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0));
}

// ---- builders ------------------------------------------------------------------------------------

/** Common to every builder. */
export interface EventTiming {
  /** The run id (a UUID; v7 preferred). @default - uuidV7(eventTime, <builder's idempotency seed>) */
  readonly runId?: string;
  /** When the run completed or failed, epoch ms. */
  readonly eventTime: number;
}

/** A dataset-version build (LabelingPipeline). */
export interface DatasetBuildEventInput extends EventTiming {
  readonly pipeline: string;
  readonly datasetVersion: string;
  /** The curated bucket and the version's prefix (`<zone prefix>datasets/<version>/`). */
  readonly curatedBucket: string;
  readonly datasetPrefix: string;
  /** The clean bucket and the prefix of the clean records (`<zone prefix>records/`). */
  readonly cleanBucket: string;
  readonly cleanPrefix: string;
  /** Every record in the version's manifests. */
  readonly records: readonly LineageSourceRecord[];
  /** Whether the version passed its gates. */
  readonly published: boolean;
  readonly blockedReasons?: string[];
  /** Records per split and total. */
  readonly counts?: Record<string, number>;
  /** SHA-256 of each split's manifest. */
  readonly manifestSha256?: Record<string, string>;
  /** FAIL: the error name (no message: it could quote a value). @default - COMPLETE */
  readonly error?: string;
}

/** What `datasetBuildEvent` returns: the event, and the records object when they are not inline. */
export interface DatasetBuildLineage {
  readonly event: RunEvent;
  /** Every source record, sorted by id (the writer stores them and indexes their subjects). */
  readonly records: LineageSourceRecord[];
  /** The records object (JSON Lines) to store at `recordsKey`, when the facet names one. */
  readonly recordsObject?: { readonly key: string; readonly body: string };
}

/**
 * The run event of a dataset-version build: input the clean zone's records (the
 * `cdkSecureMlops_sourceRecords` input facet lists each record's id, subject pseudonym, clean and
 * raw object and raw version id: inline up to MAX_INLINE_SOURCE_RECORDS, else in a records object
 * it names), output the dataset version (`cdkSecureMlops_datasetVersion`: published, counts).
 * Blocked versions get a COMPLETE event too (their data is in the lake all the same).
 */
export function datasetBuildEvent(i: DatasetBuildEventInput, recordsKey: (runId: string) => string): DatasetBuildLineage {
  nonEmpty({ pipeline: i.pipeline, datasetVersion: i.datasetVersion, curatedBucket: i.curatedBucket, cleanBucket: i.cleanBucket });
  const output = s3DatasetId(i.curatedBucket, i.datasetPrefix);
  const runId = runIdOf(i, `dataset-build\u0000${output.namespace}/${output.name}`);
  const records = sortedRecords(i.records);
  const seen = new Set<string>();
  for (const r of records) {
    if (typeof r.recordId !== 'string' || r.recordId === '') throw new LineageInputError('datasetBuildEvent: every record needs a recordId');
    if (typeof r.subject !== 'string') throw new LineageInputError(`datasetBuildEvent: record at position ${seen.size} has no subject`);
    if (seen.has(r.recordId)) throw new LineageInputError('datasetBuildEvent: a recordId appears twice');
    seen.add(r.recordId);
  }
  const body = recordsJsonLines(records);
  const inline = records.length <= MAX_INLINE_SOURCE_RECORDS;
  const key = recordsKey(runId);
  const sourceFacet: SourceRecordsFacetFields = {
    recordCount: records.length,
    recordsSha256: createHash('sha256').update(body).digest('hex'),
    ...(inline ? { records } : { recordsKey: key }),
  };
  const event: RunEvent = {
    ...header(i.error ? 'FAIL' : 'COMPLETE', i.eventTime, runId, LINEAGE_JOBS.datasetBuild(i.pipeline), i.error),
    inputs: [{
      ...s3DatasetId(i.cleanBucket, i.cleanPrefix),
      inputFacets: { [LINEAGE_FACETS.sourceRecords]: { ...facetBase('sourceRecords'), ...sourceFacet } },
    }],
    outputs: i.error ? [] : [{
      ...output,
      outputFacets: {
        [LINEAGE_FACETS.datasetVersion]: {
          ...facetBase('datasetVersion'),
          datasetVersion: i.datasetVersion,
          pipeline: i.pipeline,
          published: i.published,
          ...(i.blockedReasons?.length ? { blockedReasons: [...i.blockedReasons] } : {}),
          ...(i.counts ? { counts: { ...i.counts } } : {}),
          ...(i.manifestSha256 ? { manifestSha256: { ...i.manifestSha256 } } : {}),
        },
      },
    }],
  };
  return { event, records, ...(inline ? {} : { recordsObject: { key, body } }) };
}

/** A training run (GpuTrainingJob). */
export interface TrainingEventInput extends EventTiming {
  /** The model's name (GpuTrainingJob's modelName). */
  readonly model: string;
  readonly trainingJobName: string;
  readonly datasetVersion: string;
  /** `s3://` location of the dataset version (`DatasetVersionPublishedDetail.location`). */
  readonly datasetLocation: string;
  /** The trained model (COMPLETE only). */
  readonly output?: TrainedModelOutput;
  /** FAIL: the error name. @default - COMPLETE */
  readonly error?: string;
}

/** The model version a training run produced. */
export interface TrainedModelOutput {
  /** Models-zone bucket and key of the model's bytes (`<model>/models/<job>/model.onnx`). */
  readonly bucket: string;
  readonly key: string;
  /** SHA-256 of the model's bytes, hex: the link to every prediction served with it. */
  readonly sha256: string;
  /** The version an endpoint serves it as, when known at training time. @default - none */
  readonly modelVersion?: string;
  readonly modelPackageArn?: string;
  /** `s3://` URI of the model record. */
  readonly modelRecord?: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The run event of a training run: input the dataset version, output the model's bytes (S3 object
 * in the models zone) with `cdkSecureMlops_modelVersion` (sha256, training job, registry entry).
 */
export function trainingEvent(i: TrainingEventInput): RunEvent {
  nonEmpty({ model: i.model, trainingJobName: i.trainingJobName, datasetVersion: i.datasetVersion });
  const input = datasetLocationId(i.datasetLocation, 'trainingEvent');
  if (!i.error && !i.output) throw new LineageInputError('trainingEvent: a COMPLETE event needs output (the trained model)');
  if (i.output && !SHA256.test(i.output.sha256)) throw new LineageInputError('trainingEvent: output.sha256 must be 64 lower-case hex digits');
  const runId = runIdOf(i, `training\u0000${i.model}\u0000${i.trainingJobName}`);
  const o = i.output;
  return {
    ...header(i.error ? 'FAIL' : 'COMPLETE', i.eventTime, runId, LINEAGE_JOBS.training(i.model), i.error),
    inputs: [input],
    outputs: i.error || !o ? [] : [{
      ...s3DatasetId(o.bucket, o.key),
      outputFacets: {
        [LINEAGE_FACETS.modelVersion]: {
          ...facetBase('modelVersion'),
          model: i.model,
          sha256: o.sha256,
          trainingJobName: i.trainingJobName,
          datasetVersion: i.datasetVersion,
          ...(o.modelVersion ? { modelVersion: o.modelVersion } : {}),
          ...(o.modelPackageArn ? { modelPackageArn: o.modelPackageArn } : {}),
          ...(o.modelRecord ? { modelRecord: o.modelRecord } : {}),
        },
      },
    }],
  };
}

/** A promotion: a model version now served by an endpoint. */
export interface PromotionEventInput extends EventTiming {
  /** The endpoint's capture name (`ServerlessModelEndpoint.captureName`). */
  readonly endpoint: string;
  /** The version the endpoint serves it as (`ServerlessModelEndpoint.modelVersion`). */
  readonly modelVersion: string;
  /** The model's bytes in the models zone, as the training event named them. */
  readonly modelBucket: string;
  readonly modelKey: string;
  readonly modelSha256: string;
  /** The model version served before. @default - none */
  readonly previousModelVersion?: string;
  /** FAIL: the error name. @default - COMPLETE */
  readonly error?: string;
}

/**
 * The run event of a promotion: input the model's bytes, output the endpoint version
 * (`cdk-secure-mlops-endpoint` / `<endpoint>/<modelVersion>`, `cdkSecureMlops_endpointVersion`).
 */
export function promotionEvent(i: PromotionEventInput): RunEvent {
  nonEmpty({ endpoint: i.endpoint, modelVersion: i.modelVersion, modelBucket: i.modelBucket, modelKey: i.modelKey });
  if (!SHA256.test(i.modelSha256)) throw new LineageInputError('promotionEvent: modelSha256 must be 64 lower-case hex digits');
  const runId = runIdOf(i, `promotion\u0000${i.endpoint}\u0000${i.modelVersion}\u0000${i.modelSha256}`);
  return {
    ...header(i.error ? 'FAIL' : 'COMPLETE', i.eventTime, runId, LINEAGE_JOBS.promotion(i.endpoint), i.error),
    inputs: [s3DatasetId(i.modelBucket, i.modelKey)],
    outputs: i.error ? [] : [{
      ...endpointDatasetId(i.endpoint, i.modelVersion),
      outputFacets: {
        [LINEAGE_FACETS.endpointVersion]: {
          ...facetBase('endpointVersion'),
          endpoint: i.endpoint,
          modelVersion: i.modelVersion,
          modelSha256: i.modelSha256,
          ...(i.previousModelVersion ? { previousModelVersion: i.previousModelVersion } : {}),
        },
      },
    }],
  };
}

// ---- helpers -------------------------------------------------------------------------------------

function header(eventType: LineageEventType, eventTime: number, runId: string, jobName: string, error?: string) {
  return {
    eventType,
    eventTime: isoTime(eventTime),
    producer: LINEAGE_PRODUCER,
    schemaURL: OPENLINEAGE_RUN_EVENT_SCHEMA_URL,
    run: {
      runId,
      ...(error ? { facets: { [LINEAGE_FACETS.failure]: { ...facetBase('failure'), error } } } : {}),
    },
    job: { namespace: LINEAGE_JOB_NAMESPACE, name: jobName },
  };
}

function isoTime(ms: number): string {
  if (!Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime())) throw new LineageInputError(`eventTime must be epoch ms, got ${ms}`);
  return new Date(ms).toISOString();
}

function runIdOf(i: EventTiming, seed: string): string {
  if (i.runId !== undefined) {
    if (!UUID.test(i.runId)) throw new LineageInputError('runId must be a UUID (v7 or v4)');
    return i.runId.toLowerCase();
  }
  isoTime(i.eventTime);
  return uuidV7(Math.floor(i.eventTime), seed);
}

function nonEmpty(fields: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v !== 'string' || v === '') throw new LineageInputError(`${k} must be a non-empty string`);
  }
}

function datasetLocationId(location: string, who: string): LineageDatasetId {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location ?? '');
  if (!m) throw new LineageInputError(`${who}: datasetLocation must be an s3://bucket/prefix/ URI`);
  return s3DatasetId(m[1], m[2]);
}
