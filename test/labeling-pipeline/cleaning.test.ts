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

describe('ambiguous input never changes meaning (issue 11, item 8)', () => {
  const validText = record('valid-formats-example.json').toString('utf8');
  /** The valid record's text with `member` written in front of the top-level members (it comes first, the original last). */
  const withLeadingMember = (member: string) => validText.replace(/^\s*\{/, `{${member},`);

  test('a duplicate member name is its own reason: JSON.parse would keep the last value ({"age": -1, "age": 67} went clean)', async () => {
    const r = await c.clean(withLeadingMember('"age": -1'), ctx);
    expect(codes(r)).toEqual(['duplicate-key:parse']);
    expect(r.kind === 'quarantine' && r.reasons[0].message).toBe('an object has two members with the same name');
  });

  test('a duplicated thresholds object (which changed the label) and a duplicated patientId are quarantined', async () => {
    const mild = JSON.stringify(recordJson('borderline-normal-mild.json').thresholds);
    expect(codes(await c.clean(withLeadingMember(`"thresholds": ${mild}`), ctx))).toEqual(['duplicate-key:parse']);
    expect(codes(await c.clean(withLeadingMember('"patientId": "P-9999-ZZ"'), ctx))).toEqual(['duplicate-key:parse']);
  });

  test('at any depth, and in any spelling of the name', async () => {
    const nested = validText.replace(/"left"\s*:\s*\{/, '"left": { "500": 120,');
    expect(nested).not.toBe(validText);
    expect(codes(await c.clean(nested, ctx))).toEqual(['duplicate-key:parse']);
    // "\u0061ge" is "age": the slow path (text with escapes)
    expect(codes(await c.clean(withLeadingMember('"\\u0061ge": -1'), ctx))).toEqual(['duplicate-key:parse']);
    expect(codes(await compileCleaner({}, fakeMac).clean('{"a":{"b":[{"c":1,"c":1}]}}', ctx))).toEqual(['duplicate-key:parse']);
  });

  test('a record that also breaks other rules gets the duplicate reason only (the others were found on the collapsed object)', async () => {
    const r = await c.clean(withLeadingMember('"age": 999').replace(/"ambientNoiseDbA"\s*:\s*[0-9.]+/, '"ambientNoiseDbA": 99'), ctx);
    expect(codes(r)).toEqual(['duplicate-key:parse']);
    const broken = await compileCleaner({ pseudonymize: ['id'] }, fakeMac).clean('{"id":{"x":1},"n":1,"n":2}', ctx);
    expect(codes(broken)).toEqual(['duplicate-key:parse']);
  });

  test('colons in names and values, escaped colons, removed and volatile fields: no false duplicate', async () => {
    const cfg = {
      pseudonymize: ['id', 'ids.*'],
      remove: ['drop', 'nested.gone'],
      recordId: { volatileFields: ['at'] },
      normalize: [{ id: 'u', path: 'v', unitPath: 'unit', target: 'm:s', conversions: { 'k:m:h': { scale: 1 } } }],
    };
    const text = JSON.stringify({
      'id': 'a:b',
      'ids': ['c:d', 7],
      'drop': { 'x:y': 'z:w' },
      'at': '2026-03-01T10:20:00Z',
      'k:e:y': 'v:a:l',
      'v': 3,
      'unit': 'k:m:h',
      'nested': { gone: ['p:q', { 'r:s': 't' }], kept: 'u:v' },
    });
    for (const t of [text, text.replace('"v:a:l"', '"v\\u003aa\\u003al"'), JSON.stringify(JSON.parse(text), null, 2)]) {
      const r = await compileCleaner(cfg, fakeMac).clean(t, ctx);
      expect([t, r.kind]).toEqual([t, 'clean']);
    }
    // and every fixture keeps its outcome
    for (const name of recordNames()) expect(codes(await clean(name))).not.toContain('duplicate-key:parse');
  });

  test('identifiers with lone surrogates are refused: they had one pseudonym (both became U+FFFD before the MAC)', async () => {
    const macs: string[] = [];
    const recording = compileCleaner(CLEANING, (v) => {
      macs.push(v);
      return fakeMac(v);
    });
    for (const id of ['P-0042-\\ud800', 'P-0042-\\udbff', 'P-0042-\\udc00x']) {
      const r = await recording.clean(validText.replace('"P-0042-AB"', `"${id}"`), ctx);
      expect(codes(r)).toEqual(['ill-formed-text:parse']);
    }
    // a lone surrogate anywhere (not only in an identifier), also in a key, is refused
    expect(codes(await compileCleaner({}, fakeMac).clean('{"note":"\\udfff"}', ctx))).toEqual(['ill-formed-text:parse']);
    expect(codes(await compileCleaner({}, fakeMac).clean('{"\\ud800":1}', ctx))).toEqual(['ill-formed-text:parse']);
    expect(macs).toEqual([]);
    // a surrogate pair is well-formed text: clean, with its own pseudonym
    const pair = await recording.clean(validText.replace('"P-0042-AB"', '"P-0042-\\ud83d\\ude00"'), ctx);
    expect(pair.kind).toBe('clean');
    expect(macs).toEqual(['P-0042-\u{1F600}']);
  });
});
