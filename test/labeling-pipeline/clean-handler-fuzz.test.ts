import * as fc from 'fast-check';
import { record, recordJson, recordNames } from './hearing';
import { powertoolsLog } from '../../src/labeling-pipeline/runtime/clean';
import { parseObjectCreated } from '../../src/labeling-pipeline/runtime/clean-source';
import { useLocalAws } from '../support/local-aws';
import {
  cleanHandler, createKeys, createWorld, objectCreated, sourceItemOf, sqsEvent, sqsRecord, upload, Upload, World,
} from './support/clean-world';

/**
 * Fuzzing of what comes from outside: raw records (arbitrary JSON, mutated fixture records,
 * random bytes, huge and deep values) through the handler against moto, and SQS message bodies.
 * The handler never fails a message for its input (only quarantine), and the captured output
 * (Powertools logger JSON lines and EMF lines) never contains a fuzzed string value or a fixture
 * identifier.
 */
const aws = useLocalAws();
let world: World;

beforeAll(async () => {
  world = await createWorld(aws(), await createKeys(aws()));
});

const FIXTURE_IDS = ['P-0042-AB', 'P-0077-CD', 'P-0101-EF'];

/** Everything written to stdout / stderr while `fn` runs (the Powertools logger and EMF write there). */
async function capture<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((s) => jest.spyOn(s, 'write').mockImplementation((chunk: any) => {
    chunks.push(String(chunk));
    return true;
  }));
  try {
    return { result: await fn(), output: chunks.join('') };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

/** Output without what the handler derives itself (ids, hashes, times), so that only echoed input could match. */
const sanitize = (text: string) => text
  .replace(/"timestamp":"[^"]*"/g, '')
  .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '')
  .replace(/rec-[0-9a-f]+/g, '')
  .replace(/\d{10,}/g, '');

/** Every string (values and keys) in a JSON value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const e of v) strings(e, out);
  else if (v && typeof v === 'object') for (const [k, e] of Object.entries(v)) { out.push(k); strings(e, out); }
  return out;
}

const base = recordJson('valid-formats-example.json');
const paths: string[][] = [
  ['patientId'], ['sessionId'], ['age'], ['device'], ['device', 'model'], ['ambientNoiseDbA'], ['takenAt'],
  ['thresholds'], ['thresholds', 'left'], ['thresholds', 'left', '500'], ['thresholds', 'right', '4000'], ['catchTrials', 'presented'], ['notes'], ['extra'],
];
function setAt(obj: any, path: string[], value: unknown): any {
  const copy = structuredClone(obj);
  let node = copy;
  for (const seg of path.slice(0, -1)) {
    if (typeof node[seg] !== 'object' || node[seg] === null) node[seg] = {};
    node = node[seg];
  }
  node[path[path.length - 1]] = value;
  return copy;
}

/** A raw object body, the strings it carries, and the quarantine code it must get (when it is one of the ambiguous cases). */
interface RawCase { readonly body: Buffer; readonly values: string[]; readonly reportSize: boolean; readonly expectCode?: string }

/** A member written again in front of an object's members: JSON.parse would keep the last one. */
function withRepeatedMember(v: Record<string, unknown>, path: readonly string[], value: unknown): string {
  const write = (x: unknown, at: number): string => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return JSON.stringify(x);
    const members = Object.entries(x).map(([k, e]) => `${JSON.stringify(k)}: ${write(e, at === path.length - 1 ? -1 : (k === path[at] ? at + 1 : -1))}`);
    if (at === path.length - 1) members.unshift(`${JSON.stringify(path[at])}: ${JSON.stringify(value)}`);
    return `{${members.join(', ')}}`;
  };
  return write(v, 0);
}

