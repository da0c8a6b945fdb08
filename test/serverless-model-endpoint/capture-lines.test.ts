import * as fc from 'fast-check';
import { captureOf, eventId, SHA, subscriptionEvent } from './capture-fixture';
import {
  decodeSubscriptionPayload, groupCaptures, MalformedPayloadError, parseCaptureLine,
} from '../../src/serverless-model-endpoint/runtime/logic/capture-lines';

/** The capture writer's pure part: decoding, the contract check, grouping by model and hour. */
const line = (o: Record<string, unknown>) => JSON.stringify(o);
const events = (messages: string[]) => messages.map((message, i) => ({ id: eventId(), timestamp: i, message }));

describe('decodeSubscriptionPayload', () => {
  test('base64 gzip JSON with its log events', () => {
    const p = decodeSubscriptionPayload(subscriptionEvent(['a', 'b']).awslogs.data);
    expect(p.messageType).toBe('DATA_MESSAGE');
    expect(p.logEvents.map((e) => e.message)).toEqual(['a', 'b']);
  });

  test.each([[undefined], [''], ['not base64 gzip'], [Buffer.from('{"x":1}').toString('base64')]])('a payload that is not one is refused clearly (%#)', (data) => {
    expect(() => decodeSubscriptionPayload(data)).toThrow(MalformedPayloadError);
  });
});

describe('parseCaptureLine', () => {
  test('a valid line is rebuilt from the contract\'s fields only, in order: anything else never reaches the lake', () => {
    const parsed = parseCaptureLine(line({ requestId: 'req-1', ...captureOf(), sourceIp: '10.0.0.1' }), 'hearing');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Object.keys(parsed.capture)).toEqual(['captureVersion', 'endpoint', 'inferenceId', 'capturedAt', 'modelVersion', 'modelSha256', 'inputs', 'outputs', 'predictedClasses']);
    expect(JSON.stringify(parsed.capture)).not.toMatch(/req-1|10\.0\.0\.1/);
    expect(parsed.time.toISOString()).toBe('2026-03-01T13:45:00.000Z');
  });

  test.each<[string, unknown, string]>([
    ['not JSON', '{"captureVersion": "1",', 'NOT_JSON'],
    ['an EMF record', { _aws: {}, RequestLatency: 1 }, 'NOT_A_CAPTURE'],
    ['an array', [1], 'NOT_A_CAPTURE'],
    ['another version', captureOf({ captureVersion: '2' }), 'UNSUPPORTED_VERSION'],
    ['the version as a number', captureOf({ captureVersion: 1 }), 'UNSUPPORTED_VERSION'],
    ['another endpoint', captureOf({ endpoint: 'other' }), 'OTHER_ENDPOINT'],
    ['a v4 id', captureOf({ inferenceId: '3b241101-e2bb-4255-8caf-4136c566a962' }), 'INVALID_INFERENCE_ID'],
    ['a local time', captureOf({ capturedAt: '2026-03-01T13:45:00+01:00' }), 'INVALID_CAPTURED_AT'],
    ['an impossible date', { ...captureOf(), capturedAt: '2026-13-45T99:00:00Z' }, 'INVALID_CAPTURED_AT'],
    ['an empty model version', captureOf({ modelVersion: '' }), 'INVALID_MODEL_VERSION'],
    ['a short hash', captureOf({ modelSha256: 'abc' }), 'INVALID_MODEL_SHA256'],
    ['inputs as a list', captureOf({ inputs: [[1]] }), 'INVALID_INPUTS'],
    ['no outputs', captureOf({ outputs: {} }), 'INVALID_OUTPUTS'],
    ['classes as a string', captureOf({ predictedClasses: 'mild' }), 'INVALID_PREDICTED_CLASSES'],
    ['a fractional class', captureOf({ predictedClasses: [1.5] }), 'INVALID_PREDICTED_CLASSES'],
  ])('%s is dropped: %s', (_what, value, reason) => {
    expect(parseCaptureLine(typeof value === 'string' ? value : line(value as any), 'hearing')).toEqual({ ok: false, reason });
  });

  test('predictedClasses may be absent (no classifier), indices or null', () => {
    const { predictedClasses: _omit, ...noClasses } = captureOf();
    expect(parseCaptureLine(line(noClasses), 'hearing')).toMatchObject({ ok: true });
    expect(parseCaptureLine(line(captureOf({ predictedClasses: [2, null, 'x'] })), 'hearing')).toMatchObject({ ok: true });
  });

  test('property: any JSON value is either a valid capture or dropped with a reason, never an exception', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.record({ captureVersion: fc.constant('1'), endpoint: fc.constant('hearing') }, { requiredKeys: [] })),
      (v) => {
        const r = parseCaptureLine(JSON.stringify(v) ?? 'null', 'hearing');
        expect(r.ok === true || typeof (r as any).reason === 'string').toBe(true);
      }), { numRuns: 500 });
  });
});

