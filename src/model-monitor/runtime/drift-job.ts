/**
 * The ModelMonitor's drift job (factory; drift.handler.ts is the Lambda entry). One run = one
 * endpoint, one window of whole hours `[end − window, end)`:
 *
 * 1. Ground truth: every object under `groundTruthPrefix(e)` in the `date=` partitions of the
 *    lookback (days ending with the window's end) is read; a label is an (inference id, example)
 *    and its true class (the latest object wins). At most `maxGroundTruthLabels` are kept, the
 *    newest days first; more are counted. Labels written during the window (object LastModified) are "received in the
 *    window".
 * 2. Captures: the `model=` folders of `capturesPrefix(e)`, and in each the `date=/hour=` folders
 *    of the window's hours, are listed and streamed line by line. Each line is validated (an
 *    invalid line is counted by reason, never fatal); its examples are grouped by `modelSha256`.
 *    A model's baseline (`baseline(sha)`) is read once; a model without a usable one is counted and
 *    reported. Per model at most `maxRowsPerModel` examples are kept, a uniform reservoir sample
 *    (the rest counted): memory is bounded by maxRowsPerModel × models × features, plus the labels.
 * 3. Late ground truth: labels received in the window whose prediction is not in the window are
 *    joined by reading the capture hours their ids point at (a UUID v7 carries its time, to the
 *    millisecond): only hours of the lookback before the window, each hour at most once, so the
 *    extra reads are bounded by the lookback's hours and the labels received. Accuracy over the
 *    labels received in the window is the `Accuracy` metric: accuracy over time, as labels arrive.
 * 4. Each model with a baseline and at least `minimumRows` examples is evaluated (`evaluateDrift`,
 *    window rows joined to their labels), the run report is written (JSON + HTML, SSE-KMS with the
 *    lake key), metrics are published (EMF) and, for each model whose dataset or prediction
 *    drifted, a "Model Drift Detected" event is put.
 *
 * Every example of a valid line is counted in exactly one of evaluated, beyond the cap, not enough
 * data, or without a baseline; every line read is valid or counted invalid.
 */
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { MONITOR_METRIC, MONITOR_METRICS_NAMESPACE, MonitorConfig } from './contract';
import { forEachLimited, listFolders, listObjects, objectLines, S3Api } from './drift-io';
import {
  captureWindow, CaptureExpectation, CaptureWindow, categoryKey, ClassLabel, DriftBaseline, DriftRunReport, evaluateDrift, exampleKey,
  FeatureValue, floorToHour, hourOf, InvalidBaselineError, ModelRunReport, ModelRunStatus, modelDriftDocument, parseBaseline, parseCaptureLine,
  parseGroundTruthLine, renderDriftRunHtml, Reservoir, SeededRandom, uuidV7Time, validateDriftConfig, WindowRow,
} from './logic';
import {
  datePartition, DRIFT_REPORT_FILES, hourPartition, MONITOR_DETAIL_TYPE, MONITOR_EVENT_SOURCE, MONITORING_KEYS, ModelDriftDetectedDetail,
} from '../../contract/monitoring';
import { createMetrics, MetricLineWriter, metricRecorder, MetricRecorder } from '../../private/runtime/metrics';
import { isMissing } from '../../private/runtime/sdk-errors';

/** The EventBridge call the job makes. */
export type EventsApi = Pick<EventBridgeClient, 'send'>;

/** What the job is built from. */
export interface DriftJobDeps {
  readonly s3: S3Api;
  readonly events: EventsApi;
  readonly env: { readonly modelsBucket: string; readonly lakeKeyArn: string; readonly eventBusName: string };
  readonly config: MonitorConfig;
  /** Where EMF lines go instead of stdout (tests). */
  readonly writeMetrics?: MetricLineWriter;
  /** The clock (tests). @default () => new Date() */
  readonly now?: () => Date;
  /** Objects read at once. @default 8 */
  readonly readConcurrency?: number;
}

