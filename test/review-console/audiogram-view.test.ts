import * as fc from 'fast-check';
import { betterEar, earThresholds, fourFrequencyAverage, matches, whoGrade, WHO_GRADES } from '../../examples/reference-app/console/audiogram-view';

/** The reference app's audiogram view: its pure parts (the drawing is checked in the browser test). */
const FORMATS_EXAMPLE = {
  thresholds: {
    left: { 250: 15, 500: 20, 1000: 25, 2000: 35, 4000: 50, 8000: 60 },
    right: { 250: 10, 500: 15, 1000: 20, 2000: 30, 4000: 45, 8000: 55 },
  },
};

test('the docs/formats.md example: 32.5 (left) and 27.5 (right), better ear right, grade mild', () => {
  expect(fourFrequencyAverage(earThresholds(FORMATS_EXAMPLE, 'left'))).toBe(32.5);
  expect(fourFrequencyAverage(earThresholds(FORMATS_EXAMPLE, 'right'))).toBe(27.5);
  expect(betterEar(FORMATS_EXAMPLE)).toEqual({ ear: 'right', average: 27.5 });
  expect(whoGrade(27.5)).toBe('Mild');
});

test('WHO grade boundaries: < 20, 20–34, 35–49, 50–64, 65–79, 80–94, ≥ 95', () => {
  const at = (v: number) => whoGrade(v);
  expect([-10, 19.9, 20, 34.9, 35, 49.9, 50, 64.9, 65, 79.9, 80, 94.9, 95, 120].map(at)).toEqual([
    'Normal', 'Normal', 'Mild', 'Mild', 'Moderate', 'Moderate', 'Moderately severe', 'Moderately severe',
    'Severe', 'Severe', 'Profound', 'Profound', 'Complete', 'Complete',
  ]);
  expect(WHO_GRADES.map((g) => [g.from, g.to])).toEqual([[-10, 20], [20, 35], [35, 50], [50, 65], [65, 80], [80, 95], [95, 120]]);
});

test('one ear missing a four-frequency threshold: the other ear decides; neither: no average', () => {
  const rightOnly = { thresholds: { left: { 500: 10, 1000: 10, 2000: 10 }, right: { 500: 40, 1000: 40, 2000: 40, 4000: 40 } } };
  expect(betterEar(rightOnly)).toEqual({ ear: 'right', average: 40 });
  expect(betterEar({ thresholds: { left: { 500: 10 }, right: { 1000: 10 } } })).toBeUndefined();
});

test('thresholds: sorted by frequency, odd keys and non-numbers left out; matches() needs one ear', () => {
  expect(earThresholds({ thresholds: { left: { 8000: 5, 250: 10, x: 1, 1000: '20', 500: null, 2000: Number.NaN } } }, 'left')).toEqual([[250, 10], [8000, 5]]);
  expect(matches(FORMATS_EXAMPLE)).toBe(true);
  expect(matches({ thresholds: { left: {} } })).toBe(false);
  expect(matches({ age: 3 })).toBe(false);
});

test('any JSON record: matches() and betterEar() never throw', () => {
  fc.assert(fc.property(fc.jsonValue(), (v) => {
    const m = matches(v);
    const b = betterEar(v);
    expect(typeof m).toBe('boolean');
    if (b) expect(Number.isFinite(b.average)).toBe(true);
  }));
});
