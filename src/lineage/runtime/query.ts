/**
 * Lineage queries on the lake (layout: src/contract/lineage.ts and monitoring.ts), with an injected
 * S3 client. Every step reads one object or lists one bounded prefix; nothing scans the events.
 *
 * - `lineageOfPrediction`: inference id → its capture (the UUID v7's time gives the hour
 *   partition) → model version and SHA-256 → the training run that produced those bytes → the
 *   dataset version it trained on → the source records (ids, subjects, raw objects and versions).
 * - `subjectFootprint`: subject pseudonym → the records and dataset versions holding their data →
 *   the models trained on those versions → the endpoint versions serving those models (the GDPR
 *   article 15 access and article 17 erasure-impact question).
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { RunEvent, uuidV7Time } from './events';
import { subjectKeyHash } from './writer';
import {
  LINEAGE_FACETS, LINEAGE_KEYS, LineageDatasetId, LineageIndexEntry, LineageSourceRecord, SubjectIndexEntry,
} from '../../contract/lineage';
import { CAPTURE_NAME_PATTERN, hourPartition, MONITORING_KEYS, PredictionCapture } from '../../contract/monitoring';

/** Where the queries read. */
export interface LineageStore {
  readonly s3: S3Client;
  /** The curated zone's bucket (lineage). */
  readonly lineageBucket: string;
  /** The models zone's bucket (prediction captures). */
  readonly capturesBucket: string;
}

/** The id asked about is not known to the lake (message names what was looked for and where). */
export class LineageNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LineageNotFound';
  }
}

/** A run, as its event states it. */
export interface LineageRun {
  readonly runId: string;
  readonly eventType: string;
  readonly eventTime: string;
  readonly job: string;
  readonly eventKey: string;
}

/** A dataset version and the records it was built from. */
export interface DatasetVersionLineage {
  readonly dataset: LineageDatasetId;
  readonly datasetVersion: string;
  readonly published: boolean;
  readonly build: LineageRun;
  readonly recordCount: number;
  readonly records: LineageSourceRecord[];
}

/** A model version (its bytes) and the run that trained it. */
export interface ModelVersionLineage {
  readonly dataset: LineageDatasetId;
  readonly model: string;
  readonly sha256: string;
  readonly trainingJobName: string;
  readonly datasetVersion: string;
  readonly training: LineageRun;
}

/** An endpoint version (a promotion). */
export interface EndpointVersionLineage {
  readonly endpoint: string;
  readonly modelVersion: string;
  readonly modelSha256: string;
  readonly promotion: LineageRun;
}

/** `lineageOfPrediction`'s answer. */
export interface PredictionLineage {
  readonly inferenceId: string;
  /** ISO time from the UUID v7. */
  readonly predictedAt: string;
  readonly capture: {
    readonly endpoint: string;
    readonly modelVersion: string;
    readonly modelSha256: string;
    readonly capturedAt: string;
    /** Key of the capture object in the models zone. */
    readonly key: string;
  };
  /** The training runs that produced the served bytes (one, unless the same bytes were trained twice). */
  readonly models: ModelVersionLineage[];
  /** The dataset versions those runs trained on, with their source records. */
  readonly datasetVersions: DatasetVersionLineage[];
  /** Promotions of the served bytes, when promotion events exist. */
  readonly promotions: EndpointVersionLineage[];
}

/** A dataset version holding some of a subject's records. */
export interface SubjectDatasetVersion {
  readonly dataset: LineageDatasetId;
  readonly datasetVersion: string;
  readonly published: boolean;
  readonly recordIds: string[];
}

/** What `lineageOfPrediction` is asked. */
export interface PredictionQuery {
  /** The inference id a prediction response carried (UUID v7). */
  readonly inferenceId: string;
  /** The endpoint's capture name, when known (fewer listings). @default - every endpoint */
  readonly endpoint?: string;
}

