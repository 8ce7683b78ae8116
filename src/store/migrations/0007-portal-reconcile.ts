import type { AnyDb, MigrationModule } from './types.ts';

/**
 * Portal vs hub reads a portal's submissions by receipt time, page after page (keyset on received_at, id): without
 * this index every page would scan the whole table.
 */
export const portalReconcile: MigrationModule = {
  name: '0007-portal-reconcile',
  build: () => ({
    async up(db: AnyDb) {
      await db.schema.createIndex('submissions_portal_received').on('submissions').columns(['portal_id', 'received_at', 'id']).execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('submissions_portal_received').execute();
    },
  }),
};
