import { sql } from 'kysely';
import type { AnyDb, MigrationModule } from './types.ts';

/** Submissions, their attachments, deliveries, their attempts and the sync log. */
export const core: MigrationModule = {
  name: '0001-core',
  build: (dialect) => ({
    async up(db: AnyDb) {
      const { time, blob } = dialect.types;
      await db.schema
        .createTable('submissions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('portal_id', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('submitted_at', 'text', (c) => c.notNull())
        .addColumn('received_at', time, (c) => c.notNull())
        .addColumn('body_hash', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addUniqueConstraint('submissions_portal_external', ['portal_id', 'external_id'])
        .execute();
      await db.schema
        .createTable('attachments')
        .addColumn('submission_id', 'text', (c) => c.notNull().references('submissions.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('content', blob, (c) => c.notNull())
        .addPrimaryKeyConstraint('attachments_pk', ['submission_id', 'position'])
        .execute();
      await db.schema
        .createTable('deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('submission_id', 'text', (c) => c.notNull().references('submissions.id').onDelete('cascade'))
        .addColumn('route_id', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('mapping_id', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', time, (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', time)
        .addColumn('reference', 'text')
        .addColumn('last_error', 'text')
        .addColumn('last_error_kind', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addColumn('delivered_at', time)
        .execute();
      // The worker's claim walks the open deliveries in due order and stops at its limit. A partial index holds
      // only open ones, so delivered history never slows it; the claim query repeats this WHERE literally,
      // which SQLite needs to use a partial index.
      await sql`create index deliveries_due on deliveries (next_attempt_at) where state in ('queued', 'waiting', 'sending')`.execute(db);
      await db.schema.createIndex('deliveries_submission').on('deliveries').column('submission_id').execute();
      await db.schema
        .createTable('attempts')
        .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('started_at', time, (c) => c.notNull())
        .addColumn('finished_at', time)
        .addColumn('duration_ms', 'integer')
        .addColumn('outcome', 'text')
        .addColumn('error', 'text')
        .addColumn('error_kind', 'text')
        .addColumn('http_status', 'integer')
        .addColumn('reference', 'text')
        .addPrimaryKeyConstraint('attempts_pk', ['delivery_id', 'number'])
        .execute();
      await db.schema
        .createTable('events')
        .addColumn('id', dialect.types.serial, (c) => dialect.serialKey(c))
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('submission_id', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'text')
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('events_submission').on('events').columns(['submission_id', 'id']).execute();
      await db.schema.createIndex('events_at').on('events').column('at').execute();
    },
    async down(db: AnyDb) {
      for (const t of ['events', 'attempts', 'deliveries', 'attachments', 'submissions']) {
        await sql`drop table if exists ${sql.table(t)}`.execute(db);
      }
    },
  }),
};