describe('groupCaptures', () => {
  test('by model version and hour of capturedAt; malformed lines counted per reason, their content nowhere', () => {
    const g = groupCaptures(events([
      line(captureOf({ capturedAt: '2026-03-01T13:00:00.000Z' })),
      line(captureOf({ capturedAt: '2026-03-01T13:59:59.999Z' })),
      line(captureOf({ capturedAt: '2026-03-01T14:00:00.000Z' })),
      line(captureOf({ capturedAt: '2026-03-01T13:10:00.000Z', modelVersion: 'hearing-who-grade@2' })),
      'P-0042-AB not a capture',
      line(captureOf({ endpoint: 'other', inputs: { features: [['P-0042-AB']] } })),
    ]), 'hearing');
    expect(g.groups.map((x) => [x.modelVersion, x.hour.toISOString(), x.lines.length])).toEqual([
      ['hearing-who-grade@1', '2026-03-01T13:00:00.000Z', 2],
      ['hearing-who-grade@1', '2026-03-01T14:00:00.000Z', 1],
      ['hearing-who-grade@2', '2026-03-01T13:00:00.000Z', 1],
    ]);
    expect(g.dropped).toEqual({ NOT_JSON: 1, OTHER_ENDPOINT: 1 });
    expect([g.validCount, g.droppedCount]).toEqual([4, 2]);
    expect(JSON.stringify(g.dropped)).not.toContain('P-0042');
    for (const x of g.groups) expect(x.objectId).toMatch(/^[0-9a-f]{32}$/);
  });

  test('object ids: the same for the same log events (a retry), different for other events', () => {
    const evs = events([line(captureOf()), line(captureOf())]);
    const a = groupCaptures(evs, 'hearing').groups[0].objectId;
    expect(groupCaptures(evs, 'hearing').groups[0].objectId).toBe(a);
    expect(groupCaptures(evs.map((e) => ({ ...e, id: eventId() })), 'hearing').groups[0].objectId).not.toBe(a);
  });

  test('property: every valid line lands in exactly one group, the one of its model and hour, in order', () => {
    const capture = fc.record({
      modelVersion: fc.constantFrom('m@1', 'm@2', 'a b/c%'),
      t: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 3) }),
      valid: fc.boolean(),
    });
    fc.assert(fc.property(fc.array(capture, { maxLength: 60 }), (cs) => {
      const lines = cs.map((c) => c.valid
        ? line(captureOf({ modelVersion: c.modelVersion, capturedAt: new Date(c.t).toISOString() }))
        : line(captureOf({ modelSha256: 'x' })));
      const g = groupCaptures(events(lines), 'hearing');
      const placed = g.groups.flatMap((x) => x.lines.map((l) => {
        const o = JSON.parse(l);
        expect(o.modelVersion).toBe(x.modelVersion);
        expect(Math.floor(Date.parse(o.capturedAt) / 3_600_000) * 3_600_000).toBe(x.hour.getTime());
        return l;
      }));
      const expected = lines.filter((_, i) => cs[i].valid);
      expect(placed.sort()).toEqual([...expected].sort());
      expect(g.droppedCount).toBe(cs.length - expected.length);
      expect(new Set(g.groups.map((x) => x.objectId)).size).toBe(g.groups.length);
    }));
  });
});

test('SHA of the fixture is a valid model hash', () => {
  expect(SHA).toMatch(/^[0-9a-f]{64}$/);
});
