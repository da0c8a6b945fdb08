/**
 * The dataset-version handler against moto_server over real HTTP: a versioned clean zone and a
 * versioned curated zone with SSE-KMS, and the ledger table in DynamoDB, seeded with a generated
 * hearing dataset (the real cleaner, the rules labeler, human labels, quarantined and duplicate
 * sources, records waiting for review). Then the written manifests are used as the example
 * training script's channels.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  AttributeValue, BatchWriteItemCommand, CreateTableCommand, DynamoDBClient, PutItemCommand, ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, ListObjectsV2Command,
  PutBucketEncryptionCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { CLEANING, fakeMac, hearingConfig, LABELING, NOW } from './hearing';
import { METRIC_DEFINITIONS, syntheticAudiograms, TRAIN_SCRIPT } from '../../examples/training/hearing-dataset';
import { runLocalTraining } from '../../examples/training/local-training';
import { LINEAGE_FACETS, LINEAGE_KEYS, LineageSourceRecord } from '../../src/contract/lineage';
import {
  CONFIG_FILE, DATASET_FILES, DatasetTaskResult, KEYS, LEDGER, PipelineConfig, RecordItem, SourceItem,
} from '../../src/labeling-pipeline/runtime/contract';
import { createDatasetHandler, DatasetEnv, DATASET_ENV } from '../../src/labeling-pipeline/runtime/dataset';
import { compileCleaner } from '../../src/labeling-pipeline/runtime/logic/cleaning';
import { DatasetCard, QualityReport, readManifest, Split, SPLITS } from '../../src/labeling-pipeline/runtime/logic/dataset';
import { compileLabelTask, compileRulesLabeler, LabelRecord } from '../../src/labeling-pipeline/runtime/logic/labeling';
import { formatPredictionLineage } from '../../src/lineage/runtime/cli';
import { promotionEvent, RunEvent, trainingEvent, uuidV7 } from '../../src/lineage/runtime/events';
import { lineageOfPrediction, subjectFootprint } from '../../src/lineage/runtime/query';
import { writeLineageEvent } from '../../src/lineage/runtime/writer';
import { captureLine } from '../../src/serverless-model-endpoint/runtime/capture';
import { createCaptureWriter } from '../../src/serverless-model-endpoint/runtime/capture-writer';
import { expectValidRunEvent } from '../lineage/openlineage-schema';
import { expectAssetLoads } from '../support/assets';
import { REPO_ROOT, useLocalAws } from '../support/local-aws';

jest.setTimeout(120_000);

const ASSET_DIR = path.join(REPO_ROOT, 'assets', 'labeling-pipeline', 'runtime', 'dataset.handler');
const ZONE_PREFIX = 'hearing/';
const aws = useLocalAws();

const CONFIG: PipelineConfig = hearingConfig({
  gates: { minRecords: 20, maxQuarantineRate: 0.3, maxUnlabelledRate: 0.5, minPerSplit: 1 },
  libraryVersion: '0.0.0-test',
});

let s3: S3Client;
let ddb: DynamoDBClient;
let env: DatasetEnv;
const logs: Array<{ message: string; fields: Record<string, unknown> }> = [];

/** What the seeding put into the ledger, to reconcile against. */
interface Seeded {
  labelled: Map<string, LabelRecord>;
  unlabelled: Set<string>;
  /** Sources whose counting outcome is quarantine: row-failure ids. */
  quarantined: Set<string>;
  duplicates: number;
  human: number;
  /** recordId → clean record JSON text as stored. */
  clean: Map<string, string>;
  subjects: Map<string, string>;
  records: number;
}
let seeded: Seeded;

