import { hearingRecord, LABELING, NOW, recordJson, task, whoGrade } from './hearing';
import {
  compileLabelTask, compileRulesLabeler, currentLabels, humanLabel, Labeler, LabelerOutput, labelerRef, sampleFraction,
} from '../../src/labeling-pipeline/runtime/logic/labeling';

const who = whoGrade();
const label = (r: ReturnType<typeof hearingRecord>) => who.label({ recordId: 'rec-x', record: r });
/** A record whose better-ear four-frequency average is exactly `pta` (the other ear 10 dB worse). */
const withPta = (pta: number) => hearingRecord([pta, pta, pta, pta], [pta + 10, pta + 10, pta + 10, pta + 10]);

describe('WHO 2021 grade as declarative rules (test/fixtures/hearing/labeling-config.json)', () => {
  test('the formats.md example: better ear (right) 27.5 dB HL -> mild, far from a boundary', () => {
    const r = recordJson('valid-formats-example.json');
    expect(who.score(r)).toBe(27.5);
    expect(who.label({ recordId: 'rec-x', record: r })).toEqual({ kind: 'label', className: 'mild', confidence: 0.97 });
  });

  test.each([
    [-10, 'normal'], [19.9, 'normal'], [20, 'mild'], [34.9, 'mild'], [35, 'moderate'], [49.9, 'moderate'], [50, 'moderately-severe'],
    [64.9, 'moderately-severe'], [65, 'severe'], [79.9, 'severe'], [80, 'profound'], [94.9, 'profound'], [95, 'complete'], [120, 'complete'],
  ])('better-ear average %d dB HL is %s', (pta, grade) => {
    const out = label(withPta(pta));
    expect(out.kind === 'label' && out.className).toBe(grade);
  });

  test('the better ear is the minimum of the two averages, whichever side it is', () => {
    const a = label(hearingRecord([60, 60, 60, 60], [10, 10, 10, 10]));
    const b = label(hearingRecord([10, 10, 10, 10], [60, 60, 60, 60]));
    expect(a).toEqual(b);
    expect(a.kind === 'label' && a.className).toBe('normal');
  });

  test('confidence drops linearly within the 2.5 dB margin of a boundary', () => {
    const conf = (pta: number) => {
      const o = label(withPta(pta));
      return o.kind === 'label' ? o.confidence : NaN;
    };
    expect(conf(20)).toBe(0.5);
    expect(conf(21.25)).toBeCloseTo(0.735, 6);
    expect(conf(18.75)).toBeCloseTo(0.735, 6);
    expect(conf(22.5)).toBe(0.97);
    expect(conf(27.5)).toBe(0.97);
  });

  test('unreliable catch trials make it abstain; some false positives or a noisy room lower confidence', () => {
    const base = withPta(40);
    expect(label({ ...base, catchTrials: { presented: 6, falsePositives: 3 } })).toEqual({ kind: 'abstain', reason: 'condition:unreliable-responses' });
    expect(label({ ...base, catchTrials: { presented: 6, falsePositives: 1 } })).toEqual({ kind: 'label', className: 'moderate', confidence: 0.679 });
    expect(label({ ...base, ambientNoiseDbA: 42 })).toEqual({ kind: 'label', className: 'moderate', confidence: 0.776 });
  });

  test('a missing or non-numeric field makes it abstain', () => {
    const r = withPta(40) as { thresholds: { left: Record<string, unknown> } };
    delete r.thresholds.left['2000'];
    expect(label(r as never)).toEqual({ kind: 'abstain', reason: 'missing-input' });
    expect(label({ ...withPta(40), thresholds: { left: { 500: '40' }, right: {} } })).toEqual({ kind: 'abstain', reason: 'missing-input' });
  });

  test('fails if the rules are inconsistent', () => {
    const rules = LABELING.rules;
    expect(() => compileRulesLabeler({ ...rules, thresholds: [20, 35] })).toThrow('expected 6 thresholds for 7 classes, got 2');
    expect(() => compileRulesLabeler({ ...rules, thresholds: [20, 35, 35, 65, 80, 95] })).toThrow('strictly ascending');
    expect(() => compileRulesLabeler({ ...rules, conditions: [{ id: 'c', above: 1 }] })).toThrow('set exactly one of field or ratio');
    expect(() => compileRulesLabeler({ ...rules, confidence: { max: 1.5 } })).toThrow('confidence.max must be in [0, 1]');
  });

  test('wildcard fields average every value of a group', () => {
    const l = compileRulesLabeler({ id: 'w', version: '1', classes: ['lo', 'hi'], thresholds: [10], groups: [{ id: 'all', fields: ['xs.*'] }], within: 'mean' });
    expect(l.score({ xs: [5, 15, 25] })).toBe(15);
    expect(l.score({ xs: [] })).toBeUndefined();
  });
});

