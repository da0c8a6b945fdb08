/**
 * The dataset handler's pure parts (attribute decoding, the outcome that counts per source, the
 * current label, version names, bounded concurrency) and the paths moto cannot produce, with stub
 * SDK clients: S3 409 on a conditional write, AccessDenied on a clean record, the Scan request.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as fc from 'fast-check';
import { hearingConfig, LABELING, NOW } from './hearing';
import { LEDGER, PipelineConfig, SourceItem } from '../../src/labeling-pipeline/runtime/contract';
import {
  createDatasetHandler, currentLabel, DATASET_VERSION_PATTERN, defaultDatasetVersion, DatasetEnv, labelerRefs, mapLimit,
} from '../../src/labeling-pipeline/runtime/dataset';
import { scanLedger, sourceOutcomes } from '../../src/labeling-pipeline/runtime/dataset-ledger';
import { LabelRecord } from '../../src/labeling-pipeline/runtime/logic/labeling';
import { fromAttributeValue, fromItem } from '../../src/private/runtime/dynamodb-codec';

/** The hearing configuration without quality gates. */
const CONFIG: PipelineConfig = hearingConfig({ gates: undefined });
const ENV: DatasetEnv = {
  CLEAN_BUCKET: 'clean',
  CURATED_BUCKET: 'curated',
  ZONE_PREFIX: 'hearing/',
  DATA_KEY_ARN: 'arn:aws:kms:eu-central-1:111111111111:key/k',
  LEDGER_TABLE: 'ledger',
  METRICS_NAMESPACE: 'Test',
};

const LABEL: LabelRecord = {
  recordId: 'rec-1',
  attribute: 'who-grade',
  classIndex: 1,
  className: 'mild',
  confidence: 0.9,
  human: false,
  labeler: 'rules:who-grade@1',
  createdAt: '2026-03-01T12:00:00.000Z',
  votes: [],
};

