/**
 * The drift report, as JSON (`driftReportJson`) and as one self-contained HTML page
 * (`renderDriftReportHtml`): no scripts, no external styles, fonts or images; one small inline SVG
 * chart per feature (baseline vs window, as shares, so windows of any size compare) and for the
 * predicted class; a summary table. Drift is marked by text and a marker (▲ DRIFT), not by colour
 * alone. Every string that comes from data (feature names, categories, metadata) is escaped.
 */
import { ColumnDrift, DistributionComparison, DriftResult } from './drift';

/** What the report says about where the window came from (all optional, all shown as text). */
export interface DriftReportMeta {
  /** A name for the model or endpoint. */
  readonly modelName?: string;
  /** ISO 8601 times of the window. */
  readonly windowStart?: string;
  readonly windowEnd?: string;
  /** When the report was made (ISO 8601). The report has no clock of its own: it stays reproducible. */
  readonly generatedAt?: string;
}

/** The JSON report document. */
export interface DriftReportDocument extends DriftResult {
  readonly reportType: 'drift-report';
  readonly meta: DriftReportMeta;
}

/** The JSON report: the result plus its metadata; every number in it is finite (JSON has no Infinity or NaN). */
export function driftReportJson(result: DriftResult, meta: DriftReportMeta = {}): DriftReportDocument {
  const doc: DriftReportDocument = { reportType: 'drift-report', meta: { ...meta }, ...result };
  JSON.stringify(doc, (key, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`driftReportJson: ${key} is not a finite number`);
    return v;
  });
  return doc;
}

/** Most bars a category chart shows; the least frequent categories beyond are summed as "+N more". */
const MAX_CHART_CATEGORIES = 12;

const STYLE = [
  'body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}',
  'table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}',
  'td.n{text-align:right;font-variant-numeric:tabular-nums}',
  'tr.drift{font-weight:bold;background:#fdecea}.badge{white-space:nowrap}',
  '.grid{display:flex;flex-wrap:wrap;gap:1em}section{border:1px solid #ccc;padding:.5em;width:340px}',
  'section.drift{border:3px solid #b3261e}h3{font-size:1em;margin:.2em 0}p{margin:.3em 0}',
  '.ref{fill:#8da9c4}.cur{fill:none;stroke:#c2410c;stroke-width:2}.cat-cur{fill:#c2410c}',
  'svg text{font-size:10px;fill:#333}.axis{stroke:#666}',
].join('');