// ---- marshalling (the test writes items the way the other handlers do: maps, not JSON text) ----
function av(v: unknown): AttributeValue {
  if (v === null) return { NULL: true };
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (Array.isArray(v)) return { L: v.map(av) };
  if (typeof v === 'object') return { M: item(v as Record<string, unknown>) };
  throw new Error(`cannot marshal ${typeof v}`);
}
function item(o: Record<string, unknown>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => [k, av(v)]));
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const uuid = (i: number) => {
  const h = sha(`session-${i}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** A raw upload in the formats.md shape, all six frequencies. */
function rawRecord(i: number, thresholds: { left: number[]; right: number[] }, patient: string, noise: number): string {
  const ear = (t: number[]) => Object.fromEntries([250, 500, 1000, 2000, 4000, 8000].map((f, k) => [String(f), t[k]]));
  return JSON.stringify({
    schemaVersion: '1',
    sessionId: uuid(i),
    patientId: patient,
    age: 30 + (i % 60),
    device: { model: 'phone-x', headphones: 'hp-200', calibrationId: 'cal-2026-03' },
    ambientNoiseDbA: noise,
    takenAt: new Date(NOW - (i + 1) * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    thresholds: { left: ear(thresholds.left), right: ear(thresholds.right) },
    catchTrials: { presented: 6, falsePositives: i % 11 === 0 ? 1 : 0 },
  });
}

async function batchPut(table: string, items: object[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    const res = await ddb.send(new BatchWriteItemCommand({
      RequestItems: { [table]: items.slice(i, i + 25).map((x) => ({ PutRequest: { Item: item(x as Record<string, unknown>) } })) },
    }));
    if (Object.keys(res.UnprocessedItems ?? {}).length) throw new Error('unprocessed items');
  }
}

/**
 * Seeds the clean zone and the ledger: `n` uploads of `n / 4` patients. About a tenth in a noisy
 * room (quarantined), every 25th a re-upload of an earlier one (duplicate), records near a grade
 * boundary or drawn for QC go to review (some already answered by a human, the rest unlabelled),
 * three sources quarantined under the previous config and clean under the current one, one source
 * only known under the previous config (its quarantine still counts), and pending review items.
 */
async function seed(n: number, table: string, cleanBucket: string): Promise<Seeded> {
  const cleaner = compileCleaner(CLEANING, fakeMac);
  const rules = compileRulesLabeler(LABELING.rules);
  const combine = compileLabelTask(LABELING.task);
  const audiograms = syntheticAudiograms(7, n);
  const out: Seeded = {
    labelled: new Map(), unlabelled: new Set(), quarantined: new Set(), duplicates: 0, human: 0, clean: new Map(), subjects: new Map(), records: 0,
  };
  const items: object[] = [];
  const at = (i: number) => new Date(NOW - 86_400_000 + i * 1000).toISOString();
  const cfg = CLEANING.version!;
  const raws: string[] = [];
  for (let i = 0; i < n; i++) {
    const dup = i > 0 && i % 25 === 0;
    const raw = dup ? raws[i - 1] : rawRecord(i, audiograms[i], `P-${String(i % Math.ceil(n / 4)).padStart(4, '0')}`, i % 10 === 3 ? 60 : 30);
    raws.push(raw);
    const sourceKey = `uploads/caller/${uuid(i)}.json`;
    const sourceHash = sha(`raw-bucket/${sourceKey}#v1`);
    const source = `s3://raw-bucket/${sourceKey}`;
    const r = await cleaner.clean(raw, { now: NOW });
    const src = (outcome: SourceItem['outcome'], sk: string, extra: Partial<SourceItem>, when: string): SourceItem => ({
      pk: LEDGER.sourcePk(sourceHash), sk, source, sourceVersionId: 'v1', outcome, at: when, announced: true, ...extra,
    });
    if (r.kind === 'quarantine') {
      items.push(src('quarantine', LEDGER.sourceSk(cfg), { codes: [...new Set(r.reasons.map((x) => x.code))] }, at(i)));
      out.quarantined.add(`sha256:${sourceHash}`);
      continue;
    }
    if (i % 37 === 5) {
      // quarantined under the previous config, clean under the current one: not a failure
      items.push(src('quarantine', LEDGER.sourceSk('hearing-clean@0'), { codes: ['range'] }, at(i - 100_000)));
    }
    if (dup) {
      items.push(src('duplicate', LEDGER.sourceSk(cfg), { recordId: r.recordId }, at(i)));
      out.duplicates++;
      continue;
    }
    items.push(src('clean', LEDGER.sourceSk(cfg), { recordId: r.recordId }, at(i)));
    const cleanJson = JSON.stringify(r.record);
    const key = KEYS.cleanRecord(ZONE_PREFIX, r.recordId);
    await s3.send(new PutObjectCommand({ Bucket: cleanBucket, Key: key, Body: cleanJson, ContentType: 'application/json' }));
    out.clean.set(r.recordId, cleanJson);
    out.subjects.set(r.recordId, r.subject!);
    const d = combine(r.recordId, [{ labeler: rules, output: rules.label({ recordId: r.recordId, record: r.record }) }], NOW);
    let label: LabelRecord | undefined = d.route === 'auto' ? d.label : undefined;
    if (!label && i % 3 === 0) {
      const className = d.label?.className ?? LABELING.task.classes[0];
      label = {
        recordId: r.recordId,
        attribute: LABELING.task.attribute,
        classIndex: LABELING.task.classes.indexOf(className),
        className,
        confidence: 1,
        human: true,
        labeler: 'human:hmac:rev-1',
        createdAt: new Date(NOW - 1000).toISOString(),
        votes: d.votes,
      };
      out.human++;
    }
    const rec: RecordItem = {
      pk: LEDGER.recordPk(r.recordId),
      sk: LEDGER.recordSk,
      recordId: r.recordId,
      source,
      sourceVersionId: 'v1',
      subject: r.subject!,
      cleanRef: `s3://${cleanBucket}/${key}`,
      cleanedAt: at(i),
      state: label ? 'labelled' : 'review',
      ...(label ? { label } : {}),
    };
    items.push(rec);
    out.records++;
    if (label) {out.labelled.set(r.recordId, label);} else {
      out.unlabelled.add(r.recordId);
      items.push({ pk: LEDGER.reviewPk, sk: r.recordId, recordId: r.recordId, taskToken: 't', reasons: [], votes: [], attempt: 1, requestedAt: at(i), recordJson: cleanJson });
    }
  }
  // A source known only under the previous config: its quarantine counts.
  const oldHash = sha('raw-bucket/uploads/caller/old.json#v1');
  items.push({ pk: LEDGER.sourcePk(oldHash), sk: LEDGER.sourceSk('hearing-clean@0'), source: 's3://raw-bucket/uploads/caller/old.json', outcome: 'quarantine', codes: ['schema'], at: at(0), announced: true });
  out.quarantined.add(`sha256:${oldHash}`);
  await batchPut(table, items);
  return out;
}

