/**
 * The dataset-version handler (a Lambda task of the dataset state machine): reads the ledger,
 * inlines or references the clean records, builds the manifests, the dataset card and the
 * data-quality report (logic/dataset.ts), and writes them, once, under
 * `<ZONE_PREFIX>datasets/<version>/` in the curated zone. A version whose gates fail is written
 * too (so people can see why) and returned with `publish: false`.
 *
 * Write order: `quality-report.json` first, with If-None-Match: * (it claims the version name: an
 * existing version is refused before anything is written), then the three manifests, then the
 * version's lineage (an OpenLineage run event with the source record ids of every manifest line,
 * and its index objects under `lineage/` in the curated zone: src/lineage/, docs/lineage.md), then
 * `dataset-card.json` last (its manifestSha256 makes it the version's completion marker). Lineage
 * is written for blocked versions too: their manifests hold the subjects' data all the same. A
 * version with a card therefore always has its lineage.
 *
 * Logs and metrics carry counts and identifiers only, never a record value.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DATASET_FILES, DatasetTaskInput, DatasetTaskResult, KEYS, LabelerSpec, PipelineConfig } from './contract';
import { scanLedger, sourceOutcomes } from './dataset-ledger';
import { datasetLineage } from './dataset-lineage';
import { buildDatasetVersion, compileSplitter, DatasetRecord, RowFailure, SPLITS } from './logic/dataset';
import { canonicalJson, isObject, JsonValue, sha256Hex } from './logic/json';
import { LabelRecord } from './logic/labeling';
import { metricWriter, s3Uri } from './pipeline-io';
import { writeLineageEvent } from '../../lineage/runtime/writer';

/** The environment variables the dataset handler reads (logic/contract.ts ENV). */
export const DATASET_ENV = ['CLEAN_BUCKET', 'CURATED_BUCKET', 'ZONE_PREFIX', 'DATA_KEY_ARN', 'LEDGER_TABLE', 'METRICS_NAMESPACE'] as const;
export type DatasetEnv = Record<typeof DATASET_ENV[number], string>;

/** A dataset version name: [A-Za-z0-9._-]{1,64}, not only dots. */
export const DATASET_VERSION_PATTERN = /^(?!\.+$)[A-Za-z0-9._-]{1,64}$/;

/** GetObjects in flight while inlining clean records. */
export const DEFAULT_READ_CONCURRENCY = 16;

/** The version name is not allowed (error name for the state machine's Catch). */
export class InvalidDatasetVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDatasetVersion';
  }
}

/** A version of that name exists; versions are immutable (error name for the state machine's Catch). */
export class DatasetVersionExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetVersionExists';
  }
}

export interface DatasetHandlerDeps {
  readonly s3: S3Client;
  readonly ddb: DynamoDBClient;
  readonly env: DatasetEnv;
  readonly config: PipelineConfig;
  /** Clock for the default version name and createdAt, epoch ms (durations use performance.now). @default Date.now */
  readonly now?: () => number;
  /** GetObjects in flight while inlining. @default 16 */
  readonly readConcurrency?: number;
  /** Items evaluated per Scan page. @default - DynamoDB's 1 MB pages */
  readonly scanLimit?: number;
  /** Structured log (counts and ids only). @default - a Powertools Logger with service = the pipeline name */
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
  /** EMF line sink. @default - stdout */
  readonly writeMetrics?: (line: string) => void;
}

/** Metrics, under METRICS_NAMESPACE with the dimension `service` = pipeline name. */
export const DATASET_METRICS = {
  records: 'DatasetRecords',
  quarantined: 'DatasetQuarantined',
  unlabelled: 'DatasetUnlabelled',
  blocked: 'DatasetVersionBlocked',
  buildTime: 'DatasetBuildTime',
  lineageObjects: 'DatasetLineageObjects',
} as const;

/** `<name>-<UTC yyyyMMddTHHmmssZ>`, the name made to fit the pattern (at most 64 characters). */
export function defaultDatasetVersion(pipelineName: string, now: number): string {
  const ts = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = pipelineName.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64 - ts.length - 1) || 'dataset';
  return `${base}-${ts}`;
}

/** `id@version` of each labeler, in configuration order. */
export function labelerRefs(labelers: readonly LabelerSpec[]): string[] {
  return labelers.map((l) => (l.kind === 'rules' ? `${l.rules.id}@${l.rules.version}` : `${l.id}@${l.version}`));
}

