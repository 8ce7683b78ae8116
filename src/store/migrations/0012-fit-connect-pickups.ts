import type { AnyDb, MigrationModule } from './types.ts';

/**
 * One row per FIT-Connect submission the hub has seen (docs/fit-connect.md): keyed by FIT-Connect's submission
 * id, so a submission is taken in once across instances and restarts; its state tells what is still owed to the
 * platform (`stored` = in the hub, accept not yet confirmed). The authentication tags are kept to accept
 * without fetching again; no citizen data is kept here (that is the submission's).
 */
export const fitConnectPickups: MigrationModule = {
  name: '0012-fit-connect-pickups',
  build: (dialect) => ({
    async up(db: AnyDb) {
      const { time } = dialect.types;
      await db.schema
        .createTable('fit_connect_pickups')
        .addColumn('submission_id', 'text', (c) => c.primaryKey())
        .addColumn('destination', 'text', (c) => c.notNull())
        .addColumn('destination_id', 'text', (c) => c.notNull())
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('hub_submission_id', 'text')
        .addColumn('authentication_tags', 'text')
        .addColumn('problems', 'text')
        .addColumn('last_error', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('first_seen_at', time, (c) => c.notNull())
        .addColumn('stored_at', time)
        .addColumn('answered_at', time)
        .execute();
      // Accept-on-restart and the alert read the open ones, oldest first.
      await db.schema.createIndex('fit_connect_pickups_open').on('fit_connect_pickups').columns(['state', 'first_seen_at']).execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('fit_connect_pickups').execute();
    },
  }),
};