async function text(bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToString('utf-8');
}

async function readVersion(result: DatasetTaskResult) {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(result.location)!;
  const [bucket, prefix] = [m[1], m[2]];
  const manifests = {} as Record<Split, string>;
  for (const s of SPLITS) manifests[s] = await text(bucket, `${prefix}${DATASET_FILES.manifest(s)}`);
  const card = JSON.parse(await text(bucket, `${prefix}${DATASET_FILES.card}`)) as DatasetCard;
  const report = JSON.parse(await text(bucket, `${prefix}${DATASET_FILES.report}`)) as QualityReport;
  return { bucket, prefix, manifests, card, report };
}

const handler = (over: Partial<PipelineConfig> = {}, opts: { scanLimit?: number; now?: number } = {}) => createDatasetHandler({
  s3,
  ddb,
  env,
  config: { ...CONFIG, ...over },
  now: () => opts.now ?? NOW,
  scanLimit: opts.scanLimit,
  log: (message, fields) => logs.push({ message, fields }),
  writeMetrics: () => undefined,
});

/** Uploads seeded (DATASET_HANDLER_SOURCES overrides it for timing runs). */
const N = Number(process.env.DATASET_HANDLER_SOURCES ?? 240);
let buildMs = 0;
let first: DatasetTaskResult;

beforeAll(async () => {
  s3 = aws().s3();
  ddb = new DynamoDBClient({ ...aws().clientConfig, maxAttempts: 1 });
  const stamp = Date.now();
  const key = await aws().kms().send(new CreateKeyCommand({ Description: 'lake data key' }));
  env = {
    CLEAN_BUCKET: `clean-${stamp}`,
    CURATED_BUCKET: `curated-${stamp}`,
    ZONE_PREFIX,
    DATA_KEY_ARN: key.KeyMetadata!.Arn!,
    LEDGER_TABLE: `ledger-${stamp}`,
    METRICS_NAMESPACE: 'Test/Labeling',
  };
  for (const b of [env.CLEAN_BUCKET, env.CURATED_BUCKET]) {
    await s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutBucketEncryptionCommand({
      Bucket: b,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: env.DATA_KEY_ARN } }] },
    }));
  }
  await ddb.send(new CreateTableCommand({
    TableName: env.LEDGER_TABLE,
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
  seeded = await seed(N, env.LEDGER_TABLE, env.CLEAN_BUCKET);
  const t0 = Date.now();
  first = await handler()({ datasetVersion: 'hearing-v1' });
  buildMs = Date.now() - t0;
}, 180_000);

/** The lineage event the handler wrote for a version, and its source records (inline or from the records object). */
async function lineageOf(datasetVersion: string): Promise<{ event: RunEvent; records: LineageSourceRecord[] }> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: env.CURATED_BUCKET, Prefix: LINEAGE_KEYS.eventsRoot }));
  const events: RunEvent[] = [];
  for (const o of listed.Contents ?? []) {
    events.push(JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: env.CURATED_BUCKET, Key: o.Key! }))).Body!.transformToString()));
  }
  const mine = events.filter((e) => e.outputs[0]?.name === `hearing/datasets/${datasetVersion}`);
  expect(mine).toHaveLength(1);
  const facet = mine[0].inputs[0].inputFacets![LINEAGE_FACETS.sourceRecords] as { records?: LineageSourceRecord[]; recordsKey?: string };
  const read = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: env.CURATED_BUCKET, Key: key }))).Body!.transformToString();
  const records = facet.records ?? (await read(facet.recordsKey!)).trim().split('\n').map((l) => JSON.parse(l) as LineageSourceRecord);
  return { event: mine[0], records };
}

