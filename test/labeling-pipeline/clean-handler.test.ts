import { createHmac } from 'node:crypto';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { CLEANING, fakeMac, NOW, record, recordJson, recordNames } from './hearing';
import {
  cleanHandler, createKeys, createWorld, drainEvents, driveLikeSqs, FaultPlan, getText, Keys, ledger, messages, objectCreated,
  pipelineConfig, placesFromZones, pseudonym, RAW_PREFIX, silentLog, sourceId, sourceItemOf, sqsEvent, sqsRecord, upload, Upload, versions,
  ZONE_PREFIX,
} from './support/clean-world';
import { createCleanHandler } from '../../src/labeling-pipeline/runtime/clean';
import { sourceHash } from '../../src/labeling-pipeline/runtime/clean-source';
import { invocationMacs } from '../../src/labeling-pipeline/runtime/clean-steps';
import { DETAIL_TYPE, KEYS, LEDGER } from '../../src/labeling-pipeline/runtime/contract';
import { compileCleaner } from '../../src/labeling-pipeline/runtime/logic/cleaning';
import { sha256Hex } from '../../src/labeling-pipeline/runtime/logic/json';
import { reconcileCounts, reconcileIds } from '../../src/labeling-pipeline/runtime/logic/reconcile';
import { useLocalAws } from '../support/local-aws';

/**
 * The cleaning handler against moto over real HTTP (S3 with versioning and SSE-KMS, KMS
 * GenerateMac with an HMAC_256 key, DynamoDB, EventBridge routing to an SQS queue). Events are
 * observed where a consumer would see them: a bus rule delivers them to a queue the test drains.
 */
const aws = useLocalAws();
let keys: Keys;

beforeAll(async () => {
  keys = await createKeys(aws());
});

const pureCleaner = compileCleaner(CLEANING, fakeMac);
const codesOf = async (bytes: Buffer) => {
  const r = await pureCleaner.clean(bytes, { now: NOW });
  return r.kind === 'quarantine' ? [...new Set(r.reasons.map((x) => x.code))] : [];
};
/** Sums one metric over EMF lines. */
const metricSum = (lines: string[], name: string) => lines.map((l) => JSON.parse(l)).reduce((n, l) => n + (typeof l[name] === 'number' ? l[name] : 0), 0);

