import { sql } from 'kysely';
import type { AnyDb, MigrationModule } from './types.ts';

/**
 * The open delivery states as this migration wrote them into its partial index. Frozen: a later open state needs a
 * new migration (and a test checks that this still equals OPEN_STATES_SQL, which the claim query repeats).
 */
export const TARGET_DUE_INDEX_WHERE = "state in ('queued', 'waiting', 'sending', 'acknowledging')";

/**
 * Per-target state shared by every hub instance: the circuit breaker and the rate-limit bucket. Claims read and
 * update it in the claim's transaction, so limits hold across instances.
 */
export const targetPolicies: MigrationModule = {
  name: '0004-target-policies',
  build: (dialect) => ({
    async up(db: AnyDb) {
      const { time } = dialect.types;
      await db.schema
        .createTable('target_state')
        .addColumn('target_id', 'text', (c) => c.primaryKey())
        .addColumn('breaker', 'text', (c) => c.notNull().defaultTo('closed'))
        .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('opened_at', time)
        // open: when the cool-down ends; half-open: when the probe's lease runs out.
        .addColumn('retry_at', time)
        .addColumn('probe_delivery_id', 'text')
        .addColumn('last_error', 'text')
        .addColumn('tokens', dialect.types.real, (c) => c.notNull().defaultTo(0))
        .addColumn('tokens_at', time)
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();
      // Claims go target by target, oldest due first (ids break ties in creation order): the index gives that order
      // without a sort, however long the backlog. In-flight counts look only at `sending`.
      await sql`create index deliveries_target_due on deliveries (target_id, next_attempt_at, id) where ${sql.raw(TARGET_DUE_INDEX_WHERE)}`.execute(
        db,
      );
      await sql`create index deliveries_target_sending on deliveries (target_id) where state = 'sending'`.execute(db);
      // deliveries is a queue: every claim and every result rewrites rows the claim index points at, and the
      // dead entries pile up at its head until vacuumed. Vacuum it after 1 % of changes rather than 20 %.
      await dialect.onPostgres(() =>
        sql`alter table deliveries set (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0)`.execute(
          db,
        ),
      );
      // The back office's own word for the case, as last seen (push, poll or reconciliation).
      await db.schema.alterTable('deliveries').addColumn('backoffice_status', 'text').execute();
      await db.schema.alterTable('deliveries').addColumn('backoffice_status_at', time).execute();
    },
    async down(db: AnyDb) {
      await dialect.onPostgres(() =>
        sql`alter table deliveries reset (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay)`.execute(
          db,
        ),
      );
      await db.schema.alterTable('deliveries').dropColumn('backoffice_status_at').execute();
      await db.schema.alterTable('deliveries').dropColumn('backoffice_status').execute();
      await db.schema.dropIndex('deliveries_target_sending').execute();
      await db.schema.dropIndex('deliveries_target_due').execute();
      await db.schema.dropTable('target_state').execute();
    },
  }),
};