afterAll(() => {
  const phases = logs.find((l) => l.fields.datasetVersion === 'hearing-v1')?.fields.phaseMs;
  // eslint-disable-next-line no-console
  console.log(`dataset version of ${seeded?.records} records (${N} sources, inline) built against moto in ${buildMs} ms ${JSON.stringify(phases)}`);
});

describe('dataset version from the ledger (inline sources)', () => {
  test('the seed is what the test meant: several records per subject, quarantines, review, human labels', () => {
    expect(seeded.records).toBeGreaterThan(150);
    expect(new Set(seeded.subjects.values()).size).toBeLessThan(seeded.records / 2);
    expect(seeded.quarantined.size).toBeGreaterThan(10);
    expect(seeded.unlabelled.size).toBeGreaterThan(3);
    expect(seeded.human).toBeGreaterThan(3);
    expect(seeded.duplicates).toBeGreaterThan(3);
  });

  test('the manifests parse, carry the clean records inline, and no subject is in two splits', async () => {
    const v = await readVersion(first);
    const where = new Map<string, Set<Split>>();
    const seen = new Set<string>();
    for (const s of SPLITS) {
      const { entries, errors } = readManifest(v.manifests[s], CONFIG.task.attribute);
      expect(errors).toEqual([]);
      expect(v.manifests[s].split('\n').every((l) => l.length <= 100_000)).toBe(true);
      for (const e of entries) {
        expect(e.sourceRef).toBeUndefined();
        expect(JSON.parse(e.source!)).toEqual(JSON.parse(seeded.clean.get(e.recordId!)!));
        expect(e.subjectPseudonym).toBe(seeded.subjects.get(e.recordId!));
        const l = seeded.labelled.get(e.recordId!)!;
        expect(e.label).toBe(l.classIndex);
        expect(e.metadata).toMatchObject({ className: l.className, humanAnnotated: l.human, labeler: l.labeler, datasetVersion: 'hearing-v1' });
        expect(e.extra).toEqual({ 'source-version-id': 'v1' });
        seen.add(e.recordId!);
        where.set(e.subjectPseudonym!, (where.get(e.subjectPseudonym!) ?? new Set()).add(s));
      }
    }
    expect([...where.values()].every((s) => s.size === 1)).toBe(true);
    expect(seen).toEqual(new Set(seeded.labelled.keys()));
    const all = SPLITS.map((s) => v.manifests[s]).join('');
    expect(all).not.toMatch(/P-\d{4}/); // pseudonymized subjects only
  });

  test('counts reconcile with the ledger; the card hashes the written manifests; report and card say why', async () => {
    expect(first).toMatchObject({ datasetVersion: 'hearing-v1', location: `s3://${env.CURATED_BUCKET}/hearing/datasets/hearing-v1/`, publish: true, blockedReasons: [] });
    const c = first.counts;
    expect(c.train + c.validation + c.test).toBe(c.total);
    expect(c.total).toBe(seeded.labelled.size);
    expect(c.unlabelled).toBe(seeded.unlabelled.size);
    expect(c.quarantined).toBe(seeded.quarantined.size);
    expect(c.duplicates).toBe(seeded.duplicates);
    expect(c.humanLabelled).toBe(seeded.human);
    expect(c.clean).toBe(seeded.records);
    expect(c.validation).toBeGreaterThan(0);
    expect(c.test).toBeGreaterThan(0);
    const v = await readVersion(first);
    for (const s of SPLITS) expect(v.card.manifestSha256[s]).toBe(sha(v.manifests[s]));
    expect(v.card.counts).toEqual({ train: c.train, validation: c.validation, test: c.test, total: c.total });
    expect(v.card.schemaSha256).toBe(compileCleaner(CLEANING, fakeMac).schemaSha256);
    expect(v.card.schemaSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(v.card.versions).toEqual({ 'cleaning-config': 'hearing-clean@1', 'labelers': 'rules:who-grade@1', 'library': '0.0.0-test' });
    expect(new Set(v.report.rowFailures.map((f) => f.id))).toEqual(seeded.quarantined);
    expect(new Set(v.report.unlabelled)).toEqual(seeded.unlabelled);
    expect(v.report.publish).toBe(true);
    expect(v.report.totals).toMatchObject({ clean: seeded.records, labelled: c.total, quarantined: seeded.quarantined.size });
  });

  test('every object is SSE-KMS with the data key, written once (one object version each)', async () => {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: env.CURATED_BUCKET, Prefix: 'hearing/datasets/hearing-v1/' }));
    expect((listed.Versions ?? []).map((x) => x.Key!.split('/').pop()).sort())
      .toEqual(['dataset-card.json', 'quality-report.json', 'test.manifest', 'train.manifest', 'validation.manifest']);
    for (const o of listed.Versions ?? []) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: env.CURATED_BUCKET, Key: o.Key! }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toBe(env.DATA_KEY_ARN);
    }
  });

  test('its lineage: one OpenLineage 2-0-2 event whose source records are exactly the manifest lines (ids, subjects, clean and raw objects, versions)', async () => {
    const { event, records } = await lineageOf('hearing-v1');
    expectValidRunEvent(event);
    expect(event).toMatchObject({
      eventType: 'COMPLETE',
      job: { name: `labeling-pipeline.${CONFIG.pipelineName}.dataset-version` },
      inputs: [{ namespace: `s3://${env.CLEAN_BUCKET}`, name: 'hearing/records' }],
      outputs: [{ namespace: `s3://${env.CURATED_BUCKET}`, name: 'hearing/datasets/hearing-v1', outputFacets: { [LINEAGE_FACETS.datasetVersion]: { published: true } } }],
    });
    expect(records.map((r) => r.recordId).sort()).toEqual([...seeded.labelled.keys()].sort());
    for (const r of records) {
      expect(r.subject).toBe(seeded.subjects.get(r.recordId));
      expect(r.cleanRef).toBe(`s3://${env.CLEAN_BUCKET}/${KEYS.cleanRecord(ZONE_PREFIX, r.recordId)}`);
      expect(r.source).toMatch(/^s3:\/\//);
      expect(r.sourceVersionId).toBe('v1');
    }
  });

  test('a subject\'s footprint finds exactly their records in the version (the subject index the handler wrote)', async () => {
    const subject = seeded.subjects.get([...seeded.labelled.keys()][0])!;
    const f = await subjectFootprint({ s3, lineageBucket: env.CURATED_BUCKET, capturesBucket: env.CURATED_BUCKET }, subject);
    const theirs = [...seeded.labelled.keys()].filter((id) => seeded.subjects.get(id) === subject).sort();
    expect(f.datasetVersions.find((d) => d.datasetVersion === 'hearing-v1')!.recordIds.sort()).toEqual(theirs);
  });

  test('logs carry counts and ids, never a record value', () => {
    const line = JSON.stringify(logs.find((l) => l.fields.datasetVersion === 'hearing-v1'));
    expect(line).toContain('"manifestSource":"inline"');
    expect(line).not.toMatch(/thresholds|hmac:|P-\d{4}/);
  });
});