describe('ledger items', () => {
  test('attribute values decode to plain JSON (maps, lists, sets, numbers); __proto__ stays data', () => {
    expect(fromAttributeValue({ M: { a: { N: '1.5' }, b: { L: [{ BOOL: true }, { NULL: true }, { S: 'x' }] }, c: { SS: ['p'] }, d: { NS: ['2'] } } } as any))
      .toEqual({ a: 1.5, b: [true, null, 'x'], c: ['p'], d: [2] });
    const o = fromItem({ ['__proto__']: { S: 'v' } } as any);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
  });

  const src = (hash: string, cfg: string, outcome: SourceItem['outcome'], at: string, extra: Partial<SourceItem> = {}): SourceItem => ({
    pk: LEDGER.sourcePk(hash), sk: LEDGER.sourceSk(cfg), source: 's3://raw/k', outcome, at, announced: true, ...extra,
  });

  test('quarantined under v1, clean under v2 (current): not a failure', () => {
    const r = sourceOutcomes([src('a', 'v1', 'quarantine', '2026-01-01T00:00:00Z', { codes: ['range'] }), src('a', 'v2', 'clean', '2026-02-01T00:00:00Z')], 'v2');
    expect(r).toEqual({ quarantined: [], duplicates: 0, clean: 1 });
  });

  test('the current config version counts even when another outcome is newer (a rollback); else the latest', () => {
    const items = [src('a', 'v1', 'quarantine', '2026-01-01T00:00:00Z', { codes: ['range'] }), src('a', 'v2', 'clean', '2026-02-01T00:00:00Z')];
    expect(sourceOutcomes(items, 'v1').quarantined).toEqual([{ id: 'sha256:a', codes: ['range'] }]);
    expect(sourceOutcomes([...items].reverse(), 'v3')).toEqual({ quarantined: [], duplicates: 0, clean: 1 });
    expect(sourceOutcomes([src('b', 'v0', 'quarantine', '2025-01-01T00:00:00Z', { codes: ['schema'] })], 'v3').quarantined).toEqual([{ id: 'sha256:b', codes: ['schema'] }]);
  });

  test('a quarantined source with a record id is that id; duplicates are counted; odd codes dropped', () => {
    const r = sourceOutcomes([
      src('c', 'v1', 'quarantine', 't', { recordId: 'rec-9', codes: ['range', 3 as any] }),
      src('d', 'v1', 'duplicate', 't', { recordId: 'rec-1' }),
    ], 'v1');
    expect(r).toEqual({ quarantined: [{ id: 'rec-9', codes: ['range'] }], duplicates: 1, clean: 0 });
  });

  test('the Scan is consistent, projected (never a review\'s record copy or token), filtered to rec#/src#, and follows pages', async () => {
    const calls: any[] = [];
    const pages = [
      { Items: [{ pk: { S: 'rec#r1' }, sk: { S: 'record' }, recordId: { S: 'r1' }, label: { M: { className: { S: 'mild' } } } }], LastEvaluatedKey: { pk: { S: 'rec#r1' }, sk: { S: 'record' } }, ScannedCount: 3 },
      { Items: [{ pk: { S: 'src#h' }, sk: { S: 'cfg#v1' }, outcome: { S: 'clean' } }, { pk: { S: 'rec#r2' }, sk: { S: 'other' } }], ScannedCount: 2 },
    ];
    const ddb = { send: async (cmd: any) => (calls.push(cmd.input), pages[calls.length - 1]) } as unknown as DynamoDBClient;
    const r = await scanLedger(ddb, 'ledger', 2);
    expect(r).toMatchObject({ pages: 2, scannedCount: 5 });
    expect(r.records.map((x) => x.recordId)).toEqual(['r1']);
    expect(r.sources.map((x) => x.outcome)).toEqual(['clean']);
    expect(calls[1].ExclusiveStartKey).toEqual(pages[0].LastEvaluatedKey);
    for (const c of calls) {
      expect(c).toMatchObject({ TableName: 'ledger', ConsistentRead: true, Limit: 2 });
      const projected = c.ProjectionExpression.split(', ').map((n: string) => c.ExpressionAttributeNames[n]);
      expect(projected).not.toContain('recordJson');
      expect(projected).not.toContain('taskToken');
      expect(projected).toEqual(expect.arrayContaining(['pk', 'sk', 'recordId', 'subject', 'cleanRef', 'label', 'outcome', 'codes', 'at']));
    }
    expect(calls[0].ExpressionAttributeValues).toEqual({ ':rec': { S: 'rec#' }, ':src': { S: 'src#' } });
  });
});

describe('current label', () => {
  const classes = LABELING.task.classes;
  test('a label of this task, as a map or its JSON text; the class index comes from the name', () => {
    expect(currentLabel(LABEL, 'who-grade', classes)).toEqual(LABEL);
    expect(currentLabel(JSON.stringify({ ...LABEL, classIndex: 5 }), 'who-grade', classes)?.classIndex).toBe(1);
  });
  test.each([
    ['another attribute', { ...LABEL, attribute: 'other' }],
    ['an unknown class', { ...LABEL, className: 'loud' }],
    ['no confidence', { ...LABEL, confidence: 'high' }],
    ['no date', { ...LABEL, createdAt: 'yesterday' }],
    ['not JSON', '{'],
    ['absent', undefined],
  ])('none for %s', (_what, raw) => {
    expect(currentLabel(raw, 'who-grade', classes)).toBeUndefined();
  });
});

describe('version names', () => {
  test('the default name fits the pattern for any pipeline name and time', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), fc.integer({ min: 0, max: Date.parse('9999-12-31T23:59:59Z') }), (name, t) => {
      const v = defaultDatasetVersion(name, t);
      return DATASET_VERSION_PATTERN.test(v) && v.endsWith(new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z'));
    }));
    expect(defaultDatasetVersion('hearing', NOW)).toBe('hearing-20260302T000000Z');
    expect(defaultDatasetVersion('héaring test', NOW)).toBe('h-aring-test-20260302T000000Z');
  });

  test('the pattern is exactly [A-Za-z0-9._-]{1,64}, not only dots', () => {
    const allowed = /^[A-Za-z0-9._-]{1,64}$/;
    fc.assert(fc.property(fc.string({ maxLength: 70 }), (s) => DATASET_VERSION_PATTERN.test(s) === (allowed.test(s) && !/^\.+$/.test(s))));
    expect(['.', '..', '...'].some((s) => DATASET_VERSION_PATTERN.test(s))).toBe(false);
    expect(DATASET_VERSION_PATTERN.test('hearing-v1.2_rc')).toBe(true);
  });

  test('labeler refs in configuration order', () => {
    expect(labelerRefs([
      { kind: 'rules', rules: LABELING.rules },
      { kind: 'function', id: 'fn', version: '3', functionArn: 'arn' },
      { kind: 'model', id: 'm', version: '7', functionArn: 'arn', inputName: 'features', features: [] },
    ])).toEqual(['rules:who-grade@1', 'fn@3', 'm@7']);
  });
});