/**
 * The job's input: a scheduled event (`time`), `{ "windowEnd": "<ISO-8601>" }` to (re)run a
 * window, or `{ "windowStart": "<ISO-8601>", "windowEnd": "<ISO-8601>" }` for an ad-hoc window
 * (an incident, a batch): its bounds are taken as given, not floored to the hour, and the capture
 * lines of its hours that fall outside it are counted as `outsideWindow`, not as invalid.
 */
export interface DriftJobEvent {
  readonly windowStart?: unknown;
  readonly windowEnd?: unknown;
  readonly time?: unknown;
}

/** What a run returns (names and figures only). */
export interface DriftRunSummary {
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly report: string;
  readonly reportHtml: string;
  readonly rowsEvaluated: number;
  readonly datasetDrift: boolean;
  readonly predictionDrift: boolean;
  readonly eventsPut: number;
}

/** The job's input was not usable (a hand-made event): the error names what to send. */
export class DriftJobInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriftJobInputError';
  }
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

interface Row {
  readonly features: FeatureValue[];
  readonly predictedClass: ClassLabel | null | undefined;
  readonly key: string;
}

interface ModelState {
  readonly sha: string;
  readonly versions: Set<string>;
  baseline: DriftBaseline | null;
  status: ModelRunStatus;
  detail?: string;
  captured: number;
  withoutBaseline: number;
  readonly reservoir: Reservoir<Row>;
}

interface Label {
  trueClass: ClassLabel;
  writtenMs: number;
  received: boolean;
  matched: boolean;
}

const METRICS = [
  MONITOR_METRIC.rowsEvaluated, MONITOR_METRIC.driftedFeatures, MONITOR_METRIC.driftShare, MONITOR_METRIC.datasetDrift,
  MONITOR_METRIC.predictionDrift, MONITOR_METRIC.invalidCaptureLines, MONITOR_METRIC.missingBaselines,
].map((name) => ({ name, unit: 'Count' as const }));
const ACCURACY_METRICS = [{ name: MONITOR_METRIC.accuracy, unit: 'Count' as const }, { name: MONITOR_METRIC.labeledRows, unit: 'Count' as const }];

/** The window's end: `windowEnd` of a hand-made event, the scheduled event's `time`, or now; floored to the hour. */
export function windowEndOf(event: DriftJobEvent | null | undefined, now: Date): Date {
  const raw = event?.windowEnd ?? event?.time;
  if (raw === undefined) return now;
  const t = typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw) ? new Date(raw) : new Date(NaN);
  if (!Number.isFinite(t.getTime())) {
    throw new DriftJobInputError('windowEnd must be an ISO-8601 time such as "2026-03-01T00:00:00Z" (the window ends at that hour, exclusive)');
  }
  return t;
}

/** Longest ad-hoc window: 31 days, the longest scheduled one. */
const MAX_AD_HOC_MS = 31 * DAY_MS;

/** The window of an event: an ad-hoc `[windowStart, windowEnd)`, or `hours` hours ending at `windowEndOf` floored to the hour. */
export function windowOf(event: DriftJobEvent | null | undefined, now: Date, hours: number): CaptureWindow & { readonly adHoc: boolean } {
  if (event?.windowStart === undefined) return { ...captureWindow(windowEndOf(event, now), hours), adHoc: false };
  const time = (raw: unknown) => (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw) ? new Date(raw) : new Date(NaN));
  const start = time(event.windowStart);
  const end = time(event.windowEnd);
  const span = end.getTime() - start.getTime();
  if (!Number.isFinite(span) || span <= 0 || span > MAX_AD_HOC_MS) {
    throw new DriftJobInputError('an ad-hoc window needs windowStart and windowEnd, ISO-8601 times such as "2026-03-01T10:15:00Z", start before end, at most 31 days apart');
  }
  const first = floorToHour(start).getTime();
  const hourStarts: Date[] = [];
  for (let h = first; h < end.getTime(); h += HOUR_MS) hourStarts.push(new Date(h));
  return { start, end, hours: hourStarts, adHoc: true };
}