describe('versions are immutable and named safely', () => {
  test('fails if the version name exists: DatasetVersionExists, and nothing is overwritten', async () => {
    const before = await text(env.CURATED_BUCKET, 'hearing/datasets/hearing-v1/quality-report.json');
    const err = await handler({}, { now: NOW + 60_000 })({ datasetVersion: 'hearing-v1' }).catch((e) => e);
    expect(err.name).toBe('DatasetVersionExists');
    expect(err.message).toBe(`dataset version 'hearing-v1' already exists at s3://${env.CURATED_BUCKET}/hearing/datasets/hearing-v1/ (quality-report.json is there): versions are immutable, start again with another datasetVersion or none`);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: env.CURATED_BUCKET, Prefix: 'hearing/datasets/hearing-v1/' }));
    expect(listed.Versions).toHaveLength(5);
    expect(await text(env.CURATED_BUCKET, 'hearing/datasets/hearing-v1/quality-report.json')).toBe(before);
  });

  test.each([['../x'], ['a/b'], [''], ['x'.repeat(65)], ['..'], ['v 1'], [7]])('fails if the version name is %p: InvalidDatasetVersion, nothing written', async (name) => {
    const err = await handler()({ datasetVersion: name as any }).catch((e) => e);
    expect(err.name).toBe('InvalidDatasetVersion');
    expect(err.message).toContain('is not allowed: use 1 to 64 of A-Z a-z 0-9 . _ -');
  });

  test('the default name is <pipeline>-<UTC yyyyMMddTHHmmssZ>; {} and null inputs work', async () => {
    const at = Date.parse('2026-03-02T13:04:05.678Z');
    const r = await handler({}, { now: at })({});
    expect(r.datasetVersion).toBe('hearing-20260302T130405Z');
    const r2 = await handler({}, { now: at + 1000 })(null);
    expect(r2.datasetVersion).toBe('hearing-20260302T130406Z');
    expect(r2.counts.total).toBe(first.counts.total);
  });
});

