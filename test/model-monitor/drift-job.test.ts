/**
 * The drift job against an in-memory S3 (test/model-monitor/monitor-world.ts): windows, drift and
 * events, accounting of every line and example, ground truth (in the window and late), bounds.
 * drift-job-s3.test.ts runs the main cases against moto_server.
 */
import { Readable } from 'node:stream';
import * as fc from 'fast-check';
import {
  BUCKET, captureKey, captureLine, drawFeatures, ENDPOINT, FEATURES, groundTruthKey, groundTruthLines, KEY_ARN, makeBaseline, MemoryS3,
  monitorConfig, recordingEvents, SHA_A, SHA_B, uuidV7,
} from './monitor-world';
import { DRIFT_REPORT_FILES, MONITOR_DETAIL_TYPE, MONITOR_EVENT_SOURCE, MONITORING_KEYS } from '../../src/contract/monitoring';
import { MonitorConfig } from '../../src/model-monitor/runtime/contract';
import { objectLines, S3Api } from '../../src/model-monitor/runtime/drift-io';
import { createDriftJob, DriftJobInputError, windowEndOf, windowOf } from '../../src/model-monitor/runtime/drift-job';
import { DriftRunReport, SeededRandom } from '../../src/model-monitor/runtime/logic';

const END = new Date('2026-03-02T00:00:00Z');
const HOUR = 3_600_000;
const baselineA = makeBaseline(SHA_A);

interface World {
  readonly s3: MemoryS3;
  readonly random: SeededRandom;
}

function world(seed = 1): World {
  const s3 = new MemoryS3(7); // small pages: every listing paginates
  s3.put(MONITORING_KEYS.baseline(SHA_A), JSON.stringify(baselineA));
  return { s3, random: new SeededRandom(seed) };
}

/** `n` examples of `sha` spread over the window's hours, 4 examples per line, 5 lines per object. */
function addCaptures(w: World, n: number, opts: { sha?: string; shift?: Record<string, number>; end?: Date; version?: string } = {}): string[] {
  const end = opts.end ?? END;
  const ids: string[] = [];
  let buffer: string[] = [];
  let object = 0;
  let hour = 0;
  const flush = (at: Date) => {
    if (buffer.length === 0) return;
    w.s3.put(captureKey(opts.version ?? 'hearing-who@1', at, `obj-${opts.sha ?? SHA_A}-${object++}`), buffer.join('\n') + '\n');
    buffer = [];
  };
  for (let i = 0; i < n; i += 4) {
    hour = Math.floor(i / 4) % 24;
    const at = new Date(end.getTime() - (24 - hour) * HOUR + 60_000 * ((i / 4) % 59));
    const examples = Array.from({ length: Math.min(4, n - i) }, () => drawFeatures(w.random, opts.shift));
    const { line, capture } = captureLine(at, opts.sha ?? SHA_A, examples, w.random, opts.version);
    ids.push(capture.inferenceId);
    buffer.push(line);
    if (buffer.length === 5) flush(at);
  }
  flush(new Date(end.getTime() - (24 - hour) * HOUR));
  return ids;
}

function job(w: World, config: Partial<MonitorConfig> = {}) {
  const events = recordingEvents();
  const metrics: string[] = [];
  const run = createDriftJob({
    s3: w.s3.api,
    events: events.api,
    env: { modelsBucket: BUCKET, lakeKeyArn: KEY_ARN, eventBusName: 'default' },
    config: monitorConfig(config),
    writeMetrics: (line) => metrics.push(line),
    now: () => new Date(END.getTime() + 5 * 60_000),
  });
  return { run, events: events.entries, metrics: () => metrics.map((m) => JSON.parse(m)) };
}

const reportOf = (w: World, end = END): DriftRunReport => JSON.parse(w.s3.text(`${MONITORING_KEYS.reportFolder(ENDPOINT, end)}${DRIFT_REPORT_FILES.json}`)!);

