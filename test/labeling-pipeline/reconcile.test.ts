import { reconcileCounts, reconcileIds } from '../../src/labeling-pipeline/runtime/logic/reconcile';

describe('reconciliation', () => {
  test('balanced counts', () => {
    expect(reconcileCounts({ received: 10, clean: 5, quarantined: 3, dlq: 1, duplicates: 1 })).toEqual({
      balanced: true, difference: 0, message: 'balanced: 10 in = 5 clean + 3 quarantined + 1 dlq + 1 duplicates (10)',
    });
  });

  test('a lost record and a double count are reported', () => {
    expect(reconcileCounts({ received: 10, clean: 5, quarantined: 3, dlq: 1, duplicates: 0 })).toMatchObject({ balanced: false, difference: 1 });
    expect(reconcileCounts({ received: 10, clean: 6, quarantined: 3, dlq: 1, duplicates: 1 }).message).toMatch(/^1 record\(s\) counted more than once/);
    expect(reconcileCounts({ received: -1, clean: 0, quarantined: 0, dlq: 0, duplicates: 0 }).balanced).toBe(false);
  });

  test('by identifiers: balanced counts can still hide a swap', () => {
    const ok = reconcileIds({ received: ['a', 'b', 'c'], clean: ['a'], quarantined: ['b'], dlq: [], duplicates: ['c'] });
    expect(ok.balanced).toBe(true);
    const swapped = reconcileIds({ received: ['a', 'b', 'c'], clean: ['a', 'a'], quarantined: ['b'], dlq: [], duplicates: [] });
    expect(swapped).toMatchObject({ balanced: false, missing: ['c'], multiple: ['a'], unexpected: [] });
    expect(reconcileIds({ received: ['a'], clean: ['z'], quarantined: [], dlq: [], duplicates: [] }).unexpected).toEqual(['z']);
  });
});
