import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type Transaction,
  type SqliteDialectConfig,
} from 'kysely';
import type { Database } from './tables.ts';
import { postgres, sqlite, type Dialect } from './dialect.ts';
import { claimSqliteFile } from './sqlite-claim.ts';
import { startCheckpointer, type Checkpointer } from './wal-checkpointer.ts';

export interface DatabaseOptions {
  /** postgres://… for PostgreSQL; otherwise SQLite at `sqliteFile`. */
  url?: string | undefined;
  sqliteFile?: string;
  /** PostgreSQL schema to live in (created if missing); tests use one per run. */
  schema?: string;
  poolSize?: number;
  /**
   * SQLite only: claim the file for this hub process. A second hub on the same file is refused; tools such as
   * `amtsbote replay` open it without the claim and rely on SQLite's own locking.
   */
  exclusive?: boolean;
}

export interface Connection {
  db: Kysely<Database>;
  dialect: Dialect;
  /**
   * A transaction whose loss in a power cut or a database server crash costs at most a re-send with the same
   * idempotency key: the worker's claims and attempt results. It commits without waiting for the disk (SQLite
   * `synchronous = NORMAL`, PostgreSQL `synchronous_commit = off`); a crash of the hub process still keeps it, and
   * the next durable commit (an intake's, whose 202 waits for the disk) flushes it too. Intake never uses it.
   */
  resendable<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL: the same connections for statements that stand on their own, without a transaction (a claim
   * that needs no row lock). SQLite has no round trips to save and takes its claims in a transaction.
   */
  standalone?: Kysely<Database>;
  /** The PostgreSQL schema the hub lives in, when not the default. */
  schema?: string | undefined;
  close(): Promise<void>;
}

// int8 (bigint) arrives as a string by default; our bigints are epoch milliseconds, safe as numbers.
pg.types.setTypeParser(20, (v) => Number(v));

export async function connect(opts: DatabaseOptions): Promise<Connection> {
  if (opts.url && /^postgres(ql)?:\/\//.test(opts.url)) return connectPostgres(opts.url, opts);
  if (opts.url) throw new Error('database.url must start with postgres:// (leave it empty for SQLite)');
  if (!opts.sqliteFile) throw new Error('no SQLite file given');
  const release = opts.exclusive && opts.sqliteFile !== ':memory:' ? claimSqliteFile(opts.sqliteFile) : undefined;
  try {
    const conn = connectSqlite(opts.sqliteFile);
    return release ? { ...conn, close: () => conn.close().finally(release) } : conn;
  } catch (e) {
    release?.();
    throw e;
  }
}

function connectSqlite(file: string): Connection {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const database = new SQLite(file);
  // WAL lets readers run beside the writer; synchronous=FULL makes every commit survive a power cut,
  // which is what a 202 promises. busy_timeout makes every connection, the hub's and an operator command's
  // (replay, reconcile, prune, targets beside a running hub), wait up to 5 s for the other's write to end
  // instead of failing with "database is locked".
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  // Checkpoints run in a thread of their own (wal-checkpointer.ts); back on this connection should it fail.
  let checkpointer: Checkpointer | undefined;
  if (file !== ':memory:') {
    database.pragma('wal_autocheckpoint = 0');
    checkpointer = startCheckpointer(file, { intervalMs: 250, onFailure: () => database.pragma('wal_autocheckpoint = 1000') });
  }
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }) });
  // On the one connection, held for the whole transaction, so no other commit runs in between at the lighter level.
  const light = <T>(fn: (trx: Transaction<Database>) => Promise<T>) =>
    db.connection().execute(async (conn) => {
      await sql`pragma synchronous = normal`.execute(conn);
      try {
        return await conn.transaction().execute(fn);
      } finally {
        await sql`pragma synchronous = full`.execute(conn);
      }
    });
  return {
    db,
    dialect: sqlite,
    resendable: light,
    close: async () => {
      await checkpointer?.close();
      await db.destroy();
    },
  };
}

/** How long a SQLite connection waits for another process's write lock before it gives up. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * Every transaction in store/ writes (intake batches, completions, status, reconciliation, replay, prune), and
 * most read before they write. A deferred `BEGIN` takes the write lock only at the first write; in WAL mode, if
 * another process committed in between, SQLite answers SQLITE_BUSY at once, without the busy_timeout wait, since
 * waiting cannot make the read snapshot current. `BEGIN IMMEDIATE` takes the write lock first, where
 * busy_timeout applies, so a second process on the file waits its turn.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * Kysely prepares every statement anew; better-sqlite3 statements are reusable, and preparing costs more than
 * running most of ours. A small LRU keeps the hot ones.
 */
function withStatementCache(database: SQLite.Database, size = 256): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  return new Proxy(database, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') {
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      }
      return (source: string) => {
        let stmt = cache.get(source);
        if (stmt) {
          cache.delete(source);
        } else {
          stmt = target.prepare(source);
          if (cache.size >= size) cache.delete(cache.keys().next().value!);
        }
        cache.set(source, stmt);
        return stmt;
      };
    },
  });
}

async function connectPostgres(url: string, opts: DatabaseOptions): Promise<Connection> {
  if (opts.schema && !/^[a-z_][a-z0-9_]*$/.test(opts.schema)) throw new Error(`invalid schema name ${opts.schema}`);
  if (opts.schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${opts.schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // The worker's own few connections, set once, so its transactions need no extra statement for it.
  const workerPool = new pg.Pool({
    connectionString: url,
    max: 4,
    options: [...(opts.schema ? [`-c search_path=${opts.schema}`] : []), '-c synchronous_commit=off'].join(' '),
  });
  const light = new Kysely<Database>({ dialect: new PostgresDialect({ pool: workerPool }) });
  return {
    db,
    dialect: postgres,
    schema: opts.schema,
    resendable: (fn) => light.transaction().execute(fn),
    standalone: light,
    close: async () => {
      await light.destroy();
      await db.destroy();
    },
  };
}

/** Drops a PostgreSQL schema with everything in it (tests). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}