describe('drift and events', () => {
  test('an undrifted window: no drift, no event; the report and metrics say so', async () => {
    const w = world();
    addCaptures(w, 2000);
    const j = job(w);
    const summary = await j.run({ time: END.toISOString() });
    expect(summary).toMatchObject({ windowStart: '2026-03-01T00:00:00.000Z', windowEnd: '2026-03-02T00:00:00.000Z', datasetDrift: false, predictionDrift: false, rowsEvaluated: 2000, eventsPut: 0 });
    expect(j.events).toEqual([]);
    const report = reportOf(w);
    expect(report.models).toHaveLength(1);
    expect(report.models[0].drift!.features.filter((f) => f.drifted)).toEqual([]);
    const [m] = j.metrics();
    expect(m).toMatchObject({ RowsEvaluated: 2000, DatasetDrift: 0, PredictionDrift: 0, DriftedFeatures: 0, InvalidCaptureLines: 0, MissingBaselines: 0, service: 'Test/Monitor' });
    expect(m._aws.CloudWatchMetrics[0].Namespace).toBe('cdk-secure-mlops/ModelMonitor');
  });

  test('+0.2 on two features: exactly those two drift; the event names them; JSON and HTML written with SSE-KMS', async () => {
    const w = world();
    addCaptures(w, 2000, { shift: { 'left.2000': 0.2, 'right.4000': 0.2 } });
    const j = job(w, { drift: { datasetDriftShare: 0.1 } });
    const summary = await j.run({ windowEnd: '2026-03-02T00:30:00Z' });
    expect(summary.datasetDrift).toBe(true);
    const folder = MONITORING_KEYS.reportFolder(ENDPOINT, END);
    expect(folder).toBe(`monitoring/reports/endpoint=${ENDPOINT}/20260302T0000Z/`);
    const report = reportOf(w);
    expect(report.models[0].drift!.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(['left.2000', 'right.4000']);
    expect(j.events).toHaveLength(1);
    expect(j.events[0]).toMatchObject({ Source: MONITOR_EVENT_SOURCE, DetailType: MONITOR_DETAIL_TYPE.modelDriftDetected, EventBusName: 'default' });
    expect(JSON.parse(j.events[0].Detail)).toEqual({
      endpoint: ENDPOINT,
      modelVersion: 'hearing-who@1',
      modelSha256: SHA_A,
      windowStart: '2026-03-01T00:00:00.000Z',
      windowEnd: '2026-03-02T00:00:00.000Z',
      rowCount: 2000,
      driftedFeatures: ['left.2000', 'right.4000'],
      driftShare: 2 / 12,
      datasetDrift: true,
      predictionDrift: false,
      report: `s3://${BUCKET}/${folder}drift-report.json`,
      reportHtml: `s3://${BUCKET}/${folder}drift-report.html`,
    });
    for (const file of [DRIFT_REPORT_FILES.json, DRIFT_REPORT_FILES.html]) {
      expect(w.s3.puts.find((p) => p.Key === `${folder}${file}`)).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN });
    }
    const html = w.s3.text(`${folder}${DRIFT_REPORT_FILES.html}`)!;
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/<script|<link|src=/i);
    expect((html.match(/<svg/g) ?? []).length).toBe(13); // one chart per feature and one for the predicted class
    expect(j.metrics()[0]).toMatchObject({ DatasetDrift: 1, DriftedFeatures: 2 });
  });

  test('with Evidently\'s default dataset share (0.5), two drifted features of 12 are no dataset drift: no event', async () => {
    const w = world();
    addCaptures(w, 2000, { shift: { 'left.2000': 0.2, 'right.4000': 0.2 } });
    const j = job(w);
    expect((await j.run({ time: END.toISOString() })).datasetDrift).toBe(false);
    expect(j.events).toEqual([]);
    expect(j.metrics()[0]).toMatchObject({ DriftedFeatures: 2, DatasetDrift: 0 });
  });

  test('per-feature settings apply (a feature disabled, a threshold raised)', async () => {
    const w = world();
    addCaptures(w, 2000, { shift: { 'left.2000': 0.2, 'right.4000': 0.2 } });
    const j = job(w, { drift: { features: { 'left.2000': { enabled: false }, 'right.4000': { threshold: 0.5 } } } });
    await j.run({ time: END.toISOString() });
    const drift = reportOf(w).models[0].drift!;
    expect(drift.features.map((f) => f.name)).not.toContain('left.2000');
    expect(drift.features.filter((f) => f.drifted)).toEqual([]);
  });
});

