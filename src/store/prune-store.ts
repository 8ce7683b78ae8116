import { sql, type Kysely } from 'kysely';
import type { Dialect } from './dialect.ts';
import type { Database } from './tables.ts';
import { OUTBOX_FINAL_SQL } from './migrations/0008-prune.ts';
import { countPurgeable, purgeFormData, unpurgedPairs, type PurgeCount, type PurgeCutoff } from './form-data-purge.ts';

export type { PurgeCount, PurgeCutoff };

/** The tables the prune job deletes from; the audit trail (events, status_history, submissions, deliveries) is not among them. */
export const PRUNED_TABLES = ['reconcile_runs', 'reconcile_discrepancies', 'status_outbox'] as const;
export type PrunedTable = (typeof PRUNED_TABLES)[number];
export type PruneCounts = Record<PrunedTable, number>;

/** What is old enough to go, as epoch milliseconds: rows from before these times. */
export interface PruneCutoffs {
  /** Finished or failed runs started before this go, with their findings. */
  runsBefore: number;
  /** Finished runs that found nothing go from this time back already. */
  emptyRunsBefore: number;
  /** Status updates delivered to their portal or given up before this go. */
  outboxBefore: number;
}

export const DEFAULT_BATCH_SIZE = 1000;

/**
 * The SQL of the prune job. Deletes go in statements of at most `batchSize` rows, each its own transaction, so a
 * long prune never holds the write lock (SQLite) or many row locks (PostgreSQL) for long, and the worker goes on
 * between them. Never deleted: a run still `running`, a run with a finding awaiting an operator's decision, a
 * status update still pending or being sent.
 */
export class PruneStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
  ) {}

  /** Retention of form data (form-data-purge.ts): the pairs that still hold some. */
  unpurgedPairs(): Promise<{ tenant: string; service: string }[]> {
    return unpurgedPairs(this.db);
  }

  /** Retention of form data: what a purge would delete now, per pair; deletes nothing. */
  countPurgeable(cutoffs: readonly PurgeCutoff[]): Promise<PurgeCount[]> {
    return countPurgeable(this.db, cutoffs);
  }

  /** Retention of form data: deletes form data and attachments past their pair's cutoff, in batches. */
  purgeFormData(cutoffs: readonly PurgeCutoff[], o: { now: number; batchSize?: number }): Promise<PurgeCount[]> {
    return purgeFormData(this.db, cutoffs, { now: o.now, batchSize: o.batchSize ?? DEFAULT_BATCH_SIZE });
  }

  /** What `prune` would delete now, per table; deletes nothing. */
  async count(c: PruneCutoffs): Promise<PruneCounts> {
    const n = (r: { n: number | string | bigint } | undefined) => Number(r?.n ?? 0);
    const runs = await this.prunableRuns(c)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    const findings = await this.db
      .selectFrom('reconcile_discrepancies')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('run_id', 'in', this.prunableRuns(c).select('r.id'))
      .executeTakeFirst();
    const outbox = await this.finishedOutbox(c)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return { reconcile_runs: n(runs), reconcile_discrepancies: n(findings), status_outbox: n(outbox) };
  }

  /** Deletes what is old enough, in batches; the rows deleted per table. */
  async prune(c: PruneCutoffs, o: { batchSize?: number } = {}): Promise<PruneCounts> {
    const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
    const counts: PruneCounts = { reconcile_runs: 0, reconcile_discrepancies: 0, status_outbox: 0 };
    // Runs oldest first, keyset on (started_at, id) (index reconcile_runs_started), so the walk ends even if a run
    // chosen here cannot be deleted after all.
    let after: { startedAt: number; id: string } | undefined;
    for (;;) {
      let q = this.prunableRuns(c).select(['r.id', 'r.started_at']);
      const a = after;
      if (a)
        q = q.where((eb) =>
          eb.or([eb('r.started_at', '>', a.startedAt), eb.and([eb('r.started_at', '=', a.startedAt), eb('r.id', '>', a.id)])]),
        );
      const runs = await q.orderBy('r.started_at').orderBy('r.id').limit(batchSize).execute();
      if (runs.length === 0) break;
      const ids = runs.map((r) => r.id);
      // Findings before their runs, a batch per statement: a run with a large report is no single long delete. (The
      // foreign key cascades too, but in one statement.) A finished run's findings can leave `awaiting-operator`
      // but never enter it, so the check made when the runs were chosen still holds.
      for (;;) {
        const n = await this.deleteFindings(ids, batchSize);
        counts.reconcile_discrepancies += n;
        if (n < batchSize) break;
      }
      const res = await this.db
        .deleteFrom('reconcile_runs')
        .where('id', 'in', ids)
        .where('state', 'in', ['finished', 'partial', 'failed'])
        .executeTakeFirst();
      counts.reconcile_runs += Number(res.numDeletedRows);
      if (runs.length < batchSize) break;
      const last = runs[runs.length - 1]!;
      after = { startedAt: Number(last.started_at), id: last.id };
    }
    for (;;) {
      const res = await this.db
        .deleteFrom('status_outbox')
        .where('id', 'in', this.finishedOutbox(c).select('id').orderBy('updated_at').orderBy('id').limit(batchSize))
        // Checked again on the row itself: an update that moved on meanwhile stays.
        .where(sql<boolean>`${sql.raw(OUTBOX_FINAL_SQL)}`)
        .executeTakeFirst();
      const n = Number(res.numDeletedRows);
      counts.status_outbox += n;
      if (n < batchSize) break;
    }
    return counts;
  }

  /**
   * Runs that may go: ended (finished, partial or failed; never `running`), started before the cutoff (or, having found nothing,
   * before the shorter one for empty runs), and without a finding still awaiting an operator's decision.
   */
  private prunableRuns(c: PruneCutoffs) {
    return this.db
      .selectFrom('reconcile_runs as r')
      .where('r.started_at', '<', Math.max(c.runsBefore, c.emptyRunsBefore))
      .where('r.state', 'in', ['finished', 'partial', 'failed'])
      .where((eb) =>
        eb.or([
          eb('r.started_at', '<', c.runsBefore),
          eb.and([eb('r.state', '=', 'finished'), eb('r.discrepancies', '=', 0), eb('r.started_at', '<', c.emptyRunsBefore)]),
        ]),
      )
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('reconcile_discrepancies as d')
              .select('d.id')
              .whereRef('d.run_id', '=', 'r.id')
              .where('d.action', '=', 'awaiting-operator'),
          ),
        ),
      );
  }

  /** Status updates in a final state since before the cutoff; the condition's text matches the partial index status_outbox_final. */
  private finishedOutbox(c: PruneCutoffs) {
    return this.db
      .selectFrom('status_outbox')
      .where(sql<boolean>`${sql.raw(OUTBOX_FINAL_SQL)}`)
      .where('updated_at', '<', c.outboxBefore);
  }

  private async deleteFindings(runIds: readonly string[], limit: number): Promise<number> {
    const res = await this.db
      .deleteFrom('reconcile_discrepancies')
      .where(
        'id',
        'in',
        this.db.selectFrom('reconcile_discrepancies').select('id').where('run_id', 'in', runIds).orderBy('id').limit(limit),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
