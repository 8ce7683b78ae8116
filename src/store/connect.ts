import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Database } from './tables.ts';
import { migrations } from './migrations.ts';

export type Dialect = 'sqlite' | 'postgres';

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
  // which is what a 202 promises. busy_timeout covers a checkpoint holding the lock briefly.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
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

/**
 * One hub process per SQLite file: the claim is a lock file holding our pid beside the database. A lock whose
 * process is gone (killed, crashed) is taken over. Returns the release function.
 */
function claimSqliteFile(file: string): () => void {
  const lock = `${file}.lock`;
  mkdirSync(path.dirname(file), { recursive: true });
  for (let tries = 0; tries < 3; tries++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(readFileSync(lock, 'utf8').trim());
    // Our own pid counts too: two hubs in one process on one file are just as wrong.
    if (holder && alive(holder)) {
      throw new Error(
        `another Amtsbote process (pid ${holder}) is running on ${file}; SQLite serves one hub process. ` +
          'Stop it, or run several instances on PostgreSQL (--database-url).',
      );
    }
    // Stale: its process is gone. Remove it and try again (another starter may win the race).
    try {
      unlinkSync(lock);
    } catch {
      // someone else removed it
    }
  }
  throw new Error(`could not claim ${file} (lock file ${lock})`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
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
  return { db, dialect: 'postgres', schema: opts.schema, close: () => db.destroy() };
}

/** Brings the schema up to date; safe to run from several instances at once (Kysely takes a lock). */
export async function migrate(conn: Connection): Promise<void> {
  // Name the schema: without it Kysely may take another schema's migration table for ours.
  let schema = conn.schema;
  if (conn.dialect === 'postgres' && !schema) {
    schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(conn.db)).rows[0]?.schema;
  }
  const migrator = new Migrator({ db: conn.db, provider: migrations(conn.dialect), ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
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

export { sql };