test('a mixed batch: every source ends in exactly one place, reconciled from the zones, the ledger, the events and the metrics', async () => {
  const world = await createWorld(aws(), keys);
  const { env, c } = world;
  const fixtures = new Map<string, Upload>();
  for (const name of recordNames()) fixtures.set(name, await upload(world, record(name)));
  const copy = await upload(world, record('valid-formats-example.json')); // the same bytes again: duplicate content
  const bigBody = JSON.stringify({ ...recordJson('valid-formats-example.json'), notes: 'x'.repeat(70_000) });
  const bigReported = await upload(world, bigBody); // too large, size in the event
  const bigUnreported = await upload(world, bigBody); // too large, no size in the event
  const gone = await upload(world, record('valid-formats-example.json'));
  await c.s3.send(new DeleteObjectCommand({ Bucket: env.RAW_BUCKET, Key: gone.key, VersionId: gone.versionId })); // deleted before cleaning
  const outside = await upload(world, record('valid-formats-example.json'), 'elsewhere/valid.json');

  const event = (u: Upload, size: boolean = true) =>
    objectCreated(env.RAW_BUCKET, { key: u.key, versionId: u.versionId, ...(size ? { size: u.size } : {}) });
  const valid = fixtures.get('valid-formats-example.json')!;
  const bodies = [
    ...[...fixtures.values()].map((u) => event(u)),
    event(valid), // duplicate delivery within a batch
    event(copy), event(bigReported), event(bigUnreported, false), event(gone),
    event(outside), '{"not":"an S3 event"}',
    event(valid), // and once more, in a later batch
  ];
  const metrics: string[] = [];
  const logLines: string[] = [];
  const plan = new FaultPlan();
  const handler = cleanHandler(aws(), world, { plan, metrics, log: silentLog(logLines) });
  const run = await driveLikeSqs(handler, messages(bodies));
  expect(run.dlq).toEqual([]);
  expect(run.invocations).toBe(3);

  // --- reconciliation: every source in exactly one place -------------------------------------
  const received = [...fixtures.values(), copy, bigReported, bigUnreported, gone].map(sourceId);
  const places = await placesFromZones(world, [...fixtures.values(), copy, bigReported, bigUnreported, gone, outside]);
  expect(places.orphans).toEqual([]);
  const byIds = reconcileIds({ received, ...places, dlq: run.dlq.map((m) => m.id) });
  expect(byIds.message).toMatch(/^balanced/);
  expect({ clean: places.clean.length, quarantined: places.quarantined.length, duplicates: places.duplicates.length })
    .toEqual({ clean: 3, quarantined: 14, duplicates: 2 });
  // three sources with the same content (the fixture's duplicate differs in a volatile field only): one owns the record
  const sameContent = [fixtures.get('valid-formats-example.json')!, fixtures.get('duplicate-of-formats-example.json')!, copy];
  const owner = sameContent.find((u) => places.clean.includes(sourceId(u)))!;
  expect(places.duplicates.sort()).toEqual(sameContent.filter((u) => u !== owner).map(sourceId).sort());

  // the ledger agrees: one announced source item per source, under the config version
  const items = await ledger(c.ddb, env.LEDGER_TABLE);
  const sources = items.filter((i) => String(i.pk).startsWith('src#'));
  expect(sources).toHaveLength(received.length);
  expect(sources.every((s) => s.sk === LEDGER.sourceSk('hearing-clean@1') && s.announced === true)).toBe(true);
  const outcome = (u: Upload) => sources.find((s) => s.pk === LEDGER.sourcePk(sourceHash(env.RAW_BUCKET, u.key, u.versionId)));
  expect(outcome(outside)).toBeUndefined();

  // the metrics agree (23 messages: 19 sources, 2 duplicate deliveries, 2 skipped messages)
  const m = (name: string) => metricSum(metrics, name);
  expect({ received: m('RecordsReceived'), clean: m('RecordsClean'), quarantine: m('RecordsQuarantine'), duplicate: m('RecordsDuplicate'), skipped: m('RecordsSkipped'), failed: m('RecordsFailed') })
    .toEqual({ received: 23, clean: 3, quarantine: 14, duplicate: 2, skipped: 4, failed: 0 });
  expect(reconcileCounts({ received: m('RecordsReceived') - m('RecordsSkipped'), clean: m('RecordsClean'), quarantined: m('RecordsQuarantine'), dlq: 0, duplicates: m('RecordsDuplicate') }).balanced).toBe(true);
  const emf = JSON.parse(metrics[0]);
  expect(emf._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
  expect(emf.service).toBe('hearing');
  expect(metrics.filter((l) => l.includes('"QuarantineReasons"')).map((l) => JSON.parse(l).reason)).toEqual(expect.arrayContaining(['too-large', 'source-missing', 'invalid-json', 'range']));

  // --- quarantine: each reason the fixtures give, the input copy, the sidecar ----------------
  for (const [name, u] of fixtures) {
    const hash = sourceHash(env.RAW_BUCKET, u.key, u.versionId);
    const item = outcome(u)!;
    if (!name.startsWith('invalid-')) continue;
    const expected = await codesOf(record(name));
    expect([name, item.outcome, item.codes]).toEqual([name, 'quarantine', expected]);
    const sidecar = JSON.parse(await getText(c.s3, env.QUARANTINE_BUCKET, KEYS.quarantineSidecar(ZONE_PREFIX, hash)));
    expect(sidecar).toEqual(expect.objectContaining({ source: u.uri, sourceVersionId: u.versionId, inputBytes: u.size, cleaningConfigVersion: 'hearing-clean@1' }));
    expect([...new Set(sidecar.reasons.map((r: any) => r.code))]).toEqual(expected);
    const input = await getText(c.s3, env.QUARANTINE_BUCKET, KEYS.quarantinedInput(ZONE_PREFIX, hash));
    expect(Buffer.from(input, 'utf8').equals(record(name)) || name === 'invalid-utf8.json').toBe(true);
  }
  for (const [u, code] of [[bigReported, 'too-large'], [bigUnreported, 'too-large'], [gone, 'source-missing']] as const) {
    const hash = sourceHash(env.RAW_BUCKET, u.key, u.versionId);
    expect(outcome(u)!.codes).toEqual([code]);
    const sidecar = JSON.parse(await getText(c.s3, env.QUARANTINE_BUCKET, KEYS.quarantineSidecar(ZONE_PREFIX, hash)));
    expect(sidecar).toEqual(expect.objectContaining({ source: u.uri, inputSha256: '', inputBytes: code === 'too-large' ? u.size : 0 }));
  }
  // too large with the size in the event: not read at all; without it: one ranged GET of maxBytes + 1
  const gets = plan.made.filter((x) => x.command === 'GetObjectCommand');
  expect(gets.filter((g) => g.input.Key === bigReported.key)).toEqual([]);
  expect(gets.filter((g) => g.input.Key === bigUnreported.key).map((g) => g.input.Range)).toEqual(['bytes=0-65536']);
  const quarantineKeys = await versions(c.s3, env.QUARANTINE_BUCKET);
  expect([...quarantineKeys.keys()].filter((k) => k.endsWith('/input'))).toHaveLength(11);

  // --- clean: pseudonymized, fields removed, indexed -----------------------------------------
  const rawIds = ['P-0042-AB', 'P-0077-CD', 'P-0101-EF'];
  const records = items.filter((i) => i.sk === 'record');
  expect(records).toHaveLength(3);
  for (const [name, u] of [['valid-formats-example.json', owner], ['borderline-normal-mild.json'], ['borderline-limits.json']] as const) {
    const src = u ?? fixtures.get(name)!;
    const item = outcome(src)!;
    expect(item.outcome).toBe('clean');
    const text = await getText(c.s3, env.CLEAN_BUCKET, KEYS.cleanRecord(ZONE_PREFIX, item.recordId));
    const clean = JSON.parse(text);
    expect(clean.patientId).toBe(await pseudonym(world, recordJson(name).patientId as string));
    for (const id of rawIds) expect(text).not.toContain(id);
    expect(clean).not.toHaveProperty('notes');
    const rec = records.find((r) => r.recordId === item.recordId)!;
    expect(rec).toEqual(expect.objectContaining({
      source: src.uri, subject: clean.patientId, state: 'cleaned', cleanRef: `s3://${env.CLEAN_BUCKET}/${KEYS.cleanRecord(ZONE_PREFIX, item.recordId)}`,
    }));
    const head = await c.s3.send(new HeadObjectCommand({ Bucket: env.CLEAN_BUCKET, Key: KEYS.cleanRecord(ZONE_PREFIX, item.recordId) }));
    expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(['aws:kms', keys.dataKeyArn]);
  }
  expect(recordJson('borderline-limits.json')).toHaveProperty('notes');

  // --- events: one per clean or quarantined source, none for duplicates ----------------------
  const events = await drainEvents(world);
  const cleaned = events.filter((e) => e.detailType === DETAIL_TYPE.recordCleaned);
  const quarantined = events.filter((e) => e.detailType === DETAIL_TYPE.recordQuarantined);
  expect(events).toHaveLength(17);
  expect(cleaned.map((e) => e.detail.recordId).sort()).toEqual(records.map((r) => r.recordId).sort());
  expect(new Set(events.map((e) => `${e.detail.source}#${e.detail.sourceVersionId}`)).size).toBe(17);
  expect(quarantined.every((e) => Array.isArray(e.detail.codes) && e.detail.codes.length > 0 && e.detail.pipeline === 'hearing')).toBe(true);
  for (const e of events) for (const id of rawIds) expect(JSON.stringify(e)).not.toContain(id);

  // --- one version of every object: no side effect twice -------------------------------------
  for (const b of [env.CLEAN_BUCKET, env.QUARANTINE_BUCKET]) {
    for (const [key, n] of await versions(c.s3, b)) expect([key, n]).toEqual([key, 1]);
  }
  // logs: outcomes, codes, ids and sizes; never an identifier
  expect(logLines.length).toBeGreaterThan(0);
  for (const id of rawIds) expect(logLines.join('\n')).not.toContain(id);

  // --- the whole batch delivered again: nothing changes --------------------------------------
  const before = {
    clean: await versions(c.s3, env.CLEAN_BUCKET),
    quarantine: await versions(c.s3, env.QUARANTINE_BUCKET),
    ledger: await ledger(c.ddb, env.LEDGER_TABLE),
  };
  const again = await driveLikeSqs(cleanHandler(aws(), world, { metrics }), messages(bodies));
  expect(again.dlq).toEqual([]);
  expect(await versions(c.s3, env.CLEAN_BUCKET)).toEqual(before.clean);
  expect(await versions(c.s3, env.QUARANTINE_BUCKET)).toEqual(before.quarantine);
  expect(await ledger(c.ddb, env.LEDGER_TABLE)).toEqual(before.ledger);
  expect(await drainEvents(world)).toEqual([]);
});

test('only transient errors fail a message; bad records in the same batch are quarantined (success for the queue)', async () => {
  const world = await createWorld(aws(), keys);
  const good = await upload(world, record('valid-formats-example.json'));
  const bad = await upload(world, record('invalid-json.json'));
  const plan = new FaultPlan([{ service: 'KMS', command: 'GenerateMacCommand', nth: 1, persistent: true, mode: 'before', kind: 'kms-internal' }]);
  const handler = cleanHandler(aws(), world, { plan });
  const [g, b] = [sqsRecord(objectCreated(world.env.RAW_BUCKET, good)), sqsRecord(objectCreated(world.env.RAW_BUCKET, bad))];
  const res = await handler.handleSqs(sqsEvent([g, b]));
  expect(res.batchItemFailures).toEqual([{ itemIdentifier: g.messageId }]);
  // when every message fails the response lists them all (no exception: the batch is not retried as a whole)
  const all = await handler.handleSqs(sqsEvent([sqsRecord(objectCreated(world.env.RAW_BUCKET, good))]));
  expect(all.batchItemFailures).toHaveLength(1);
  plan.enabled = false;
  expect((await handler.handleSqs(sqsEvent([g]))).batchItemFailures).toEqual([]);
});

test('MACs are cached per invocation: one GenerateMac per identifier and batch', async () => {
  const world = await createWorld(aws(), keys);
  const base = recordJson('valid-formats-example.json');
  const uploads = [];
  for (const sessionId of ['0b8c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1', '1b8c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1', '2b8c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1']) {
    uploads.push(await upload(world, JSON.stringify({ ...base, sessionId })));
  }
  const plan = new FaultPlan();
  const handler = cleanHandler(aws(), world, { plan });
  const res = await handler.handleSqs(sqsEvent(uploads.map((u) => sqsRecord(objectCreated(world.env.RAW_BUCKET, u)))));
  expect(res.batchItemFailures).toEqual([]);
  expect(plan.calls.get('KMS:GenerateMacCommand')).toBe(1);
  const more = await upload(world, JSON.stringify({ ...base, sessionId: '3b8c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1' }));
  await handler.handleSqs(sqsEvent([sqsRecord(objectCreated(world.env.RAW_BUCKET, more))]));
  expect(plan.calls.get('KMS:GenerateMacCommand')).toBe(2); // not kept across invocations
});

test('a URL-encoded key in the event finds the object (leniency), and an empty object is quarantined as invalid JSON', async () => {
  const world = await createWorld(aws(), keys);
  const spaced = await upload(world, record('valid-formats-example.json'), `${RAW_PREFIX}caller 1/a b.json`);
  const empty = await upload(world, '');
  const handler = cleanHandler(aws(), world);
  const res = await handler.handleSqs(sqsEvent([
    sqsRecord(objectCreated(world.env.RAW_BUCKET, { key: `${RAW_PREFIX}caller+1/a+b.json`, versionId: spaced.versionId })),
    sqsRecord(objectCreated(world.env.RAW_BUCKET, { key: empty.key, versionId: empty.versionId, size: 0 })),
  ]));
  expect(res.batchItemFailures).toEqual([]);
  const items = await ledger(world.c.ddb, world.env.LEDGER_TABLE);
  const src = (u: Upload) => items.find((i) => i.pk === LEDGER.sourcePk(sourceHash(world.env.RAW_BUCKET, u.key, u.versionId)));
  expect(src(spaced)).toEqual(expect.objectContaining({ outcome: 'clean', source: spaced.uri }));
  expect(src(empty)).toEqual(expect.objectContaining({ outcome: 'quarantine', codes: ['invalid-json'] }));
});

test('backfill: raw keys under the same config version are idempotent; quarantine sidecars re-run under a new version', async () => {
  const world = await createWorld(aws(), keys);
  const { env, c } = world;
  const valid = await upload(world, record('valid-formats-example.json'));
  const noisy = await upload(world, record('invalid-ambient-noise.json'));
  const broken = await upload(world, record('invalid-json.json'));
  const v1 = cleanHandler(aws(), world);
  const first = await driveLikeSqs(v1, messages([valid, noisy, broken].map((u) => objectCreated(env.RAW_BUCKET, u))));
  expect(first.dlq).toEqual([]);
  await drainEvents(world);

  // same version: every raw item is already placed (the listing gives no version: HeadObject finds it)
  const rawItems = [valid, noisy, broken].map((u) => ({ Key: u.key, Size: u.size }));
  expect(await v1.handleBackfill({ Items: [...rawItems, { Key: 'elsewhere/x.json' }], BatchInput: { bucket: env.RAW_BUCKET } }))
    .toEqual({ received: 4, clean: 0, duplicate: 0, quarantine: 0, skipped: 4 });
  expect(await v1.handleBackfill({ Items: [{ Key: valid.key }], BatchInput: { bucket: 'some-other-bucket' } }))
    .toEqual({ received: 1, clean: 0, duplicate: 0, quarantine: 0, skipped: 1 });
  expect(await drainEvents(world)).toEqual([]);

  // a new version that accepts more ambient noise: re-run the quarantine (its listing: inputs and sidecars)
  const v2config = { ...CLEANING, version: 'hearing-clean@2', checks: CLEANING.checks!.map((ch) => (ch.id === 'ambient-noise' ? { ...ch, max: 60 } : ch)) };
  const v2 = cleanHandler(aws(), world, { config: pipelineConfig(v2config) });
  const listing = [...(await versions(c.s3, env.QUARANTINE_BUCKET)).keys()].map((Key) => ({ Key }));
  expect(listing).toHaveLength(4);
  expect(await v2.handleBackfill({ Items: listing, BatchInput: { bucket: env.QUARANTINE_BUCKET } }))
    .toEqual({ received: 4, clean: 1, duplicate: 0, quarantine: 1, skipped: 2 });
  // and again: idempotent under the same (new) version
  expect(await v2.handleBackfill({ Items: listing, BatchInput: { bucket: env.QUARANTINE_BUCKET } }))
    .toEqual({ received: 4, clean: 0, duplicate: 0, quarantine: 0, skipped: 4 });

  const items = await ledger(c.ddb, env.LEDGER_TABLE);
  const of = (u: Upload) => items
    .filter((i) => i.pk === LEDGER.sourcePk(sourceHash(env.RAW_BUCKET, u.key, u.versionId)))
    .map((i) => [i.sk, i.outcome]).sort();
  expect(of(noisy)).toEqual([['cfg#hearing-clean@1', 'quarantine'], ['cfg#hearing-clean@2', 'clean']]);
  expect(of(broken)).toEqual([['cfg#hearing-clean@1', 'quarantine'], ['cfg#hearing-clean@2', 'quarantine']]);
  // the sidecar of a source quarantined again is replaced (a version per config version); the
  // sidecar of the source that is now clean stays as history
  const sidecar = (u: Upload) => KEYS.quarantineSidecar(ZONE_PREFIX, sourceHash(env.RAW_BUCKET, u.key, u.versionId));
  const qv = await versions(c.s3, env.QUARANTINE_BUCKET);
  expect([qv.get(sidecar(broken)), qv.get(sidecar(noisy))]).toEqual([2, 1]);
  expect(JSON.parse(await getText(c.s3, env.QUARANTINE_BUCKET, sidecar(broken))).cleaningConfigVersion).toBe('hearing-clean@2');
  const events = await drainEvents(world);
  expect(events.map((e) => [e.detailType, e.detail.source]).sort()).toEqual([
    [DETAIL_TYPE.recordCleaned, noisy.uri], [DETAIL_TYPE.recordQuarantined, broken.uri],
  ].sort());

  // the raw zone under v2: the valid record keeps its record item (and whatever label it has)
  const recordBefore = items.find((i) => i.sk === 'record' && i.source === valid.uri);
  expect(await v2.handleBackfill({ Items: rawItems, BatchInput: { bucket: env.RAW_BUCKET } }))
    .toEqual({ received: 3, clean: 1, duplicate: 0, quarantine: 0, skipped: 2 });
  const after = await ledger(c.ddb, env.LEDGER_TABLE);
  expect(after.find((i) => i.sk === 'record' && i.source === valid.uri)).toEqual(recordBefore);
});

test('a backfill batch with a transient failure throws after attempting every item (names only), and its retry completes it', async () => {
  const world = await createWorld(aws(), keys);
  const a = await upload(world, record('valid-formats-example.json'));
  const b = await upload(world, record('invalid-json.json'));
  const plan = new FaultPlan([{ service: 'DynamoDB', command: 'UpdateItemCommand', nth: 1, mode: 'before', kind: 'ddb-throughput' }]);
  const handler = cleanHandler(aws(), world, { plan });
  const batch = { Items: [{ Key: a.key }, { Key: b.key }], BatchInput: { bucket: world.env.RAW_BUCKET } };
  await expect(handler.handleBackfill(batch)).rejects.toThrow(/^backfill: 1 of 2 item\(s\) failed transiently \(ProvisionedThroughputExceededException\); retry the batch$/);
  const retry = await handler.handleBackfill(batch);
  expect(retry.received).toBe(2);
  expect(retry.skipped).toBe(1);
  expect(retry.clean + retry.quarantine).toBe(1);
});

test('fails at construction if the cleaning config does not compile', () => {
  const c = { send: async () => ({}) } as any;
  expect(() => createCleanHandler({
    s3: c,
    kms: c,
    ddb: c,
    events: c,
    env: {} as any,
    config: pipelineConfig({ ...CLEANING, maxBytes: -1 }),
  })).toThrow('cleaning config: maxBytes must be a positive integer, got -1');
});

test('cost: SDK calls and wall time per 10-record batch against moto (printed for the report)', async () => {
  const world = await createWorld(aws(), keys);
  const names = recordNames();
  const batches: Upload[][] = [];
  for (let b = 0; b < 3; b++) {
    const batch: Upload[] = [];
    for (let i = 0; i < 10; i++) {
      const name = names[(b * 10 + i) % names.length];
      const json = name.startsWith('invalid-json') || name.startsWith('invalid-utf8') || name.startsWith('invalid-not') ? undefined : recordJson(name);
      batch.push(await upload(world, json ? JSON.stringify({ ...json, sessionId: `${b}${i}0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1`.slice(0, 36) }) : record(name)));
    }
    batches.push(batch);
  }
  const plan = new FaultPlan();
  const handler = cleanHandler(aws(), world, { plan });
  const ms: number[] = [];
  for (const batch of batches) {
    const t = process.hrtime.bigint();
    const res = await handler.handleSqs(sqsEvent(batch.map((u) => sqsRecord(objectCreated(world.env.RAW_BUCKET, u)))));
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    expect(res.batchItemFailures).toEqual([]);
  }
  const calls = [...plan.calls.values()].reduce((a, b) => a + b, 0) / batches.length;
  // one trivial moto call, for scale (the machine is shared: quote ratios)
  const t = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) await ledger(world.c.ddb, 'no-such-table').catch(() => undefined);
  const trivial = Number(process.hrtime.bigint() - t) / 1e6 / 20;
  process.stdout.write(`clean-handler cost: ${ms.map((x) => x.toFixed(0)).join(' / ')} ms per 10-record batch, ${calls.toFixed(0)} SDK calls per batch, moto round trip ${trivial.toFixed(1)} ms\n`);
  expect(calls).toBeLessThan(10 * 9);
});

