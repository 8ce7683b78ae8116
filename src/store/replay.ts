import type { Kysely } from 'kysely';
import type { Database, Db, DeliveryState } from './tables.ts';
import type { FailedDelivery, FailedFilter, ReplayResult } from './types.ts';
import { insertEvent } from './events.ts';
import { chunks } from './chunks.ts';

// Failed deliveries, found by filter and put back in the queue by an operator.

/**
 * Failed deliveries matching the filter, oldest failure first, at most `limit`. Pass the last row's
 * `{ failedAt, id }` as `after` for the next page (keyset pagination).
 */
export async function findFailed(
  db: Db,
  filter: FailedFilter,
  limit = 500,
  after?: { failedAt: number; id: string },
): Promise<FailedDelivery[]> {
  let q = db
    .selectFrom('deliveries as d')
    .innerJoin('submissions as s', 's.id', 'd.submission_id')
    .select([
      'd.id',
      'd.submission_id',
      'd.target_id',
      's.tenant',
      's.service',
      'd.attempts',
      'd.last_error',
      'd.last_error_kind',
      'd.updated_at',
    ])
    .where('d.state', '=', 'failed');
  if (filter.targetId !== undefined) q = q.where('d.target_id', '=', filter.targetId);
  if (filter.tenant !== undefined) q = q.where('s.tenant', '=', filter.tenant);
  if (filter.tenants !== undefined) {
    if (filter.tenants.length === 0) return [];
    q = q.where('s.tenant', 'in', [...filter.tenants]);
  }
  if (filter.errorKind !== undefined) q = q.where('d.last_error_kind', '=', filter.errorKind);
  if (filter.since !== undefined) q = q.where('d.updated_at', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('d.updated_at', '<', filter.until);
  if (after)
    q = q.where((eb) =>
      eb.or([eb('d.updated_at', '>', after.failedAt), eb.and([eb('d.updated_at', '=', after.failedAt), eb('d.id', '>', after.id)])]),
    );
  const rows = await q.orderBy('d.updated_at').orderBy('d.id').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    submissionId: r.submission_id,
    targetId: r.target_id,
    tenant: r.tenant,
    service: r.service,
    attempts: r.attempts,
    error: r.last_error,
    errorKind: r.last_error_kind,
    failedAt: r.updated_at,
  }));
}

/**
 * Puts failed deliveries back in the queue: due now, lease cleared, `last_error` kept until the next attempt,
 * attempts not reset (the retry budget counts from here), the same idempotency key. Each replay writes a
 * `delivery.replayed` event in the same transaction. Deliveries in any other state are left alone.
 */
export async function replay(
  db: Kysely<Database>,
  ids: readonly string[],
  by: string,
  reason: string | undefined,
  now: number,
  tenants?: readonly string[],
): Promise<ReplayResult[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const found = new Map<string, ReplayResult>();
  await db.transaction().execute(async (trx) => {
    for (const part of chunks(unique, 500)) {
      const rows = await trx
        .selectFrom('deliveries as d')
        .innerJoin('submissions as s', 's.id', 'd.submission_id')
        .select([
          'd.id',
          'd.submission_id',
          'd.target_id',
          'd.state',
          'd.attempts',
          'd.last_error',
          'd.last_error_kind',
          's.tenant',
          's.service',
        ])
        .where('d.id', 'in', part)
        .execute();
      for (const r of rows) {
        // Outside the caller's tenants a delivery does not exist for it.
        if (tenants && !tenants.includes(r.tenant)) continue;
        if (r.state !== 'failed') {
          found.set(r.id, { id: r.id, outcome: 'not-failed', state: r.state });
          continue;
        }
        if (!(await requeue(trx, r.id, 'failed', r.attempts, now))) {
          found.set(r.id, { id: r.id, outcome: 'not-failed' });
          continue;
        }
        await insertEvent(trx, r, now, 'delivery.replayed', {
          by,
          ...(reason ? { reason } : {}),
          previousError: r.last_error,
          previousErrorKind: r.last_error_kind,
          attempts: r.attempts,
        });
        found.set(r.id, { id: r.id, outcome: 'replayed', previousError: r.last_error, attempts: r.attempts });
      }
    }
  });
  return unique.map((id) => found.get(id) ?? { id, outcome: 'not-found' });
}

/** The state of each given delivery that exists (a replay's dry run). */
export async function deliveryStates(db: Db, ids: readonly string[]): Promise<Map<string, DeliveryState>> {
  const out = new Map<string, DeliveryState>();
  for (const part of chunks([...new Set(ids)], 500)) {
    const rows = await db.selectFrom('deliveries').select(['id', 'state']).where('id', 'in', part).execute();
    for (const r of rows) out.set(r.id, r.state);
  }
  return out;
}

/**
 * Puts a delivery still in state `from` back in the queue, due now, with a fresh retry budget (attempts so far
 * become its base) and no lease or acknowledgement left: what a replay and a reconciliation's re-delivery do.
 * False when the delivery left `from` in the meantime, or its submission's data was purged.
 */
export async function requeue(db: Db, id: string, from: DeliveryState, attempts: number, now: number): Promise<boolean> {
  const res = await db
    .updateTable('deliveries')
    .set({
      state: 'queued',
      next_attempt_at: now,
      lease_owner: null,
      lease_expires_at: null,
      ack_token: null,
      ack_deadline: null,
      attempt_base: attempts,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('state', '=', from)
    // A submission whose data retention deleted cannot be sent again: there is nothing left to send.
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('submissions as s')
            .select('s.id')
            .whereRef('s.id', '=', 'deliveries.submission_id')
            .where('s.purged_at', 'is not', null),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
