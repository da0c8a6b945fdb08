import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import * as fc from 'fast-check';
import { record, recordJson } from './hearing';
import { DETAIL_TYPE } from '../../src/labeling-pipeline/runtime/contract';
import { reconcileIds } from '../../src/labeling-pipeline/runtime/logic/reconcile';
import { useLocalAws } from '../support/local-aws';
import {
  cleanHandler, createKeys, createWorld, drainEvents, driveLikeSqs, Fault, FaultKind, FaultPlan, Keys, Message, messages,
  objectCreated, placesFromZones, sourceId, sourceItemOf, upload, Upload, versions, World,
} from './support/clean-world';

/**
 * Fault injection: SDK middleware on the handler's clients throws on chosen calls, before the call
 * (nothing happened), after it (the side effect happened, the response was lost) or as a crash
 * (the side effect happened, then the execution environment died: every later call of that
 * invocation fails and SQS redelivers the whole batch). The batch is driven like SQS does it
 * (redelivery of failed messages up to maxReceiveCount = 3, then the DLQ), optionally also to a
 * second execution environment at the same time (a visibility timeout that ran out), then the DLQ
 * is redriven without faults, and the result is reconciled: by ids from the zones and the ledger,
 * and by the handler's metrics (each source counted once).
 */
const aws = useLocalAws();
/** Runs of the property (CLEAN_FAULT_RUNS=300 for a deeper search; about 2 s a run on a loaded 2-core machine). */
const FAULT_RUNS = Number(process.env.CLEAN_FAULT_RUNS ?? 40);
let keys: Keys;
let world: World;

beforeAll(async () => {
  keys = await createKeys(aws());
  world = await createWorld(aws(), keys);
});

/** A fresh zone prefix per run shares one world (buckets, table, bus) between runs. */
function runWorld(): World {
  return { ...world, env: { ...world.env, ZONE_PREFIX: `run-${randomUUID().slice(0, 8)}/`, RAW_PREFIX: `uploads/${randomUUID().slice(0, 8)}/` } };
}

interface Sources {
  readonly all: Upload[];
  readonly sameContent: Upload[];
  readonly bodies: string[];
}

/**
 * Two good records, one with a duplicate-content copy, two bad, one whose version was deleted and
 * one deleted (a delete marker) before cleaning, a replayed upload (a second version of the bad
 * record's key, also bad: whichever version comes first is its record); one duplicate delivery.
 */
async function uploadSources(w: World): Promise<Sources> {
  const key = () => `${w.env.RAW_PREFIX}${randomUUID()}.json`;
  const a = JSON.stringify({ ...recordJson('valid-formats-example.json'), sessionId: randomUUID() });
  const good = await upload(w, a, key());
  const copy = await upload(w, a, key());
  const other = await upload(w, JSON.stringify({ ...recordJson('borderline-normal-mild.json'), sessionId: randomUUID() }), key());
  const broken = await upload(w, record('invalid-json.json'), key());
  const range = await upload(w, JSON.stringify({ ...recordJson('invalid-threshold-out-of-range.json'), sessionId: randomUUID() }), key());
  const replay = await upload(w, JSON.stringify({ ...recordJson('invalid-threshold-out-of-range.json'), sessionId: randomUUID() }), range.key);
  const gone = await upload(w, record('invalid-ambient-noise.json'), key());
  await w.c.s3.send(new DeleteObjectCommand({ Bucket: w.env.RAW_BUCKET, Key: gone.key, VersionId: gone.versionId }));
  const deleted = await upload(w, JSON.stringify({ ...recordJson('borderline-limits.json'), sessionId: randomUUID() }), key());
  await w.c.s3.send(new DeleteObjectCommand({ Bucket: w.env.RAW_BUCKET, Key: deleted.key }));
  const all = [good, copy, other, broken, range, replay, gone, deleted];
  const body = (u: Upload) => objectCreated(w.env.RAW_BUCKET, { key: u.key, versionId: u.versionId, size: u.size });
  return { all, sameContent: [good, copy], bodies: [...all.map(body), body(good)] };
}

/** Ledger items by kind: a fault may hit the writes of one kind only (e.g. every record item). */
const ITEM_KINDS: Record<string, (input: any) => boolean> = {
  'record item': (i) => String(i?.Item?.pk?.S).startsWith('rec#'),
  'source item': (i) => String(i?.Item?.pk?.S).startsWith('src#'),
  'upload claim': (i) => String(i?.Item?.pk?.S).startsWith('upload#'),
};