describe('reports', () => {
  test('an empty window: the report is still written ("not evaluated"), zero rows, nothing raised', async () => {
    const w = world();
    const j = job(w);
    expect(await j.run({ time: END.toISOString() })).toMatchObject({ rowsEvaluated: 0, datasetDrift: false, eventsPut: 0 });
    expect(reportOf(w)).toMatchObject({ models: [], lines: { objects: 0, read: 0, valid: 0, invalid: {} }, datasetDrift: false });
    expect(w.s3.text(`${MONITORING_KEYS.reportFolder(ENDPOINT, END)}${DRIFT_REPORT_FILES.html}`)).toContain('Not evaluated');
    expect(j.metrics()[0]).toMatchObject({ RowsEvaluated: 0, DatasetDrift: 0 });
  });

  test('two models in one window (a rollout): both evaluated, one page, element ids unique, one event per drifted model', async () => {
    const w = world();
    w.s3.put(MONITORING_KEYS.baseline(SHA_B), JSON.stringify(makeBaseline(SHA_B)));
    addCaptures(w, 2000);
    addCaptures(w, 2000, { sha: SHA_B, version: 'hearing-who@2', shift: Object.fromEntries(FEATURES.map((f) => [f, 0.5])) });
    const j = job(w);
    await j.run({ time: END.toISOString() });
    const r = reportOf(w);
    expect(r.models.map((m) => [m.modelVersion, m.status, m.drift!.dataset.drifted])).toEqual([['hearing-who@1', 'evaluated', false], ['hearing-who@2', 'evaluated', true]]);
    const html = w.s3.text(`${MONITORING_KEYS.reportFolder(ENDPOINT, END)}${DRIFT_REPORT_FILES.html}`)!;
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(26);
    expect(new Set(ids).size).toBe(ids.length);
    for (const ref of html.matchAll(/(?:aria-labelledby="|href="#)([^"]+)"/g)) expect(ids).toContain(ref[1]);
    expect(j.events.map((e) => JSON.parse(e.Detail).modelVersion)).toEqual(['hearing-who@2']);
  });
});

describe('accounting: nothing left out without a count', () => {
  test('malformed lines and a model without a baseline are counted and reported; the run still reports', async () => {
    const w = world();
    addCaptures(w, 400);
    addCaptures(w, 40, { sha: SHA_B, version: 'hearing-who@2' });
    const at = new Date(END.getTime() - 2 * HOUR);
    const good = captureLine(at, SHA_A, [drawFeatures(w.random)], w.random);
    const bad = [
      'not json',
      '[1,2]',
      JSON.stringify({ ...good.capture, endpoint: 'another' }),
      JSON.stringify({ ...good.capture, capturedAt: '2026-02-01T00:00:00Z' }),
      JSON.stringify({ ...good.capture, inputs: { thresholds: [[1, 2, 3]] } }),
      JSON.stringify({ ...good.capture, modelSha256: 'XYZ' }),
    ];
    w.s3.put(captureKey('hearing-who@1', at, 'bad'), bad.join('\n'));
    const j = job(w);
    await j.run({ time: END.toISOString() });
    const report = reportOf(w);
    expect(report.lines).toEqual({
      objects: expect.any(Number),
      read: 100 + 10 + 6,
      outsideWindow: 0,
      valid: 110,
      invalid: { 'not-json': 1, 'not-an-object': 1, 'endpoint': 1, 'outside-window': 1, 'feature-width': 1, 'model-sha256': 1 },
    });
    const b = report.models.find((m) => m.modelSha256 === SHA_B)!;
    expect(b).toMatchObject({ status: 'missing-baseline', rows: { captured: 40, withoutBaseline: 40, evaluated: 0 } });
    expect(j.metrics()[0]).toMatchObject({ InvalidCaptureLines: 6, MissingBaselines: 1, RowsEvaluated: 400 });
    expect(w.s3.text(`${MONITORING_KEYS.reportFolder(ENDPOINT, END)}${DRIFT_REPORT_FILES.html}`)).toContain('no baseline');
  });

  test('fewer examples than minimumRows: "not enough data", nothing raised', async () => {
    const w = world();
    addCaptures(w, 60, { shift: { 'left.250': 3 } });
    const j = job(w);
    const s = await j.run({ time: END.toISOString() });
    expect(s).toMatchObject({ datasetDrift: false, rowsEvaluated: 0, eventsPut: 0 });
    expect(reportOf(w).models[0]).toMatchObject({ status: 'not-enough-data', rows: { captured: 60, notEnoughData: 60 } });
    expect(j.metrics()[0]).toMatchObject({ DatasetDrift: 0, RowsEvaluated: 0 });
  });

  test('an invalid baseline and one of another feature layout are reported, not used', async () => {
    const w = world();
    w.s3.put(MONITORING_KEYS.baseline(SHA_B), '{"schemaVersion":1}');
    addCaptures(w, 200, { sha: SHA_B });
    const j = job(w, { features: [...FEATURES].reverse() });
    await j.run({ time: END.toISOString() });
    const models = reportOf(w).models;
    expect(models.find((m) => m.modelSha256 === SHA_B)).toMatchObject({ status: 'invalid-baseline', detail: expect.stringContaining('/modelSha256') });
    expect(models.find((m) => m.modelSha256 === SHA_A)).toBeUndefined();
    addCaptures(w, 200);
    await j.run({ time: END.toISOString() });
    expect(reportOf(w).models.find((m) => m.modelSha256 === SHA_A)).toMatchObject({ status: 'baseline-mismatch', rows: { withoutBaseline: 200 } });
  });

  test('memory bound: beyond maxRowsPerModel a uniform sample is evaluated and the rest counted', async () => {
    const w = world();
    addCaptures(w, 1000);
    const j = job(w, { maxRowsPerModel: 300 });
    await j.run({ time: END.toISOString() });
    expect(reportOf(w).models[0]).toMatchObject({ status: 'evaluated', rows: { captured: 1000, evaluated: 300, beyondCap: 700 } });
  });

  test('property: every line is valid or counted invalid, and every example of a valid line is in exactly one bucket', async () => {
    const line = fc.record({
      kind: fc.constantFrom('valid-a', 'valid-b', 'valid-c', 'garbage', 'wrong-endpoint', 'late', 'wrong-width'),
      examples: fc.integer({ min: 1, max: 5 }),
      hour: fc.integer({ min: 0, max: 30 }),
    });
    const sizes = [fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 80 })] as const;
    const prop = fc.asyncProperty(fc.array(line, { maxLength: 120 }), ...sizes, async (lines, cap, minimum) => {
      const w = world(3);
      w.s3.put(MONITORING_KEYS.baseline(SHA_B), 'not json');
      const sha = { 'valid-a': SHA_A, 'valid-b': SHA_B, 'valid-c': 'c3'.repeat(32) } as Record<string, string>;
      lines.forEach((l, i) => {
        const at = new Date(END.getTime() - 24 * HOUR + l.hour * HOUR); // hours 24..30 are after the window
        const examples = Array.from({ length: l.examples }, () => drawFeatures(w.random));
        const { line: text, capture } = captureLine(at, sha[l.kind] ?? SHA_A, examples, w.random);
        const body = l.kind === 'garbage' ? '{"captureVersion":' : l.kind === 'wrong-endpoint' ? JSON.stringify({ ...capture, endpoint: 'x' })
          : l.kind === 'wrong-width' ? JSON.stringify({ ...capture, inputs: { t: examples.map((x) => x.features.slice(1)) } }) : text;
        // 'late': written into a window hour's folder, captured a day later.
        const folderTime = l.kind === 'late' ? new Date(END.getTime() - HOUR) : at;
        const stamped = l.kind === 'late' ? JSON.stringify({ ...capture, capturedAt: new Date(END.getTime() + HOUR).toISOString() }) : body;
        w.s3.put(captureKey('v', folderTime, `o${i}`), stamped + '\n');
      });
      await job(w, { maxRowsPerModel: cap, minimumRows: minimum }).run({ time: END.toISOString() });
      const r = reportOf(w);
      const inWindow = lines.filter((l) => l.hour < 24 || l.kind === 'late');
      const invalid = Object.values(r.lines.invalid).reduce((a, b) => a + b, 0);
      expect(r.lines.read).toBe(inWindow.length);
      expect(r.lines.valid + invalid).toBe(r.lines.read);
      const examples = inWindow.filter((l) => l.kind.startsWith('valid')).reduce((a, l) => a + l.examples, 0);
      expect(r.models.reduce((a, m) => a + m.rows.captured, 0)).toBe(examples);
      for (const m of r.models) expect(m.rows.evaluated + m.rows.beyondCap + m.rows.notEnoughData + m.rows.withoutBaseline).toBe(m.rows.captured);
    });
    await fc.assert(prop, { numRuns: 40 });
  });
});

describe('ground truth', () => {
  test('labels of the window\'s predictions join (window accuracy in the drift report); late labels of earlier hours join through their UUID v7 time', async () => {
    const w = world();
    // Window captures, one example per line, known predictions.
    const at = (h: number) => new Date(END.getTime() - h * HOUR + 120_000);
    const windowCaptures = Array.from({ length: 150 }, (_, i) => captureLine(at(1 + (i % 20)), SHA_A, [drawFeatures(w.random)], w.random));
    w.s3.put(captureKey('hearing-who@1', at(1), 'window'), windowCaptures.map((c) => c.line).join('\n'));
    // Captures 3 days before the window (not read unless a label points there).
    const old = Array.from({ length: 10 }, (_, i) =>
      captureLine(new Date(END.getTime() - (24 * 4 + i) * HOUR), SHA_A, [drawFeatures(w.random), drawFeatures(w.random)], w.random));
    old.forEach((c, i) => w.s3.put(captureKey('hearing-who@1', new Date(c.capture.capturedAt), `old${i}`), c.line));
    const predicted = (c: { capture: { predictedClasses?: Array<string | number | null> } }, ex = 0) => c.capture.predictedClasses![ex] as string;
    const wrong = (cls: string) => CLASSES_OTHER[cls];
    // Received in the window: 100 labels of window predictions (80 right) and 8 of old ones (example 1; 6 right).
    const received = new Date(END.getTime() - 3 * HOUR);
    w.s3.put(groundTruthKey(received, 'batch-1'), groundTruthLines(windowCaptures.slice(0, 100).map((c, i) => ({ inferenceId: c.capture.inferenceId, trueClass: i < 80 ? predicted(c) : wrong(predicted(c)) }))), received);
    w.s3.put(groundTruthKey(received, 'batch-2'), groundTruthLines(old.slice(0, 8).map((c, i) => ({ inferenceId: c.capture.inferenceId, example: 1, trueClass: i < 6 ? predicted(c, 1) : wrong(predicted(c, 1)) })))
      + '{"inferenceId": 5}\nnot json\n' + JSON.stringify({ inferenceId: uuidV7(END.getTime() - 40 * 24 * HOUR, w.random), trueClass: 'mild' }) + '\n', received);
    // Received before the window: labels of window predictions count for the window's accuracy only.
    const before = new Date(END.getTime() - 26 * HOUR);
    w.s3.put(groundTruthKey(before, 'batch-0'), groundTruthLines(windowCaptures.slice(100, 110).map((c) => ({ inferenceId: c.capture.inferenceId, trueClass: predicted(c) }))), before);
    const j = job(w);
    await j.run({ time: END.toISOString() });
    const r = reportOf(w);
    expect(r.groundTruth).toMatchObject({
      objects: 3,
      lines: 121,
      labels: 119,
      invalid: { 'inference-id': 1, 'not-json': 1 },
      receivedInWindow: 109,
      joined: 108,
      correct: 86,
      unmatched: 1,
      earlierHoursRead: 8,
    });
    expect(r.groundTruth.accuracy).toBeCloseTo(86 / 108, 12);
    expect(r.models[0].drift!.accuracy).toMatchObject({ labeled: 110, correct: 90 });
    expect(j.metrics()[1]).toMatchObject({ Accuracy: 86 / 108, LabeledRows: 108 });
    expect(w.s3.text(`${MONITORING_KEYS.reportFolder(ENDPOINT, END)}${DRIFT_REPORT_FILES.html}`)).toContain('108 joined');
  });

  test('without ground truth no Accuracy metric is written', async () => {
    const w = world();
    addCaptures(w, 200);
    const j = job(w);
    await j.run({ time: END.toISOString() });
    expect(j.metrics()).toHaveLength(1);
    expect(j.metrics()[0].Accuracy).toBeUndefined();
  });

  test('labels beyond maxGroundTruthLabels are counted; the newest days are kept', async () => {
    const w = world();
    const old = new Date(END.getTime() - 5 * 24 * HOUR);
    w.s3.put(groundTruthKey(old, 'old'), groundTruthLines(Array.from({ length: 30 }, (_, i) => ({ inferenceId: `old-${i}`, trueClass: 1 }))), old);
    const recent = new Date(END.getTime() - HOUR);
    w.s3.put(groundTruthKey(recent, 'x'), groundTruthLines(Array.from({ length: 15 }, (_, i) => ({ inferenceId: `id-${i}`, trueClass: 1 }))), recent);
    await job(w, { maxGroundTruthLabels: 20 }).run({ time: END.toISOString() });
    expect(reportOf(w).groundTruth).toMatchObject({ lines: 45, labels: 20, beyondCap: 25, receivedInWindow: 15, unmatched: 15 });
  });
});

const CLASSES_OTHER: Record<string, string> = { normal: 'mild', mild: 'moderate', moderate: 'normal' };

describe('the window', () => {
  test('scheduled time, hand-made windowEnd, or now; floored to the hour', () => {
    const now = new Date('2026-03-02T10:17:00Z');
    expect(windowEndOf(undefined, now)).toEqual(now);
    expect(windowEndOf({ time: '2026-03-02T09:00:05Z' }, now).toISOString()).toBe('2026-03-02T09:00:05.000Z');
    expect(windowEndOf({ windowEnd: '2026-02-01T00:00:00Z', time: 'x' }, now).toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(() => windowEndOf({ windowEnd: 'yesterday' }, now)).toThrow(DriftJobInputError);
    expect(() => windowEndOf({ windowEnd: 17 }, now)).toThrow(/ISO-8601/);
  });

  test('ad-hoc windows: bounds as given (not floored), the hours they touch, and clear errors', () => {
    const now = new Date('2026-03-02T10:17:00Z');
    const w = windowOf({ windowStart: '2026-03-01T22:30:00Z', windowEnd: '2026-03-02T00:10:00Z' }, now, 24);
    expect(w).toMatchObject({ adHoc: true, start: new Date('2026-03-01T22:30:00Z'), end: new Date('2026-03-02T00:10:00Z') });
    expect(w.hours.map((h) => h.toISOString())).toEqual(['2026-03-01T22:00:00.000Z', '2026-03-01T23:00:00.000Z', '2026-03-02T00:00:00.000Z']);
    expect(windowOf({ windowEnd: '2026-03-02T10:17:00Z' }, now, 2)).toMatchObject({ adHoc: false, start: new Date('2026-03-02T08:00:00Z') });
    for (const bad of [{ windowStart: 'x', windowEnd: '2026-03-02T00:00:00Z' }, { windowStart: '2026-03-02T00:00:00Z' },
      { windowStart: '2026-03-02T00:00:00Z', windowEnd: '2026-03-02T00:00:00Z' }, { windowStart: '2026-01-01T00:00:00Z', windowEnd: '2026-03-02T00:00:00Z' }]) {
      expect(() => windowOf(bad, now, 24)).toThrow(DriftJobInputError);
    }
  });

  test('two batches in the same hours, each in its own ad-hoc window: only the shifted batch drifts; the other lines are outside, not invalid', async () => {
    const w = world(5);
    const put = (from: Date, n: number, shift: Record<string, number> | undefined, tag: string) => {
      const lines: string[] = [];
      for (let i = 0; i < n; i += 4) {
        const at = new Date(from.getTime() + i * 100);
        lines.push(captureLine(at, SHA_A, Array.from({ length: 4 }, () => drawFeatures(w.random, shift)), w.random).line);
      }
      w.s3.put(captureKey('hearing-who@1', from, tag), lines.join('\n') + '\n');
    };
    const a = new Date('2026-03-01T10:05:00Z');
    const b = new Date('2026-03-01T10:20:00Z');
    put(a, 2000, undefined, 'a');
    put(b, 2000, { 'left.250': 0.2, 'right.8000': 0.2 }, 'b');
    const j = job(w, { drift: { datasetDriftShare: 0.1 } });
    const quiet = await j.run({ windowStart: a.toISOString(), windowEnd: new Date(a.getTime() + 600_000).toISOString() });
    expect(quiet).toMatchObject({ rowsEvaluated: 2000, datasetDrift: false, eventsPut: 0 });
    const shifted = await j.run({ windowStart: b.toISOString(), windowEnd: new Date(b.getTime() + 600_000).toISOString() });
    expect(shifted).toMatchObject({ rowsEvaluated: 2000, datasetDrift: true, eventsPut: 1 });
    const r: DriftRunReport = JSON.parse(w.s3.text(shifted.report.replace(`s3://${BUCKET}/`, ''))!);
    expect(r.models[0].drift!.features.filter((f) => f.drifted).map((f) => f.name).sort()).toEqual(['left.250', 'right.8000']);
    expect(r.lines).toMatchObject({ read: 1000, valid: 500, outsideWindow: 500, invalid: {} });
    // Each ad-hoc run has its own folder (both windows end in the same minute).
    expect(shifted.report).toBe(`s3://${BUCKET}/${MONITORING_KEYS.adHocReportFolder(ENDPOINT, b, new Date(b.getTime() + 600_000))}${DRIFT_REPORT_FILES.json}`);
    expect(quiet.report).not.toBe(shifted.report);
  });

  test('only the window\'s hours are read: captures of the hour at the end and before the start are not', async () => {
    const w = world();
    addCaptures(w, 2000);
    addCaptures(w, 200, { end: new Date(END.getTime() + 24 * HOUR), shift: { 'left.250': 5 } });
    addCaptures(w, 200, { end: new Date(END.getTime() - 24 * HOUR), shift: { 'left.250': 5 } });
    const j = job(w);
    const s = await j.run({ time: END.toISOString() });
    expect(s).toMatchObject({ rowsEvaluated: 2000, datasetDrift: false });
    expect(reportOf(w).models[0].drift!.features.filter((f) => f.drifted)).toEqual([]);
    expect(reportOf(w).lines.invalid).toEqual({});
  });
});

describe('objectLines', () => {
  test('lines across chunks: CRLF, a UTF-8 character split between chunks, blank lines, no final newline', async () => {
    const text = Buffer.from('a\r\n\n  \nüé€ line\nlast');
    const cut = text.indexOf(Buffer.from('é')) + 1; // inside the two bytes of é
    const s3 = { send: async () => ({ Body: Readable.from([text.subarray(0, 2), text.subarray(2, cut), text.subarray(cut)]) }) } as unknown as S3Api;
    const out: string[] = [];
    for await (const l of objectLines(s3, 'b', 'k')) out.push(l);
    expect(out).toEqual(['a', 'üé€ line', 'last']);
  });
});