/** Creates the handler. Validates the configuration now (a bad one fails at init). */
export function createDatasetHandler(deps: DatasetHandlerDeps): (input?: DatasetTaskInput | null) => Promise<DatasetTaskResult> {
  const { s3, ddb, env, config } = deps;
  const now = deps.now ?? Date.now;
  const concurrency = Math.max(1, Math.floor(deps.readConcurrency ?? DEFAULT_READ_CONCURRENCY));
  const log = deps.log ?? powertoolsLog(config.pipelineName);
  const mode = config.manifestSource ?? 'inline';
  if (mode !== 'inline' && mode !== 'ref') throw new Error(`pipeline config: manifestSource must be 'inline' or 'ref', got ${JSON.stringify(mode)}`);
  compileSplitter(config.split);
  const { attribute, classes } = config.task;
  const configVersion = config.cleaning.version ?? '0';
  // Exactly as the cleaner computes it (compileCleaner(...).schemaSha256), without compiling the schema.
  const schemaSha256 = config.cleaning.schema !== undefined ? sha256Hex(canonicalJson(config.cleaning.schema)) : '';
  const versions: Record<string, string> = {
    'cleaning-config': configVersion,
    'labelers': labelerRefs(config.labelers).join(','),
    ...(config.libraryVersion ? { library: config.libraryVersion } : {}),
  };
  const emit = metricWriter(env.METRICS_NAMESPACE, config.pipelineName, [
    { name: DATASET_METRICS.records, unit: 'Count' },
    { name: DATASET_METRICS.quarantined, unit: 'Count' },
    { name: DATASET_METRICS.unlabelled, unit: 'Count' },
    { name: DATASET_METRICS.blocked, unit: 'Count' },
    { name: DATASET_METRICS.buildTime, unit: 'Milliseconds' },
    { name: DATASET_METRICS.lineageObjects, unit: 'Count' },
  ], deps.writeMetrics);
  /** Clean records live under `<ZONE_PREFIX>records/` (KEYS.cleanRecord); nothing else is read. */
  const cleanPrefix = KEYS.cleanRecord(env.ZONE_PREFIX, '').slice(0, -'.json'.length);

  return async (input) => {
    const started = now();
    const t0 = performance.now();
    const requested = input?.datasetVersion;
    if (requested !== undefined && (typeof requested !== 'string' || !DATASET_VERSION_PATTERN.test(requested))) {
      throw new InvalidDatasetVersionError(`datasetVersion ${JSON.stringify(requested)} is not allowed: use 1 to 64 of A-Z a-z 0-9 . _ - (not only dots), or leave it out for '<pipeline>-<UTC yyyyMMddTHHmmssZ>'`);
    }
    const datasetVersion = requested ?? defaultDatasetVersion(config.pipelineName, started);
    const prefix = KEYS.datasetPrefix(env.ZONE_PREFIX, datasetVersion);
    const location = s3Uri(env.CURATED_BUCKET, prefix);

    // 1. The ledger.
    const ledger = await scanLedger(ddb, env.LEDGER_TABLE, deps.scanLimit);
    const t1 = performance.now();
    const outcomes = sourceOutcomes(ledger.sources, configVersion);
    let staleLabels = 0;
    const records: DatasetRecord[] = ledger.records.map((item) => {
      const label = currentLabel(item.label, attribute, classes);
      if (item.label !== undefined && item.label !== null && !label) staleLabels++;
      const subject = typeof item.subject === 'string' && item.subject !== '' ? item.subject : item.recordId;
      return {
        recordId: item.recordId,
        subject,
        sourceRef: item.cleanRef,
        ...(label ? { label } : {}),
        ...(typeof item.sourceVersionId === 'string' && item.sourceVersionId ? { extra: { 'source-version-id': item.sourceVersionId } } : {}),
      };
    });

    // 2. Inline sources: the clean records of the labelled ones, from the clean zone only.
    const readFailures: RowFailure[] = [];
    let included = records;
    if (mode === 'inline') {
      const texts = await mapLimit(records, concurrency, async (r) => (r.label ? readClean(r) : undefined));
      included = [];
      records.forEach((r, i) => {
        const t = texts[i];
        if (t !== undefined && typeof t !== 'string') readFailures.push({ id: r.recordId, codes: [t.code] });
        else included.push(t === undefined ? r : { ...r, source: t });
      });
    }

    const t2 = performance.now();

    // 3. Build.
    const version = buildDatasetVersion({
      datasetVersion,
      jobName: `labeling-pipeline/${config.pipelineName}/${datasetVersion}`,
      now: started,
      attribute,
      classes,
      records: included,
      quarantined: [...outcomes.quarantined, ...readFailures],
      split: config.split,
      schemaSha256,
      versions,
      gates: config.gates,
    });

    const t3 = performance.now();

    // 4. Write: the report claims the name, the card completes the version.
    await put(datasetVersion, location, `${prefix}${DATASET_FILES.report}`, JSON.stringify(version.report, null, 2) + '\n', 'application/json');
    for (const split of SPLITS) {
      await put(datasetVersion, location, `${prefix}${DATASET_FILES.manifest(split)}`, version.manifests[split], 'application/jsonlines');
    }
    const lineage = datasetLineage({
      pipeline: config.pipelineName,
      datasetVersion,
      version,
      records: ledger.records,
      eventTime: now(),
      curatedBucket: env.CURATED_BUCKET,
      datasetPrefix: prefix,
      cleanBucket: env.CLEAN_BUCKET,
      cleanPrefix,
    });
    const lineageWrite = await writeLineageEvent(s3, { bucket: env.CURATED_BUCKET, kmsKeyArn: env.DATA_KEY_ARN, concurrency }, lineage);
    const tLineage = performance.now();
    await put(datasetVersion, location, `${prefix}${DATASET_FILES.card}`, JSON.stringify(version.card, null, 2) + '\n', 'application/json');

    const counts: Record<string, number> = {
      ...version.card.counts,
      quarantined: outcomes.quarantined.length,
      unlabelled: version.report.totals.unlabelled,
      clean: version.report.totals.clean,
      duplicates: outcomes.duplicates,
      rowFailures: version.report.rowFailures.length,
      staleLabels,
      humanLabelled: version.card.humanLabelled,
    };
    const t4 = performance.now();
    const ms = Math.round(t4 - t0);
    emit([counts.total, counts.quarantined, counts.unlabelled, version.report.publish ? 0 : 1, ms, lineageWrite.written], { datasetVersion });
    log(version.report.publish ? 'dataset version published' : 'dataset version blocked', {
      datasetVersion,
      location,
      publish: version.report.publish,
      counts,
      gates: version.report.gates.filter((g) => !g.passed).map((g) => g.id),
      ledgerPages: ledger.pages,
      ledgerScanned: ledger.scannedCount,
      manifestSource: mode,
      ms,
      lineage: { runId: lineage.event.run.runId, eventKey: lineageWrite.eventKey, objects: lineageWrite.written, existing: lineageWrite.existing },
      phaseMs: {
        scan: Math.round(t1 - t0),
        read: Math.round(t2 - t1),
        build: Math.round(t3 - t2),
        lineage: Math.round(tLineage - t3),
        write: Math.round(t4 - t3),
      },
    });
    return { datasetVersion, location, publish: version.report.publish, blockedReasons: version.report.blockedReasons, counts };
  };

  /** The clean record as one line of JSON text, or a row-failure code. */
  async function readClean(r: DatasetRecord): Promise<string | { code: string }> {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(r.sourceRef ?? '');
    if (!m || m[1] !== env.CLEAN_BUCKET || !m[2].startsWith(cleanPrefix)) return { code: 'clean-ref' };
    let text: string;
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
      text = await res.Body!.transformToString('utf-8');
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey') return { code: 'clean-missing' };
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { code: 'clean-invalid' };
    }
    if (!isObject(parsed)) return { code: 'clean-invalid' };
    return JSON.stringify(parsed as JsonValue);
  }

  async function put(datasetVersion: string, location: string, key: string, body: string, contentType: string): Promise<void> {
    try {
      await s3.send(new PutObjectCommand({
        Bucket: env.CURATED_BUCKET,
        Key: key,
        Body: body,
        ContentType: contentType,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: env.DATA_KEY_ARN,
        IfNoneMatch: '*',
      }));
    } catch (e) {
      const name = (e as Error).name;
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409) {
        throw new DatasetVersionExistsError(`dataset version '${datasetVersion}' already exists at ${location} (${key.slice(key.lastIndexOf('/') + 1)} is there): versions are immutable, start again with another datasetVersion or none`);
      }
      throw e;
    }
  }
}

