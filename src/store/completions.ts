import type { Kysely } from 'kysely';
import type { AttemptOutcome, Database, Db, DeliveryState } from './tables.ts';
import type { AttemptResult, ClaimedDelivery } from './types.ts';
import { insertEvent, type EventSubject } from './events.ts';

// The end of an attempt (or of an acknowledgement check), and leases given back at shutdown. Only the lease
// holder may record: a lease taken over by another instance makes the write a no-op.

const STATE_AFTER: Record<AttemptResult['outcome'], DeliveryState> = {
  delivered: 'delivered',
  retry: 'waiting',
  failed: 'failed',
  'handed-over': 'acknowledging',
  'ack-pending': 'acknowledging',
};

/** One attempt's end (or one acknowledgement asked), inside the caller's transaction; false when the lease is no longer ours. */
export async function writeCompletion(trx: Db, d: ClaimedDelivery, owner: string, r: AttemptResult): Promise<boolean> {
  const state = STATE_AFTER[r.outcome];
  const waitsAgain = r.outcome === 'retry' || r.outcome === 'handed-over' || r.outcome === 'ack-pending';
  const clearAck = { ack_token: null, ack_deadline: null };
  const updated = await trx
    .updateTable('deliveries')
    .set({
      state,
      lease_owner: null,
      lease_expires_at: null,
      next_attempt_at: waitsAgain ? (r.nextAttemptAt ?? r.finishedAt) : r.finishedAt,
      updated_at: r.finishedAt,
      ...(r.outcome === 'delivered'
        ? { reference: r.reference ?? null, delivered_at: r.finishedAt, last_error: null, last_error_kind: null, ...clearAck }
        : r.outcome === 'handed-over'
          ? { ack_token: r.ack!.token, ack_deadline: r.ack!.deadline }
          : r.outcome === 'ack-pending'
            ? {}
            : { last_error: r.error ?? null, last_error_kind: r.errorKind ?? null, ...(r.outcome === 'failed' ? clearAck : {}) }),
    })
    .where('id', '=', d.id)
    .where('state', '=', d.ack ? 'acknowledging' : 'sending')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return false;
  if (d.probe && r.outcome === 'retry') {
    // A failed probe only learnt that the back office is still down: it costs the delivery no attempt of its budget.
    await trx
      .updateTable('deliveries')
      .set((eb) => ({ attempt_base: eb('attempt_base', '+', 1) }))
      .where('id', '=', d.id)
      .execute();
  }
  // Asking again changes nothing worth a line in the sync log.
  if (r.outcome === 'ack-pending') return true;
  if (!d.ack) {
    await trx
      .updateTable('attempts')
      .set((eb) => ({
        finished_at: r.finishedAt,
        duration_ms: eb(eb.val(r.finishedAt), '-', eb.ref('started_at')),
        outcome: r.outcome as AttemptOutcome,
        error: r.error ?? null,
        error_kind: r.errorKind ?? null,
        http_status: r.httpStatus ?? null,
        reference: r.reference ?? null,
      }))
      .where('delivery_id', '=', d.id)
      .where('number', '=', d.attempt)
      .execute();
  }
  await insertEvent(trx, subject(d), r.finishedAt, `delivery.${state}`, {
    attempt: d.attempt,
    ...(d.ack ? { acknowledgement: true } : {}),
    ...(r.reference ? { reference: r.reference } : {}),
    ...(r.error ? { error: r.error, errorKind: r.errorKind } : {}),
    ...(r.httpStatus ? { httpStatus: r.httpStatus } : {}),
    ...(r.nextAttemptAt && r.outcome === 'retry' ? { nextAttemptAt: new Date(r.nextAttemptAt).toISOString() } : {}),
    ...(r.ack ? { acknowledgementDeadline: new Date(r.ack.deadline).toISOString() } : {}),
    ...r.detail,
  });
  return true;
}

/** Gives claimed deliveries back (graceful shutdown): due at once, the open attempt marked interrupted. */
export async function releaseLeases(db: Kysely<Database>, owner: string, deliveries: ClaimedDelivery[], now: number): Promise<void> {
  if (deliveries.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const d of deliveries) {
      if (d.ack) {
        // Asking for an acknowledgement: just give the claim back.
        await trx
          .updateTable('deliveries')
          .set({ lease_owner: null, lease_expires_at: null, next_attempt_at: now, updated_at: now })
          .where('id', '=', d.id)
          .where('state', '=', 'acknowledging')
          .where('lease_owner', '=', owner)
          .execute();
        continue;
      }
      const res = await trx
        .updateTable('deliveries')
        .set({ state: 'waiting', lease_owner: null, lease_expires_at: null, next_attempt_at: now, updated_at: now })
        .where('id', '=', d.id)
        .where('state', '=', 'sending')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) continue;
      await trx
        .updateTable('attempts')
        .set({ outcome: 'interrupted', finished_at: now, error: 'the hub shut down before the attempt finished', error_kind: 'shutdown' })
        .where('delivery_id', '=', d.id)
        .where('number', '=', d.attempt)
        .execute();
      await insertEvent(trx, subject(d), now, 'delivery.released', { attempt: d.attempt, owner });
    }
  });
}

/** The sync-log subject of a claimed delivery. */
function subject(d: ClaimedDelivery): EventSubject {
  return { submission_id: d.submissionId, id: d.id, target_id: d.targetId, tenant: d.tenant, service: d.service };
}
