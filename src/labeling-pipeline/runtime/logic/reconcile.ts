/**
 * Reconciliation: every record that entered ends in exactly one place (clean, quarantine, DLQ, or
 * recognised as a duplicate of a record already placed).
 */

/** Counts of one run. */
export interface RunCounts {
  readonly received: number;
  readonly clean: number;
  readonly quarantined: number;
  readonly dlq: number;
  readonly duplicates: number;
}

/** Outcome of a reconciliation. */
export interface Reconciliation {
  readonly balanced: boolean;
  /** received − (clean + quarantined + dlq + duplicates); > 0 means records are missing, < 0 counted twice. */
  readonly difference: number;
  readonly message: string;
}

/** Reconcile by counts. */
export function reconcileCounts(c: RunCounts): Reconciliation {
  const parts = [c.received, c.clean, c.quarantined, c.dlq, c.duplicates];
  if (parts.some((n) => !(Number.isInteger(n) && n >= 0))) {
    return { balanced: false, difference: NaN, message: 'counts must be non-negative integers' };
  }
  const out = c.clean + c.quarantined + c.dlq + c.duplicates;
  const difference = c.received - out;
  const sum = `${c.received} in = ${c.clean} clean + ${c.quarantined} quarantined + ${c.dlq} dlq + ${c.duplicates} duplicates (${out})`;
  if (difference === 0) return { balanced: true, difference, message: `balanced: ${sum}` };
  return {
    balanced: false,
    difference,
    message: difference > 0 ? `${difference} record(s) unaccounted for: ${sum}` : `${-difference} record(s) counted more than once: ${sum}`,
  };
}

/** Identifiers (input object keys, message ids…) per destination. */
export interface RunIds {
  readonly received: readonly string[];
  readonly clean: readonly string[];
  readonly quarantined: readonly string[];
  readonly dlq: readonly string[];
  readonly duplicates: readonly string[];
}

/** Reconcile by identifiers: which inputs ended nowhere, in more than one place, or came from nowhere. */
export function reconcileIds(r: RunIds): Reconciliation & { missing: string[]; multiple: string[]; unexpected: string[] } {
  const places = new Map<string, number>();
  for (const k of ['clean', 'quarantined', 'dlq', 'duplicates'] as const) for (const id of r[k]) places.set(id, (places.get(id) ?? 0) + 1);
  const received = new Set(r.received);
  const missing = [...received].filter((id) => !places.has(id));
  const multiple = [...places].filter(([, n]) => n > 1).map(([id]) => id);
  const unexpected = [...places.keys()].filter((id) => !received.has(id));
  const counts = reconcileCounts({
    received: r.received.length, clean: r.clean.length, quarantined: r.quarantined.length, dlq: r.dlq.length, duplicates: r.duplicates.length,
  });
  const balanced = counts.balanced && missing.length === 0 && multiple.length === 0 && unexpected.length === 0 && received.size === r.received.length;
  const message = balanced ? counts.message
    : `${counts.message}; ${missing.length} missing, ${multiple.length} in more than one place, ${unexpected.length} not received, ${r.received.length - received.size} received twice`;
  return { balanced, difference: counts.difference, message, missing, multiple, unexpected };
}