describe('gates, references, pagination, failures', () => {
  test('a blocked version still writes its report and card, and returns publish: false with the reasons', async () => {
    const r = await handler({ gates: { minRecords: 100_000, maxQuarantineRate: 0.01 } })({ datasetVersion: 'hearing-blocked' });
    expect(r.publish).toBe(false);
    expect(r.blockedReasons).toEqual([
      `minRecords: ${first.counts.total} is below the limit 100000`,
      expect.stringMatching(/^maxQuarantineRate: 0\.\d+ is above the limit 0\.01$/),
    ]);
    const v = await readVersion(r);
    expect(v.report.publish).toBe(false);
    expect(v.report.blockedReasons).toEqual(r.blockedReasons);
    expect(v.report.gates.filter((g) => !g.passed).map((g) => g.id)).toEqual(['minRecords', 'maxQuarantineRate']);
    expect(v.card.counts.total).toBe(first.counts.total);
    expect(logs.find((l) => l.fields.datasetVersion === 'hearing-blocked')?.message).toBe('dataset version blocked');
  });

  test('a blocked version has its lineage too (published: false): its manifests hold the data all the same', async () => {
    const { event, records } = await lineageOf('hearing-blocked');
    expectValidRunEvent(event);
    expect(event.outputs[0].outputFacets![LINEAGE_FACETS.datasetVersion]).toMatchObject({ published: false, datasetVersion: 'hearing-blocked' });
    expect(records.map((r) => r.recordId).sort()).toEqual([...seeded.labelled.keys()].sort());
  });

  test('manifestSource ref: lines carry source-ref = the clean record\'s URI; the same split and counts', async () => {
    const r = await handler({ manifestSource: 'ref' })({ datasetVersion: 'hearing-ref' });
    expect(r.counts).toEqual(first.counts);
    const [v, inline] = [await readVersion(r), await readVersion(first)];
    for (const s of SPLITS) {
      const refs = readManifest(v.manifests[s]).entries;
      expect(refs.map((e) => e.recordId)).toEqual(readManifest(inline.manifests[s]).entries.map((e) => e.recordId));
      for (const e of refs) {
        expect(e.source).toBeUndefined();
        expect(e.sourceRef).toBe(`s3://${env.CLEAN_BUCKET}/${KEYS.cleanRecord(ZONE_PREFIX, e.recordId!)}`);
      }
    }
  });

  test('the ledger is read past one Scan page: a page limit of 17 items gives the same version', async () => {
    const r = await handler({}, { scanLimit: 17 })({ datasetVersion: 'hearing-paged' });
    const pages = logs.find((l) => l.fields.datasetVersion === 'hearing-paged')!.fields.ledgerPages as number;
    const scan = await ddb.send(new ScanCommand({ TableName: env.LEDGER_TABLE, Select: 'COUNT' }));
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(scan.Count! / 17));
    expect(pages).toBeGreaterThan(10);
    expect(r.counts).toEqual(first.counts);
    const [v, ref] = [await readVersion(r), await readVersion(first)];
    for (const s of SPLITS) expect(v.manifests[s]).toBe(ref.manifests[s].replace(/hearing-v1/g, 'hearing-paged'));
  });

  test('a missing clean object, a reference outside the clean zone and a label of another task are row failures / unlabelled, not a crash', async () => {
    const [a, b, c] = [...seeded.labelled.keys()].sort();
    const table = env.LEDGER_TABLE;
    const getItem = async (id: string) => {
      const res = await ddb.send(new ScanCommand({ TableName: table, FilterExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: LEDGER.recordPk(id) } } }));
      return res.Items![0];
    };
    const itemB = await getItem(b);
    const itemC = await getItem(c);
    try {
      await s3.send(new DeleteObjectCommand({ Bucket: env.CLEAN_BUCKET, Key: KEYS.cleanRecord(ZONE_PREFIX, a) }));
      await ddb.send(new PutItemCommand({ TableName: table, Item: { ...itemB, cleanRef: { S: `s3://${env.CURATED_BUCKET}/hearing/labels/x.json` } } }));
      const foreign = { ...(itemC.label.M!), attribute: { S: 'other-task' } };
      await ddb.send(new PutItemCommand({ TableName: table, Item: { ...itemC, label: { M: foreign } } }));
      const r = await handler()({ datasetVersion: 'hearing-faults' });
      const v = await readVersion(r);
      expect(v.report.rowFailures).toEqual(expect.arrayContaining([{ id: a, codes: ['clean-missing'] }, { id: b, codes: ['clean-ref'] }]));
      expect(v.report.unlabelled).toContain(c);
      expect(r.counts).toMatchObject({
        total: first.counts.total - 3, staleLabels: 1, unlabelled: first.counts.unlabelled + 1, quarantined: first.counts.quarantined,
      });
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: env.CLEAN_BUCKET, Key: KEYS.cleanRecord(ZONE_PREFIX, a), Body: seeded.clean.get(a) }));
      for (const it of [itemB, itemC]) await ddb.send(new PutItemCommand({ TableName: table, Item: it }));
    }
  });
});

