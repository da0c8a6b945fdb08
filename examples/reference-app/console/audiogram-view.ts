/// <reference lib="dom" />
/**
 * The reference app's review console view for hearing-test records (docs/formats.md): the
 * audiogram drawn the clinical way, as inline SVG.
 *
 * - frequency on a logarithmic axis, 250 to 8000 Hz, across the top;
 * - hearing level in dB HL increasing downward, −10 at the top to 120 at the bottom;
 * - right ear: red circles joined by a solid red line; left ear: blue crosses joined by a dashed
 *   blue line;
 * - the WHO 2021 grade bands shaded (normal < 20, mild 20–34, moderate 35–49, moderately severe
 *   50–64, severe 65–79, profound 80–94, complete ≥ 95 dB HL);
 * - the better-ear four-frequency average (500, 1000, 2000, 4000 Hz) drawn as a line and written
 *   out with its grade, and a table of the thresholds (the same data for screen readers).
 *
 * A view module for the console (src/review-console/web/view-contract.ts): `matches` and `render`.
 * It builds DOM nodes only (no markup from record values) and sets SVG presentation attributes,
 * never `style`, so the console's CSP needs no 'unsafe-inline'. Bundled with esbuild into
 * `views/audiogram.js` beside the console (see build-views.ts).
 */
import type { ViewContext } from '../../../src/review-console/web/view-contract';

const SVG = 'http://www.w3.org/2000/svg';
type Ear = 'right' | 'left';
/** Thresholds of one ear: frequency (Hz) → dB HL. */
export type EarThresholds = ReadonlyArray<readonly [number, number]>;

/** The WHO 2021 grades: the lowest dB HL of each grade. */
export const WHO_GRADES: ReadonlyArray<{ readonly name: string; readonly from: number; readonly to: number }> = [
  { name: 'Normal', from: -10, to: 20 },
  { name: 'Mild', from: 20, to: 35 },
  { name: 'Moderate', from: 35, to: 50 },
  { name: 'Moderately severe', from: 50, to: 65 },
  { name: 'Severe', from: 65, to: 80 },
  { name: 'Profound', from: 80, to: 95 },
  { name: 'Complete', from: 95, to: 120 },
];
const BAND_FILL = ['#ffffff', '#fbf5e6', '#f7ead0', '#f2ddb8', '#ecd0a3', '#e5c291', '#dcb483'];

/** The four frequencies of the WHO average. */
export const FOUR_FREQUENCIES = [500, 1000, 2000, 4000] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An ear's thresholds from a record, sorted by frequency (non-numbers and odd keys left out). */
export function earThresholds(record: unknown, ear: Ear): EarThresholds {
  const t = isObject(record) && isObject(record.thresholds) ? record.thresholds[ear] : undefined;
  if (!isObject(t)) return [];
  return Object.entries(t)
    .filter(([f, v]) => /^[0-9]{2,5}$/.test(f) && typeof v === 'number' && Number.isFinite(v))
    .map(([f, v]) => [Number(f), v as number] as const)
    .sort((a, b) => a[0] - b[0]);
}

/** The four-frequency average of one ear, or undefined when one of the four is missing. */
export function fourFrequencyAverage(ear: EarThresholds): number | undefined {
  const at = new Map(ear);
  if (!FOUR_FREQUENCIES.every((f) => at.has(f))) return undefined;
  return FOUR_FREQUENCIES.reduce((sum, f) => sum + at.get(f)!, 0) / FOUR_FREQUENCIES.length;
}

/** The better (lower) ear's four-frequency average, or undefined when neither ear has all four. */
export function betterEar(record: unknown): { ear: Ear; average: number } | undefined {
  const r = fourFrequencyAverage(earThresholds(record, 'right'));
  const l = fourFrequencyAverage(earThresholds(record, 'left'));
  if (r === undefined && l === undefined) return undefined;
  if (l === undefined || (r !== undefined && r <= l)) return { ear: 'right', average: r! };
  return { ear: 'left', average: l };
}

