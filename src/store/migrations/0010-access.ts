import { sql } from 'kysely';
import type { AnyDb, MigrationModule } from './types.ts';

/**
 * The operator area's access and audit: the chained audit trail, local accounts, browser sessions and the login
 * throttle. The audit table refuses UPDATE and DELETE by trigger on both databases: the hub only appends, and an
 * attacker who drops the trigger still breaks the hash chain (verify() finds it).
 */
export const access: MigrationModule = {
  name: '0010-access',
  build: (dialect) => ({
    async up(db: AnyDb) {
      const { time } = dialect.types;
      await db.schema
        .createTable('audit_trail')
        // Contiguous from 1, set by the appender under its lock: a gap is a deleted record.
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text')
        .addColumn('subject', 'text')
        .addColumn('detail', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_trail_tenant_at').on('audit_trail').columns(['tenant', 'at']).execute();
      await db.schema.createIndex('audit_trail_at').on('audit_trail').columns(['at']).execute();
      let onPostgres = false;
      await dialect.onPostgres(async () => {
        onPostgres = true;
        await sql`create function audit_trail_append_only() returns trigger language plpgsql as $$
          begin raise exception 'audit_trail is append-only'; end $$`.execute(db);
        await sql`create trigger audit_trail_no_change before update or delete on audit_trail
          for each row execute function audit_trail_append_only()`.execute(db);
      });
      if (!onPostgres) {
        await sql`create trigger audit_trail_no_update before update on audit_trail
          begin select raise(abort, 'audit_trail is append-only'); end`.execute(db);
        await sql`create trigger audit_trail_no_delete before delete on audit_trail
          begin select raise(abort, 'audit_trail is append-only'); end`.execute(db);
      }

      await db.schema
        .createTable('operator_accounts')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        // JSON array of tenant keys as given (a district key is expanded when a session is read).
        .addColumn('tenants', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('operator_sessions')
        // SHA-256 of the cookie's random id: a stolen database holds no usable session.
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('via', 'text', (c) => c.notNull())
        // A local account's name: its role and tenants are read from the account on every request.
        .addColumn('account', 'text', (c) => c.references('operator_accounts.name').onDelete('cascade'))
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('tenants', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('seen_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('operator_sessions_seen').on('operator_sessions').columns(['seen_at']).execute();

      await db.schema
        .createTable('login_throttle')
        // `account:<name>` or `address:<ip>`.
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_failure_at', time, (c) => c.notNull())
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('login_throttle').execute();
      await db.schema.dropTable('operator_sessions').execute();
      await db.schema.dropTable('operator_accounts').execute();
      await db.schema.dropTable('audit_trail').execute();
      await dialect.onPostgres(() => sql`drop function if exists audit_trail_append_only()`.execute(db));
    },
  }),
};