/** Render the self-contained HTML page. */
export function renderDriftReportHtml(result: DriftResult, meta: DriftReportMeta = {}): string {
  const d = result.dataset;
  const title = `Drift report${meta.modelName ? ` – ${meta.modelName}` : ''}`;
  const verdict = d.drifted
    ? `<strong>▲ DATASET DRIFT</strong>: ${d.driftedFeatures} of ${d.testedFeatures} features drifted (${pct(d.share)}; threshold ${pct(d.threshold)})`
    : `<strong>No dataset drift</strong>: ${d.driftedFeatures} of ${d.testedFeatures} features drifted (${pct(d.share)}; threshold ${pct(d.threshold)})`;
  const facts: Array<[string, string]> = [
    ['Model SHA-256', `<code>${esc(result.modelSha256)}</code>`],
    ['Window', meta.windowStart || meta.windowEnd ? `${esc(meta.windowStart ?? '?')} – ${esc(meta.windowEnd ?? '?')}` : 'not given'],
    ['Captured predictions', String(result.rowCount)],
    ['Prediction drift', result.prediction.drifted ? '<strong>▲ DRIFT</strong>' : result.prediction.status === 'skipped' ? 'not tested (no predictions)' : 'none'],
    ['Accuracy', accuracyText(result)],
  ];
  if (meta.generatedAt) facts.push(['Generated', esc(meta.generatedAt)]);

  const rows = [...result.features, result.prediction].map((c, i) => summaryRow(c, i === result.features.length ? 'prediction' : `f${i}`)).join('');
  const cards = result.features.map((c, i) => card(c, `f${i}`)).join('') + card(result.prediction, 'prediction');
  return [
    '<!DOCTYPE html>',
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head>`,
    `<body><h1>${esc(title)}</h1><p>${verdict}</p>`,
    `<table><caption>Window</caption><tbody>${facts.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`).join('')}</tbody></table>`,
    '<h2>Summary</h2><table><thead><tr><th scope="col">Column</th><th scope="col">Test</th><th scope="col">Statistic</th>',
    '<th scope="col">p-value / distance</th><th scope="col">Threshold</th><th scope="col">Values (baseline / window)</th><th scope="col">Result</th></tr></thead>',
    `<tbody>${rows}</tbody></table>`,
    `<h2>Distributions</h2><p>Filled bars: baseline; outlined bars: this window (share of values).</p><div class="grid">${cards}</div>`,
    '</body></html>',
  ].join('\n');
}

const METHOD_NAMES: Record<ColumnDrift['method'], string> = {
  'ks': 'Kolmogorov–Smirnov',
  'chi-squared': 'chi-squared',
  'wasserstein': 'Wasserstein (normed)',
  'jensen-shannon': 'Jensen–Shannon',
};

function summaryRow(c: ColumnDrift, id: string): string {
  const score = c.pValue !== null ? `p = ${num(c.pValue)}` : c.distance !== null ? num(c.distance) : '—';
  const rule = c.method === 'ks' || c.method === 'chi-squared' ? `p < ${num(c.threshold)}` : `≥ ${num(c.threshold)}`;
  return `<tr${c.drifted ? ' class="drift"' : ''}><th scope="row"><a href="#${id}">${esc(c.name)}</a></th><td>${METHOD_NAMES[c.method]}</td>`
    + `<td class="n">${c.statistic === null ? (c.status === 'tested' ? '∞' : '—') : num(c.statistic)}</td><td class="n">${score}</td><td>${rule}</td>`
    + `<td class="n">${c.referenceCount} / ${c.currentCount}</td><td class="badge">${badge(c)}</td></tr>`;
}

function badge(c: ColumnDrift): string {
  if (c.status === 'skipped') return '– skipped (no values)';
  return c.drifted ? '▲ DRIFT' : '✓ ok';
}

function card(c: ColumnDrift, id: string): string {
  const score = c.pValue !== null ? `p = ${num(c.pValue)}` : c.distance !== null ? `distance ${num(c.distance)}` : 'not tested';
  return `<section id="${id}"${c.drifted ? ' class="drift"' : ''}><h3>${esc(c.name)} — ${badge(c)}</h3>`
    + `${chart(c.distribution, `${id}-t`, c.name)}<p>${METHOD_NAMES[c.method]}: ${score}; ${c.currentMissing} missing in the window.</p></section>`;
}

const W = 320;
const H = 150;
const LEFT = 40;
const BOTTOM = 118;
const TOP = 22;

/** One chart: overlaid histograms (numeric) or paired bars (categories), as shares, with a legend. */
function chart(dist: DistributionComparison, titleId: string, name: string): string {
  const bars = dist.type === 'histogram' ? histogramBars(dist) : categoryBars(dist);
  const refTotal = sum(bars.reference);
  const curTotal = sum(bars.current);
  const ref = bars.reference.map((v) => (refTotal ? v / refTotal : 0));
  const cur = bars.current.map((v) => (curTotal ? v / curTotal : 0));
  const top = Math.max(0.01, ...ref, ...cur);
  const slot = (W - LEFT - 4) / Math.max(ref.length, 1);
  const y = (share: number) => BOTTOM - (share / top) * (BOTTOM - TOP);
  const parts: string[] = [];
  ref.forEach((r, i) => {
    const x = LEFT + i * slot;
    if (dist.type === 'histogram') {
      parts.push(rect('ref', x, y(r), slot, BOTTOM - y(r)));
      parts.push(rect('cur', x + 1, y(cur[i]), slot - 2, BOTTOM - y(cur[i])));
    } else {
      const w = slot * 0.4;
      parts.push(rect('ref', x + slot * 0.1, y(r), w, BOTTOM - y(r)));
      parts.push(rect('cat-cur', x + slot * 0.5, y(cur[i]), w, BOTTOM - y(cur[i])));
    }
    if (bars.labels[i] !== '') {
      parts.push(`<text x="${f1(x + slot / 2)}" y="${BOTTOM + 12}" text-anchor="middle">${esc(short(bars.labels[i]))}</text>`);
    }
  });
  const curSwatch = rect(dist.type === 'histogram' ? 'cur' : 'cat-cur', 186, 5, 12, 10);
  const summed = dist.type === 'categories' && dist.categories.length > bars.labels.length
    ? `${dist.categories.length} categories, the ${dist.categories.length - bars.labels.length + 1} least frequent summed as ${bars.labels[bars.labels.length - 1]}`
    : `${bars.labels.length} ${dist.type === 'histogram' ? 'bins' : 'categories'}`;
  const desc = `${name}: baseline vs window, ${summed}`;
  return `<svg role="img" aria-labelledby="${titleId}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><title id="${titleId}">${esc(desc)}</title>`
    + `${rect('ref', LEFT, 5, 12, 10)}<text x="${LEFT + 16}" y="14">baseline (n=${refTotal})</text>${curSwatch}<text x="202" y="14">window (n=${curTotal})</text>`
    + `<line class="axis" x1="${LEFT}" y1="${BOTTOM}" x2="${W - 4}" y2="${BOTTOM}"/><text x="0" y="${TOP + 4}">${pct(top)}</text><text x="0" y="${BOTTOM}">0</text>`
    + `${parts.join('')}${dist.type === 'histogram' ? axisRange(dist) : ''}</svg>`;
}

interface Bars {
  readonly labels: string[];
  readonly reference: number[];
  readonly current: number[];
}

function histogramBars(h: Extract<DistributionComparison, { type: 'histogram' }>): Bars {
  const labels = h.reference.map(() => '');
  const reference = [...h.reference];
  const current = [...h.current];
  if (h.currentBelow > 0) {
    labels.unshift('<min');
    reference.unshift(0);
    current.unshift(h.currentBelow);
  }
  if (h.currentAbove > 0) {
    labels.push('>max');
    reference.push(0);
    current.push(h.currentAbove);
  }
  return { labels, reference, current };
}

function axisRange(h: Extract<DistributionComparison, { type: 'histogram' }>): string {
  const lo = h.edges[0];
  const hi = h.edges[h.edges.length - 1];
  return `<text x="${LEFT}" y="${H - 4}">${num(lo)}</text><text x="${W - 4}" y="${H - 4}" text-anchor="end">${num(hi)}</text>`;
}

function categoryBars(c: Extract<DistributionComparison, { type: 'categories' }>): Bars {
  const order = c.categories.map((_, i) => i);
  if (order.length <= MAX_CHART_CATEGORIES) return { labels: [...c.categories], reference: [...c.reference], current: [...c.current] };
  const refTotal = sum(c.reference) || 1;
  const curTotal = sum(c.current) || 1;
  const weight = (i: number) => c.reference[i] / refTotal + c.current[i] / curTotal;
  order.sort((a, b) => weight(b) - weight(a) || a - b);
  const kept = order.slice(0, MAX_CHART_CATEGORIES - 1).sort((a, b) => a - b);
  const rest = order.slice(MAX_CHART_CATEGORIES - 1);
  return {
    labels: [...kept.map((i) => c.categories[i]), `+${rest.length} more`],
    reference: [...kept.map((i) => c.reference[i]), sum(rest.map((i) => c.reference[i]))],
    current: [...kept.map((i) => c.current[i]), sum(rest.map((i) => c.current[i]))],
  };
}

function rect(cls: string, x: number, y: number, w: number, h: number): string {
  return `<rect class="${cls}" x="${f1(x)}" y="${f1(y)}" width="${f1(Math.max(w, 0))}" height="${f1(Math.max(h, 0))}"/>`;
}

function accuracyText(r: DriftResult): string {
  const a = r.accuracy;
  const base = a.baselineAccuracy === null ? '' : ` (baseline ${pct(a.baselineAccuracy)})`;
  return a.accuracy === null ? `no ground truth yet${base}` : `${pct(a.accuracy)} of ${a.labeled} labeled predictions${base}`;
}

function short(label: string): string {
  return label.length > 10 ? `${label.slice(0, 9)}…` : label;
}

function f1(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

function num(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? String(Number(x.toPrecision(4))) : x.toExponential(2);
}

function pct(x: number): string {
  return `${Number((x * 100).toPrecision(3))} %`;
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Escape text for HTML content and double-quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const esc = escapeHtml;
