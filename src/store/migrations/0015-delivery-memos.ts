import type { AnyDb, MigrationModule } from './types.ts';

/**
 * What an adapter must keep about a delivery between attempts, durably (DeliveryContext.memo): XTA 2's message id
 * from createMessageID, written before sendMessage so that a retry after a lost answer asks about that message
 * instead of sending a second one. One value per (delivery, key); deleted with the delivery.
 */
export const deliveryMemos: MigrationModule = {
  name: '0015-delivery-memos',
  build: (dialect) => ({
    async up(db: AnyDb) {
      await db.schema
        .createTable('delivery_memos')
        .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', dialect.types.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('delivery_memos_pk', ['delivery_id', 'key'])
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('delivery_memos').execute();
    },
  }),
};
