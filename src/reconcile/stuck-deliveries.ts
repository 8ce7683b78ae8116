import type { ReconcileStore, StuckDelivery, StuckKind } from '../store/reconcile-store.ts';
import type { ReportSink } from '../core/reconcile/types.ts';
import { processGone } from './process-gone.ts';
import { DeliveryWindows } from '../core/policy/window.ts';

/** The most stuck deliveries one run reports; the rest wait for the next run (the oldest come first). */
export const STUCK_MAX = 10_000;

export interface StuckOptions {
  olderThanMinutes: number;
  targets?: readonly string[] | undefined;
  tenants?: readonly string[] | undefined;
  now: number;
  /** Who releases, for the sync log. */
  by?: string;
  /** A target's delivery windows: what fell due while its window was closed counts from the opening. */
  windows?: (targetId: string) => readonly string[] | undefined;
}

/**
 * Finds deliveries that are not moving and reports each as `stuck-delivery`:
 * - `lease-expired`: `sending`, its lease ran out (its worker died). It is due again by design: reported only.
 * - `holder-gone`: `sending`, its lease still running, but its holder was a process on this host that no longer
 *   exists. Made due now (`released`) instead of waiting for the lease to run out; the same idempotency key is sent.
 * - `never-claimed`: `queued`, never tried, due more than `olderThanMinutes` ago: no worker is taking it.
 * - `overdue`: `waiting` or `acknowledging`, due more than `olderThanMinutes` ago.
 */
export async function findStuckDeliveries(
  rstore: ReconcileStore,
  sink: ReportSink,
  o: StuckOptions,
): Promise<{ reported: number; released: number; truncated: boolean }> {
  const olderThanMs = o.olderThanMinutes * 60_000;
  const rows = await rstore.stuckCandidates(o.now, { olderThanMs, targets: o.targets, tenants: o.tenants, limit: STUCK_MAX });
  let reported = 0;
  let released = 0;
  const windows = new Map<string, DeliveryWindows>();
  const dueSince = (d: StuckDelivery) => {
    let w = windows.get(d.targetId);
    if (!w) windows.set(d.targetId, (w = new DeliveryWindows(o.windows?.(d.targetId))));
    return w.dueSince(d.nextAttemptAt, o.now);
  };
  for (const d of rows) {
    const kind = stuckKind(d, o.now, olderThanMs, dueSince(d));
    if (!kind) continue;
    let action: 'reported' | 'released' = 'reported';
    if (
      kind === 'holder-gone' &&
      (await rstore.releaseOrphaned({ id: d.id, leaseOwner: d.leaseOwner! }, o.by ?? 'reconciliation', o.now))
    ) {
      action = 'released';
      released++;
    }
    reported++;
    await sink.add({
      class: 'stuck-delivery',
      action,
      deliveryId: d.id,
      submissionId: d.submissionId,
      targetId: d.targetId,
      tenant: d.tenant,
      detail: {
        kind,
        state: d.state,
        attempts: d.attempts,
        dueSince: new Date(d.nextAttemptAt).toISOString(),
        createdAt: new Date(d.createdAt).toISOString(),
        ...(d.leaseOwner ? { leaseOwner: d.leaseOwner } : {}),
        ...(d.leaseExpiresAt !== null ? { leaseExpiresAt: new Date(d.leaseExpiresAt).toISOString() } : {}),
      },
    });
  }
  return { reported, released, truncated: rows.length === STUCK_MAX };
}

/** `dueSince`: when the delivery really began to wait (its due time, or its window's opening if later). */
export function stuckKind(d: StuckDelivery, now: number, olderThanMs: number, dueSince = d.nextAttemptAt): StuckKind | undefined {
  if (d.state === 'sending') {
    if (d.leaseExpiresAt !== null && d.leaseExpiresAt <= now) return 'lease-expired';
    return d.leaseOwner && processGone(d.leaseOwner) ? 'holder-gone' : undefined;
  }
  if (dueSince > now - olderThanMs) return undefined;
  return d.state === 'queued' && d.attempts === 0 ? 'never-claimed' : 'overdue';
}
