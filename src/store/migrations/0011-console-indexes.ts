import type { AnyDb, MigrationModule } from './types.ts';

/**
 * The operator console's queries (src/store/console-*.ts) over a million submissions: the search's newest-first
 * page overall and per tenant, lookups by external id and back-office reference, the dead letters grouped by
 * target × error kind, and the overview's "today" counts.
 */
const INDEXES: readonly { name: string; table: string; columns: string[] }[] = [
  { name: 'submissions_received', table: 'submissions', columns: ['received_at', 'id'] },
  { name: 'submissions_tenant_received', table: 'submissions', columns: ['tenant', 'received_at', 'id'] },
  { name: 'submissions_external', table: 'submissions', columns: ['external_id'] },
  { name: 'deliveries_reference', table: 'deliveries', columns: ['reference'] },
  { name: 'deliveries_state_target_kind', table: 'deliveries', columns: ['state', 'target_id', 'last_error_kind'] },
  { name: 'deliveries_created', table: 'deliveries', columns: ['created_at'] },
  { name: 'deliveries_delivered', table: 'deliveries', columns: ['delivered_at'] },
];

export const consoleIndexes: MigrationModule = {
  name: '0011-console-indexes',
  build: () => ({
    async up(db: AnyDb) {
      for (const i of INDEXES) await db.schema.createIndex(i.name).on(i.table).columns(i.columns).execute();
    },
    async down(db: AnyDb) {
      for (const i of [...INDEXES].reverse()) await db.schema.dropIndex(i.name).execute();
    },
  }),
};
