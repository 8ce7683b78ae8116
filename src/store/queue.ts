import { sql } from 'kysely';
import type { Db, DeliveryState } from './tables.ts';
import type { OverdueDelivery, TargetOverview } from './types.ts';
import { OPEN_STATES_SQL } from '../core/states.ts';
import { breakerStatus } from './target-state.ts';

// The delivery queue as operators see it: counts by state, what is overdue, and each target's share.

/** Counts of deliveries by state, for health, metrics and the stuck-deliveries job. */
export async function deliveryCounts(db: Db): Promise<Record<DeliveryState, number>> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  const out: Record<DeliveryState, number> = { queued: 0, sending: 0, waiting: 0, acknowledging: 0, delivered: 0, failed: 0 };
  for (const r of rows) out[r.state] = Number(r.n);
  return out;
}

/** Deliveries still open whose due time lies more than `olderThanMs` in the past: not being worked on. */
export async function overdue(db: Db, now: number, olderThanMs: number, limit = 100): Promise<OverdueDelivery[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['id', 'submission_id', 'state', 'target_id', 'next_attempt_at'])
    .where(sql<boolean>`${sql.raw(OPEN_STATES_SQL)}`)
    .where('next_attempt_at', '<=', now - olderThanMs)
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    submissionId: r.submission_id,
    state: r.state,
    targetId: r.target_id,
    nextAttemptAt: r.next_attempt_at,
  }));
}

/**
 * Each target's breaker, rate bucket and queue, for operators (API and metrics). With `tenants`, the queue counts
 * only those tenants' deliveries (an operator scoped to them); an empty list counts nothing.
 */
export async function targetOverview(db: Db, now: number, tenants?: readonly string[]): Promise<TargetOverview[]> {
  const states = await db.selectFrom('target_state').selectAll().execute();
  const scope =
    tenants &&
    db
      .selectFrom('submissions')
      .select('id')
      .where('tenant', 'in', tenants.length ? [...tenants] : ['']);
  const open = await db
    .selectFrom('deliveries')
    .select((eb) => [
      'target_id',
      'state',
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(eb.case().when('next_attempt_at', '<=', now).then(1).else(0).end()).as('due'),
      eb.fn.min<number>('next_attempt_at').as('oldest'),
    ])
    .where(sql<boolean>`${sql.raw(OPEN_STATES_SQL)}`)
    .$if(scope !== undefined, (q) => q.where('submission_id', 'in', scope!))
    .groupBy(['target_id', 'state'])
    .execute();
  const failed = await db
    .selectFrom('deliveries')
    .select((eb) => ['target_id', eb.fn.countAll<number>().as('n')])
    .where('state', '=', 'failed')
    .$if(scope !== undefined, (q) => q.where('submission_id', 'in', scope!))
    .groupBy('target_id')
    .execute();
  const out = new Map<string, TargetOverview>();
  const entry = (id: string): TargetOverview => {
    let e = out.get(id);
    if (!e)
      out.set(
        id,
        (e = {
          targetId: id,
          breaker: breakerStatus(undefined),
          tokens: null,
          queue: { queued: 0, waiting: 0, sending: 0, acknowledging: 0, failed: 0, due: 0, oldestDueAt: null },
        }),
      );
    return e;
  };
  for (const r of states)
    Object.assign(entry(r.target_id), {
      breaker: breakerStatus(r),
      tokens: r.tokens_at === null ? null : { tokens: r.tokens, at: r.tokens_at },
    });
  for (const r of open) {
    const q = entry(r.target_id).queue;
    q[r.state as 'queued' | 'waiting' | 'sending' | 'acknowledging'] = Number(r.n);
    // A `sending` delivery is "due" only once its lease has run out; count what waits to be sent.
    if (r.state !== 'sending' && r.state !== 'acknowledging') {
      q.due += Number(r.due ?? 0);
      if (Number(r.due ?? 0) > 0) q.oldestDueAt = Math.min(q.oldestDueAt ?? Infinity, Number(r.oldest));
    }
  }
  for (const r of failed) entry(r.target_id).queue.failed = Number(r.n);
  return [...out.values()].sort((a, b) => a.targetId.localeCompare(b.targetId));
}
