import { sql, type Kysely } from 'kysely';
import { OPEN_STATES_SQL } from '../core/states.ts';
import type { Database, Db } from './tables.ts';
import { insertEvent } from './events.ts';
import { UNPURGED_SQL } from './migrations/0014-retention.ts';

/*
 * Retention's SQL: a submission's form data (content, the inbound original) and its attachments are deleted once
 * every delivery reached a final state (delivered or failed) before the pair's cutoff. The submission row, its
 * deliveries, attempts, events and status history stay: the timeline outlives the data.
 */

/** One (tenant, service) pair and the time before which its finished submissions lose their data. */
export interface PurgeCutoff {
  tenant: string;
  service: string;
  /** Epoch ms: every delivery of the submission reached its final state before this. */
  before: number;
  /** The retention in days that made the cutoff, written into the purge event. */
  days: number;
}

/** What a purge did (or, in a dry run, would do) for one pair. */
export interface PurgeCount {
  tenant: string;
  service: string;
  submissions: number;
  attachments: number;
}

/** The content a purged submission keeps: an empty form, so every reader of the column still gets JSON. */
export const PURGED_CONTENT = '{}';

/** The (tenant, service) pairs with submissions whose data is still held. */
export async function unpurgedPairs(db: Db): Promise<{ tenant: string; service: string }[]> {
  return db
    .selectFrom('submissions')
    .select(['tenant', 'service'])
    .where(sql<boolean>`${sql.raw(UNPURGED_SQL)}`)
    .groupBy(['tenant', 'service'])
    .orderBy('tenant')
    .orderBy('service')
    .execute();
}

/** The submissions of a pair whose data may go, in id order after `after`, at most `limit`. */
function purgeable(db: Db, c: PurgeCutoff) {
  return (
    db
      .selectFrom('submissions as s')
      .where('s.tenant', '=', c.tenant)
      .where('s.service', '=', c.service)
      .where(sql<boolean>`s.${sql.raw(UNPURGED_SQL)}`)
      .where(({ exists, selectFrom }) => exists(selectFrom('deliveries as d').select('d.id').whereRef('d.submission_id', '=', 's.id')))
      // No delivery still open, and none that reached its final state at or after the cutoff.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('deliveries as d')
              .select('d.id')
              .whereRef('d.submission_id', '=', 's.id')
              .where((w) => w.or([sql<boolean>`d.${sql.raw(OPEN_STATES_SQL)}`, w('d.updated_at', '>=', c.before)])),
          ),
        ),
      )
  );
}

/** How many submissions (and attachments) each pair would lose now; changes nothing. */
export async function countPurgeable(db: Db, cutoffs: readonly PurgeCutoff[]): Promise<PurgeCount[]> {
  const out: PurgeCount[] = [];
  for (const c of cutoffs) {
    const n = await purgeable(db, c)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    const a = await db
      .selectFrom('attachments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('submission_id', 'in', purgeable(db, c).select('s.id'))
      .executeTakeFirst();
    out.push({ tenant: c.tenant, service: c.service, submissions: Number(n?.n ?? 0), attachments: Number(a?.n ?? 0) });
  }
  return out;
}

/**
 * Deletes the data of what may go, `batchSize` submissions per transaction (a long purge never holds the write
 * lock for long). Each purged submission gets a `submission.purged` event in the same commit. The conditions are
 * checked again inside the transaction, so a delivery replayed meanwhile keeps its data.
 */
export async function purgeFormData(
  db: Kysely<Database>,
  cutoffs: readonly PurgeCutoff[],
  o: { now: number; batchSize: number },
): Promise<PurgeCount[]> {
  const out: PurgeCount[] = [];
  for (const c of cutoffs) {
    const count: PurgeCount = { tenant: c.tenant, service: c.service, submissions: 0, attachments: 0 };
    for (;;) {
      const done = await db.transaction().execute(async (trx) => {
        const ids = (await purgeable(trx, c).select('s.id').orderBy('s.id').limit(o.batchSize).execute()).map((r) => r.id);
        if (ids.length === 0) return 0;
        const gone = await trx.deleteFrom('attachments').where('submission_id', 'in', ids).executeTakeFirst();
        count.attachments += Number(gone.numDeletedRows);
        await trx
          .updateTable('submissions')
          .set({ content: PURGED_CONTENT, data_kid: null, original: null, original_media_type: null, purged_at: o.now })
          .where('id', 'in', ids)
          .execute();
        for (const id of ids)
          await insertEvent(
            trx,
            { submission_id: id, id: null, target_id: null, tenant: c.tenant, service: c.service },
            o.now,
            'submission.purged',
            {
              retentionDays: c.days,
            },
          );
        return ids.length;
      });
      count.submissions += done;
      if (done < o.batchSize) break;
    }
    out.push(count);
  }
  return out;
}