const COMMANDS: Array<[Fault['service'], string, FaultKind[], string?]> = [
  ['S3', 'GetObjectCommand', ['internal', 's3-slowdown']],
  ['S3', 'HeadObjectCommand', ['internal', 's3-slowdown']],
  ['S3', 'PutObjectCommand', ['internal', 's3-slowdown']],
  ['KMS', 'GenerateMacCommand', ['kms-internal', 'throttling']],
  ['DynamoDB', 'GetItemCommand', ['ddb-throughput', 'internal']],
  ['DynamoDB', 'PutItemCommand', ['ddb-throughput', 'internal']],
  ['DynamoDB', 'PutItemCommand', ['ddb-throughput', 'internal'], 'record item'],
  ['DynamoDB', 'PutItemCommand', ['ddb-throughput', 'internal'], 'source item'],
  ['DynamoDB', 'PutItemCommand', ['ddb-throughput', 'internal'], 'upload claim'],
  ['DynamoDB', 'UpdateItemCommand', ['ddb-throughput', 'internal']],
  ['EventBridge', 'PutEventsCommand', ['throttling', 'internal']],
];

const faultArb: fc.Arbitrary<Fault> = fc.constantFrom(...COMMANDS).chain(([service, command, kinds, only]) => fc.record({
  service: fc.constant(service),
  command: fc.constant(command),
  nth: fc.integer({ min: 1, max: 8 }),
  persistent: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
  mode: fc.constantFrom('before' as const, 'after' as const, 'crash' as const),
  kind: fc.constantFrom(...kinds),
}).map((f): Fault => (only ? { ...f, match: ITEM_KINDS[only] } : f)));

/** Faults after which an event may be put twice (the documented at-least-once window). */
const mayRepeatEvents = (fired: readonly Fault[]) => fired.some((f) =>
  f.command === 'UpdateItemCommand' || f.mode === 'crash' || (f.command === 'PutEventsCommand' && f.mode === 'after'));

/**
 * Faults after which a source may be counted in no outcome: the one write that decides who counts
 * it (the announced flag, a duplicate's source item) happened, and its response was lost.
 */
const mayMissCount = (fired: readonly Fault[]) => fired.some((f) =>
  (f.command === 'UpdateItemCommand' || f.command === 'PutItemCommand') && f.mode !== 'before');

/** Sums one metric over EMF lines. */
const metricSum = (lines: string[], name: string) => lines.map((l) => JSON.parse(l)).reduce((n, l) => n + (typeof l[name] === 'number' ? l[name] : 0), 0);

interface Outcome {
  readonly dlqAfterFaults: number;
  readonly repeatedEvents: number;
  readonly fired: number;
  readonly crashes: number;
}

