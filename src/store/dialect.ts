import { createHash } from 'node:crypto';
import { sql, type ColumnDefinitionBuilder, type Kysely, type RawBuilder } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

/** A query that can take row locks (Kysely's select builder). */
interface Lockable<Q> {
  forUpdate(): Q;
  skipLocked(): Q;
}

/**
 * Where SQLite and PostgreSQL differ, in one place: column types, row locks, how many writers commit at once,
 * cross-instance locks and the server's own settings. The rest of store/ asks this object and never the
 * dialect's name.
 *
 * Why most differences are about locks: SQLite serves one process and every transaction begins IMMEDIATE
 * (connect.ts), so writers already take turns; PostgreSQL serves several instances, which lock the rows they
 * change (FOR UPDATE) and claim side by side (SKIP LOCKED).
 */
export interface Dialect {
  readonly name: DialectName;
  /** Column types: times are epoch ms (bigint/integer), binary content, floating point, an auto-numbered id. */
  readonly types: {
    time: 'bigint' | 'integer';
    blob: 'bytea' | 'blob';
    real: 'double precision' | 'real';
    serial: 'bigserial' | 'integer';
  };
  /** The primary key of an auto-numbered id column (`types.serial`). */
  serialKey(c: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Batches a group commit writes at the same time. */
  readonly writers: number;
  /** Whether rows are locked for a change (several instances); without, transactions take turns anyway. */
  readonly rowLocks: boolean;
  /**
   * Whether one statement may write several tables (data-modifying WITH, PostgreSQL): a claim is then one round
   * trip per target. SQLite has no round trips to save, and no such statement.
   */
  readonly writesInOneStatement: boolean;
  /** Locks the rows read for the rest of the transaction (PostgreSQL); as is on SQLite. */
  lockRows<Q extends Lockable<Q>>(q: Q): Q;
  /** Locks the rows read and passes over those another instance has locked, for claims (PostgreSQL). */
  claimRows<Q extends Lockable<Q>>(q: Q): Q;
  /** Runs `fn` only if no other instance holds the lock named `name`. */
  exclusively<T>(db: Kysely<any>, name: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /** The schema the connection lives in (PostgreSQL), for the migration table. */
  currentSchema(db: Kysely<any>): Promise<string | undefined>;
  /** What about the database an operator should know at start-up. */
  maintenanceWarnings(db: Kysely<any>): Promise<string[]>;
  /** Runs `fn` on PostgreSQL only: statements SQLite has no counterpart for (storage parameters). */
  onPostgres(fn: () => Promise<unknown>): Promise<void>;
  /**
   * A batch's rows as a table, from one JSON parameter: what set-wise writes (`update … from <rows> as v`) join on.
   * One parameter keeps the statement's text the same whatever the batch size, and its compile cheap.
   */
  jsonRows(rows: readonly object[], columns: readonly JsonColumn[]): RawBuilder<unknown>;
}

/** A column of `jsonRows`: its name (a fixed identifier, never input) and its SQL type. */
export type JsonColumn = readonly [name: string, type: 'text' | 'bigint' | 'integer'];

export const sqlite: Dialect = {
  name: 'sqlite',
  types: { time: 'integer', blob: 'blob', real: 'real', serial: 'integer' },
  serialKey: (c) => c.primaryKey().autoIncrement(),
  // One connection: one writer.
  writers: 1,
  rowLocks: false,
  writesInOneStatement: false,
  lockRows: (q) => q,
  claimRows: (q) => q,
  // SQLite serves one process, so there is nothing to take.
  exclusively: async (_db, _name, fn) => ({ ran: true, value: await fn() }),
  currentSchema: async () => undefined,
  maintenanceWarnings: async () => [],
  onPostgres: async () => undefined,
  jsonRows: (rows, columns) =>
    sql`(select ${sql.raw(columns.map(([c]) => `json_extract(value, '$.${c}') as ${c}`).join(', '))} from json_each(${JSON.stringify(rows)}))`,
};

export const postgres: Dialect = {
  name: 'postgres',
  types: { time: 'bigint', blob: 'bytea', real: 'double precision', serial: 'bigserial' },
  serialKey: (c) => c.primaryKey(),
  // PostgreSQL commits concurrent transactions together and a batch mostly waits on round trips, so a few
  // batches may be in flight.
  writers: 4,
  rowLocks: true,
  writesInOneStatement: true,
  lockRows: (q) => q.forUpdate(),
  claimRows: (q) => q.forUpdate().skipLocked(),
  /**
   * A session-level `pg_try_advisory_lock` on one pinned connection, held until `fn` ends (a crashed holder's
   * lock goes with its connection).
   */
  async exclusively(db, name, fn) {
    const key = lockKey(name);
    return db.connection().execute(async (conn) => {
      const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_lock(${key}::bigint) as ok`.execute(conn);
      if (!rows[0]?.ok) return { ran: false as const };
      try {
        return { ran: true as const, value: await fn() };
      } finally {
        await sql`select pg_advisory_unlock(${key}::bigint)`.execute(conn);
      }
    });
  },
  async currentSchema(db) {
    return (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
  },
  async maintenanceWarnings(db) {
    const { rows } = await sql<{ autovacuum: string }>`show autovacuum`.execute(db);
    return rows[0]?.autovacuum === 'off'
      ? [
          'PostgreSQL runs with autovacuum off: deliveries is a queue table, and without vacuum its claim index fills with dead entries and claims slow down as work drains; turn autovacuum on or VACUUM deliveries regularly',
        ]
      : [];
  },
  async onPostgres(fn) {
    await fn();
  },
  jsonRows: (rows, columns) =>
    sql`(select * from json_to_recordset(${JSON.stringify(rows)}::json) as x(${sql.raw(columns.map(([c, t]) => `${c} ${t}`).join(', '))}))`,
};

/** A lock name (a schedule id) as a signed 64-bit advisory-lock key: the first 8 bytes of its SHA-256. */
export function lockKey(name: string): string {
  return createHash('sha256').update(`amtsbote:${name}`).digest().readBigInt64BE(0).toString();
}