/** The Powertools logger (JSON lines with level, timestamp, service) as the handler's `log`. */
export function powertoolsLog(serviceName: string): (message: string, fields: Record<string, unknown>) => void {
  const logger = new Logger({ serviceName });
  return (message, fields) => logger.info(message, fields);
}

/**
 * The record's current label if it belongs to this task: the same attribute and a class the task
 * lists (the class index is re-derived from the name). Absent or foreign labels: undefined.
 * Accepts a label stored as a map or as its JSON text.
 */
export function currentLabel(raw: unknown, attribute: string, classes: readonly string[]): LabelRecord | undefined {
  let l = raw;
  if (typeof l === 'string') {
    try {
      l = JSON.parse(l);
    } catch {
      return undefined;
    }
  }
  if (!isObject(l)) return undefined;
  const label = l as unknown as LabelRecord;
  if (label.attribute !== attribute || typeof label.className !== 'string') return undefined;
  const classIndex = classes.indexOf(label.className);
  if (classIndex < 0 || typeof label.confidence !== 'number' || !Number.isFinite(label.confidence)) return undefined;
  if (typeof label.createdAt !== 'string' || Number.isNaN(Date.parse(label.createdAt))) return undefined;
  return {
    ...label,
    classIndex,
    human: label.human === true,
    labeler: typeof label.labeler === 'string' ? label.labeler : '',
    votes: Array.isArray(label.votes) ? label.votes : [],
  };
}

/** Map with at most `limit` calls in flight, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