describe('bounded concurrency', () => {
  test('at most `limit` calls in flight; results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit(Array.from({ length: 100 }, (_, i) => i), 16, async (x) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, (x * 7) % 5));
      inFlight--;
      return x * 2;
    });
    expect(most).toBe(16);
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    expect(await mapLimit([], 16, async () => 1)).toEqual([]);
  });
});

describe('faults an emulator does not produce', () => {
  const recordItem = { pk: { S: 'rec#r1' }, sk: { S: 'record' }, recordId: { S: 'r1' }, subject: { S: 'hmac:s' }, cleanRef: { S: 's3://clean/hearing/records/r1.json' }, label: { S: JSON.stringify({ ...LABEL, recordId: 'r1' }) } };
  const ddb = { send: async () => ({ Items: [recordItem], ScannedCount: 1 }) } as unknown as DynamoDBClient;
  const s3Stub = (onPut: (input: any) => unknown, onGet: (input: any) => unknown = () => ({ Body: { transformToString: async () => '{"a":1}' } })) => {
    const puts: any[] = [];
    const s3 = {
      send: async (cmd: any) => {
        if (cmd instanceof PutObjectCommand) {
          puts.push(cmd.input);
          return onPut(cmd.input);
        }
        if (cmd instanceof GetObjectCommand) return onGet(cmd.input);
        throw new Error(`unexpected ${cmd.constructor.name}`);
      },
    } as unknown as S3Client;
    return { s3, puts };
  };
  const fail = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  const quiet = { log: () => undefined, writeMetrics: () => undefined, now: () => NOW };

  test('every PutObject is conditional (If-None-Match: *) and SSE-KMS with the data key; the report first, the lineage before the card, the card last', async () => {
    const { s3, puts } = s3Stub(() => ({}));
    await createDatasetHandler({ s3, ddb, env: ENV, config: CONFIG, ...quiet })({ datasetVersion: 'v1' });
    const keys = puts.map((p) => p.Key);
    const version = (f: string) => `hearing/datasets/v1/${f}`;
    expect(keys.slice(0, 4)).toEqual(['quality-report.json', 'train.manifest', 'validation.manifest', 'test.manifest'].map(version));
    expect(keys[keys.length - 1]).toBe(version('dataset-card.json'));
    // Between them: the lineage index objects, the event last of the lineage (src/lineage/runtime/writer.ts).
    const lineage = keys.slice(4, -1);
    expect(lineage.every((k) => k.startsWith('lineage/'))).toBe(true);
    expect(lineage[lineage.length - 1]).toMatch(/^lineage\/events\/date=\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}-COMPLETE\.json$/);
    expect(lineage.some((k) => k.startsWith('lineage/index/subject='))).toBe(true);
    for (const p of puts) expect(p).toMatchObject({ Bucket: 'curated', IfNoneMatch: '*', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ENV.DATA_KEY_ARN });
  });

  test('a failed lineage write fails the run before the card: no version is complete without its lineage', async () => {
    const { s3, puts } = s3Stub((input) => {
      if (String(input.Key).startsWith('lineage/events/')) throw fail('SlowDown', 503);
      return {};
    });
    await expect(createDatasetHandler({ s3, ddb, env: ENV, config: CONFIG, ...quiet })({ datasetVersion: 'v1' })).rejects.toMatchObject({ name: 'SlowDown' });
    expect(puts.map((p) => p.Key)).not.toContain('hearing/datasets/v1/dataset-card.json');
  });

  test('a 409 ConditionalRequestConflict (a concurrent writer of the same name) is DatasetVersionExists', async () => {
    const { s3 } = s3Stub(() => {
      throw fail('ConditionalRequestConflict', 409);
    });
    await expect(createDatasetHandler({ s3, ddb, env: ENV, config: CONFIG, ...quiet })({ datasetVersion: 'v1' })).rejects.toMatchObject({ name: 'DatasetVersionExists' });
  });

  test('AccessDenied or a throttle on a clean record fails the run (retried by the state machine); nothing is written', async () => {
    for (const e of [fail('AccessDenied', 403), fail('SlowDown', 503)]) {
      const { s3, puts } = s3Stub(() => ({}), () => {
        throw e;
      });
      await expect(createDatasetHandler({ s3, ddb, env: ENV, config: CONFIG, ...quiet })({ datasetVersion: 'v1' })).rejects.toBe(e);
      expect(puts).toEqual([]);
    }
  });

  test('another S3 error on a write propagates unchanged', async () => {
    const e = fail('InternalError', 500);
    const { s3 } = s3Stub(() => {
      throw e;
    });
    await expect(createDatasetHandler({ s3, ddb, env: ENV, config: CONFIG, ...quiet })({ datasetVersion: 'v1' })).rejects.toBe(e);
  });

  test('a clean object that is not a JSON object is a row failure clean-invalid', async () => {
    const { s3, puts } = s3Stub(() => ({}), () => ({ Body: { transformToString: async () => '[1]' } }));
    const r = await createDatasetHandler({ s3, ddb, env: ENV, config: CONFIG, ...quiet })({ datasetVersion: 'v1' });
    expect(r.counts).toMatchObject({ total: 0, rowFailures: 1 });
    expect(JSON.parse(puts[0].Body).rowFailures).toEqual([{ id: 'r1', codes: ['clean-invalid'] }]);
  });

  test('only clean records under <ZONE_PREFIX>records/ in the clean bucket are read; any other reference is clean-ref', async () => {
    for (const ref of ['s3://clean/hearing/quarantine/h/input', 's3://clean/other/records/r1.json', 's3://curated/hearing/records/r1.json', 'file:///etc/passwd']) {
      const gets: any[] = [];
      const { s3, puts } = s3Stub(() => ({}), (input) => gets.push(input));
      const one = { send: async () => ({ Items: [{ ...recordItem, cleanRef: { S: ref } }] }) } as unknown as DynamoDBClient;
      await createDatasetHandler({ s3, ddb: one, env: ENV, config: CONFIG, ...quiet })({ datasetVersion: 'v1' });
      expect(gets).toEqual([]);
      expect(JSON.parse(puts[0].Body).rowFailures).toEqual([{ id: 'r1', codes: ['clean-ref'] }]);
    }
  });

  test('the metrics line carries counts under the pipeline\'s namespace, no record values', async () => {
    const lines: string[] = [];
    const { s3 } = s3Stub(() => ({}));
    await createDatasetHandler({ s3, ddb, env: ENV, config: CONFIG, ...quiet, writeMetrics: (l) => lines.push(l) })({ datasetVersion: 'v1' });
    const emf = JSON.parse(lines[0]);
    expect(emf).toMatchObject({ service: 'hearing', datasetVersion: 'v1', DatasetRecords: 1, DatasetQuarantined: 0, DatasetUnlabelled: 0, DatasetVersionBlocked: 0 });
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('Test');
    expect(lines[0]).not.toContain('hmac:s');
  });

  test('fails at init if the configuration is unusable', () => {
    const { s3 } = s3Stub(() => ({}));
    expect(() => createDatasetHandler({ s3, ddb, env: ENV, config: { ...CONFIG, manifestSource: 'copy' as any } }))
      .toThrow("pipeline config: manifestSource must be 'inline' or 'ref', got \"copy\"");
    expect(() => createDatasetHandler({ s3, ddb, env: ENV, config: { ...CONFIG, split: { train: 0.5, validation: 0.1, test: 0.1 } } }))
      .toThrow('split: train, validation and test must be >= 0 and sum to 1');
  });
});
