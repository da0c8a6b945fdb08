import * as fc from 'fast-check';
import { CAPTURE_NAME_PATTERN, MONITORING_KEYS } from '../../src/contract/monitoring';
import { captureLine, CaptureSubject, createCapture } from '../../src/serverless-model-endpoint/runtime/capture';
import { UUID_V7_PATTERN, uuidv7, uuidv7Time } from '../../src/serverless-model-endpoint/runtime/inference-id';
import { parseCaptureLine } from '../../src/serverless-model-endpoint/runtime/logic/capture-lines';

/** The capture step and the inference id, without Lambda or onnxruntime. */
const SHA = 'a'.repeat(64);
const ID = uuidv7(Date.UTC(2026, 2, 1, 13, 45));
const subject = (overrides: Partial<CaptureSubject> = {}): CaptureSubject => ({
  inferenceId: ID,
  time: Date.UTC(2026, 2, 1, 13, 45),
  modelSha256: SHA,
  inputs: { features: [[1, 2, 3]] },
  body: { modelVersion: 'm@1', outputs: { logits: [[0.1, 0.9]] }, classNames: ['a', 'b'], predictions: [{ label: 'b', index: 1, probabilities: [0.3, 0.7] }] },
  ...overrides,
});

describe('uuidv7', () => {
  test('version 7, RFC variant, the given time in the first 48 bits', () => {
    const t = Date.UTC(2026, 11, 4, 22, 0, 0, 123);
    const id = uuidv7(t);
    expect(id).toMatch(UUID_V7_PATTERN);
    expect(uuidv7Time(id)).toBe(t);
    expect(id.slice(0, 13)).toBe(`${t.toString(16).padStart(12, '0').slice(0, 8)}-${t.toString(16).padStart(12, '0').slice(8)}`);
  });

  test('property: any time up to 2^48 - 1 ms round-trips, and ids sort as their times', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), (a, b) => {
      const [x, y] = [uuidv7(a), uuidv7(b)];
      expect(x).toMatch(UUID_V7_PATTERN);
      expect(uuidv7Time(x)).toBe(a);
      if (a < b) expect(x < y).toBe(true);
    }));
  });

  test('10,000 ids in the same millisecond are distinct, and their random bits vary (the pool is refilled)', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    // every hex digit of the random part occurs: no stuck byte
    const tails = new Set(ids.map((i) => i.slice(-1)));
    expect(tails.size).toBe(16);
  });
});

describe('createCapture', () => {
  test('sampling: random() < percent / 100, with the random source injected', () => {
    const lines: string[] = [];
    const draws = [0, 0.0999, 0.1, 0.5, 0.99];
    const capture = createCapture({ endpoint: 'e', percent: 10, maxBytes: 10_000, random: () => draws.shift()!, write: (l) => lines.push(l) });
    const outcomes = Array.from({ length: 5 }, () => capture(subject()));
    expect(outcomes).toEqual([
      { sampled: true, written: true }, { sampled: true, written: true }, { sampled: false }, { sampled: false }, { sampled: false },
    ]);
    expect(lines).toHaveLength(2);
  });

  test('100% captures every request, whatever random() returns below 1', () => {
    const capture = createCapture({ endpoint: 'e', percent: 100, maxBytes: 10_000, random: () => 0.999999999, write: () => undefined });
    expect(capture(subject())).toEqual({ sampled: true, written: true });
  });

  test('the line: the contract\'s fields in order, one line ending in a newline, which the writer accepts as is', () => {
    const lines: string[] = [];
    createCapture({ endpoint: 'hearing', percent: 100, maxBytes: 10_000, write: (l) => lines.push(l) })(subject());
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(lines[0].indexOf('\n')).toBe(lines[0].length - 1);
    const parsed = JSON.parse(lines[0]);
    expect(parsed).toEqual({
      captureVersion: '1',
      endpoint: 'hearing',
      inferenceId: subject().inferenceId,
      capturedAt: '2026-03-01T13:45:00.000Z',
      modelVersion: 'm@1',
      modelSha256: SHA,
      inputs: { features: [[1, 2, 3]] },
      outputs: { logits: [[0.1, 0.9]] },
      predictedClasses: ['b'],
    });
    const back = parseCaptureLine(lines[0].trimEnd(), 'hearing');
    expect(back.ok && JSON.stringify(back.capture)).toBe(lines[0].trimEnd());
  });

  test('no predictedClasses for a model that is no classifier; an all-NaN row is null', () => {
    expect(JSON.parse(captureLine('e', subject({ body: { modelVersion: 'm', outputs: { y: [1] } } }))).predictedClasses).toBeUndefined();
    const nan = subject({ body: { modelVersion: 'm', outputs: {}, classNames: ['a'], predictions: [{ label: null, index: -1, probabilities: [NaN] }] } });
    expect(JSON.parse(captureLine('e', nan)).predictedClasses).toEqual([null]);
  });

  test('a line over maxBytes is dropped (TOO_LARGE, with its size), one at the limit is written; bytes are UTF-8 bytes', () => {
    const lines: string[] = [];
    const base = captureLine('e', subject({ inputs: { s: [''] } })).length + 1; // with the newline
    const capture = (max: number) => createCapture({ endpoint: 'e', percent: 100, maxBytes: max, write: (l) => lines.push(l) });
    // 'é' is 2 bytes of UTF-8 and 1 UTF-16 unit
    const text = 'é'.repeat(1000);
    const size = base + 2000;
    expect(capture(size)(subject({ inputs: { s: [text] } }))).toEqual({ sampled: true, written: true });
    expect(Buffer.byteLength(lines[0])).toBe(size);
    expect(capture(size - 1)(subject({ inputs: { s: [text] } }))).toEqual({ sampled: true, written: false, reason: 'TOO_LARGE', bytes: size });
    expect(lines).toHaveLength(1);
  });

  test('anything that throws is a drop (CAPTURE_ERROR), never an exception', () => {
    const cyclic: any = { a: 1 };
    cyclic.self = cyclic;
    const ok = createCapture({ endpoint: 'e', percent: 100, maxBytes: 10_000, write: () => undefined });
    expect(ok(subject({ inputs: cyclic }))).toEqual({ sampled: true, written: false, reason: 'CAPTURE_ERROR' });
    const failingWrite = createCapture({ endpoint: 'e', percent: 100, maxBytes: 10_000, write: () => { throw new Error('EPIPE'); } });
    expect(failingWrite(subject())).toEqual({ sampled: true, written: false, reason: 'CAPTURE_ERROR' });
    const failingRandom = createCapture({ endpoint: 'e', percent: 50, maxBytes: 10_000, random: () => { throw new Error('x'); }, write: () => undefined });
    expect(failingRandom(subject())).toEqual({ sampled: true, written: false, reason: 'CAPTURE_ERROR' });
  });

  test('the capture\'s object key for its hour and model (the writer\'s layout)', () => {
    expect('hearing').toMatch(CAPTURE_NAME_PATTERN);
    expect(MONITORING_KEYS.captureObject('hearing', 'm@1', new Date('2026-03-01T13:45:00Z'), 'id'))
      .toBe('monitoring/captures/endpoint=hearing/model=m%401/date=2026-03-01/hour=13/id.jsonl');
  });
});