describe('one upload grant, one record (issue 11, item 6)', () => {
  test('a replayed presigned POST (another version of the same key) is quarantined replayed-upload; the first version is the record', async () => {
    const world = await createWorld(aws(), keys);
    const { env, c } = world;
    const key = `${RAW_PREFIX}caller-1/2026/03/01/upload-1.json`;
    const first = await upload(world, record('valid-formats-example.json'), key);
    const replay = await upload(world, record('borderline-normal-mild.json'), key); // other content, same key
    const sameBytes = await upload(world, record('valid-formats-example.json'), key); // the same bytes again
    expect(new Set([first.versionId, replay.versionId, sameBytes.versionId]).size).toBe(3);
    const metrics: string[] = [];
    const plan = new FaultPlan();
    const handler = cleanHandler(aws(), world, { metrics, plan });
    const event = (u: Upload) => objectCreated(env.RAW_BUCKET, { key: u.key, versionId: u.versionId, size: u.size });
    const run = await driveLikeSqs(handler, messages([event(first), event(replay), event(sameBytes), event(replay)]), { batchSize: 1 });
    expect(run.dlq).toEqual([]);

    expect((await sourceItemOf(world, first))).toEqual(expect.objectContaining({ outcome: 'clean', announced: true }));
    for (const u of [replay, sameBytes]) {
      expect((await sourceItemOf(world, u))).toEqual(expect.objectContaining({ outcome: 'quarantine', codes: ['replayed-upload'], announced: true }));
      const hash = sourceHash(env.RAW_BUCKET, u.key, u.versionId);
      const sidecar = JSON.parse(await getText(c.s3, env.QUARANTINE_BUCKET, KEYS.quarantineSidecar(ZONE_PREFIX, hash)));
      expect(sidecar).toEqual(expect.objectContaining({ source: u.uri, sourceVersionId: u.versionId, inputBytes: u.size }));
      expect(sidecar.reasons.map((r: any) => r.code)).toEqual(['replayed-upload']);
    }
    // sidecars only (the raw zone keeps the versions); one clean record
    expect([...(await versions(c.s3, env.QUARANTINE_BUCKET)).keys()].filter((k) => k.endsWith('/input'))).toEqual([]);
    expect((await versions(c.s3, env.CLEAN_BUCKET)).size).toBe(1);
    const claim = (await ledger(c.ddb, env.LEDGER_TABLE)).filter((i) => String(i.pk).startsWith('upload#'));
    expect(claim).toEqual([expect.objectContaining({ sk: 'upload', source: first.uri, sourceVersionId: first.versionId })]);

    // reconciled: every version in exactly one place, by ids and by the metrics
    const places = await placesFromZones(world, [first, replay, sameBytes]);
    expect(reconcileIds({ received: [first, replay, sameBytes].map(sourceId), ...places, dlq: [] }).message).toMatch(/^balanced/);
    const m = (name: string) => metricSum(metrics, name);
    expect([m('RecordsReceived'), m('RecordsClean'), m('RecordsQuarantine'), m('RecordsDuplicate'), m('RecordsSkipped')]).toEqual([4, 1, 2, 0, 1]);
    expect((await drainEvents(world)).map((e) => [e.detailType, e.detail.sourceVersionId, e.detail.codes ?? []])).toEqual([
      [DETAIL_TYPE.recordCleaned, first.versionId, []],
      [DETAIL_TYPE.recordQuarantined, replay.versionId, ['replayed-upload']],
      [DETAIL_TYPE.recordQuarantined, sameBytes.versionId, ['replayed-upload']],
    ]);

    // a backfill under a new config version keeps the first version as the only record
    const v2 = cleanHandler(aws(), world, { config: pipelineConfig({ ...CLEANING, version: 'hearing-clean@2' }) });
    const items = [first, replay, sameBytes].map((u) => ({ Key: u.key, VersionId: u.versionId }));
    expect(await v2.handleBackfill({ Items: items, BatchInput: { bucket: env.RAW_BUCKET } }))
      .toEqual({ received: 3, clean: 1, duplicate: 0, quarantine: 2, skipped: 0 });
  });
});

