/**
 * Lineage in the lake, as data: OpenLineage 2-0-2 run events for dataset-version builds
 * (LabelingPipeline), training runs (GpuTrainingJob) and promotions (a model version served by an
 * endpoint), where they and their index objects lie in the lake's CURATED zone, and how jobs and
 * datasets are named. Written by the emitters (src/lineage/writer.ts), read by the queries
 * (src/lineage/query.ts) and the CLI. docs/lineage.md tells the whole story.
 *
 * Pure TypeScript (no aws-cdk-lib, no SDK): imported by constructs (synth time, for IAM scopes) and
 * by handlers (bundled). Changing a name here is a breaking change for stored lineage.
 *
 * Everything lives under `lineage/` at the root of the curated zone (not under a pipeline's zone
 * prefix: lineage crosses constructs). Folder names use Hive-style `key=value` partitions; none
 * starts with `_` or `.`.
 */

/** The top-level folder of every lineage object in the curated zone. */
export const LINEAGE_ROOT = 'lineage/';

/** The OpenLineage core spec version of the events (`$id` of the schema they are validated with). */
export const OPENLINEAGE_SPEC_VERSION = '2-0-2';

/** `schemaURL` of every run event. */
export const OPENLINEAGE_RUN_EVENT_SCHEMA_URL = `https://openlineage.io/spec/${OPENLINEAGE_SPEC_VERSION}/OpenLineage.json#/$defs/RunEvent`;

/** `producer` of every event and `_producer` of every facet: the library's repository. */
export const LINEAGE_PRODUCER = 'https://github.com/cdk-secure-mlops/cdk-secure-mlops';

/**
 * The JSON Schema of the library's custom facets (shipped as docs/lineage-facets.json); each
 * facet's `_schemaURL` is this URL + `#/$defs/<Facet>`. Facets are versioned by their name in the
 * file (a field change gets a new definition), not by the library's release.
 */
export const LINEAGE_FACETS_SCHEMA_URL = `${LINEAGE_PRODUCER}/blob/main/docs/lineage-facets.json`;

/** The namespace of every job the library runs. */
export const LINEAGE_JOB_NAMESPACE = 'cdk-secure-mlops';

/** Job names (`<construct>.<instance>.<task>`). */
export const LINEAGE_JOBS = {
  /** A LabelingPipeline's dataset-version build. */
  datasetBuild: (pipeline: string) => `labeling-pipeline.${pipeline}.dataset-version`,
  /** A GpuTrainingJob's training run (one SageMaker training job). */
  training: (model: string) => `gpu-training-job.${model}.training`,
  /** Promotion of a model version to an endpoint (`ServerlessModelEndpoint.captureName`). */
  promotion: (endpoint: string) => `serverless-model-endpoint.${endpoint}.promotion`,
} as const;

/**
 * Namespace of an endpoint version (`<endpoint capture name>/<model version>`): an endpoint is no
 * storage OpenLineage names, so the library's own namespace is used.
 */
export const ENDPOINT_DATASET_NAMESPACE = 'cdk-secure-mlops-endpoint';

/** An OpenLineage dataset identity. */
export interface LineageDatasetId {
  readonly namespace: string;
  readonly name: string;
}

/**
 * An S3 object or prefix as OpenLineage names it (naming spec, S3): namespace `s3://<bucket>`, name
 * the key. A prefix (a dataset version's folder) is named without its trailing `/`.
 */
export function s3DatasetId(bucket: string, key: string): LineageDatasetId {
  return { namespace: `s3://${bucket}`, name: key.replace(/\/+$/, '') };
}

/** The dataset id of an `s3://bucket/key` URI (a trailing `/` dropped); undefined for anything else. */
export function s3UriDatasetId(uri: string): LineageDatasetId | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? s3DatasetId(m[1], m[2]) : undefined;
}

/** The dataset id of an endpoint version. */
export function endpointDatasetId(endpoint: string, modelVersion: string): LineageDatasetId {
  return { namespace: ENDPOINT_DATASET_NAMESPACE, name: `${endpoint}/${modelVersion}` };
}

/** Names of the library's custom facets (OpenLineage asks for a prefix; `cdkSecureMlops_`). */
export const LINEAGE_FACETS = {
  /** Input facet of a dataset build's clean-zone input: the source records (ids and versions). */
  sourceRecords: 'cdkSecureMlops_sourceRecords',
  /** Output facet of a dataset build's output: the dataset version, its card and gates. */
  datasetVersion: 'cdkSecureMlops_datasetVersion',
  /** Output facet of a training run's output: the model version (bytes' SHA-256, job, registry). */
  modelVersion: 'cdkSecureMlops_modelVersion',
  /** Output facet of a promotion's output: the endpoint and the model version it serves. */
  endpointVersion: 'cdkSecureMlops_endpointVersion',
  /** Run facet of a FAIL event: the error's name (never a record value). */
  failure: 'cdkSecureMlops_failure',
} as const;

