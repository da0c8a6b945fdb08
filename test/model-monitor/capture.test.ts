import * as fc from 'fast-check';
import { captureLine, drawFeatures, ENDPOINT, SHA_A, uuidV7 } from './monitor-world';
import {
  captureWindow, floorToHour, parseCaptureLine, parseGroundTruthLine, Reservoir, SeededRandom, uuidV7Time,
} from '../../src/model-monitor/runtime/logic';

const END = new Date('2026-03-02T00:00:00Z');
const EXPECT = { endpoint: ENDPOINT, fromMs: END.getTime() - 86_400_000, toMs: END.getTime() };

describe('capture lines', () => {
  test('a valid line: rows, predicted classes, model', () => {
    const random = new SeededRandom(1);
    const { line, capture } = captureLine(new Date(END.getTime() - 60_000), SHA_A, [drawFeatures(random), drawFeatures(random)], random);
    const p = parseCaptureLine(line, EXPECT);
    expect(p).toEqual({
      ok: true,
      record: expect.objectContaining({ inferenceId: capture.inferenceId, modelSha256: SHA_A, predictedClasses: capture.predictedClasses }),
    });
    if (p.ok) expect(p.record.rows).toHaveLength(2);
  });

  test.each<[string, string, (c: Record<string, unknown>) => unknown]>([
    ['another capture version', 'capture-version', (c) => ({ ...c, captureVersion: '2' })],
    ['a time with an offset', 'captured-at', (c) => ({ ...c, capturedAt: '2026-03-01T12:00:00+01:00' })],
    ['the window\'s end itself', 'outside-window', (c) => ({ ...c, capturedAt: END.toISOString() })],
    ['two inputs and no inputName', 'feature-matrix', (c) => ({ ...c, inputs: { a: [[1]], b: [[2]] } })],
    ['ragged rows', 'feature-matrix', (c) => ({ ...c, inputs: { t: [[1, 2], [3]] }, predictedClasses: ['a', 'b'] })],
    ['an object as a value', 'feature-matrix', (c) => ({ ...c, inputs: { t: [[{}]] } })],
    ['fewer predicted classes than examples', 'predicted-classes', (c) => ({ ...c, predictedClasses: [] })],
    ['an upper-case model hash', 'model-sha256', (c) => ({ ...c, modelSha256: SHA_A.toUpperCase() })],
  ])('%s is counted as %s', (_name, reason, mutate) => {
    const random = new SeededRandom(2);
    const { capture } = captureLine(new Date(END.getTime() - 60_000), SHA_A, [drawFeatures(random)], random);
    expect(parseCaptureLine(JSON.stringify(mutate(capture as unknown as Record<string, unknown>)), EXPECT)).toEqual({ ok: false, reason });
  });

  test('property: any text gives a result or a reason, never an exception', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ captureVersion: '1', endpoint: ENDPOINT, inputs: v }))), (text) => {
      const p = parseCaptureLine(text, EXPECT);
      expect(typeof p.ok).toBe('boolean');
      const g = parseGroundTruthLine(text);
      expect(typeof g.ok).toBe('boolean');
    }), { numRuns: 500 });
  });
});

describe('ground-truth lines', () => {
  test('example defaults to 0; classes are strings or numbers', () => {
    expect(parseGroundTruthLine('{"inferenceId":"x","trueClass":3}')).toEqual({ ok: true, record: { inferenceId: 'x', example: 0, trueClass: 3 } });
    expect(parseGroundTruthLine('{"inferenceId":"x","example":-1,"trueClass":3}')).toEqual({ ok: false, reason: 'example' });
    expect(parseGroundTruthLine('{"inferenceId":"x","trueClass":null}')).toEqual({ ok: false, reason: 'true-class' });
  });
});

describe('time', () => {
  test('a UUID v7 carries its millisecond time; other ids carry none', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer(), (ms, seed) => {
      expect(uuidV7Time(uuidV7(ms, new SeededRandom(seed)))).toBe(ms);
    }));
    expect(uuidV7Time('0190a0b0-c0d0-4e0f-8a0b-0c0d0e0f1011')).toBeUndefined(); // version 4
    expect(uuidV7Time('not-a-uuid')).toBeUndefined();
  });

  test('the window: whole hours ending at the end floored to the hour', () => {
    const w = captureWindow(new Date('2026-03-02T10:59:59.999Z'), 3);
    expect([w.start.toISOString(), w.end.toISOString()]).toEqual(['2026-03-02T07:00:00.000Z', '2026-03-02T10:00:00.000Z']);
    expect(w.hours.map((h) => h.toISOString().slice(11, 13))).toEqual(['07', '08', '09']);
    expect(() => captureWindow(END, 0)).toThrow(/hours must be an integer >= 1/);
    expect(() => floorToHour(new Date(NaN))).toThrow(/not a valid time/);
  });
});

describe('Reservoir', () => {
  test('keeps at most its capacity and counts the rest; every item is equally likely to be kept', () => {
    const kept = new Array(100).fill(0);
    for (let run = 0; run < 2000; run++) {
      const r = new Reservoir<number>(10, new SeededRandom(run));
      for (let i = 0; i < 100; i++) r.add(i);
      expect([r.items.length, r.seen, r.leftOut]).toEqual([10, 100, 90]);
      for (const i of r.items) kept[i]++;
    }
    // Each item kept with probability 0.1: 200 of 2000 runs, σ ≈ 13.4; every count within 5σ.
    expect(Math.min(...kept)).toBeGreaterThan(200 - 67);
    expect(Math.max(...kept)).toBeLessThan(200 + 67);
  });
});