/** The WHO grade of a better-ear average. */
export function whoGrade(average: number): string {
  return [...WHO_GRADES].reverse().find((g) => average >= g.from)?.name ?? WHO_GRADES[0].name;
}

/** A hearing-test record: thresholds of at least one ear. */
export function matches(record: unknown): boolean {
  return earThresholds(record, 'right').length > 0 || earThresholds(record, 'left').length > 0;
}

/** Geometry of the chart (SVG user units): a wide layout, and a compact one for phones. */
interface Geometry {
  readonly W: number;
  readonly H: number;
  readonly M: { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number };
  readonly font: number;
  readonly bandLabel: (i: number) => string;
}
const DB_MIN = -10;
const DB_MAX = 120;
const LOG_MIN = Math.log2(250) - 0.3;
const LOG_MAX = Math.log2(8000) + 0.3;
const bandRange = (i: number) => (i === 0 ? '< 20' : i === WHO_GRADES.length - 1 ? '≥ 95' : `${WHO_GRADES[i].from}–${WHO_GRADES[i].to - 1}`);
const WIDE: Geometry = {
  W: 760, H: 560, M: { left: 64, right: 168, top: 56, bottom: 20 }, font: 12, bandLabel: (i) => `${WHO_GRADES[i].name} ${bandRange(i)}`,
};
const SHORT_NAMES = ['Normal', 'Mild', 'Moderate', 'Mod. severe', 'Severe', 'Profound', 'Complete'];
const COMPACT: Geometry = {
  W: 380, H: 440, M: { left: 44, right: 78, top: 48, bottom: 12 }, font: 12, bandLabel: (i) => SHORT_NAMES[i],
};
/** Container width (CSS px) below which the compact layout is used. */
export const COMPACT_BELOW = 560;

const COLOR: Record<Ear, string> = { right: '#c8102e', left: '#0033a0' };
const xOf = (g: Geometry) => (hz: number) => g.M.left + ((Math.log2(hz) - LOG_MIN) / (LOG_MAX - LOG_MIN)) * (g.W - g.M.left - g.M.right);
const yOf = (g: Geometry) => (level: number) => g.M.top + ((Math.min(DB_MAX, Math.max(DB_MIN, level)) - DB_MIN) / (DB_MAX - DB_MIN)) * (g.H - g.M.top - g.M.bottom);
const FONT = 'DejaVu Sans, Verdana, sans-serif';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: Array<Node | string>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

function html<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string>, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

const hzLabel = (hz: number) => (hz >= 1000 ? `${hz / 1000}k` : String(hz));
const db = (v: number) => `${Number.isInteger(v) ? v : v.toFixed(1)} dB HL`;

function marker(ear: Ear, cx: number, cy: number): SVGElement {
  if (ear === 'right') return svg('circle', { 'cx': cx, 'cy': cy, 'r': 7, 'fill': '#ffffff', 'stroke': COLOR.right, 'stroke-width': 2.5 });
  const d = 6;
  return svg('path', { 'd': `M${cx - d},${cy - d}L${cx + d},${cy + d}M${cx - d},${cy + d}L${cx + d},${cy - d}`, 'stroke': COLOR.left, 'stroke-width': 2.5, 'fill': 'none' });
}

let rendered = 0;

