import { cleaner, CLEANING, fakeMac, NOW, record, recordJson, recordNames } from './hearing';
import { CleanResult, compileCleaner, QuarantinedRecord } from '../../src/labeling-pipeline/runtime/logic/cleaning';
import { sha256Hex } from '../../src/labeling-pipeline/runtime/logic/json';

const ctx = { now: NOW };
const c = cleaner();
const clean = (name: string) => c.clean(record(name), ctx);
const codes = (r: CleanResult) => (r.kind === 'quarantine' ? r.reasons.map((x) => `${x.code}:${x.ruleId}`) : []);
async function quarantined(name: string): Promise<QuarantinedRecord> {
  const r = await clean(name);
  if (r.kind !== 'quarantine') throw new Error(`expected ${name} to be quarantined`);
  return r;
}

describe('hearing fixture records', () => {
  test('the formats.md example is clean: pseudonymized, subject returned, content-derived id', async () => {
    const r = await clean('valid-formats-example.json');
    expect(r.kind).toBe('clean');
    if (r.kind !== 'clean') return;
    const expected = 'hmac:' + fakeMac('P-0042-AB');
    expect(r.record.patientId).toBe(expected);
    expect(r.subject).toBe(expected);
    expect(r.recordId).toMatch(/^rec-[0-9a-f]{24}$/);
    expect(JSON.stringify(r.record)).not.toContain('P-0042-AB');
    expect(r.record.thresholds).toEqual(recordJson('valid-formats-example.json').thresholds);
  });

  test('a duplicate upload (other key order, whitespace, volatile submittedAt) has the same record id', async () => {
    const a = await clean('valid-formats-example.json');
    const b = await clean('duplicate-of-formats-example.json');
    expect(a.kind === 'clean' && b.kind === 'clean').toBe(true);
    if (a.kind !== 'clean' || b.kind !== 'clean') return;
    expect(b.recordId).toBe(a.recordId);
  });

  test('another patient gives another record id', async () => {
    const a = await c.clean(JSON.stringify({ ...recordJson('valid-formats-example.json') }), ctx);
    const b = await c.clean(JSON.stringify({ ...recordJson('valid-formats-example.json'), patientId: 'P-0043-AB' }), ctx);
    expect(a.kind === 'clean' && b.kind === 'clean' && a.recordId !== b.recordId).toBe(true);
  });

  test('borderline records at the limits are clean; named fields are removed', async () => {
    expect((await clean('borderline-normal-mild.json')).kind).toBe('clean');
    const r = await clean('borderline-limits.json');
    expect(r.kind).toBe('clean');
    if (r.kind === 'clean') expect(r.record).not.toHaveProperty('notes');
  });

  test.each([
    ['invalid-json.json', ['invalid-json:parse']],
    ['invalid-not-object.json', ['not-an-object:parse']],
    ['invalid-utf8.json', ['invalid-utf8:parse']],
    ['invalid-schema-missing-field.json', ['schema:schema:required']],
    ['invalid-schema-extra-field.json', ['schema:schema:additionalProperties']],
    ['invalid-threshold-out-of-range.json', ['range:threshold-range']],
    ['invalid-threshold-off-step.json', ['step:threshold-range']],
    ['invalid-future-timestamp.json', ['future-timestamp:taken-not-future']],
    ['invalid-ambient-noise.json', ['range:ambient-noise']],
    ['invalid-catch-trials.json', ['ratio:catch-trials']],
    ['invalid-too-few-catch-trials.json', ['ratio-denominator:catch-trials']],
  ])('%s is quarantined with %j', async (name, expected) => {
    const q = await quarantined(name);
    expect(codes(q)).toEqual(expected);
    expect(q.inputSha256).toBe(sha256Hex(record(name)));
  });

  test('every invalid fixture is quarantined and every other one is clean', async () => {
    for (const name of recordNames()) {
      const r = await clean(name);
      expect([name, r.kind]).toEqual([name, name.startsWith('invalid-') ? 'quarantine' : 'clean']);
    }
  });

  test('messages give the pointer and the rule, not the value', async () => {
    const q = await quarantined('invalid-threshold-out-of-range.json');
    expect(q.reasons[0].message).toBe('/thresholds/left/4000 is outside -10..120 in steps of 5');
    expect(q.reasons[0].message).not.toContain('125');
    const s = await quarantined('invalid-schema-extra-field.json');
    expect(s.reasons[0].message).toBe("/ fails schema rule 'additionalProperties' at #/additionalProperties");
    expect(s.reasons[0].message).not.toContain('email');
    const m = await quarantined('invalid-schema-missing-field.json');
    expect(m.reasons[0].message).toBe("/ fails schema rule 'required' at #/required (missing 'catchTrials')");
  });

  test('an input-only key in a pointer is written as *', async () => {
    const bad = { ...recordJson('valid-formats-example.json'), thresholds: { left: { 'Jane Doe': 5 }, right: {} } };
    const q = await c.clean(JSON.stringify(bad), ctx);
    expect(q.kind).toBe('quarantine');
    const text = JSON.stringify(q);
    expect(text).not.toContain('Jane');
    expect(text).toContain('/thresholds/left');
  });
});