/** `subjectFootprint`'s answer. */
export interface SubjectFootprint {
  readonly subject: string;
  /** The subject's records, each with the dataset versions holding it. */
  readonly records: Array<LineageSourceRecord & { readonly datasetVersions: string[] }>;
  readonly datasetVersions: SubjectDatasetVersion[];
  /** Models trained on any of those dataset versions. */
  readonly models: ModelVersionLineage[];
  /** Endpoint versions serving any of those models. */
  readonly endpoints: EndpointVersionLineage[];
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The lineage of one prediction, from its inference id down to the source record ids. */
export async function lineageOfPrediction(store: LineageStore, q: PredictionQuery): Promise<PredictionLineage> {
  const ms = UUID_V7.test(q.inferenceId ?? '') ? uuidV7Time(q.inferenceId) : undefined;
  if (ms === undefined) throw new LineageNotFoundError(`inference id ${JSON.stringify(q.inferenceId)} is not a UUID version 7 (every prediction response carries one)`);
  if (q.endpoint !== undefined && !CAPTURE_NAME_PATTERN.test(q.endpoint)) throw new LineageNotFoundError(`endpoint ${JSON.stringify(q.endpoint)} is not a capture name`);
  const capture = await findCapture(store, q.inferenceId.toLowerCase(), ms, q.endpoint);

  const models = await modelsBySha(store, capture.line.modelSha256);
  if (models.length === 0) {
    throw new LineageNotFoundError(`no training lineage for the model the prediction was served with (sha256 ${capture.line.modelSha256}, version ${capture.line.modelVersion}): no event under ${LINEAGE_KEYS.modelSha256(capture.line.modelSha256)} in s3://${store.lineageBucket}`);
  }
  const datasets = new Map<string, DatasetVersionLineage>();
  for (const m of models) {
    for (const d of await datasetsOfRun(store, m.training.eventKey)) datasets.set(`${d.dataset.namespace}/${d.dataset.name}`, d);
  }
  const promotions = (await Promise.all(models.map((m) => promotionsOf(store, m.dataset)))).flat();
  return {
    inferenceId: q.inferenceId.toLowerCase(),
    predictedAt: new Date(ms).toISOString(),
    capture: {
      endpoint: capture.line.endpoint,
      modelVersion: capture.line.modelVersion,
      modelSha256: capture.line.modelSha256,
      capturedAt: capture.line.capturedAt,
      key: capture.key,
    },
    models,
    datasetVersions: [...datasets.values()],
    promotions,
  };
}

/** Everything the lake's lineage knows to hold a subject's data. */
export async function subjectFootprint(store: LineageStore, pseudonym: string): Promise<SubjectFootprint> {
  if (typeof pseudonym !== 'string' || pseudonym === '') throw new LineageNotFoundError('subject pseudonym must be a non-empty string');
  const keys = await listKeys(store.s3, store.lineageBucket, LINEAGE_KEYS.subject(subjectKeyHash(pseudonym)));
  const read = await Promise.all(keys.map((k) => getJson<SubjectIndexEntry>(store.s3, store.lineageBucket, k)));
  const entries = read.filter((e): e is SubjectIndexEntry => !!e && e.subject === pseudonym);
  if (entries.length === 0) throw new LineageNotFoundError(`no dataset version holds records of subject ${JSON.stringify(pseudonym)} (nothing under ${LINEAGE_KEYS.subject('<sha256>')} in s3://${store.lineageBucket})`);
  entries.sort((a, b) => (a.datasetVersion < b.datasetVersion ? -1 : a.datasetVersion > b.datasetVersion ? 1 : 0));

  const records = new Map<string, LineageSourceRecord & { datasetVersions: string[] }>();
  for (const e of entries) {
    for (const r of e.records) {
      const prev = records.get(r.recordId);
      if (prev) prev.datasetVersions.push(e.datasetVersion);
      else records.set(r.recordId, { ...r, datasetVersions: [e.datasetVersion] });
    }
  }
  const models: ModelVersionLineage[] = [];
  for (const e of entries) {
    for (const entry of await indexEntries(store, LINEAGE_KEYS.consumedBy(e.dataset))) {
      const event = await getJson<RunEvent>(store.s3, store.lineageBucket, entry.eventKey);
      if (event) models.push(...modelOutputs(event, entry.eventKey));
    }
  }
  const endpoints = (await Promise.all(models.map((m) => promotionsOf(store, m.dataset)))).flat();
  return {
    subject: pseudonym,
    records: [...records.values()].sort((a, b) => (a.recordId < b.recordId ? -1 : 1)),
    datasetVersions: entries.map((e) => ({
      dataset: e.dataset, datasetVersion: e.datasetVersion, published: e.published, recordIds: e.records.map((r) => r.recordId),
    })),
    models,
    endpoints,
  };
}

// ---- steps ---------------------------------------------------------------------------------------

async function findCapture(
  store: LineageStore, inferenceId: string, ms: number, endpoint?: string,
): Promise<{ key: string; line: PredictionCapture }> {
  const endpoints = endpoint !== undefined
    ? [endpoint]
    : (await listPrefixes(store.s3, store.capturesBucket, MONITORING_KEYS.capturesRoot)).map((p) => p.slice(MONITORING_KEYS.capturesRoot.length).replace(/^endpoint=/, '').replace(/\/$/, ''));
  // The capture's hour is that of capturedAt, a moment after the id's time: its hour and the next.
  const hours = [new Date(ms), new Date(ms + 3_600_000)];
  for (const e of endpoints) {
    const models = await listPrefixes(store.s3, store.capturesBucket, MONITORING_KEYS.capturesPrefix(e));
    for (const modelPrefix of models) {
      for (const h of hours) {
        const hourPrefix = `${modelPrefix}${hourPartition(h)}`;
        for (const key of await listKeys(store.s3, store.capturesBucket, hourPrefix)) {
          const text = await getText(store.s3, store.capturesBucket, key);
          if (text === undefined || !text.includes(inferenceId)) continue;
          for (const raw of text.split('\n')) {
            if (!raw.includes(inferenceId)) continue;
            try {
              const line = JSON.parse(raw) as PredictionCapture;
              if (line.inferenceId?.toLowerCase() === inferenceId) return { key, line };
            } catch {
              continue;
            }
          }
        }
      }
    }
  }
  throw new LineageNotFoundError(`no capture of inference id ${inferenceId} (looked under ${endpoint !== undefined ? MONITORING_KEYS.capturesPrefix(endpoint) : MONITORING_KEYS.capturesRoot}*/model=*/${new Date(ms).toISOString().slice(0, 13)}h and the hour after, in s3://${store.capturesBucket}): it was not sampled, its capture expired, or the id is wrong`);
}

async function modelsBySha(store: LineageStore, sha256: string): Promise<ModelVersionLineage[]> {
  if (!/^[0-9a-f]{64}$/.test(sha256 ?? '')) return [];
  const out: ModelVersionLineage[] = [];
  for (const entry of await indexEntries(store, LINEAGE_KEYS.modelSha256(sha256))) {
    const event = await getJson<RunEvent>(store.s3, store.lineageBucket, entry.eventKey);
    if (event) out.push(...modelOutputs(event, entry.eventKey).filter((m) => m.sha256 === sha256));
  }
  return out;
}

function modelOutputs(event: RunEvent, eventKey: string): ModelVersionLineage[] {
  if (event.eventType !== 'COMPLETE') return [];
  return event.outputs.flatMap((o) => {
    const f = o.outputFacets?.[LINEAGE_FACETS.modelVersion];
    if (!f) return [];
    return [{
      dataset: { namespace: o.namespace, name: o.name },
      model: String(f.model),
      sha256: String(f.sha256),
      trainingJobName: String(f.trainingJobName),
      datasetVersion: String(f.datasetVersion),
      training: run(event, eventKey),
    }];
  });
}

/** The dataset versions a training run read, each with the build that produced it and its records. */
async function datasetsOfRun(store: LineageStore, eventKey: string): Promise<DatasetVersionLineage[]> {
  const event = await getJson<RunEvent>(store.s3, store.lineageBucket, eventKey);
  if (!event) throw new LineageNotFoundError(`lineage event ${eventKey} is missing from s3://${store.lineageBucket}`);
  const out: DatasetVersionLineage[] = [];
  for (const input of event.inputs) {
    const builds = (await indexEntries(store, LINEAGE_KEYS.producedBy(input))).filter((e) => e.eventType === 'COMPLETE');
    if (builds.length === 0) throw new LineageNotFoundError(`no build lineage for dataset ${input.namespace}/${input.name} (read by run ${event.run.runId}): nothing under ${LINEAGE_KEYS.producedBy(input)}`);
    for (const b of builds) {
      const build = await getJson<RunEvent>(store.s3, store.lineageBucket, b.eventKey);
      if (!build) throw new LineageNotFoundError(`lineage event ${b.eventKey} is missing from s3://${store.lineageBucket}`);
      const output = build.outputs.find((o) => o.namespace === input.namespace && o.name === input.name);
      const facet = output?.outputFacets?.[LINEAGE_FACETS.datasetVersion];
      const source = build.inputs.map((i) => i.inputFacets?.[LINEAGE_FACETS.sourceRecords]).find((f) => f !== undefined);
      const records = source ? await sourceRecords(store, source) : [];
      out.push({
        dataset: { namespace: input.namespace, name: input.name },
        datasetVersion: facet ? String(facet.datasetVersion) : input.name,
        published: facet?.published === true,
        build: run(build, b.eventKey),
        recordCount: typeof source?.recordCount === 'number' ? source.recordCount : records.length,
        records,
      });
    }
  }
  return out;
}

async function sourceRecords(store: LineageStore, facet: Record<string, unknown>): Promise<LineageSourceRecord[]> {
  if (Array.isArray(facet.records)) return facet.records as LineageSourceRecord[];
  if (typeof facet.recordsKey !== 'string') return [];
  const text = await getText(store.s3, store.lineageBucket, facet.recordsKey);
  if (text === undefined) throw new LineageNotFoundError(`records object ${facet.recordsKey} is missing from s3://${store.lineageBucket}`);
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as LineageSourceRecord);
}