const text = fc.string({ minLength: 0, maxLength: 40, unit: 'grapheme' });
const rawCase: fc.Arbitrary<RawCase> = fc.oneof(
  // arbitrary JSON values
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ v, body: Buffer.from(JSON.stringify(v) ?? 'null') })),
  // fixture records with one field replaced (the identifier included)
  fc.tuple(fc.constantFrom(...paths), fc.oneof(text, fc.jsonValue({ maxDepth: 3 }))).map(([p, value]) => {
    const v = setAt(base, p, value);
    return { v, body: Buffer.from(JSON.stringify(v)) };
  }),
  // a valid record whose identifier is a fuzzed string (it is pseudonymized and must not be logged)
  text.filter((s) => s.length > 0).map((id) => {
    const v = { ...base, patientId: id };
    return { v, body: Buffer.from(JSON.stringify(v)) };
  }),
  // fixture files, byte-mutated
  fc.tuple(fc.constantFrom(...recordNames()), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([name, at, byte]) => {
    const b = Buffer.from(record(name));
    if (b.length) b[at % b.length] = byte;
    return { v: undefined, body: b };
  }),
  // random bytes
  fc.uint8Array({ maxLength: 600 }).map((b) => ({ v: undefined, body: Buffer.from(b) })),
  // huge values (above maxBytes 65536) and deep nesting
  fc.tuple(text, fc.integer({ min: 1, max: 3 })).map(([s, k]) => {
    const v = { ...base, notes: (s || 'x').repeat(Math.ceil((70_000 * k) / Math.max(1, s.length))) };
    return { v: { ...base, notes: s }, body: Buffer.from(JSON.stringify(v)) };
  }),
  fc.integer({ min: 5, max: 200 }).map((d) => {
    let v: any = 'deep-leaf-value';
    for (let i = 0; i < d; i++) v = i % 2 ? [v] : { nested: v };
    return { v: { ...base, device: v }, body: Buffer.from(JSON.stringify({ ...base, device: v })) };
  }),
  // a member written twice, at any depth of a fixture record (the first value fuzzed): duplicate-key
  fc.tuple(fc.constantFrom(...paths.filter((p) => p[0] !== 'notes' && p[0] !== 'extra')), fc.oneof(text, fc.jsonValue({ maxDepth: 2 }))).map(([p, value]) => ({
    v: { ...base, repeated: value }, body: Buffer.from(withRepeatedMember(base, p, value)), expectCode: 'duplicate-key',
  })),
  // an identifier with a lone UTF-16 surrogate (a \u escape in the JSON text): ill-formed-text
  fc.tuple(text, fc.integer({ min: 0xd800, max: 0xdfff })).map(([s, u]) => {
    const v = { ...base, patientId: `P-${s}${String.fromCharCode(u)}` };
    return { v, body: Buffer.from(JSON.stringify(v)), expectCode: 'ill-formed-text' };
  }),
).chain((c) => fc.boolean().map((reportSize): RawCase => ({
  body: c.body, values: c.v === undefined ? printableRuns(c.body) : strings(c.v), reportSize, ...('expectCode' in c ? { expectCode: c.expectCode as string } : {}),
})));

/** Printable ASCII runs of 6+ characters in raw bytes (what a log could echo). */
function printableRuns(b: Buffer): string[] {
  return b.toString('latin1').match(/[\x20-\x7e]{6,}/g) ?? [];
}

let vocabulary = '';

test('baseline: the output vocabulary of the fixture records (what the handler itself writes)', async () => {
  const uploads: Upload[] = [];
  for (const name of recordNames()) uploads.push(await upload(world, record(name)));
  const handler = cleanHandler(aws(), world, { log: powertoolsLog('hearing'), metrics: 'stdout' });
  const records = [...uploads.map((u) => sqsRecord(objectCreated(world.env.RAW_BUCKET, u))), sqsRecord('not an event')];
  const { result, output } = await capture(() => handler.handleSqs(sqsEvent(records)));
  expect(result.batchItemFailures).toEqual([]);
  expect(output).toContain('"message":"source processed"');
  for (const id of FIXTURE_IDS) expect(output).not.toContain(id);
  vocabulary = sanitize(output) + ' RecordsReceived RecordsClean RecordsDuplicate RecordsQuarantine RecordsSkipped RecordsFailed QuarantineReasons CloudWatchMetrics Namespace Dimensions Metrics Count Timestamp sqs backfill mode configVersion reason';
});