describe('limits and parsing', () => {
  test('an oversized object is quarantined before parsing', async () => {
    const r = await c.clean(Buffer.alloc(65537, 0x20), ctx);
    expect(codes(r)).toEqual(['too-large:parse']);
  });

  test('nesting deeper than maxDepth is quarantined, not a stack overflow', async () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    const obj = '{"a":' + deep + '}';
    expect(codes(await compileCleaner({ maxBytes: 1e6 }, fakeMac).clean(obj, ctx))).toEqual(['too-deep:parse']);
  });

  test('more reasons than maxReasons are summarized', async () => {
    const cfg = { maxReasons: 2, checks: [{ id: 'r', type: 'range' as const, path: 'xs.*', max: 0 }] };
    const r = await compileCleaner(cfg, fakeMac).clean(JSON.stringify({ xs: [1, 2, 3, 4, 5] }), ctx);
    expect(r.kind === 'quarantine' && r.reasons.map((x) => x.message)).toEqual(['/xs/0 is outside -∞..0', '/xs/1 is outside -∞..0', '3 more reason(s) not listed']);
  });

  test('a mac failure propagates (the caller retries), it is not a quarantine', async () => {
    const failing = compileCleaner(CLEANING, async () => {
      throw new Error('ThrottlingException');
    });
    await expect(failing.clean(record('valid-formats-example.json'), ctx)).rejects.toThrow('ThrottlingException');
  });

  test('a non-string identifier is a reason', async () => {
    const r = await compileCleaner({ pseudonymize: ['id'] }, fakeMac).clean('{"id":{"x":1}}', ctx);
    expect(codes(r)).toEqual(['identifier-type:pseudonymize']);
  });
});

