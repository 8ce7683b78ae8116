import type { AnyDb, MigrationModule } from './types.ts';

/** Replaying failed deliveries: the attempt count the retry budget starts from. */
export const replay: MigrationModule = {
  name: '0003-replay',
  build: () => ({
    async up(db: AnyDb) {
      // The attempt count at the last replay: the retry budget counts the attempts after it.
      await db.schema
        .alterTable('deliveries')
        .addColumn('attempt_base', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('deliveries').dropColumn('attempt_base').execute();
    },
  }),
};