test('fuzz: raw records never fail a message (only quarantine), and nothing from them reaches the output', async () => {
  expect(vocabulary).not.toBe('');
  const stats = { runs: 0, records: 0, clean: 0, quarantine: 0, duplicate: 0, ambiguous: 0 };
  const handler = cleanHandler(aws(), world, { log: powertoolsLog('hearing'), metrics: 'stdout' });
  const started = Date.now();
  await fc.assert(fc.asyncProperty(fc.array(rawCase, { minLength: 1, maxLength: 2 }), async (cases) => {
    const uploads: Array<Upload & { reportSize: boolean }> = [];
    for (const c of cases) uploads.push({ ...(await upload(world, c.body)), reportSize: c.reportSize });
    const body = (u: typeof uploads[number]) =>
      objectCreated(world.env.RAW_BUCKET, { key: u.key, versionId: u.versionId, ...(u.reportSize ? { size: u.size } : {}) });
    const event = sqsEvent(uploads.map((u) => sqsRecord(body(u))));
    const { result, output } = await capture(() => handler.handleSqs(event));
    expect(result.batchItemFailures).toEqual([]);
    for (const [i, u] of uploads.entries()) {
      const item = await sourceItemOf(world, u);
      expect(item?.announced).toBe(true);
      stats[item!.outcome as 'clean' | 'quarantine' | 'duplicate']++;
      const expectCode = cases[i].expectCode;
      if (expectCode) {
        expect([item!.outcome, item!.codes]).toEqual(['quarantine', [expectCode]]);
        stats.ambiguous++;
      }
    }
    const logged = sanitize(output);
    for (const id of FIXTURE_IDS) expect(logged).not.toContain(id);
    for (const v of cases.flatMap((c) => c.values)) {
      if (v.length < 4 || !/[A-Za-z]/.test(v) || vocabulary.includes(v)) continue;
      if (logged.includes(v)) throw new Error(`a fuzzed value reached the output: ${JSON.stringify(v)}`);
    }
    stats.runs++;
    stats.records += cases.length;
  }), { numRuns: Number(process.env.CLEAN_FUZZ_RUNS ?? 100) });
  process.stdout.write(`clean-handler fuzz (records): ${JSON.stringify(stats)} in ${Date.now() - started} ms\n`);
  expect(stats.quarantine).toBeGreaterThan(0);
  expect(stats.ambiguous).toBeGreaterThan(0);
}, 300_000);

test('fuzz: SQS message bodies that are not raw-zone events are skipped, never failed, never echoed', async () => {
  const handler = cleanHandler(aws(), world, { log: powertoolsLog('hearing'), metrics: 'stdout' });
  const body = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? ''),
    fc.record({
      'detail-type': fc.oneof(fc.constant('Object Created'), text),
      'detail': fc.record({
        bucket: fc.record({ name: fc.oneof(text, fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }),
        object: fc.record({ 'key': fc.oneof(text, fc.jsonValue({ maxDepth: 1 })), 'size': fc.jsonValue({ maxDepth: 1 }), 'version-id': fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }),
      }, { requiredKeys: [] }),
    }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  );
  let runs = 0;
  await fc.assert(fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 5 }), async (bodies) => {
    for (const b of bodies) {
      const ref = parseObjectCreated(b); // never throws
      if (ref) expect(typeof ref.key).toBe('string');
    }
    const { result, output } = await capture(() => handler.handleSqs(sqsEvent(bodies.map((b) => sqsRecord(b)))));
    expect(result.batchItemFailures).toEqual([]);
    const logged = sanitize(output);
    for (const v of bodies.flatMap((b) => { try { return strings(JSON.parse(b)); } catch { return [b]; } })) {
      if (v.length < 4 || !/[A-Za-z]/.test(v) || vocabulary.includes(v)) continue;
      if (logged.includes(v)) throw new Error(`a fuzzed value reached the output: ${JSON.stringify(v)}`);
    }
    runs++;
  }), { numRuns: 300 });
  process.stdout.write(`clean-handler fuzz (message bodies): ${runs} runs\n`);
});
