import { Migrator } from 'kysely';
import type { Connection } from './connect.ts';
import { migrations } from './migrations/index.ts';

/** Brings the schema up to date; safe to run from several instances at once (Kysely takes a lock). */
export async function migrate(conn: Connection): Promise<void> {
  // Name the schema: without it Kysely may take another schema's migration table for ours.
  const schema = conn.schema ?? (await conn.dialect.currentSchema(conn.db));
  const migrator = new Migrator({ db: conn.db, provider: migrations(conn.dialect), ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