/** Drive (with a twin execution environment, or not), check the state with the DLQ, redrive, check the final state. */
async function runScenario(faults: readonly Fault[], batchSize: number, twin = false): Promise<Outcome> {
  const w = runWorld();
  const { env, c } = w;
  const src = await uploadSources(w);
  const plan = new FaultPlan(faults);
  const metrics: string[] = [];
  const handler = cleanHandler(aws(), w, { plan, metrics });
  const msgs = messages(src.bodies);
  const twinHandler = twin ? { twin: cleanHandler(aws(), w, { metrics }) } : {};
  const first = await driveLikeSqs(handler, msgs, { plan, batchSize, maxReceiveCount: 3, ...twinHandler });

  // --- with the DLQ: every source is placed and announced, or one of its messages waits in the DLQ
  const received = src.all.map(sourceId);
  const sourceItem = (u: Upload) => sourceItemOf(w, u);
  const items = new Map<string, Record<string, any> | undefined>();
  for (const u of src.all) items.set(sourceId(u), await sourceItem(u));
  const placed = (outcome: string) => src.all
    .filter((u) => items.get(sourceId(u))?.announced && items.get(sourceId(u))?.outcome === outcome)
    .map(sourceId);
  const dlqBodies = new Set(first.dlq.map((m) => m.body));
  const bodyOf = (u: Upload) => src.bodies[src.all.indexOf(u)];
  const inDlq = (u: Upload) => dlqBodies.has(bodyOf(u)) || (u === src.all[0] && dlqBodies.has(src.bodies[src.all.length])); // the duplicate delivery
  const dlqSources = src.all.filter((u) => !items.get(sourceId(u))?.announced && inDlq(u));
  const withDlq = reconcileIds({ received, clean: placed('clean'), quarantined: placed('quarantine'), duplicates: placed('duplicate'), dlq: dlqSources.map(sourceId) });
  if (!withDlq.balanced) throw new Error(`before redrive: ${withDlq.message}`);
  // and no clean object exists that the ledger does not know (the record item is written first)
  const orphansBefore = (await placesFromZones(w, src.all)).orphans.filter((k) => k.startsWith(env.ZONE_PREFIX));
  if (orphansBefore.length) throw new Error(`before redrive: clean objects without a record item: ${orphansBefore.join(', ')}`);

  // --- redrive the DLQ (the cause fixed): nothing may be left over
  plan.enabled = false;
  const redrive = await driveLikeSqs(handler, first.dlq.map((m): Message => ({ ...m, receives: 0 })), { plan, batchSize });
  if (redrive.dlq.length) throw new Error(`redrive left ${redrive.dlq.length} message(s) in the DLQ`);

  const places = await placesFromZones(w, src.all);
  // the zones of this run only
  const mine = (ids: string[]) => ids.filter((id) => received.includes(id));
  const final = reconcileIds({
    received, clean: mine(places.clean), quarantined: mine(places.quarantined), duplicates: mine(places.duplicates), dlq: [],
  });
  if (!final.balanced) throw new Error(`after redrive: ${final.message}`);
  expect({ clean: mine(places.clean).length, quarantined: mine(places.quarantined).length, duplicates: mine(places.duplicates).length })
    .toEqual({ clean: 2, quarantined: 5, duplicates: 1 });
  // the replayed key has one record (its other version is replayed-upload); the deleted upload is not cleaned
  const codesOf = async (u: Upload) => (await sourceItem(u))?.codes ?? [];
  const [range, replay, deleted] = [src.all[4], src.all[5], src.all[7]];
  expect([...await codesOf(range), ...await codesOf(replay)].sort()).toEqual(['range', 'replayed-upload']);
  expect(await codesOf(deleted)).toEqual(['source-deleted']);
  expect(places.orphans.filter((k) => k.startsWith(env.ZONE_PREFIX))).toEqual([]);
  expect(src.sameContent.filter((u) => mine(places.clean).includes(sourceId(u)))).toHaveLength(1);

  // every object written once (a retry never wrote a second version)
  for (const b of [env.CLEAN_BUCKET, env.QUARANTINE_BUCKET]) {
    for (const [key, n] of await versions(c.s3, b, env.ZONE_PREFIX)) if (n !== 1) throw new Error(`${key} has ${n} versions`);
  }
  // every source announced; one event per clean or quarantined source, except in the documented window
  const events = (await drainEvents(w)).filter((e) => received.includes(`${e.detail.source}#${e.detail.sourceVersionId}`));
  let repeatedEvents = 0;
  for (const u of src.all) {
    const item = (await sourceItem(u))!;
    if (!item?.announced) throw new Error(`${sourceId(u)} is not announced after the redrive`);
    const mineEvents = events.filter((e) => e.detail.source === u.uri && e.detail.sourceVersionId === u.versionId);
    if (item.outcome === 'duplicate') {
      expect(mineEvents).toEqual([]);
      continue;
    }
    expect(mineEvents.length).toBeGreaterThanOrEqual(1);
    expect(mineEvents.every((e) => e.detailType === (item.outcome === 'clean' ? DETAIL_TYPE.recordCleaned : DETAIL_TYPE.recordQuarantined))).toBe(true);
    expect(new Set(mineEvents.map((e) => JSON.stringify(e.detail))).size).toBe(1);
    if (mineEvents.length > 1) {
      repeatedEvents++;
      if (!twin && !mayRepeatEvents(plan.fired)) throw new Error(`event repeated without a fault in the at-least-once window: ${JSON.stringify(plan.fired)}`);
    }
  }
  // each source counted in its outcome once (never twice, also with two environments at work);
  // exactly once unless the response of the write that decides who counts it was lost
  const counted = ['RecordsClean', 'RecordsQuarantine', 'RecordsDuplicate'].map((n) => metricSum(metrics, n));
  const expected = [2, 5, 1];
  for (let i = 0; i < 3; i++) {
    if (counted[i] > expected[i] || (counted[i] < expected[i] && !mayMissCount(plan.fired))) {
      throw new Error(`metrics count ${JSON.stringify(counted)} (clean, quarantine, duplicate), expected ${JSON.stringify(expected)}; faults ${JSON.stringify(plan.fired)}`);
    }
  }
  return { dlqAfterFaults: first.dlq.length, repeatedEvents, fired: plan.fired.length, crashes: first.crashes };
}

