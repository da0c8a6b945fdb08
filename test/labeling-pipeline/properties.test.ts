/**
 * Property-based tests (fast-check) of everything that takes outside input: raw records, labeler
 * inputs and outputs, manifest lines. Run counts are in each `numRuns`.
 */
import * as fc from 'fast-check';
import { cleaner, fakeMac, LABELING, NOW, recordJson, task, whoGrade } from './hearing';
import { CleanResult, compileCleaner } from '../../src/labeling-pipeline/runtime/logic/cleaning';
import {
  buildDatasetVersion, compileSplitter, ManifestEntry, readManifest, readManifestLine, writeManifestLine,
} from '../../src/labeling-pipeline/runtime/logic/dataset';
import { JsonObject, JsonValue } from '../../src/labeling-pipeline/runtime/logic/json';
import { Labeler } from '../../src/labeling-pipeline/runtime/logic/labeling';

const c = cleaner();
const ctx = { now: NOW };
const who = whoGrade();

function wellFormed(r: CleanResult): boolean {
  if (r.kind === 'clean') return /^rec-[0-9a-f]{24}$/.test(r.recordId) && typeof r.record === 'object';
  return r.kind === 'quarantine' && r.reasons.length > 0 && /^[0-9a-f]{64}$/.test(r.inputSha256)
    && r.reasons.every((x) => typeof x.code === 'string' && typeof x.ruleId === 'string' && typeof x.message === 'string');
}

describe('cleaning never throws on outside input', () => {
  test('arbitrary bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
      expect(wellFormed(await c.clean(bytes, ctx))).toBe(true);
    }), { numRuns: 2000 });
  });

  test('arbitrary strings and arbitrary JSON', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 500 }), fc.json({ maxDepth: 6 })), async (text) => {
      expect(wellFormed(await c.clean(text, ctx))).toBe(true);
    }), { numRuns: 2000 });
  });

  test('arbitrary values in every field of a hearing record', async () => {
    const base = recordJson('valid-formats-example.json');
    const paths = [['patientId'], ['age'], ['takenAt'], ['ambientNoiseDbA'], ['thresholds', 'left', '500'], ['thresholds', 'right'], ['catchTrials', 'presented'],
      ['catchTrials', 'falsePositives'], ['device'], ['thresholds'], ['schemaVersion'], ['sessionId']];
    const editsArb = fc.array(fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 })), { maxLength: 4 });
    await fc.assert(fc.asyncProperty(editsArb, async (edits) => {
      const r = structuredClone(base) as JsonObject;
      for (const [p, v] of edits) setAt(r, p, v as JsonValue);
      expect(wellFormed(await c.clean(JSON.stringify(r), ctx))).toBe(true);
    }), { numRuns: 2000 });
  });
});

/** Distinct marker values: strings, and numbers that appear nowhere in the configuration. */
const markerString = fc.string({ unit: 'grapheme-ascii', maxLength: 8 }).map((s) => `ZQXMARK${s}`);
const markerNumber = fc.constantFrom(31337.5, -4242.25, 99991, 123456789, 0.000777);
const markerKey = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 6 }).map((s) => `ZQXKEY${s.replace(/[~/]/g, '')}`);