describe('nothing is orphaned, nothing deleted is cleaned (issue 11, item 8)', () => {
  test('a source whose current version is a delete marker is quarantined source-deleted, not cleaned (it was read by version id)', async () => {
    const world = await createWorld(aws(), keys);
    const { env, c } = world;
    const deleted = await upload(world, record('valid-formats-example.json'));
    await c.s3.send(new DeleteObjectCommand({ Bucket: env.RAW_BUCKET, Key: deleted.key })); // a delete marker: the version is still there
    const kept = await upload(world, record('borderline-normal-mild.json'));
    const metrics: string[] = [];
    const run = await driveLikeSqs(cleanHandler(aws(), world, { metrics }), messages([deleted, kept].map((u) => objectCreated(env.RAW_BUCKET, u))));
    expect(run.dlq).toEqual([]);
    expect(await sourceItemOf(world, deleted)).toEqual(expect.objectContaining({ outcome: 'quarantine', codes: ['source-deleted'] }));
    expect(await sourceItemOf(world, kept)).toEqual(expect.objectContaining({ outcome: 'clean' }));
    const hash = sourceHash(env.RAW_BUCKET, deleted.key, deleted.versionId);
    const sidecar = JSON.parse(await getText(c.s3, env.QUARANTINE_BUCKET, KEYS.quarantineSidecar(ZONE_PREFIX, hash)));
    expect(sidecar).toEqual(expect.objectContaining({ inputSha256: '', inputBytes: 0, reasons: [expect.objectContaining({ code: 'source-deleted' })] }));
    // nothing of it is copied or cleaned: one clean record (the kept one), no input copy
    expect((await versions(c.s3, env.CLEAN_BUCKET)).size).toBe(1);
    expect([...(await versions(c.s3, env.QUARANTINE_BUCKET)).keys()].filter((k) => k.endsWith('/input'))).toEqual([]);
    expect(metrics.filter((l) => l.includes('"QuarantineReasons"')).map((l) => JSON.parse(l).reason)).toEqual(['source-deleted']);
  });

  // Found by the fault property (seed 418064282, path "19:3:0:1:0:0:0"): a transient error of the
  // HeadObject that looks for the delete marker made the deleted source "source-missing".
  test('a transient error while looking for the delete marker is transient: the source is retried, not taken for missing', async () => {
    const world = await createWorld(aws(), keys);
    const { env, c } = world;
    const deleted = await upload(world, record('valid-formats-example.json'));
    await c.s3.send(new DeleteObjectCommand({ Bucket: env.RAW_BUCKET, Key: deleted.key }));
    const plan = new FaultPlan([{ service: 'S3', command: 'HeadObjectCommand', nth: 1, persistent: true, mode: 'before', kind: 'internal' }]);
    const handler = cleanHandler(aws(), world, { plan });
    const run = await driveLikeSqs(handler, messages([objectCreated(env.RAW_BUCKET, deleted)]), { plan });
    expect(run.dlq).toHaveLength(1);
    expect(await sourceItemOf(world, deleted)).toBeUndefined();
    plan.enabled = false;
    expect((await driveLikeSqs(handler, run.dlq.map((m) => ({ ...m, receives: 0 })), { plan })).dlq).toEqual([]);
    expect(await sourceItemOf(world, deleted)).toEqual(expect.objectContaining({ outcome: 'quarantine', codes: ['source-deleted'] }));
  });

  test('a ledger write that keeps failing leaves no clean object the ledger does not know, in the DLQ and after the redrive', async () => {
    const world = await createWorld(aws(), keys);
    const { env, c } = world;
    const u = await upload(world, record('valid-formats-example.json'));
    // every PutItem of a record item fails (the ledger is throttled for it)
    const plan = new FaultPlan([{
      service: 'DynamoDB', command: 'PutItemCommand', nth: 1, persistent: true, mode: 'before', kind: 'ddb-throughput', match: (i) => String(i?.Item?.pk?.S).startsWith('rec#'),
    }]);
    const handler = cleanHandler(aws(), world, { plan });
    const run = await driveLikeSqs(handler, messages([objectCreated(env.RAW_BUCKET, u)]), { plan });
    expect(run.dlq).toHaveLength(1);
    expect((await placesFromZones(world, [u])).orphans).toEqual([]);
    expect((await versions(c.s3, env.CLEAN_BUCKET)).size).toBe(0);

    // the upload is deleted meanwhile; the DLQ is redriven: quarantined, and still nothing orphaned
    await c.s3.send(new DeleteObjectCommand({ Bucket: env.RAW_BUCKET, Key: u.key }));
    plan.enabled = false;
    const redrive = await driveLikeSqs(handler, run.dlq.map((m) => ({ ...m, receives: 0 })), { plan });
    expect(redrive.dlq).toEqual([]);
    const places = await placesFromZones(world, [u]);
    expect(places.orphans).toEqual([]);
    expect(reconcileIds({ received: [sourceId(u)], ...places, dlq: [] }).message).toMatch(/^balanced/);
    expect(await sourceItemOf(world, u)).toEqual(expect.objectContaining({ outcome: 'quarantine', codes: ['source-deleted'] }));
  });

  test('the same message handled by two instances at once counts its record once (RecordsClean 1); its event is at least once', async () => {
    const world = await createWorld(aws(), keys);
    const u = await upload(world, record('valid-formats-example.json'));
    const body = objectCreated(world.env.RAW_BUCKET, u);
    const [metricsA, metricsB] = [[] as string[], [] as string[]];
    // A writes its source item, then waits before putting its event until B (a redelivery after
    // the visibility timeout) has handled the same message completely.
    const planA = new FaultPlan();
    let releaseA: () => void = () => undefined;
    const aWaits = new Promise<void>((r) => {
      releaseA = r;
    });
    let aReachedEvents: () => void = () => undefined;
    const aAtEvents = new Promise<void>((r) => {
      aReachedEvents = r;
    });
    planA.hold = (service, command) => {
      if (service !== 'EventBridge' || command !== 'PutEventsCommand') return undefined;
      aReachedEvents();
      return aWaits;
    };
    const a = cleanHandler(aws(), world, { plan: planA, metrics: metricsA });
    const b = cleanHandler(aws(), world, { metrics: metricsB });
    const first = a.handleSqs(sqsEvent([sqsRecord(body, 'm-1')]));
    await aAtEvents;
    expect((await b.handleSqs(sqsEvent([sqsRecord(body, 'm-1', 2)]))).batchItemFailures).toEqual([]);
    releaseA();
    expect((await first).batchItemFailures).toEqual([]);

    const m = (name: string) => metricSum([...metricsA, ...metricsB], name);
    expect([m('RecordsReceived'), m('RecordsClean'), m('RecordsSkipped')]).toEqual([2, 1, 1]);
    const events = (await drainEvents(world)).filter((e) => e.detail.source === u.uri);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(new Set(events.map((e) => JSON.stringify(e)))).toEqual(new Set([JSON.stringify(events[0])]));
    expect(await sourceItemOf(world, u)).toEqual(expect.objectContaining({ outcome: 'clean', announced: true }));
  });
});

describe('pseudonymization is injective', () => {
  test('an identifier longer than GenerateMac takes never shares a MAC message with a short one spelled like its hash', async () => {
    const messagesSent: Buffer[] = [];
    const send = async (cmd: any) => {
      messagesSent.push(Buffer.from(cmd.input.Message));
      return { Mac: createHmac('sha256', 'k').update(cmd.input.Message).digest() };
    };
    const kms = { send } as any;
    const macs = invocationMacs(kms, 'key');
    const long = 'P-'.padEnd(5000, 'x');
    const spelled = `sha256:${sha256Hex(Buffer.from(long, 'utf8'))}`;
    const [a, b] = [await macs.mac(long), await macs.mac(spelled)];
    expect(a).not.toBe(b);
    expect(messagesSent[0][0]).toBe(0xff); // never the UTF-8 text of an identifier
    expect(messagesSent[0]).toHaveLength(33);
  });
});
