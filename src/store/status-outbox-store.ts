import { sql, type Kysely } from 'kysely';
import type { PortalStatus } from '../core/status/types.ts';
import type { Dialect } from './dialect.ts';
import { insertEvent } from './events.ts';
import { OUTBOX_OPEN_SQL } from './migrations/0006-status-channel.ts';
import type { ClaimedStatusUpdate, StatusUpdateResult } from './status-types.ts';
import type { OutboxState } from './status-tables.ts';
import type { Database } from './tables.ts';
import { fields, Sealing } from './sealing.ts';

/**
 * The portal outbox half of the status store: claiming due updates with a lease, recording how sending went,
 * and counts for metrics. StatusStore (status-store.ts) extends it, so `store.status` offers both halves.
 */
export class StatusOutboxStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    /** Status reasons are sealed at rest (docs/keys.md); the portal's callback gets them opened. */
    readonly sealing: Sealing = new Sealing(),
  ) {}

  /**
   * Claims due status updates with a lease, at most one per submission and only the first still open of each, so
   * update n+1 never leaves before n is delivered (or given up). SKIP LOCKED lets instances claim side by side.
   */
  async claimUpdates(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedStatusUpdate[]> {
    // Most polls find nothing: a plain read says so without a write transaction (on SQLite, the write lock and a
    // commit each time, taken from the deliveries' and the intake's commits).
    const anyDue = await this.db
      .selectFrom('status_outbox')
      .select('id')
      .where(sql<boolean>`${sql.raw(OUTBOX_OPEN_SQL)}`)
      .where('next_attempt_at', '<=', now)
      .limit(1)
      .execute();
    if (anyDue.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('status_outbox')
        .select('id')
        .where(sql<boolean>`${sql.raw(OUTBOX_OPEN_SQL)}`)
        .where('next_attempt_at', '<=', now)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('status_outbox as p')
                .select('p.id')
                .whereRef('p.submission_id', '=', 'status_outbox.submission_id')
                .whereRef('p.sequence', '<', 'status_outbox.sequence')
                .where('p.state', 'in', ['pending', 'sending']),
            ),
          ),
        )
        .orderBy('next_attempt_at')
        .limit(limit);
      q = this.dialect.claimRows(q);
      const due = await q.execute();
      if (due.length === 0) return [];
      const expires = now + leaseMs;
      const rows = await trx
        .updateTable('status_outbox')
        .set((eb) => ({
          state: 'sending',
          lease_owner: owner,
          lease_expires_at: expires,
          next_attempt_at: expires,
          attempts: eb('attempts', '+', 1),
          updated_at: now,
        }))
        .where(
          'id',
          'in',
          due.map((d) => d.id),
        )
        .returning(['id', 'submission_id', 'portal_id', 'sequence', 'status', 'reason', 'at', 'attempts', 'created_at'])
        .execute();
      const subs = await trx
        .selectFrom('submissions')
        .select(['id', 'external_id', 'tenant', 'service'])
        .where('id', 'in', [...new Set(rows.map((r) => r.submission_id))])
        .execute();
      const byId = new Map(subs.map((s) => [s.id, s]));
      return rows.map((r) => {
        const s = byId.get(r.submission_id)!;
        return {
          id: r.id,
          submissionId: r.submission_id,
          portalId: r.portal_id,
          externalId: s.external_id,
          tenant: s.tenant,
          service: s.service,
          sequence: r.sequence,
          status: r.status as PortalStatus,
          reason: this.sealing.openTextOrNull(r.reason, {
            tenant: s.tenant,
            submissionId: r.submission_id,
            field: fields.outboxReason(r.id),
          }),
          at: r.at,
          attempt: r.attempts,
          createdAt: r.created_at,
        };
      });
    });
  }

  /** Records one try's end; false when the lease was lost (another instance took the update over). */
  async completeUpdate(u: ClaimedStatusUpdate, owner: string, r: StatusUpdateResult): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const state: OutboxState = r.outcome === 'retry' ? 'pending' : r.outcome;
      const res = await trx
        .updateTable('status_outbox')
        .set({
          state,
          lease_owner: null,
          lease_expires_at: null,
          next_attempt_at: r.outcome === 'retry' ? r.nextAttemptAt! : r.finishedAt,
          updated_at: r.finishedAt,
          last_error: r.error ?? null,
          last_error_kind: r.errorKind ?? null,
          ...(r.outcome === 'delivered' ? { delivered_at: r.finishedAt } : {}),
        })
        .where('id', '=', u.id)
        .where('state', '=', 'sending')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      const type =
        r.outcome === 'delivered' ? 'status.forwarded' : r.outcome === 'retry' ? 'status.forward-retry' : 'status.forward-failed';
      await insertEvent(
        trx,
        { submission_id: u.submissionId, id: null, target_id: null, tenant: u.tenant, service: u.service },
        r.finishedAt,
        type,
        {
          portal: u.portalId,
          sequence: u.sequence,
          status: u.status,
          attempt: u.attempt,
          ...(r.httpStatus ? { httpStatus: r.httpStatus } : {}),
          ...(r.error ? { error: r.error, errorKind: r.errorKind } : {}),
          ...(r.outcome === 'retry' ? { nextAttemptAt: new Date(r.nextAttemptAt!).toISOString() } : {}),
        },
      );
      return true;
    });
  }

  /** Gives claimed updates back at shutdown: due at once, the try not counted. */
  async releaseUpdates(owner: string, ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('status_outbox')
      .set((eb) => ({
        state: 'pending',
        lease_owner: null,
        lease_expires_at: null,
        next_attempt_at: now,
        attempts: eb('attempts', '-', 1),
        updated_at: now,
      }))
      .where('id', 'in', ids)
      .where('state', '=', 'sending')
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Outbox rows by state, for metrics. */
  async outboxCounts(): Promise<Record<OutboxState, number>> {
    const rows = await this.db
      .selectFrom('status_outbox')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    const out: Record<OutboxState, number> = { pending: 0, sending: 0, delivered: 0, failed: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }
}