describe('declarative checks', () => {
  const run = (cfg: Parameters<typeof compileCleaner>[0], doc: unknown, now = NOW) =>
    compileCleaner(cfg, fakeMac).clean(JSON.stringify(doc), { now });

  test('required: missing, null, and wildcard without match', async () => {
    const cfg = { checks: [{ id: 'req', type: 'required' as const, paths: ['a', 'b.*', 'c'] }] };
    expect(codes(await run(cfg, { a: 1, b: { x: 1 }, c: 0 }))).toEqual([]);
    expect(codes(await run(cfg, { a: null, b: {} }))).toEqual(['missing:req', 'missing:req', 'missing:req']);
  });

  test('range with step: the grid starts at min', async () => {
    const cfg = { checks: [{ id: 'g', type: 'range' as const, path: 'v', min: -10, max: 120, step: 5 }] };
    for (const v of [-10, -5, 0, 115, 120]) expect(codes(await run(cfg, { v }))).toEqual([]);
    expect(codes(await run(cfg, { v: -15 }))).toEqual(['range:g']);
    expect(codes(await run(cfg, { v: 125 }))).toEqual(['range:g']);
    expect(codes(await run(cfg, { v: 2.5 }))).toEqual(['step:g']);
    expect(codes(await run(cfg, { v: '10' }))).toEqual(['type:g']);
  });

  test('allowed values', async () => {
    const cfg = { checks: [{ id: 'al', type: 'allowed' as const, path: 'k', values: ['a', 1, null] }] };
    expect(codes(await run(cfg, { k: null }))).toEqual([]);
    expect(codes(await run(cfg, { k: '1' }))).toEqual(['not-allowed:al']);
  });

  test('notInFuture uses the injected clock and the tolerance', async () => {
    const cfg = { checks: [{ id: 't', type: 'notInFuture' as const, path: 'at', toleranceSeconds: 60 }] };
    const now = Date.parse('2026-03-01T10:00:00Z');
    expect(codes(await run(cfg, { at: '2026-03-01T10:01:00Z' }, now))).toEqual([]);
    expect(codes(await run(cfg, { at: '2026-03-01T10:01:01Z' }, now))).toEqual(['future-timestamp:t']);
    expect(codes(await run(cfg, { at: '2026-03-01T11:00:00+02:00' }, now))).toEqual([]);
    expect(codes(await run(cfg, { at: 'yesterday' }, now))).toEqual(['timestamp-invalid:t']);
    expect(codes(await run(cfg, { at: 1700000000 }, now))).toEqual(['timestamp-invalid:t']);
  });

  test('ratio with and without a minimum denominator', async () => {
    const cfg = { checks: [{ id: 'ct', type: 'ratio' as const, numerator: 'n', denominator: 'd', max: 0.5 }] };
    expect(codes(await run(cfg, { n: 3, d: 6 }))).toEqual([]);
    expect(codes(await run(cfg, { n: 4, d: 6 }))).toEqual(['ratio:ct']);
    expect(codes(await run(cfg, { n: 1, d: 0 }))).toEqual([]);
    const min = { checks: [{ ...cfg.checks[0], minDenominator: 4 }] };
    expect(codes(await run(min, { n: 0, d: 3 }))).toEqual(['ratio-denominator:ct']);
  });

  test('unit normalization converts values and the unit field; an unknown unit is a reason', async () => {
    const cfg = {
      normalize: [{ id: 'freq', path: 'f.*', unitPath: 'unit', target: 'Hz', conversions: { kHz: { scale: 1000 } } }],
      checks: [{ id: 'fr', type: 'range' as const, path: 'f.*', min: 125, max: 8000 }],
    };
    const r = await run(cfg, { unit: 'kHz', f: [0.5, 4] });
    expect(r.kind === 'clean' && r.record).toEqual({ unit: 'Hz', f: [500, 4000] });
    expect(codes(await run(cfg, { unit: 'mHz', f: [1] }))).toEqual(['unit-unknown:freq']);
    expect(codes(await run(cfg, { unit: 'toString', f: [1] }))).toEqual(['unit-unknown:freq']);
    expect((await run(cfg, { f: [500] })).kind).toBe('clean');
  });
});

describe('configuration errors are clear at compile time', () => {
  test.each([
    [{ schema: { type: 'object', propertiez: {} } }, /does not compile in Ajv strict mode/],
    [{ checks: [{ id: 'x', type: 'range', path: 'a..b' }] }, /empty segment/],
    [{ checks: [{ id: 'x', type: 'range', path: 'a', min: 2, max: 1 }] }, /min 2 is above max 1/],
    [{ checks: [{ id: 'x', type: 'nope', path: 'a' }] }, /unknown check type "nope"/],
    [{ checks: [{ id: 'x', type: 'allowed', path: 'a', values: [] }, { id: 'x', type: 'allowed', path: 'b', values: [] }] }, /duplicate rule id 'x'/],
    [{ maxBytes: 0 }, /maxBytes must be a positive integer/],
    [{ recordId: { hexChars: 8 } }, /hexChars must be an integer from 16 to 64/],
  ])('fails if the config is invalid (%#)', (cfg, message) => {
    expect(() => compileCleaner(cfg as never, fakeMac)).toThrow(message);
  });

  test('the schema hash is stable and the config version is kept', () => {
    expect(cleaner().schemaSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(cleaner().schemaSha256).toBe(c.schemaSha256);
    expect(c.configVersion).toBe('hearing-clean@1');
  });
});
