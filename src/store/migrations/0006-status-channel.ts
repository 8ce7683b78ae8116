import { sql } from 'kysely';
import type { AnyDb, MigrationModule } from './types.ts';

/** The SQL of the outbox's open states; the partial index and the claim query share the text (SQLite needs it). */
export const OUTBOX_OPEN_SQL = "state in ('pending', 'sending')";

/** The status back-channel: status history, current status per delivery and per submission, the portal outbox. */
export const statusChannel: MigrationModule = {
  name: '0006-status-channel',
  build: (dialect) => ({
    async up(db: AnyDb) {
      const { time } = dialect.types;
      await db.schema
        .createTable('status_history')
        .addColumn('id', dialect.types.serial, (c) => dialect.serialKey(c))
        .addColumn('submission_id', 'text', (c) => c.notNull().references('submissions.id').onDelete('cascade'))
        .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('backoffice_status', 'text')
        .addColumn('status_key', 'text', (c) => c.notNull())
        .addColumn('portal_status', 'text')
        .addColumn('reason', 'text')
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('recorded_at', time, (c) => c.notNull())
        .addColumn('effect', 'text', (c) => c.notNull())
        .execute();
      // The same news twice (a push repeated, a poll after a push) is one row: what makes recording idempotent.
      await db.schema
        .createIndex('status_history_news')
        .unique()
        .on('status_history')
        .columns(['delivery_id', 'status_key', 'at'])
        .execute();
      await db.schema.createIndex('status_history_submission').on('status_history').columns(['submission_id', 'at']).execute();
      await db.schema
        .createTable('delivery_status')
        .addColumn('delivery_id', 'text', (c) => c.primaryKey().references('deliveries.id').onDelete('cascade'))
        .addColumn('submission_id', 'text', (c) => c.notNull())
        .addColumn('portal_status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('delivery_status_submission').on('delivery_status').column('submission_id').execute();
      await db.schema
        .createTable('submission_status')
        .addColumn('submission_id', 'text', (c) => c.primaryKey().references('submissions.id').onDelete('cascade'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('sequence', 'integer', (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('status_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('submission_id', 'text', (c) => c.notNull().references('submissions.id').onDelete('cascade'))
        .addColumn('portal_id', 'text', (c) => c.notNull())
        .addColumn('sequence', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', time, (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', time)
        .addColumn('last_error', 'text')
        .addColumn('last_error_kind', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addColumn('delivered_at', time)
        .addUniqueConstraint('status_outbox_order', ['submission_id', 'sequence'])
        .execute();
      await sql`create index status_outbox_due on status_outbox (next_attempt_at) where ${sql.raw(OUTBOX_OPEN_SQL)}`.execute(db);
    },
    async down(db: AnyDb) {
      for (const t of ['status_outbox', 'submission_status', 'delivery_status', 'status_history']) await db.schema.dropTable(t).execute();
    },
  }),
};
