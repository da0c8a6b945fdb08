/**
 * The report of one drift run (one endpoint, one window): what was read and what happened to
 * every line and example (nothing left out without a count), each model's drift result, and the
 * ground truth joined. `drift-report.json` is `DriftRunReport`; `drift-report.html` is one
 * self-contained page: the run's summary, then each evaluated model's drift report
 * (`renderDriftReportHtml`, its element ids prefixed per model).
 */
import { DriftResult } from './drift';
import { driftReportJson, DriftReportDocument, escapeHtml as esc, renderDriftReportHtml } from './report';

/** The status of one model of the window. */
export type ModelRunStatus = 'evaluated' | 'not-enough-data' | 'missing-baseline' | 'invalid-baseline' | 'baseline-mismatch';

/** Examples of one model, by what happened to them: `captured` = the sum of the others. */
export interface RowAccounting {
  /** Examples of valid capture lines. */
  readonly captured: number;
  /** Evaluated against the baseline. */
  readonly evaluated: number;
  /** Left out of the evaluation by the per-model cap (uniform reservoir sample). */
  readonly beyondCap: number;
  /** Fewer than the minimum: the model was not evaluated. */
  readonly notEnoughData: number;
  /** The model has no usable baseline (missing, invalid, or another feature layout). */
  readonly withoutBaseline: number;
}

/** One model of the window. */
export interface ModelRunReport {
  readonly modelVersion: string;
  readonly modelSha256: string;
  readonly status: ModelRunStatus;
  /** Why the model was not evaluated (names and counts only). */
  readonly detail?: string;
  readonly rows: RowAccounting;
  /** The drift report, when evaluated. */
  readonly drift?: DriftReportDocument;
}

/** Capture lines read, by outcome: `read` = `valid` + the sum of `invalid`. */
export interface LineAccounting {
  readonly objects: number;
  readonly read: number;
  readonly valid: number;
  /** Lines of the window's hours outside an ad-hoc window (0 for scheduled windows, which are whole hours). */
  readonly outsideWindow: number;
  /** Invalid lines by reason. */
  readonly invalid: Record<string, number>;
}

/** Ground truth received in the window and joined to captured predictions. */
export interface GroundTruthReport {
  /** Days of `date=` partitions read. */
  readonly lookbackDays: number;
  readonly objects: number;
  readonly lines: number;
  /** Valid lines kept (the latest line of an example wins). */
  readonly labels: number;
  /** Invalid lines by reason. */
  readonly invalid: Record<string, number>;
  /** Valid lines beyond the per-run cap (counted, not used). */
  readonly beyondCap: number;
  /** Labels written in the window (object LastModified within it). */
  readonly receivedInWindow: number;
  /** Of those, labels joined to a captured prediction (of this window or an earlier hour of the lookback). */
  readonly joined: number;
  /** Of those, right predictions. */
  readonly correct: number;
  /** correct / joined; null when none joined. */
  readonly accuracy: number | null;
  /** Received in the window but no captured prediction found (id not a UUID v7 of the lookback, capture not sampled or expired, or a prediction without a class). */
  readonly unmatched: number;
  /** Capture hours before the window read to join late labels (at most one per hour of the lookback). */
  readonly earlierHoursRead: number;
}

/** `drift-report.json` of one run. */
export interface DriftRunReport {
  readonly reportType: 'drift-run';
  readonly schemaVersion: 1;
  readonly endpoint: string;
  /** ISO-8601, start inclusive, end exclusive. */
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly generatedAt: string;
  readonly minimumRows: number;
  readonly maxRowsPerModel: number;
  readonly lines: LineAccounting;
  readonly models: ModelRunReport[];
  readonly groundTruth: GroundTruthReport;
  /** True when an evaluated model's dataset drifted. */
  readonly datasetDrift: boolean;
  /** True when an evaluated model's predicted-class distribution drifted. */
  readonly predictionDrift: boolean;
}

/** A model's drift report document for the run report. */
export function modelDriftDocument(
  result: DriftResult, modelVersion: string, windowStart: string, windowEnd: string, generatedAt: string,
): DriftReportDocument {
  return driftReportJson(result, { modelName: modelVersion, windowStart, windowEnd, generatedAt });
}

