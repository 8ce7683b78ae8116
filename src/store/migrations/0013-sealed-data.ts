import type { AnyDb, MigrationModule } from './types.ts';

/**
 * Encryption at rest (docs/keys.md): `data_kid` names the data key that sealed a submission's content, original
 * and attachments; null for a row written in clear (before encryption, or with it off), which `amtsbote keys
 * rotate` seals. The index finds the rows a rotation has still to re-seal without reading their content.
 */
export const sealedData: MigrationModule = {
  name: '0013-sealed-data',
  build: () => ({
    async up(db: AnyDb) {
      await db.schema.alterTable('submissions').addColumn('data_kid', 'text').execute();
      await db.schema.createIndex('submissions_data_kid').on('submissions').columns(['data_kid', 'id']).execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('submissions_data_kid').execute();
      await db.schema.alterTable('submissions').dropColumn('data_kid').execute();
    },
  }),
};