async function promotionsOf(store: LineageStore, model: LineageDatasetId): Promise<EndpointVersionLineage[]> {
  const out: EndpointVersionLineage[] = [];
  for (const entry of await indexEntries(store, LINEAGE_KEYS.consumedBy(model))) {
    const event = await getJson<RunEvent>(store.s3, store.lineageBucket, entry.eventKey);
    if (!event || event.eventType !== 'COMPLETE') continue;
    for (const o of event.outputs) {
      const f = o.outputFacets?.[LINEAGE_FACETS.endpointVersion];
      if (!f) continue;
      out.push({
        endpoint: String(f.endpoint), modelVersion: String(f.modelVersion), modelSha256: String(f.modelSha256), promotion: run(event, entry.eventKey),
      });
    }
  }
  return out;
}

function run(event: RunEvent, eventKey: string): LineageRun {
  return { runId: event.run.runId, eventType: event.eventType, eventTime: event.eventTime, job: `${event.job.namespace}/${event.job.name}`, eventKey };
}

async function indexEntries(store: LineageStore, prefix: string): Promise<LineageIndexEntry[]> {
  const keys = await listKeys(store.s3, store.lineageBucket, prefix);
  const entries = await Promise.all(keys.map((k) => getJson<LineageIndexEntry>(store.s3, store.lineageBucket, k)));
  return entries.filter((e): e is LineageIndexEntry => !!e && typeof e.eventKey === 'string');
}

// ---- S3 ------------------------------------------------------------------------------------------

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function listPrefixes(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) }));
    for (const p of res.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function getText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await res.Body!.transformToString('utf-8');
  } catch (e) {
    if ((e as Error).name === 'NoSuchKey') return undefined;
    throw e;
  }
}

async function getJson<T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> {
  const text = await getText(s3, bucket, key);
  return text === undefined ? undefined : JSON.parse(text) as T;
}