test('fault injection (property): under random SDK errors, throttling, lost responses and crashes, every source ends in exactly one place after redrive', async () => {
  const stats = { runs: 0, twinRuns: 0, faultsFired: 0, crashes: 0, dlqRuns: 0, repeatedEventRuns: 0 };
  const started = Date.now();
  const twin = fc.integer({ min: 0, max: 3 }).map((n) => n === 0);
  const faults = fc.array(faultArb, { minLength: 1, maxLength: 3 });
  await fc.assert(fc.asyncProperty(faults, fc.integer({ min: 1, max: 10 }), twin, async (fired, batchSize, withTwin) => {
    const out = await runScenario(fired, batchSize, withTwin);
    stats.runs++;
    if (withTwin) stats.twinRuns++;
    stats.faultsFired += out.fired;
    stats.crashes += out.crashes;
    if (out.dlqAfterFaults) stats.dlqRuns++;
    if (out.repeatedEvents) stats.repeatedEventRuns++;
  }), { numRuns: FAULT_RUNS });
  // Printed for the report (runs, and how many exercised the DLQ and the at-least-once window).
  process.stdout.write(`clean-handler faults: ${JSON.stringify(stats)} in ${Date.now() - started} ms\n`);
  expect(stats.dlqRuns).toBeGreaterThan(0);
}, Math.max(300_000, FAULT_RUNS * 8_000));

test('a crash after the clean PutObject (its record item is written before it): the redelivery writes nothing twice and announces once', async () => {
  const plan = new FaultPlan([{ service: 'S3', command: 'PutObjectCommand', nth: 1, mode: 'crash', kind: 'internal' }]);
  const w = runWorld();
  const u = await upload(w, JSON.stringify({ ...recordJson('valid-formats-example.json'), sessionId: randomUUID() }), `${w.env.RAW_PREFIX}a.json`);
  const handler = cleanHandler(aws(), w, { plan });
  const run = await driveLikeSqs(handler, messages([objectCreated(w.env.RAW_BUCKET, u)]), { plan });
  expect([run.crashes, run.invocations, run.dlq.length]).toEqual([1, 2, 0]);
  // the upload claim and the record item before the crash, the source item after it (the retry finds the others)
  expect(plan.made.filter((x) => x.command === 'PutItemCommand').map((x) => String(x.input.Item.pk.S).replace(/#.*/, ''))).toEqual(['upload', 'rec', 'src']);
  const clean = [...(await versions(w.c.s3, w.env.CLEAN_BUCKET))].filter(([k]) => k.startsWith(w.env.ZONE_PREFIX));
  expect(clean.map(([, n]) => n)).toEqual([1]);
  const events = (await drainEvents(w)).filter((e) => e.detail.source === u.uri);
  expect(events.map((e) => e.detailType)).toEqual([DETAIL_TYPE.recordCleaned]);
});

test('a lost PutEvents response is the at-least-once window: the event is put twice, the ledger and the zones once', async () => {
  const plan = new FaultPlan([{ service: 'EventBridge', command: 'PutEventsCommand', nth: 1, mode: 'after', kind: 'internal' }]);
  const w = runWorld();
  const u = await upload(w, record('invalid-json.json'), `${w.env.RAW_PREFIX}b.json`);
  const run = await driveLikeSqs(cleanHandler(aws(), w, { plan }), messages([objectCreated(w.env.RAW_BUCKET, u)]), { plan });
  expect([run.invocations, run.dlq.length]).toEqual([2, 0]);
  const events = (await drainEvents(w)).filter((e) => e.detail.source === u.uri);
  expect(events.map((e) => e.detailType)).toEqual([DETAIL_TYPE.recordQuarantined, DETAIL_TYPE.recordQuarantined]);
  expect(events[0].detail).toEqual(events[1].detail); // consumers dedupe on source + version
  const q = [...(await versions(w.c.s3, w.env.QUARANTINE_BUCKET))].filter(([k]) => k.startsWith(w.env.ZONE_PREFIX));
  expect(q.map(([, n]) => n)).toEqual([1, 1]);
});

test('persistent throttling sends the message to the DLQ after 3 receives, with partial work idempotent; the redrive places it once', async () => {
  const plan = new FaultPlan([{ service: 'DynamoDB', command: 'PutItemCommand', nth: 1, persistent: true, mode: 'before', kind: 'ddb-throughput' }]);
  const w = runWorld();
  const u = await upload(w, JSON.stringify({ ...recordJson('valid-formats-example.json'), sessionId: randomUUID() }), `${w.env.RAW_PREFIX}c.json`);
  const handler = cleanHandler(aws(), w, { plan });
  const run = await driveLikeSqs(handler, messages([objectCreated(w.env.RAW_BUCKET, u)]), { plan });
  expect([run.invocations, run.dlq.length, run.dlq[0].receives]).toEqual([3, 1, 3]);
  plan.enabled = false;
  const redrive = await driveLikeSqs(handler, run.dlq.map((m) => ({ ...m, receives: 0 })), { plan });
  expect(redrive.dlq).toEqual([]);
  const clean = [...(await versions(w.c.s3, w.env.CLEAN_BUCKET))].filter(([k]) => k.startsWith(w.env.ZONE_PREFIX));
  expect(clean.map(([, n]) => n)).toEqual([1]);
  expect((await drainEvents(w)).filter((e) => e.detail.source === u.uri)).toHaveLength(1);
});