describe('combination and review routing', () => {
  const combine = task();
  const fixed = (id: string, output: LabelerOutput, version = '1'): Labeler => ({ id, version, label: () => output });
  const rules = fixed('rules:who-grade', { kind: 'label', className: 'mild', confidence: 0.97 });

  test('one confident labeler: auto-accepted, lineage names it', () => {
    const d = combine('rec-0001', [{ labeler: rules, output: { kind: 'label', className: 'mild', confidence: 0.97 } }], NOW);
    expect(d.route === 'auto' || d.reasons.includes('quality-sample')).toBe(true);
    expect(d.label).toMatchObject({ recordId: 'rec-0001', attribute: 'who-grade', classIndex: 1, className: 'mild', confidence: 0.97, human: false, labeler: 'rules:who-grade@1', createdAt: '2026-03-02T00:00:00.000Z' });
  });

  test('low confidence goes to review with the machine label as a proposal', () => {
    const d = combine('rec-a', [{ labeler: rules, output: { kind: 'label', className: 'mild', confidence: 0.5 } }], NOW);
    expect(d.route).toBe('review');
    expect(d.reasons).toEqual(['low-confidence']);
    expect(d.label?.className).toBe('mild');
  });

  test('weighted vote: disagreement goes to review; the heavier labeler wins', () => {
    const c = compileLabelTask({ ...LABELING.task, weights: { 'rules:who-grade': 3, 'model:who': 1 } });
    const model = fixed('model:who', { kind: 'label', className: 'moderate', confidence: 0.9 });
    const d = c('rec-b', [
      { labeler: rules, output: { kind: 'label', className: 'mild', confidence: 0.9 } },
      { labeler: model, output: { kind: 'label', className: 'moderate', confidence: 0.9 } },
    ], NOW);
    expect(d.route).toBe('review');
    expect(d.reasons).toEqual(['low-confidence', 'disagreement']);
    expect(d.label).toMatchObject({ className: 'mild', confidence: 0.675, labeler: 'vote:rules:who-grade@1+model:who@1' });
  });

  test('agreement of two labelers is auto-accepted with the weighted mean confidence', () => {
    const model = fixed('model:who', { kind: 'label', className: 'mild', confidence: 0.8 });
    const c = compileLabelTask({ ...LABELING.task, review: { ...LABELING.task.review, sampleRate: 0 } });
    const d = c('rec-c', [
      { labeler: rules, output: { kind: 'label', className: 'mild', confidence: 1 } },
      { labeler: model, output: { kind: 'label', className: 'mild', confidence: 0.8 } },
    ], NOW);
    expect(d).toMatchObject({ route: 'auto', reasons: [], label: { confidence: 0.9 } });
  });

  test('an abstaining or invalid labeler does not vote; all abstaining goes to review', () => {
    const d = combine('rec-d', [
      { labeler: rules, output: { kind: 'abstain', reason: 'condition:unreliable-responses' } },
      { labeler: fixed('fn:x', { kind: 'label', className: 'no-such-class', confidence: 1 }), output: { kind: 'label', className: 'no-such-class', confidence: 1 } },
    ], NOW);
    expect(d).toEqual({
      route: 'review',
      reasons: ['all-abstained'],
      votes: [{ labeler: 'rules:who-grade@1', abstainReason: 'condition:unreliable-responses' }, { labeler: 'fn:x@1', abstainReason: 'invalid-output' }],
    });
  });

  test('a tie goes to review and picks the lower class index deterministically', () => {
    const c = compileLabelTask({ ...LABELING.task, review: { minConfidence: 0, onDisagreement: false } });
    const d = c('rec-e', [
      { labeler: fixed('a', { kind: 'label', className: 'moderate', confidence: 0.9 }), output: { kind: 'label', className: 'moderate', confidence: 0.9 } },
      { labeler: fixed('b', { kind: 'label', className: 'mild', confidence: 0.9 }), output: { kind: 'label', className: 'mild', confidence: 0.9 } },
    ], NOW);
    expect(d.reasons).toEqual(['tie']);
    expect(d.label?.className).toBe('mild');
  });

  test('quality-control sample: deterministic per record id, close to the configured rate', () => {
    const ids = Array.from({ length: 20000 }, (_, i) => `rec-${i.toString(16).padStart(24, '0')}`);
    const out = { kind: 'label' as const, className: 'mild', confidence: 0.97 };
    const sampled = ids.filter((id) => combine(id, [{ labeler: rules, output: out }], NOW).reasons.includes('quality-sample'));
    expect(sampled.length).toBeGreaterThan(20000 * 0.05 * 0.85);
    expect(sampled.length).toBeLessThan(20000 * 0.05 * 1.15);
    const again = ids.filter((id) => combine(id, [{ labeler: rules, output: out }], NOW + 1e9).reasons.includes('quality-sample'));
    expect(again).toEqual(sampled);
    expect(sampleFraction('qc-2026', ids[0])).toBe(sampleFraction('qc-2026', ids[0]));
    expect(sampleFraction('other', ids[0])).not.toBe(sampleFraction('qc-2026', ids[0]));
  });

  test('human labels win over machine labels in the append-only history', () => {
    const machine = combine('rec-f', [{ labeler: rules, output: { kind: 'label', className: 'mild', confidence: 0.5 } }], NOW).label!;
    const human = humanLabel(LABELING.task, 'rec-f', 'moderate', 'hmac:reviewer1', NOW + 1000, machine.votes);
    const later = combine('rec-f', [{ labeler: rules, output: { kind: 'label', className: 'mild', confidence: 0.6 } }], NOW + 5000).label!;
    expect(human).toMatchObject({ classIndex: 2, confidence: 1, human: true, labeler: 'human:hmac:reviewer1' });
    expect(currentLabels([machine, human, later]).get('rec-f')).toBe(human);
    expect(() => humanLabel(LABELING.task, 'rec-f', 'deaf', 'r', NOW)).toThrow('class is not one of the 7 classes');
  });

  test('fails if the task is invalid', () => {
    expect(() => compileLabelTask({ ...LABELING.task, attribute: '$bad' })).toThrow('attribute must match');
    expect(() => compileLabelTask({ ...LABELING.task, review: { minConfidence: 2 } })).toThrow('minConfidence must be in [0, 1]');
    expect(labelerRef(who)).toBe('rules:who-grade@1');
  });
});
