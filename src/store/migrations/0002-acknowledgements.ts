import { sql } from 'kysely';
import type { AnyDb, MigrationModule } from './types.ts';

/**
 * The open delivery states as this migration wrote them into the due index. Frozen: a later open state needs a new
 * migration (and a test checks that this still equals OPEN_STATES_SQL, which the claim query repeats).
 */
export const DUE_INDEX_WHERE = "state in ('queued', 'waiting', 'sending', 'acknowledging')";

/** Hand-overs the back office confirms later: the token to ask with and the deadline for its answer. */
export const acknowledgements: MigrationModule = {
  name: '0002-acknowledgements',
  build: (dialect) => ({
    async up(db: AnyDb) {
      const { time } = dialect.types;
      await db.schema.alterTable('deliveries').addColumn('ack_token', 'text').execute();
      await db.schema.alterTable('deliveries').addColumn('ack_deadline', time).execute();
      // The due index now covers hand-overs awaiting their acknowledgement too.
      await db.schema.dropIndex('deliveries_due').execute();
      await sql`create index deliveries_due on deliveries (next_attempt_at) where ${sql.raw(DUE_INDEX_WHERE)}`.execute(db);
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('deliveries_due').execute();
      await sql`create index deliveries_due on deliveries (next_attempt_at) where state in ('queued', 'waiting', 'sending')`.execute(db);
      await db.schema.alterTable('deliveries').dropColumn('ack_deadline').execute();
      await db.schema.alterTable('deliveries').dropColumn('ack_token').execute();
    },
  }),
};
