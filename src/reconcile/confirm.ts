import type { ReconcileStore, StoredDiscrepancy } from '../store/reconcile-store.ts';

export interface ConfirmResult {
  discrepancy: number;
  deliveryId: string | null;
  /** `redelivered`; `not-awaiting`: not a finding waiting for an operator (or already acted on); `not-found`; `not-delivered`: the delivery is no longer `delivered` (it was sent again meanwhile). */
  outcome: 'redelivered' | 'not-awaiting' | 'not-found' | 'not-delivered';
}

export interface ConfirmOptions {
  by: string;
  reason?: string | undefined;
  now: number;
  /** Only findings this returns true for (an operator's tenants); others answer not-found. */
  visible?: ((d: StoredDiscrepancy) => boolean) | undefined;
}

/**
 * An operator confirms re-deliveries a target's policy (`redeliver: ask`) left to them: each finding must be a
 * `missing-in-backoffice` still `awaiting-operator`. The delivery goes back in the queue with its idempotency key
 * and a new retry budget; the finding becomes `redelivered`, with who and when.
 */
export async function confirmRedeliveries(rstore: ReconcileStore, ids: readonly number[], o: ConfirmOptions): Promise<ConfirmResult[]> {
  const out: ConfirmResult[] = [];
  for (const id of ids) {
    const found = await rstore.getDiscrepancy(id);
    // Another tenant's finding does not exist for a scoped operator.
    const d = found && (!o.visible || o.visible(found)) ? found : undefined;
    out.push(await confirmOne(rstore, id, d, o));
  }
  return out;
}

/** Every finding of a run still awaiting an operator. */
export async function confirmRun(rstore: ReconcileStore, runId: string, o: ConfirmOptions): Promise<ConfirmResult[]> {
  const ids: number[] = [];
  for await (const d of rstore.discrepancies(runId, { action: 'awaiting-operator' })) if (!o.visible || o.visible(d)) ids.push(d.id);
  return confirmRedeliveries(rstore, ids, o);
}

async function confirmOne(
  rstore: ReconcileStore,
  id: number,
  d: StoredDiscrepancy | undefined,
  o: { by: string; reason?: string | undefined; now: number },
): Promise<ConfirmResult> {
  if (!d) return { discrepancy: id, deliveryId: null, outcome: 'not-found' };
  if (d.class !== 'missing-in-backoffice' || d.action !== 'awaiting-operator' || !d.deliveryId)
    return { discrepancy: id, deliveryId: d.deliveryId ?? null, outcome: 'not-awaiting' };
  // Claim the finding first, so two operators confirming at once re-deliver once.
  if (!(await rstore.resolveDiscrepancy(id, 'awaiting-operator', 'redelivered', o.by, o.now)))
    return { discrepancy: id, deliveryId: d.deliveryId, outcome: 'not-awaiting' };
  const reason = o.reason ?? 'reconciliation: confirmed by an operator; the back office does not have the case';
  const [r] = await rstore.redeliver([d.deliveryId], o.by, reason, o.now, { runId: d.runId, discrepancy: id });
  if (r?.outcome === 'redelivered') return { discrepancy: id, deliveryId: d.deliveryId, outcome: 'redelivered' };
  // The delivery moved on (sent again meanwhile): the finding is settled, but not by this confirmation.
  await rstore.resolveDiscrepancy(id, 'redelivered', 'flagged', o.by, o.now);
  return { discrepancy: id, deliveryId: d.deliveryId, outcome: 'not-delivered' };
}