describe('messages never contain input values', () => {
  test('marker values and marker keys anywhere in a hearing record stay out of every reason', async () => {
    const base = recordJson('valid-formats-example.json');
    const paths = [['patientId'], ['age'], ['takenAt'], ['ambientNoiseDbA'], ['thresholds', 'left', '500'], ['thresholds', 'right', '4000'],
      ['catchTrials', 'presented'], ['catchTrials', 'falsePositives'], ['device', 'model'], ['schemaVersion'], ['sessionId'], ['notes']];
    const edit = fc.oneof(
      fc.tuple(fc.constant('value' as const), fc.constantFrom(...paths), fc.oneof(markerString, markerNumber)),
      fc.tuple(fc.constant('key' as const), fc.constantFrom([], ['thresholds'], ['thresholds', 'left'], ['device'], ['catchTrials']), markerKey),
    );
    await fc.assert(fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), async (edits) => {
      const r = structuredClone(base) as JsonObject;
      const markers: string[] = [];
      for (const [kind, p, m] of edits) {
        if (kind === 'value') {
          setAt(r, p, m);
          markers.push(String(m));
        } else {
          const parent = p.reduce<JsonValue>((o, k) => (o as JsonObject)[k], r) as JsonObject;
          parent[m as string] = 40;
          markers.push(m as string);
        }
      }
      const out = await c.clean(JSON.stringify(r), ctx);
      const text = out.kind === 'quarantine' ? JSON.stringify(out.reasons) : JSON.stringify(out.record.patientId ?? '');
      for (const m of markers) expect(text).not.toContain(m);
    }), { numRuns: 2000 });
  });

  test('marker keys in open maps (schema additionalProperties, wildcard checks) are written as * in pointers', async () => {
    const open = compileCleaner({
      schema: { type: 'object', properties: { xs: { type: 'object', additionalProperties: { type: 'number', maximum: 100 } } } },
      checks: [{ id: 'xs-grid', type: 'range', path: 'xs.*', min: 0, max: 50, step: 5 }, { id: 'xs-allowed', type: 'allowed', path: 'xs.*', values: [0, 5] }],
    }, fakeMac);
    const maps = fc.dictionary(markerKey, fc.oneof(markerNumber, markerString, fc.integer({ min: -5, max: 200 })), { minKeys: 1, maxKeys: 5 });
    await fc.assert(fc.asyncProperty(maps, async (xs) => {
      const out = await open.clean(JSON.stringify({ xs }), ctx);
      const text = JSON.stringify(out.kind === 'quarantine' ? out.reasons : []);
      for (const [k, v] of Object.entries(xs)) {
        expect(text).not.toContain(k);
        if (typeof v === 'string' || Math.abs(v) > 1000) expect(text).not.toContain(String(v));
      }
    }), { numRuns: 1000 });
  });
});