/** The drift job: `(event) => summary`. */
export function createDriftJob(deps: DriftJobDeps): (event?: DriftJobEvent) => Promise<DriftRunSummary> {
  const { s3, config, env } = deps;
  const bucket = env.modelsBucket;
  const now = deps.now ?? (() => new Date());
  const concurrency = deps.readConcurrency ?? 8;
  const metrics = createMetrics(MONITOR_METRICS_NAMESPACE, config.service);
  const record: MetricRecorder = metricRecorder(metrics, METRICS, deps.writeMetrics);
  const recordAccuracy: MetricRecorder = metricRecorder(metrics, ACCURACY_METRICS, deps.writeMetrics);
  const e = config.captureName;

  return async (event) => {
    const window = windowOf(event, now(), config.windowHours);
    const lookbackStartMs = window.end.getTime() - config.groundTruthLookbackDays * DAY_MS;
    const generatedAt = now().toISOString();

    // 1. Ground truth of the lookback.
    const labels = new Map<string, Label>();
    const gt = { objects: 0, lines: 0, beyondCap: 0, invalid: {} as Record<string, number> };
    const days: string[] = [];
    for (let d = Math.floor(lookbackStartMs / DAY_MS) * DAY_MS; d < window.end.getTime(); d += DAY_MS) {
      days.push(`${MONITORING_KEYS.groundTruthPrefix(e)}${datePartition(new Date(d))}`);
    }
    // Newest day first, one day after the other: past the cap, the oldest labels are the ones left
    // out (counted), never the labels received in the window.
    days.reverse();
    for (const day of days) {
      const objects = await listObjects(s3, bucket, day);
      gt.objects += objects.length;
      await forEachLimited(objects, concurrency, async (o) => {
        const received = o.lastModifiedMs >= window.start.getTime() && o.lastModifiedMs < window.end.getTime();
        for await (const line of objectLines(s3, bucket, o.key)) {
          gt.lines++;
          const p = parseGroundTruthLine(line);
          if (!p.ok) {
            gt.invalid[p.reason] = (gt.invalid[p.reason] ?? 0) + 1;
            continue;
          }
          const key = exampleKey(p.record.inferenceId, p.record.example);
          const known = labels.get(key);
          if (known === undefined && labels.size >= config.maxGroundTruthLabels) {
            gt.beyondCap++;
          } else if (known === undefined || known.writtenMs <= o.lastModifiedMs) {
            labels.set(key, { trueClass: p.record.trueClass, writtenMs: o.lastModifiedMs, received, matched: false });
          }
        }
      });
    }
    const late = { joined: 0, correct: 0 };
    const joinLate = (key: string, predicted: ClassLabel | null | undefined) => {
      const label = labels.get(key);
      if (label === undefined || !label.received || label.matched || predicted == null) return;
      label.matched = true;
      late.joined++;
      if (categoryKey(predicted) === categoryKey(label.trueClass)) late.correct++;
    };

    // 2. Captures of the window.
    const modelFolders = await listFolders(s3, bucket, MONITORING_KEYS.capturesPrefix(e));
    const random = new SeededRandom(Math.floor(window.end.getTime() / HOUR_MS));
    const models = new Map<string, ModelState>();
    const lines = { objects: 0, read: 0, valid: 0, outsideWindow: 0, invalid: {} as Record<string, number> };
    const invalidLine = (reason: string) => {
      // An ad-hoc window cuts through its first and last hours: their other lines are fine, just not asked for.
      if (reason === 'outside-window' && window.adHoc) lines.outsideWindow++;
      else lines.invalid[reason] = (lines.invalid[reason] ?? 0) + 1;
    };
    const pendingBaselines = new Map<string, Promise<void>>();
    const modelOf = async (sha: string, version: string): Promise<ModelState> => {
      let m = models.get(sha);
      if (m === undefined) {
        m = { sha, versions: new Set(), baseline: null, status: 'missing-baseline', captured: 0, withoutBaseline: 0, reservoir: new Reservoir<Row>(config.maxRowsPerModel, random) };
        models.set(sha, m);
        pendingBaselines.set(sha, loadBaseline(m));
      }
      m.versions.add(version);
      const pending = pendingBaselines.get(sha);
      if (pending) {
        await pending;
        pendingBaselines.delete(sha);
      }
      return m;
    };
    const loadBaseline = async (m: ModelState) => {
      // Listed first: a GetObject of a missing key is a 403, not a 404, for a role that may list
      // only some prefixes, and any other failure must fail the run, not pass for a missing baseline.
      const key = MONITORING_KEYS.baseline(m.sha);
      if (!(await listObjects(s3, bucket, key)).some((o) => o.key === key)) return; // status stays missing-baseline
      let text: string;
      try {
        text = await readWhole(s3, bucket, key);
      } catch (err) {
        if (isMissing(err)) return; // deleted since the listing
        throw err;
      }
      let baseline: DriftBaseline;
      try {
        baseline = parseBaseline(JSON.parse(text));
      } catch (err) {
        m.status = 'invalid-baseline';
        m.detail = err instanceof InvalidBaselineError ? err.message : 'the baseline is not JSON';
        return;
      }
      const names = baseline.features.map((f) => f.name);
      if (baseline.modelSha256 !== m.sha) {
        m.status = 'invalid-baseline';
        m.detail = 'the baseline names another model (modelSha256)';
        return;
      }
      if (config.features && (config.features.length !== names.length || config.features.some((f, i) => f !== names[i]))) {
        m.status = 'baseline-mismatch';
        m.detail = `the baseline's features are ${names.join(', ')}; the monitor expects ${config.features.join(', ')}`;
        return;
      }
      try {
        validateDriftConfig(baseline, config.drift);
      } catch (err) {
        m.status = 'baseline-mismatch';
        m.detail = (err as Error).message;
        return;
      }
      m.baseline = baseline;
      m.status = 'evaluated';
    };

    const windowExpectation: CaptureExpectation = {
      endpoint: e, fromMs: window.start.getTime(), toMs: window.end.getTime(), inputName: config.inputName,
    };
    const windowObjects = await listCaptureObjects(s3, bucket, modelFolders, window.hours);
    lines.objects = windowObjects.length;
    await forEachLimited(windowObjects, concurrency, async (key) => {
      for await (const line of objectLines(s3, bucket, key)) {
        lines.read++;
        const p = parseCaptureLine(line, windowExpectation);
        if (!p.ok) {
          invalidLine(p.reason);
          continue;
        }
        const c = p.record;
        const width = c.rows[0].length;
        if (config.features && width !== config.features.length) {
          invalidLine('feature-width');
          continue;
        }
        // The model's state, once its baseline is read (no await per line after the first).
        let m = models.get(c.modelSha256);
        if (m === undefined || pendingBaselines.get(c.modelSha256) !== undefined) m = await modelOf(c.modelSha256, c.modelVersion);
        else m.versions.add(c.modelVersion);
        if (m.baseline && width !== m.baseline.features.length) {
          invalidLine('feature-width');
          continue;
        }
        lines.valid++;
        c.rows.forEach((features, i) => {
          const row: Row = { features, predictedClass: c.predictedClasses?.[i], key: exampleKey(c.inferenceId, i) };
          m.captured++;
          joinLate(row.key, row.predictedClass);
          if (m.baseline) m.reservoir.add(row);
          else m.withoutBaseline++;
        });
      }
    });

    // 3. Late ground truth: the capture hours before the window that received labels point at.
    const earlierHours = new Set<number>();
    for (const [key, label] of labels) {
      if (!label.received || label.matched) continue;
      const t = uuidV7Time(key.slice(0, key.lastIndexOf('#')));
      if (t !== undefined && t >= lookbackStartMs && t < window.start.getTime()) earlierHours.add(hourOf(t));
    }
    const hours = [...earlierHours].sort((a, b) => a - b);
    if (hours.length > 0) {
      const objects = await listCaptureObjects(s3, bucket, modelFolders, hours.map((h) => new Date(h)));
      await forEachLimited(objects, concurrency, async (key) => {
        const hour = hourOfKey(key);
        const expectation: CaptureExpectation = { endpoint: e, fromMs: hour, toMs: hour + HOUR_MS, inputName: config.inputName };
        for await (const line of objectLines(s3, bucket, key)) {
          const p = parseCaptureLine(line, expectation);
          if (p.ok) p.record.rows.forEach((_, i) => joinLate(exampleKey(p.record.inferenceId, i), p.record.predictedClasses?.[i]));
        }
      });
    }
    let receivedInWindow = 0;
    for (const label of labels.values()) if (label.received) receivedInWindow++;

    // 4. Evaluate, report, publish.
    const folder = window.adHoc ? MONITORING_KEYS.adHocReportFolder(e, window.start, window.end) : MONITORING_KEYS.reportFolder(e, window.end);
    const reportKey = `${folder}${DRIFT_REPORT_FILES.json}`;
    const htmlKey = `${folder}${DRIFT_REPORT_FILES.html}`;
    const reportUri = `s3://${bucket}/${reportKey}`;
    const htmlUri = `s3://${bucket}/${htmlKey}`;
    const windowStart = window.start.toISOString();
    const windowEnd = window.end.toISOString();
    const modelReports: ModelRunReport[] = [...models.values()].sort((a, b) => (a.sha < b.sha ? -1 : 1)).map((m) => {
      const modelVersion = [...m.versions].sort().join(', ');
      const base = { modelVersion, modelSha256: m.sha };
      const kept = m.reservoir.items.length;
      const rows = { captured: m.captured, evaluated: 0, beyondCap: m.reservoir.leftOut, notEnoughData: 0, withoutBaseline: m.withoutBaseline };
      if (m.baseline === null) return { ...base, status: m.status, ...(m.detail ? { detail: m.detail } : {}), rows };
      if (m.reservoir.seen < config.minimumRows) {
        return { ...base, status: 'not-enough-data' as const, detail: `${m.reservoir.seen} examples, fewer than the minimum ${config.minimumRows}`, rows: { ...rows, beyondCap: 0, notEnoughData: m.reservoir.seen } };
      }
      const windowRows: WindowRow[] = m.reservoir.items.map((r) => ({
        features: r.features, predictedClass: r.predictedClass, trueClass: labels.get(r.key)?.trueClass,
      }));
      const result = evaluateDrift(m.baseline, windowRows, config.drift);
      return { ...base, status: 'evaluated' as const, rows: { ...rows, evaluated: kept }, drift: modelDriftDocument(result, modelVersion, windowStart, windowEnd, generatedAt) };
    });
    const evaluated = modelReports.filter((m) => m.drift !== undefined);
    const joined = late.joined;
    const run: DriftRunReport = {
      reportType: 'drift-run',
      schemaVersion: 1,
      endpoint: e,
      windowStart,
      windowEnd,
      generatedAt,
      minimumRows: config.minimumRows,
      maxRowsPerModel: config.maxRowsPerModel,
      lines,
      models: modelReports,
      groundTruth: {
        lookbackDays: config.groundTruthLookbackDays,
        objects: gt.objects,
        lines: gt.lines,
        labels: labels.size,
        invalid: gt.invalid,
        beyondCap: gt.beyondCap,
        receivedInWindow,
        joined,
        correct: late.correct,
        accuracy: joined === 0 ? null : late.correct / joined,
        unmatched: receivedInWindow - joined,
        earlierHoursRead: hours.length,
      },
      datasetDrift: evaluated.some((m) => m.drift!.dataset.drifted),
      predictionDrift: evaluated.some((m) => m.drift!.prediction.drifted),
    };

    await putReport(reportKey, JSON.stringify(run), 'application/json');
    await putReport(htmlKey, renderDriftRunHtml(run), 'text/html; charset=utf-8');

    const invalidCount = Object.values(lines.invalid).reduce((a, b) => a + b, 0);
    const max = (f: (m: ModelRunReport) => number) => evaluated.reduce((acc, m) => Math.max(acc, f(m)), 0);
    record([
      evaluated.reduce((acc, m) => acc + m.rows.evaluated, 0),
      max((m) => m.drift!.dataset.driftedFeatures),
      max((m) => m.drift!.dataset.share),
      run.datasetDrift ? 1 : 0,
      run.predictionDrift ? 1 : 0,
      invalidCount,
      modelReports.filter((m) => m.status === 'missing-baseline' || m.status === 'invalid-baseline' || m.status === 'baseline-mismatch').length,
    ], { windowEnd, report: reportUri });
    if (joined > 0) recordAccuracy([late.correct / joined, joined], { windowEnd });

    const entries = evaluated.filter((m) => m.drift!.dataset.drifted || m.drift!.prediction.drifted).map((m) => {
      const d = m.drift!;
      const detail: ModelDriftDetectedDetail = {
        endpoint: e,
        modelVersion: m.modelVersion,
        modelSha256: m.modelSha256,
        windowStart,
        windowEnd,
        rowCount: d.rowCount,
        driftedFeatures: d.features.filter((f) => f.drifted).map((f) => f.name),
        driftShare: d.dataset.share,
        datasetDrift: d.dataset.drifted,
        predictionDrift: d.prediction.drifted,
        report: reportUri,
        reportHtml: htmlUri,
      };
      return {
        Source: MONITOR_EVENT_SOURCE,
        DetailType: MONITOR_DETAIL_TYPE.modelDriftDetected,
        Detail: JSON.stringify(detail),
        EventBusName: env.eventBusName,
      };
    });
    for (let i = 0; i < entries.length; i += 10) {
      const res = await deps.events.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
      if ((res.FailedEntryCount ?? 0) > 0) {
        const codes = [...new Set((res.Entries ?? []).map((x) => x.ErrorCode).filter(Boolean))].join(', ');
        throw new Error(`PutEvents failed for ${res.FailedEntryCount} "Model Drift Detected" event(s) (${codes || 'no error code'}); the report is written, rerun the window to retry`);
      }
    }

    return {
      windowStart,
      windowEnd,
      report: reportUri,
      reportHtml: htmlUri,
      rowsEvaluated: evaluated.reduce((acc, m) => acc + m.rows.evaluated, 0),
      datasetDrift: run.datasetDrift,
      predictionDrift: run.predictionDrift,
      eventsPut: entries.length,
    };
  };

  async function putReport(key: string, body: string, contentType: string): Promise<void> {
    await s3.send(new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: env.lakeKeyArn,
    }));
  }
}

/** Every capture object of the given hours, in every model folder. */
async function listCaptureObjects(s3: S3Api, bucket: string, modelFolders: readonly string[], hours: readonly Date[]): Promise<string[]> {
  const prefixes = modelFolders.flatMap((m) => hours.map((h) => `${m}${hourPartition(h)}`));
  const out: string[][] = new Array(prefixes.length);
  await forEachLimited(prefixes.map((p, i) => [p, i] as const), 8, async ([p, i]) => {
    out[i] = (await listObjects(s3, bucket, p)).map((o) => o.key);
  });
  return out.flat();
}

/** The hour a capture key's `date=/hour=` partition names (ms). */
function hourOfKey(key: string): number {
  const m = /\/date=(\d{4})-(\d{2})-(\d{2})\/hour=(\d{2})\//.exec(key);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4])) : NaN;
}

async function readWhole(s3: S3Api, bucket: string, key: string): Promise<string> {
  const parts: string[] = [];
  for await (const line of objectLines(s3, bucket, key)) parts.push(line);
  return parts.join('\n');
}