describe('the bundled asset', () => {
  const configFile = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-config-'));
    const file = path.join(dir, CONFIG_FILE);
    fs.writeFileSync(file, JSON.stringify(CONFIG));
    return file;
  };

  test('loads in a fresh node with its environment and PIPELINE_CONFIG_FILE; only SDK clients stay external', () => {
    const vars = Object.fromEntries(DATASET_ENV.map((k) => [k, env[k]]));
    const result = expectAssetLoads(ASSET_DIR, { env: { ...vars, PIPELINE_CONFIG_FILE: configFile() } });
    expect(result.externals).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-eventbridge', '@aws-sdk/client-s3']);
  });

  test('fails to load without its environment, naming the missing variables', () => {
    expect(() => expectAssetLoads(ASSET_DIR, { env: { PIPELINE_CONFIG_FILE: configFile() } }))
      .toThrow(/missing environment variable\(s\): CLEAN_BUCKET, CURATED_BUCKET, ZONE_PREFIX, DATA_KEY_ARN, LEDGER_TABLE, METRICS_NAMESPACE/);
  });

  test('as deployed (module-scope clients from the environment) it builds a version against moto', async () => {
    const restore = aws().applyEnv();
    const vars: Record<string, string> = { ...env, PIPELINE_CONFIG_FILE: configFile() };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    try {
      Object.assign(process.env, vars);
      let mod: { handler: (e: unknown) => Promise<DatasetTaskResult> } | undefined;
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        mod = require(path.join(ASSET_DIR, 'index.js'));
      });
      const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
      let r: DatasetTaskResult;
      try {
        r = await mod!.handler({ datasetVersion: 'hearing-asset' });
      } finally {
        out.mockRestore();
      }
      expect(r).toMatchObject({ publish: true, counts: first.counts });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: env.CURATED_BUCKET, Prefix: 'hearing/datasets/hearing-asset/' }));
      expect(listed.KeyCount).toBe(5);
      expectValidRunEvent((await lineageOf('hearing-asset')).event); // the bundle writes lineage too
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      restore();
    }
  });
});