describe('ambiguous input never changes meaning', () => {
  /** Keys and strings with the characters that matter to the duplicate check (colons, quotes, escapes) and non-ASCII ones. */
  const text = fc.string({ unit: fc.constantFrom(':', '"', '\\', 'a', 'b', 'é', '\u{1F600}', ' ', '/', '\n'), maxLength: 6 });
  const value: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
    v: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      text, fc.integer(), fc.boolean(), fc.constant(null),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(text, tie('v'), { maxKeys: 4 })),
  })).v;
  /** Objects with the keys the cleaner below pseudonymizes, removes or leaves out of the record id. */
  const record = fc.tuple(fc.dictionary(text, value, { maxKeys: 5 }), fc.record({
    id: fc.oneof(text.filter((t) => t.length > 0), fc.integer()),
    drop: value,
    at: value,
    a: fc.dictionary(fc.constantFrom('gone', 'x:y', 'z'), fc.oneof(text.filter((t) => t.length > 0), fc.integer()), { maxKeys: 3 }),
  }, { requiredKeys: [] })).map(([rest, special]) => ({ ...rest, ...special }) as JsonObject);
  const cleanerOf = () => compileCleaner({ pseudonymize: ['id', 'a.*'], remove: ['drop', 'a.gone'], recordId: { volatileFields: ['at'] } }, fakeMac);

  /**
   * JSON text of `v` in which the `dup`-th object (pre-order) that has members repeats one of them
   * (its name, with another value) in front; names may be written with `\u` escapes and members
   * spaced out. Returns the text and whether a member was repeated.
   */
  interface Plan { dup?: number; member: number; extra: JsonValue; escape: boolean; space: string }
  function serialize(v: JsonValue, plan: Plan): { text: string; repeated: boolean } {
    let objects = 0;
    let repeated = false;
    const name = (k: string) => (plan.escape ? `"${[...k].map((ch) => (ch === 'a' ? '\\u0061' : JSON.stringify(ch).slice(1, -1))).join('')}"` : JSON.stringify(k));
    const write = (x: JsonValue): string => {
      if (Array.isArray(x)) return `[${x.map(write).join(',')}]`;
      if (typeof x !== 'object' || x === null) return JSON.stringify(x);
      const keys = Object.keys(x);
      const members = keys.map((k) => `${name(k)}${plan.space}:${plan.space}${write(x[k])}`);
      if (keys.length > 0 && objects++ === plan.dup) {
        repeated = true;
        members.unshift(`${name(keys[plan.member % keys.length])}:${write(plan.extra)}`);
      }
      return `{${plan.space}${members.join(`,${plan.space}`)}}`;
    };
    const out = write(v);
    return { text: out, repeated };
  }
  const plan = fc.record({
    dup: fc.option(fc.nat({ max: 6 }), { nil: undefined }),
    member: fc.nat(),
    extra: value,
    escape: fc.boolean(),
    space: fc.constantFrom('', ' ', '\n  '),
  });

  test('a repeated member name at any depth is always quarantined as duplicate-key, and never reported without one', async () => {
    const c2 = cleanerOf();
    const stats = { repeated: 0, clean: 0, otherwise: 0 };
    await fc.assert(fc.asyncProperty(record, plan, async (r, p) => {
      const { text: t, repeated } = serialize(r, p);
      const out = await c2.clean(t, ctx);
      const codes = out.kind === 'quarantine' ? out.reasons.map((x) => x.code) : [];
      if (repeated) {
        stats.repeated++;
        expect(codes).toEqual(['duplicate-key']);
      } else {
        expect(codes).not.toContain('duplicate-key');
        if (out.kind === 'clean') stats.clean++;
        else stats.otherwise++;
      }
    }), { numRuns: 3000 });
    expect(stats.repeated).toBeGreaterThan(100);
    expect(stats.clean).toBeGreaterThan(100);
  });

  test('a repeated member anywhere in a hearing record is quarantined as duplicate-key', async () => {
    const base = recordJson('valid-formats-example.json');
    await fc.assert(fc.asyncProperty(plan.filter((p) => p.dup !== undefined), async (p) => {
      const { text: t, repeated } = serialize(base, p);
      const out = await c.clean(t, ctx);
      expect(out.kind === 'quarantine' ? out.reasons.map((x) => x.code) : ['clean']).toEqual(repeated ? ['duplicate-key'] : ['clean']);
    }), { numRuns: 1000 });
  });

  test('a lone surrogate anywhere is refused as ill-formed-text (pseudonyms stay injective); well-formed text never is', async () => {
    const macs: string[] = [];
    const c2 = compileCleaner({ pseudonymize: ['id', 'a.*'] }, (v) => {
      macs.push(v);
      return fakeMac(v);
    });
    const lone = fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u));
    // where it goes: a top-level value, a top-level key, an identifier, a nested value
    const where = fc.constantFrom('value', 'key', 'id', 'nested');
    await fc.assert(fc.asyncProperty(record, fc.option(fc.tuple(lone, where), { nil: undefined }), async (r, surrogate) => {
      macs.length = 0;
      if (surrogate) {
        const [u, at] = surrogate;
        if (at === 'value') r.s = `P-${u}`;
        else if (at === 'key') r[`k${u}`] = 1;
        else if (at === 'id') r.id = `P-0042-${u}`;
        else r.a = { ...(typeof r.a === 'object' && r.a !== null && !Array.isArray(r.a) ? r.a : {}), z: [`${u}x`] };
      }
      // JSON.stringify writes a lone surrogate as a \u escape (the only way one reaches the cleaner from UTF-8 bytes)
      const t = JSON.stringify(r);
      const out = await c2.clean(t, ctx);
      const codes = out.kind === 'quarantine' ? out.reasons.map((x) => x.code) : [];
      if (surrogate) {
        expect(codes).toEqual(['ill-formed-text']);
        expect(macs).toEqual([]);
      } else {
        expect(codes).not.toContain('ill-formed-text');
      }
      for (const m of macs) expect(m).not.toMatch(/\p{Surrogate}/u);
    }), { numRuns: 2000 });
  });
});

describe('labeling never throws on outside input', () => {
  test('the rules labeler on arbitrary records returns a valid label or abstains', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 4 })), (rec) => {
      const out = who.label({ recordId: 'rec-x', record: rec as JsonObject });
      if (out.kind === 'label') expect(LABELING.rules.classes).toContain(out.className);
      else expect(out.reason).toMatch(/^(missing-input|condition:.+)$/);
    }), { numRuns: 2000 });
  });

  test('combination of arbitrary labeler outputs (a user function may return anything)', () => {
    const combine = task();
    const l = (id: string): Labeler => ({ id, version: '1', label: () => ({ kind: 'abstain', reason: '' }) });
    fc.assert(fc.property(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }), fc.string(), (outputs, id) => {
      const d = combine(id, outputs.map((o, i) => ({ labeler: l(`fn:${i}`), output: o as never })), NOW);
      expect(['auto', 'review']).toContain(d.route);
      if (d.label) expect(d.label.confidence).toBeGreaterThanOrEqual(0);
    }), { numRuns: 2000 });
  });
});

