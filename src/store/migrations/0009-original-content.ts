import type { AnyDb, MigrationModule } from './types.ts';

/**
 * A submission that came in on an inbound channel keeps its document exactly as sent, with its media type, for
 * the pass-through format (docs/inbound.md). Envelope submissions have neither (null).
 */
export const originalContent: MigrationModule = {
  name: '0009-original-content',
  build: (dialect) => ({
    async up(db: AnyDb) {
      await db.schema.alterTable('submissions').addColumn('original', dialect.types.blob).execute();
      await db.schema.alterTable('submissions').addColumn('original_media_type', 'text').execute();
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('submissions').dropColumn('original_media_type').execute();
      await db.schema.alterTable('submissions').dropColumn('original').execute();
    },
  }),
};