describe('end to end: a prediction\'s lineage down to the source record ids, and a subject\'s footprint', () => {
  test('model trained on hearing-v1, promoted, predictions captured: one prediction and one subject, checked against what was built', async () => {
    const models = `models-${Date.now()}`;
    await s3.send(new CreateBucketCommand({ Bucket: models, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
    const target = { bucket: env.CURATED_BUCKET, kmsKeyArn: env.DATA_KEY_ARN };
    const modelBytes = Buffer.from(`a model trained on ${first.location}`);
    const modelKey = 'hearing-who-grade/models/local-1/model.onnx';
    const sha256 = sha(modelBytes.toString());
    await s3.send(new PutObjectCommand({ Bucket: models, Key: modelKey, Body: modelBytes }));
    const modelVersion = 'hearing-who-grade@hearing-v1';
    await writeLineageEvent(s3, target, trainingEvent({
      model: 'hearing-who-grade',
      trainingJobName: 'local-1',
      datasetVersion: first.datasetVersion,
      datasetLocation: first.location,
      eventTime: NOW + 60_000,
      output: { bucket: models, key: modelKey, sha256, modelVersion },
    }));
    await writeLineageEvent(s3, target, promotionEvent({ endpoint: 'hearing', modelVersion, modelBucket: models, modelKey, modelSha256: sha256, eventTime: NOW + 120_000 }));
    // Predictions on the test split, captured as the endpoint captures them.
    const test = readManifest((await readVersion(first)).manifests.test, CONFIG.task.attribute).entries.slice(0, 5);
    const ids = test.map((_, i) => uuidV7(NOW + 180_000 + i));
    const lines = ids.map((inferenceId, i) => captureLine('hearing', {
      inferenceId,
      time: NOW + 180_000 + i,
      modelSha256: sha256,
      inputs: { features: [[i]] },
      body: { modelVersion, outputs: { probabilities: [[0.5, 0.5]] } },
    }));
    const payload = { messageType: 'DATA_MESSAGE', logGroup: 'g', logEvents: lines.map((m, i) => ({ id: String(i), timestamp: NOW, message: m })) };
    await createCaptureWriter({
      s3,
      env: { bucket: models, keyArn: env.DATA_KEY_ARN, captureName: 'hearing', serviceName: 'predict', metricsNamespace: 'Test' },
      log: () => undefined,
      writeMetrics: () => undefined,
    })({ awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } } as any);

    const store = { s3, lineageBucket: env.CURATED_BUCKET, capturesBucket: models };
    const t0 = performance.now();
    const l = await lineageOfPrediction(store, { inferenceId: ids[2] });
    const predictionMs = performance.now() - t0;
    expect(l.capture).toMatchObject({ endpoint: 'hearing', modelVersion, modelSha256: sha256 });
    expect(l.models.map((m) => m.trainingJobName)).toEqual(['local-1']);
    expect(l.datasetVersions.map((d) => d.datasetVersion)).toEqual(['hearing-v1']);
    const built = l.datasetVersions[0].records;
    expect(built.map((r) => r.recordId).sort()).toEqual([...seeded.labelled.keys()].sort());
    expect(built.every((r) => r.sourceVersionId === 'v1' && r.subject === seeded.subjects.get(r.recordId))).toBe(true);
    expect(l.promotions.map((p) => [p.endpoint, p.modelVersion])).toEqual([['hearing', modelVersion]]);

    const subject = test[2].subjectPseudonym!;
    const t1 = performance.now();
    const f = await subjectFootprint(store, subject);
    const footprintMs = performance.now() - t1;
    const theirs = [...seeded.labelled.keys()].filter((id) => seeded.subjects.get(id) === subject).sort();
    expect(f.datasetVersions.find((d) => d.datasetVersion === 'hearing-v1')!.recordIds.sort()).toEqual(theirs);
    expect(f.models.map((m) => m.trainingJobName)).toEqual(['local-1']);
    expect(f.endpoints.map((e) => e.modelVersion)).toEqual([modelVersion]);

    const events = await s3.send(new ListObjectsV2Command({ Bucket: env.CURATED_BUCKET, Prefix: LINEAGE_KEYS.eventsRoot }));
    for (const o of events.Contents ?? []) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: env.CURATED_BUCKET, Key: o.Key! }))).Body!.transformToString();
      expectValidRunEvent(JSON.parse(body));
    }
    // eslint-disable-next-line no-console
    console.log([
      `lineage end to end: ${events.KeyCount} events in the lake, all valid against OpenLineage 2-0-2; prediction query ${predictionMs.toFixed(0)} ms `
        + `(${built.length} source records), subject footprint ${footprintMs.toFixed(0)} ms (${f.records.length} records in ${f.datasetVersions.length} versions)`,
      formatPredictionLineage({ ...l, datasetVersions: l.datasetVersions.map((d) => ({ ...d, records: d.records.slice(0, 3) })) }) + '\n         …',
    ].join('\n'));
  });
});

describe('the manifests as training channels', () => {
  const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
  const hasTorch = torch.status === 0;
  if (!hasTorch) {
    // eslint-disable-next-line no-console
    console.log(`skipping the training-channel test: /usr/bin/python3 cannot import torch (${(torch.stderr || String(torch.error)).trim().split('\n').pop()})`);
  }
  (hasTorch ? test : test.skip)('the example training script trains on the train and validation manifests (2 epochs) and writes model.onnx', async () => {
    const v = await readVersion(first);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-training-'));
    try {
      const channels: Record<string, string> = {};
      for (const s of ['train', 'validation'] as const) {
        const dir = path.join(work, 'channels', s);
        fs.mkdirSync(dir, { recursive: true });
        // What SageMaker's S3Prefix channel would download: the manifest object as is.
        fs.writeFileSync(path.join(dir, DATASET_FILES.manifest(s)), v.manifests[s]);
        channels[s] = dir;
      }
      const lines: string[] = [];
      const result = await runLocalTraining({
        command: ['/usr/bin/python3', TRAIN_SCRIPT],
        channels,
        hyperparameters: { 'epochs': '2', 'batch-size': '32', 'num-threads': '1' },
        metricDefinitions: METRIC_DEFINITIONS,
        workDir: path.join(work, 'opt-ml'),
        timeoutMs: 90_000,
        onLog: (l) => lines.push(l),
      });
      expect({ exitCode: result.exitCode, failureReason: result.failureReason }).toEqual({ exitCode: 0, failureReason: undefined });
      expect(lines.join('\n')).toContain(`records: train=${first.counts.train} validation=${first.counts.validation}`);
      expect(fs.statSync(path.join(result.modelDir, 'model.onnx')).size).toBeGreaterThan(1000);
      expect(Object.keys(result.metrics)).toEqual(expect.arrayContaining(['validation:accuracy']));
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
