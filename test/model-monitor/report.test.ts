import * as fc from 'fast-check';
import { checkProperty } from './property-seed';
import { drawRows, FEATURES } from './synthetic';
import {
  computeBaseline, driftReportJson, DriftResult, escapeHtml, evaluateDrift, renderDriftReportHtml, SeededRandom,
} from '../../src/model-monitor/runtime/logic';

const SHA = 'ef'.repeat(32);
const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/**
 * A small well-formedness check: every non-void element is closed in order, SVG leaves are
 * self-closed, attribute values are quoted, and no `<` or `>` appears outside a tag.
 */
function checkWellFormed(html: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<>]*")*)\s*(\/?)>|<!DOCTYPE html>/g;
  let last = 0;
  for (let m = tag.exec(html); m !== null; m = tag.exec(html)) {
    const text = html.slice(last, m.index);
    expect(text).not.toMatch(/[<>]/);
    last = tag.lastIndex;
    if (m[0] === '<!DOCTYPE html>') continue;
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing && !VOID.has(name)) stack.push(name);
  }
  expect(html.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
}

let cached: DriftResult | undefined;
function twelveFeatureResult(): DriftResult {
  cached ??= computeResult();
  return cached;
}

function computeResult(): DriftResult {
  const reference = drawRows(new SeededRandom(21), 3000);
  const baseline = computeBaseline({
    modelSha256: SHA,
    features: FEATURES,
    rows: reference.map((r) => r.features),
    predictions: reference.map((r) => r.predictedClass),
    trueClasses: reference.map((r) => r.trueClass),
  });
  return evaluateDrift(baseline, drawRows(new SeededRandom(22), 1500, { offsetDb: { 4000: 10, 8000: 10 }, device: 'phone-a' }));
}

describe('renderDriftReportHtml', () => {
  const result = twelveFeatureResult();
  const meta = { modelName: 'hearing-screener', windowStart: '2026-03-01T10:00:00Z', windowEnd: '2026-03-01T11:00:00Z', generatedAt: '2026-03-01T11:05:00Z' };
  const html = renderDriftReportHtml(result, meta);

  test('is one self-contained, well-formed page: no scripts, no external styles, fonts or images', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|https?:|src=|xlink:href/i);
    expect([...html.matchAll(/href="([^"]*)"/g)].every((m) => m[1].startsWith('#'))).toBe(true);
    checkWellFormed(html);
  });

  test('one chart per feature and one for the predicted class, each with a legend and a title', () => {
    expect(html.match(/<svg /g)).toHaveLength(13);
    expect(html.match(/>baseline \(n=/g)).toHaveLength(13);
    expect(html.match(/>window \(n=/g)).toHaveLength(13);
    expect(html.match(/<title id=/g)).toHaveLength(13);
  });

  test('drifted columns are marked by text, not by colour alone', () => {
    const drifted = [...result.features, result.prediction].filter((c) => c.drifted);
    expect(drifted.length).toBeGreaterThan(0);
    // In the summary table and on each chart.
    // The summary row and the chart of each drifted column, plus the window facts for the prediction.
    expect(html.match(/▲ DRIFT/g)).toHaveLength(2 * drifted.length + (result.prediction.drifted ? 1 : 0));
    for (const c of drifted) expect(html).toContain(`<h3>${c.name} — ▲ DRIFT</h3>`);
  });

  test('stays small for 12 features', () => {
    const bytes = Buffer.byteLength(html);
    console.log(`drift report for 12 features: ${bytes} bytes of HTML, ${JSON.stringify(driftReportJson(result, meta)).length} bytes of JSON`);
    expect(bytes).toBeLessThan(48 * 1024);
  });

  test('escapes every string that comes from data', () => {
    const evil = '<img src=x onerror="alert(1)">&\'';
    const hostile: DriftResult = {
      ...result,
      modelSha256: evil,
      features: result.features.map((f, i) => (i === 11 && f.distribution.type === 'categories'
        ? { ...f, name: evil, distribution: { ...f.distribution, categories: f.distribution.categories.map(() => evil) } }
        : { ...f, name: `${evil}${i}` })),
    };
    const out = renderDriftReportHtml(hostile, { modelName: evil, windowStart: evil, windowEnd: evil, generatedAt: evil });
    expect(out).not.toContain('<img');
    expect(out).toContain(escapeHtml(evil));
    checkWellFormed(out);
  });

  test('property: any feature name, category or metadata renders as escaped text in a well-formed page', () => {
    checkProperty('report escaping', fc.property(fc.string(), fc.string(), fc.string(), (name, category, model) => {
      const r: DriftResult = {
        ...result,
        features: [{ ...result.features[11], name, distribution: { type: 'categories', categories: [category, 'b'], reference: [3, 1], current: [0, 4] } }],
      };
      const out = renderDriftReportHtml(r, { modelName: model });
      checkWellFormed(out);
      expect(out).toContain(escapeHtml(name));
    }), 100);
  });

  test('a chart with many categories sums the least frequent', () => {
    const categories = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const r: DriftResult = {
      ...result,
      features: [{ ...result.features[11], distribution: { type: 'categories', categories, reference: categories.map(() => 1), current: categories.map(() => 2) } }],
    };
    const out = renderDriftReportHtml(r);
    expect(out).toContain('>+19 more</text>');
    expect(out).toContain('30 categories, the 19 least frequent summed as +19 more</title>');
  });
});

describe('driftReportJson', () => {
  test('is the result plus metadata, and survives JSON unchanged', () => {
    const result = twelveFeatureResult();
    const doc = driftReportJson(result, { windowStart: '2026-03-01T10:00:00Z' });
    expect(doc).toMatchObject({ reportType: 'drift-report', schemaVersion: 1, meta: { windowStart: '2026-03-01T10:00:00Z' } });
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  test('fails if a number is not finite (JSON cannot hold it)', () => {
    const result = twelveFeatureResult();
    expect(() => driftReportJson({ ...result, dataset: { ...result.dataset, share: NaN } })).toThrow('driftReportJson: share is not a finite number');
  });
});