/** Definition names in docs/lineage-facets.json, by facet. */
export const LINEAGE_FACET_DEFS: Record<keyof typeof LINEAGE_FACETS, string> = {
  sourceRecords: 'SourceRecordsInputDatasetFacet',
  datasetVersion: 'DatasetVersionOutputDatasetFacet',
  modelVersion: 'ModelVersionOutputDatasetFacet',
  endpointVersion: 'EndpointVersionOutputDatasetFacet',
  failure: 'FailureRunFacet',
};

/**
 * Source records listed inline in a dataset build's event, at most: a bigger build lists them in
 * its records object (`LINEAGE_KEYS.records`, JSON Lines) and the facet names that object. 1,000
 * records keep an event under about 300 KB; 100,000 records are about 20 MB of JSON Lines.
 */
export const MAX_INLINE_SOURCE_RECORDS = 1000;

/** One source record of a dataset version (a manifest line's provenance). */
export interface LineageSourceRecord {
  /** The record id (`record-id` of the manifest line). */
  readonly recordId: string;
  /** The subject pseudonym (`subject-pseudonym`). */
  readonly subject: string;
  /** `s3://` URI of the clean record (`source-ref`). */
  readonly cleanRef?: string;
  /** `s3://` URI of the raw upload the record came from. */
  readonly source?: string;
  /** The raw upload's S3 version id (`source-version-id`). */
  readonly sourceVersionId?: string;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** `date=YYYY-MM-DD` of a time (UTC). */
function dateValue(t: Date): string {
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}
/** A dataset id as one partition value (reversible: `decodeURIComponent`, then split at the first `/` after `://`). */
export function datasetPartitionValue(d: LineageDatasetId): string {
  return encodeURIComponent(`${d.namespace}/${d.name}`);
}

/**
 * Object keys of lineage in the curated zone. Events are immutable (written once, If-None-Match);
 * index objects are small JSON documents that point at events, so every query lists one bounded
 * prefix instead of scanning the events.
 */
export const LINEAGE_KEYS = {
  /** Every event: `lineage/events/`. */
  eventsRoot: `${LINEAGE_ROOT}events/`,
  /** One event: `lineage/events/date=<eventTime's UTC date>/<runId>-<eventType>.json`. */
  event: (eventTime: Date, runId: string, eventType: string) => `${LINEAGE_ROOT}events/date=${dateValue(eventTime)}/${runId}-${eventType}.json`,
  /** The full source-record list of a dataset build: `lineage/records/<runId>.jsonl` (one LineageSourceRecord per line). */
  records: (runId: string) => `${LINEAGE_ROOT}records/${runId}.jsonl`,
  /** Runs that produced a dataset (one index object per run): `lineage/index/output=<dataset>/`. */
  producedBy: (d: LineageDatasetId) => `${LINEAGE_ROOT}index/output=${datasetPartitionValue(d)}/`,
  /** Runs that read a dataset: `lineage/index/input=<dataset>/`. */
  consumedBy: (d: LineageDatasetId) => `${LINEAGE_ROOT}index/input=${datasetPartitionValue(d)}/`,
  /**
   * Dataset versions holding a subject's records: `lineage/index/subject=<SHA-256 of the pseudonym, hex>/`
   * (one object per dataset version). The key carries a hash of the pseudonym, not the pseudonym:
   * key names reach access logs and inventories, which the objects' contents do not.
   */
  subject: (pseudonymSha256: string) => `${LINEAGE_ROOT}index/subject=${pseudonymSha256}/`,
  /** Runs that produced a model's bytes: `lineage/index/model-sha256=<sha256>/`. */
  modelSha256: (sha256: string) => `${LINEAGE_ROOT}index/model-sha256=${sha256}/`,
  /** The index object of one run under one of the index prefixes above: `<prefix><runId>.json`. */
  indexEntry: (prefix: string, runId: string) => `${prefix}${runId}.json`,
  /** The subject index object of one dataset version: `<subject prefix><dataset>.json`. */
  subjectEntry: (pseudonymSha256: string, d: LineageDatasetId) => `${LINEAGE_ROOT}index/subject=${pseudonymSha256}/${datasetPartitionValue(d)}.json`,
} as const;

/** What an index object under `producedBy`, `consumedBy` or `modelSha256` holds. */
export interface LineageIndexEntry {
  readonly runId: string;
  readonly eventType: string;
  readonly eventTime: string;
  /** Key of the event in the curated zone. */
  readonly eventKey: string;
  readonly job: LineageDatasetId;
}

/** What a subject index object holds: the subject's records in one dataset version. */
export interface SubjectIndexEntry {
  readonly subject: string;
  readonly dataset: LineageDatasetId;
  /** The dataset version's name. */
  readonly datasetVersion: string;
  /** Whether the version passed its gates (a blocked version still holds the data). */
  readonly published: boolean;
  readonly runId: string;
  readonly eventKey: string;
  readonly records: LineageSourceRecord[];
}