const STATUS_TEXT: Record<ModelRunStatus, string> = {
  'evaluated': 'evaluated',
  'not-enough-data': 'not enough data',
  'missing-baseline': 'no baseline',
  'invalid-baseline': 'invalid baseline',
  'baseline-mismatch': 'baseline does not fit',
};

/** The run's self-contained HTML page. */
export function renderDriftRunHtml(run: DriftRunReport): string {
  const sections: string[] = [];
  let style = '';
  run.models.forEach((m, i) => {
    if (!m.drift) return;
    const page = renderDriftReportHtml(m.drift, m.drift.meta);
    style ||= /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
    const body = /<body>([\s\S]*)<\/body>/.exec(page)?.[1] ?? '';
    // Element ids are unique per page: prefix them per model.
    const prefixed = body.replace(/(id="|aria-labelledby="|href="#)/g, `$1m${i}-`).replace(/<h1>/g, '<h2>').replace(/<\/h1>/g, '</h2>');
    sections.push(`<article id="model-${i}">${prefixed.replace(/<h2>(Summary|Distributions)<\/h2>/g, '<h3>$1</h3>')}</article>`);
  });
  const verdict = run.datasetDrift || run.predictionDrift
    ? `<strong>▲ DRIFT</strong>: ${[run.datasetDrift ? 'dataset drift' : '', run.predictionDrift ? 'prediction drift' : ''].filter(Boolean).join(' and ')}`
    : run.models.some((m) => m.status === 'evaluated') ? '<strong>No drift</strong>' : '<strong>Not evaluated</strong>: no model of the window had enough data and a usable baseline';
  const invalid = Object.entries(run.lines.invalid).map(([k, v]) => `${esc(k)}: ${v}`).join(', ') || 'none';
  const gt = run.groundTruth;
  const facts: Array<[string, string]> = [
    ['Endpoint', esc(run.endpoint)],
    ['Window', `${esc(run.windowStart)} – ${esc(run.windowEnd)}`],
    ['Capture objects / lines', `${run.lines.objects} / ${run.lines.read} (${run.lines.valid} valid${run.lines.outsideWindow ? `, ${run.lines.outsideWindow} outside the ad-hoc window` : ''})`],
    ['Invalid lines', invalid],
    ['Ground truth received in the window', `${gt.receivedInWindow} labels, ${gt.joined} joined, ${gt.unmatched} unmatched; accuracy ${gt.accuracy === null ? 'n/a' : `${(gt.accuracy * 100).toFixed(1)} %`}`],
    ['Generated', esc(run.generatedAt)],
  ];
  const modelRows = run.models.map((m) => `<tr><td>${esc(m.modelVersion)}</td><td><code>${esc(m.modelSha256.slice(0, 12))}…</code></td><td>${STATUS_TEXT[m.status]}${m.detail ? ` (${esc(m.detail)})` : ''}</td>`
    + `<td class="n">${m.rows.captured}</td><td class="n">${m.rows.evaluated}</td><td class="n">${m.rows.beyondCap}</td><td class="n">${m.rows.notEnoughData}</td><td class="n">${m.rows.withoutBaseline}</td></tr>`).join('');
  return [
    '<!DOCTYPE html>',
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Drift run – ${esc(run.endpoint)} – ${esc(run.windowEnd)}</title><style>${style || 'body{font:14px/1.4 system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:.25em .6em}'}</style></head>`,
    `<body><h1>Drift run – ${esc(run.endpoint)}</h1><p>${verdict}</p>`,
    `<table><caption>Run</caption><tbody>${facts.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`).join('')}</tbody></table>`,
    '<table><caption>Models (examples)</caption><thead><tr><th scope="col">Model</th><th scope="col">SHA-256</th><th scope="col">Status</th><th scope="col">Captured</th>',
    `<th scope="col">Evaluated</th><th scope="col">Beyond cap</th><th scope="col">Not enough data</th><th scope="col">Without baseline</th></tr></thead><tbody>${modelRows || '<tr><td colspan="8">no captures in the window</td></tr>'}</tbody></table>`,
    ...sections,
    '</body></html>',
  ].join('\n');
}
