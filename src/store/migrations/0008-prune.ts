import { sql } from 'kysely';
import type { AnyDb, MigrationModule } from './types.ts';

/** The SQL of the outbox's final states; the partial index and the prune query share the text (SQLite needs it). */
export const OUTBOX_FINAL_SQL = "state in ('delivered', 'failed')";

/**
 * The prune job deletes status updates that reached a final state long ago, oldest first. Without this index each
 * batch would walk the whole outbox (its other indexes cover only open rows), and on SQLite inside the write lock.
 * Reconciliation runs need none: `reconcile_runs_started` and `reconcile_discrepancies_run` (0005) serve the prune.
 */
export const prune: MigrationModule = {
  name: '0008-prune',
  build: () => ({
    async up(db: AnyDb) {
      await sql`create index status_outbox_final on status_outbox (updated_at, id) where ${sql.raw(OUTBOX_FINAL_SQL)}`.execute(db);
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('status_outbox_final').execute();
    },
  }),
};
