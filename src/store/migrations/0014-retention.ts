import { sql } from 'kysely';
import type { AnyDb, MigrationModule } from './types.ts';

/** The condition of the partial index below; the purge query repeats its text (SQLite uses the index only then). */
export const UNPURGED_SQL = 'purged_at is null';

/**
 * Retention (docs/security.md): a submission's form data and attachments are deleted some days after its last
 * delivery reached a final state; the row stays, with `purged_at` saying when its content went. The index serves
 * the purge's walk over submissions not purged yet, pair by pair.
 */
export const retention: MigrationModule = {
  name: '0014-retention',
  build: (dialect) => ({
    async up(db: AnyDb) {
      await db.schema.alterTable('submissions').addColumn('purged_at', dialect.types.time).execute();
      await sql`create index submissions_unpurged on submissions (tenant, service, received_at, id) where ${sql.raw(UNPURGED_SQL)}`.execute(
        db,
      );
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('submissions_unpurged').execute();
      await db.schema.alterTable('submissions').dropColumn('purged_at').execute();
    },
  }),
};
