import { sql } from 'kysely';
import type { AnyDb, MigrationModule } from './types.ts';

/** Reconciliation runs and their discrepancies, and the index that lets a run walk a target's deliveries by key. */
export const reconciliation: MigrationModule = {
  name: '0005-reconciliation',
  build: (dialect) => ({
    async up(db: AnyDb) {
      const { time } = dialect.types;
      await db.schema
        .createTable('reconcile_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('schedule_id', 'text', (c) => c.notNull())
        .addColumn('scheduled_for', time)
        .addColumn('filters', 'text', (c) => c.notNull())
        .addColumn('instance', 'text', (c) => c.notNull())
        .addColumn('started_at', time, (c) => c.notNull())
        .addColumn('finished_at', time)
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('counts', 'text', (c) => c.notNull())
        .addColumn('matched', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('discrepancies', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .execute();
      // A second instance firing the same slot of the same schedule finds it taken (see the scheduler).
      await sql`create unique index reconcile_runs_slot on reconcile_runs (schedule_id, scheduled_for) where scheduled_for is not null`.execute(
        db,
      );
      await db.schema.createIndex('reconcile_runs_started').on('reconcile_runs').columns(['started_at', 'id']).execute();
      await db.schema
        .createTable('reconcile_discrepancies')
        .addColumn('id', dialect.types.serial, (c) => dialect.serialKey(c))
        .addColumn('run_id', 'text', (c) => c.notNull().references('reconcile_runs.id').onDelete('cascade'))
        .addColumn('class', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('submission_id', 'text')
        .addColumn('delivery_id', 'text')
        .addColumn('target_id', 'text')
        .addColumn('portal_id', 'text')
        .addColumn('tenant', 'text')
        .addColumn('reference', 'text')
        .addColumn('idempotency_key', 'text')
        .addColumn('external_id', 'text')
        .addColumn('detail', 'text')
        .addColumn('resolved_at', time)
        .addColumn('resolved_by', 'text')
        .execute();
      await db.schema.createIndex('reconcile_discrepancies_run').on('reconcile_discrepancies').columns(['run_id', 'id']).execute();
      // Hub vs back office reads a target's delivered cases in key order, page by page, and looks keys up.
      await sql`create index deliveries_target_key on deliveries (target_id, idempotency_key) where state = 'delivered'`.execute(db);
      await db.schema.createIndex('deliveries_target_reference').on('deliveries').columns(['target_id', 'reference']).execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('deliveries_target_reference').execute();
      await db.schema.dropIndex('deliveries_target_key').execute();
      await db.schema.dropTable('reconcile_discrepancies').execute();
      await db.schema.dropTable('reconcile_runs').execute();
    },
  }),
};
