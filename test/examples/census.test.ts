import * as fc from 'fast-check';
import { censusLine, countIdentifiers, Identifier } from '../../examples/reference-app/local/census';

/** The identifier census of the local end-to-end run (examples/reference-app/local/census.ts). */
describe('identifier census', () => {
  const sub = '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1';
  const ids = [
    { kind: 'cognito-sub' as const, value: sub },
    { kind: 'patient-id' as const, value: 'P-0042-AB' },
    { kind: 'session-id' as const, value: 'f3a0c2d1-0000-4000-8000-000000000001' },
  ];

  test('counts every occurrence, by kind and by place, and prints no value', () => {
    const r = countIdentifiers([
      { place: 's3-key', text: `uploads/${sub}/2026/03/01/a.json` },
      { place: 'event', text: JSON.stringify({ detail: { source: `s3://raw/uploads/${sub}/a.json`, patient: 'P-0042-AB' } }) },
      { place: 'log', text: 'P-0042-AB P-0042-AB' },
      { place: 'ledger', text: '{"pk":{"S":"src#00"}}' },
    ], ids);
    expect(r).toEqual({
      total: 5,
      byKind: { 'cognito-sub': 2, 'patient-id': 3, 'session-id': 0 },
      byPlace: { 's3-key': 1, 'event': 2, 'log': 2 },
      scanned: { 's3-key': 1, 'event': 1, 'log': 1, 'ledger': 1 },
    });
    const line = censusLine(r);
    expect(line).toBe('identifier census: 5 raw identifiers in clear (cognito-sub 2, patient-id 3, session-id 0) in s3-key 1, event 2, log 2; searched 1 s3-key, 1 event, 1 log, 1 ledger');
    for (const id of ids) expect(line).not.toContain(id.value);
  });

  test('a clean run counts 0; an identifier used twice is counted once per occurrence', () => {
    const r = countIdentifiers([{ place: 's3-key', text: 'uploads/0123456789abcdef0123456789abcdef/a.json' }], [...ids, ids[0]]);
    expect(censusLine(r)).toBe('identifier census: 0 raw identifiers in clear (cognito-sub 0, patient-id 0, session-id 0); searched 1 s3-key');
  });

  test('fails if an identifier is so short that it would match by chance', () => {
    expect(() => countIdentifiers([], [{ kind: 'cognito-sub', value: 'u-1' }])).toThrow('census: a cognito-sub of 3 characters would match by chance; use longer identifiers');
  });
});

test('property: the one-pass count equals a search per identifier (non-overlapping occurrences)', () => {
  const naive = (text: string, needle: string) => {
    let n = 0;
    for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
    return n;
  };
  // A small alphabet so that identifiers overlap, repeat and share prefixes.
  const word = fc.stringMatching(/^[ab-]{6,10}$/);
  fc.assert(fc.property(fc.uniqueArray(word, { minLength: 1, maxLength: 6 }), fc.array(fc.stringMatching(/^[ab-]{0,60}$/), { maxLength: 5 }), (values, texts) => {
    const ids: Identifier[] = values.map((value, i) => ({ kind: i % 2 ? 'patient-id' : 'session-id', value }));
    const r = countIdentifiers(texts.map((text) => ({ place: 'log', text })), ids);
    const expected = texts.reduce((acc, t) => acc + values.reduce((a, v) => a + naive(t, v), 0), 0);
    expect(r.total).toBe(expected);
  }));
});