describe('dataset properties', () => {
  test('the split is a function of the pseudonym only; a subject never sits in two splits', () => {
    const split = compileSplitter(LABELING.split);
    const combine = task();
    const rowsArb = fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 60 });
    fc.assert(fc.property(rowsArb, (rows) => {
      const records = rows.map(([s, k], i) => ({
        recordId: `rec-${i}`,
        subject: `hmac:${s}`,
        sourceRef: `s3://b/${i}`,
        label: combine(`rec-${i}`, [{ labeler: who, output: { kind: 'label', className: LABELING.task.classes[k], confidence: 0.9 } }], NOW).label,
      }));
      const v = buildDatasetVersion({
        datasetVersion: 'v',
        jobName: 'j',
        now: NOW,
        attribute: 'who-grade',
        classes: LABELING.task.classes,
        records,
        quarantined: [],
        split: LABELING.split,
        schemaSha256: '',
        versions: {},
      });
      for (const s of ['train', 'validation', 'test'] as const) {
        for (const e of readManifest(v.manifests[s]).entries) expect(split(e.subjectPseudonym!)).toBe(s);
      }
      expect(v.card.counts.total).toBe(rows.length);
    }), { numRuns: 300 });
  });

  const name = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 10 }).filter((s) => !s.startsWith('$'));
  const json = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as JsonValue);
  const TOP = ['source-ref', 'source', 'record-id', 'subject-pseudonym'];
  const META = ['class-name', 'confidence', 'type', 'job-name', 'human-annotated', 'creation-date', 'labeler', 'dataset-version', 'job_name',
    'creation_date', 'class_name', 'human_annotated', 'dataset_version'];
  const entry: fc.Arbitrary<ManifestEntry> = fc.record({
    attribute: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((a) => !a.endsWith('-metadata') && !TOP.includes(a)),
    ref: fc.oneof(fc.record({ sourceRef: fc.string() }), fc.record({ source: fc.string() })),
    recordId: fc.option(fc.string(), { nil: undefined }),
    subjectPseudonym: fc.option(fc.string(), { nil: undefined }),
    label: json,
    className: fc.string(),
    confidence: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0),
    type: fc.string(),
    jobName: fc.string(),
    humanAnnotated: fc.boolean(),
    creationDate: fc.string(),
    labeler: fc.option(fc.string(), { nil: undefined }),
    datasetVersion: fc.option(fc.string(), { nil: undefined }),
    metaExtra: fc.option(fc.dictionary(name.filter((k) => !META.includes(k)), json, { minKeys: 1, maxKeys: 3 }), { nil: undefined }),
    extra: fc.option(fc.dictionary(name.filter((k) => !TOP.includes(k) && !k.endsWith('-metadata')), json, { minKeys: 1, maxKeys: 3 }), { nil: undefined }),
  }).filter((e) => !e.extra || !Object.prototype.hasOwnProperty.call(e.extra, e.attribute)).map((e) => JSON.parse(JSON.stringify({
    ...e.ref,
    recordId: e.recordId,
    subjectPseudonym: e.subjectPseudonym,
    attribute: e.attribute,
    label: e.label,
    metadata: {
      className: e.className,
      confidence: e.confidence,
      type: e.type,
      jobName: e.jobName,
      humanAnnotated: e.humanAnnotated,
      creationDate: e.creationDate,
      labeler: e.labeler,
      datasetVersion: e.datasetVersion,
      extra: e.metaExtra,
    },
    extra: e.extra,
  })) as ManifestEntry);

  test('manifest lines round-trip through the lenient reader', () => {
    fc.assert(fc.property(entry, (e) => {
      const line = writeManifestLine(e);
      expect(line).not.toContain('\n');
      const r = readManifestLine(line);
      expect(r).toEqual({ ok: true, entry: e });
      expect(readManifestLine(line, e.attribute)).toEqual({ ok: true, entry: e });
    }), { numRuns: 1000 });
  });

  test('the manifest reader never throws on arbitrary lines', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json({ maxDepth: 4 })), fc.option(fc.string(), { nil: undefined }), (line, attr) => {
      const r = readManifestLine(line, attr);
      expect(typeof r.ok).toBe('boolean');
    }), { numRuns: 2000 });
  });
});

test('the fake mac is deterministic (sanity)', () => {
  expect(fakeMac('x')).toBe(fakeMac('x'));
});

function setAt(root: JsonObject, path: readonly string[], value: JsonValue): void {
  let o: JsonValue = root;
  for (const k of path.slice(0, -1)) {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return;
    o = (o as JsonObject)[k];
  }
  if (typeof o === 'object' && o !== null && !Array.isArray(o)) (o as JsonObject)[path[path.length - 1]] = value;
}