/** Draws the audiogram of `record` into `container`. */
export function render(container: HTMLElement, record: unknown, context: ViewContext): void {
  const id = `audiogram-${++rendered}`;
  const ears: Record<Ear, EarThresholds> = { right: earThresholds(record, 'right'), left: earThresholds(record, 'left') };
  const better = betterEar(record);
  const summary = better
    ? `Better ear (${better.ear}): four-frequency average ${db(better.average)}, WHO grade ${whoGrade(better.average).toLowerCase()}.`
    : 'Four-frequency average: not available (a threshold at 500, 1000, 2000 or 4000 Hz is missing in both ears).';

  const g = container.clientWidth > 0 && container.clientWidth < COMPACT_BELOW ? COMPACT : WIDE;
  const { W, H, M, font } = g;
  const x = xOf(g);
  const y = yOf(g);
  const chart = svg('svg', {
    'viewBox': `0 0 ${W} ${H}`,
    'width': '100%',
    'role': 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
    'font-family': FONT,
    'class': 'audiogram',
    'data-view': 'audiogram',
    'data-layout': g === COMPACT ? 'compact' : 'wide',
  },
  svg('title', { id: `${id}-title` }, `Audiogram of record ${context.recordId}`),
  svg('desc', { id: `${id}-desc` }, `Hearing thresholds of the right ear (red circles) and left ear (blue crosses), 250 to 8000 Hz. ${summary}`));
  const text = (attrs: Record<string, string | number>, content: string) => svg('text', { 'font-size': font, 'fill': '#1b1f24', ...attrs }, content);

  // WHO grade bands, labelled on the right.
  WHO_GRADES.forEach((grade, i) => {
    chart.appendChild(svg('rect', {
      'x': M.left, 'y': y(grade.from), 'width': W - M.left - M.right, 'height': y(grade.to) - y(grade.from), 'fill': BAND_FILL[i], 'data-band': grade.name,
    }));
    chart.appendChild(text({ x: W - M.right + 6, y: (y(grade.from) + y(grade.to)) / 2 + 4 }, g.bandLabel(i)));
  });
  // Grid: every 10 dB; every octave (solid) and half octave (dashed).
  for (let v = DB_MIN; v <= DB_MAX; v += 10) {
    chart.appendChild(svg('line', { 'x1': M.left, 'x2': W - M.right, 'y1': y(v), 'y2': y(v), 'stroke': '#8a96a3', 'stroke-width': v === 0 ? 1.5 : 0.75 }));
    chart.appendChild(text({ 'x': M.left - 6, 'y': y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  for (const hz of [250, 500, 1000, 2000, 4000, 8000]) {
    chart.appendChild(svg('line', { 'x1': x(hz), 'x2': x(hz), 'y1': M.top, 'y2': H - M.bottom, 'stroke': '#8a96a3', 'stroke-width': 0.75 }));
    chart.appendChild(text({ 'x': x(hz), 'y': M.top - 8, 'text-anchor': 'middle' }, hzLabel(hz)));
  }
  for (const hz of [750, 1500, 3000, 6000]) {
    chart.appendChild(svg('line', { 'x1': x(hz), 'x2': x(hz), 'y1': M.top, 'y2': H - M.bottom, 'stroke': '#8a96a3', 'stroke-width': 0.5, 'stroke-dasharray': '3 4' }));
  }
  chart.appendChild(svg('rect', { 'x': M.left, 'y': M.top, 'width': W - M.left - M.right, 'height': H - M.top - M.bottom, 'fill': 'none', 'stroke': '#1b1f24', 'stroke-width': 1 }));
  chart.appendChild(text({ 'x': (M.left + W - M.right) / 2, 'y': 18, 'text-anchor': 'middle' }, 'Frequency (Hz)'));
  chart.appendChild(text({ 'x': 0, 'y': 0, 'text-anchor': 'middle', 'transform': `translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)` }, 'Hearing level (dB HL)'));

  // The better-ear average: a dashed line, labelled at its right end over a white halo.
  if (better) {
    chart.appendChild(svg('line', {
      'x1': M.left, 'x2': W - M.right, 'y1': y(better.average), 'y2': y(better.average), 'stroke': '#1b1f24', 'stroke-width': 1.5, 'stroke-dasharray': '8 5', 'data-average': better.average,
    }));
    chart.appendChild(text({
      'x': W - M.right - 6,
      'y': y(better.average) + (better.average > 100 ? -6 : 16),
      'text-anchor': 'end',
      'font-weight': 'bold',
      'stroke': '#ffffff',
      'stroke-width': 4,
      'paint-order': 'stroke',
    }, `4FA ${db(better.average)}`));
  }
  // Each ear: its line, then its markers.
  for (const ear of ['left', 'right'] as const) {
    const pts = ears[ear].filter(([hz]) => hz >= 125 && hz <= 16000);
    if (pts.length > 1) {
      chart.appendChild(svg('polyline', {
        'points': pts.map(([hz, v]) => `${x(hz).toFixed(1)},${y(v).toFixed(1)}`).join(' '),
        'fill': 'none',
        'stroke': COLOR[ear],
        'stroke-width': 2,
        ...(ear === 'left' ? { 'stroke-dasharray': '7 4' } : {}),
        'data-ear': ear,
      }));
    }
    for (const [hz, v] of pts) {
      const m = marker(ear, x(hz), y(v));
      m.setAttribute('data-point', `${ear}:${hz}:${v}`);
      chart.appendChild(m);
    }
  }

  const legendIcon = (ear: Ear) => {
    const icon = svg('svg', { 'viewBox': '0 0 20 20', 'width': 20, 'height': 20, 'aria-hidden': 'true' });
    icon.appendChild(marker(ear, 10, 10));
    return icon;
  };
  const legend = html('p', { class: 'audiogram-legend' },
    legendIcon('right'), ' Right ear (red circles)   ', legendIcon('left'), ' Left ear (blue crosses)');

  const freqs = [...new Set([...ears.right, ...ears.left].map(([hz]) => hz))].sort((a, b) => a - b);
  const value = (ear: Ear, hz: number) => {
    const v = ears[ear].find(([f]) => f === hz);
    return v ? String(v[1]) : '–';
  };
  const table = html('table', { class: 'view-table' },
    html('caption', {}, 'Thresholds (dB HL)'),
    html('thead', {}, html('tr', {}, html('th', { scope: 'col' }, 'Frequency (Hz)'), html('th', { scope: 'col' }, 'Right'), html('th', { scope: 'col' }, 'Left'))),
    html('tbody', {}, ...freqs.map((hz) => html('tr', {}, html('th', { scope: 'row' }, String(hz)), html('td', {}, value('right', hz)), html('td', {}, value('left', hz))))));

  const r = fourFrequencyAverage(ears.right);
  const l = fourFrequencyAverage(ears.left);
  const averages = html('p', { 'class': 'audiogram-summary', 'data-better-ear': better ? `${better.ear}:${better.average}` : 'none' },
    `Four-frequency average (500, 1000, 2000, 4000 Hz): right ${r === undefined ? 'n/a' : db(r)}, left ${l === undefined ? 'n/a' : db(l)}. `,
    html('strong', {}, summary));

  // Test conditions that bear on the label (no identifiers: session and person ids are not shown).
  const rec = isObject(record) ? record : {};
  const facts: Array<[string, string]> = [];
  if (typeof rec.age === 'number') facts.push(['Age', `${rec.age} years`]);
  if (typeof rec.ambientNoiseDbA === 'number') facts.push(['Ambient noise', `${rec.ambientNoiseDbA} dB(A)`]);
  if (isObject(rec.catchTrials) && typeof rec.catchTrials.presented === 'number' && typeof rec.catchTrials.falsePositives === 'number') {
    facts.push(['Catch trials', `${rec.catchTrials.falsePositives} false positive(s) of ${rec.catchTrials.presented}`]);
  }
  if (typeof rec.takenAt === 'string') facts.push(['Taken', rec.takenAt.slice(0, 10)]);
  const conditions = facts.length
    ? html('p', { class: 'audiogram-facts' }, facts.map(([k, v]) => `${k}: ${v}`).join(' · '))
    : null;

  container.append(chart, legend, averages, ...(conditions ? [conditions] : []), table);
}

export default { matches, render };
