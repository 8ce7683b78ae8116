import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dropSchema, openStore, type Store, type DatabaseOptions } from '../../src/store/index.ts';

/** The PostgreSQL the tests use; CI starts it (see .ci/run). */
export const PG_URL = process.env.AMTSBOTE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let pgReachable: Promise<boolean> | undefined;
/** Whether PostgreSQL answers; the first call also drops schemas that killed test runs left behind. */
export function postgresReachable(): Promise<boolean> {
  pgReachable ??= (async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
    } catch {
      return false;
    }
    try {
      const { rows } = await c.query<{ nspname: string }>("select nspname from pg_namespace where nspname like 'amtsbote_test_%'");
      for (const { nspname } of rows) {
        const pid = Number(/^amtsbote_test_(\d+)_/.exec(nspname)?.[1]);
        if (pid && pid !== process.pid && !processAlive(pid)) await c.query(`drop schema if exists ${nspname} cascade`);
      }
    } finally {
      await c.end();
    }
    return true;
  })();
  return pgReachable;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  options: DatabaseOptions;
  /** Removes the database (SQLite folder, PostgreSQL schema). */
  drop(): Promise<void>;
}

/** A fresh, empty database of the given kind: a SQLite file in a temp folder, or a PostgreSQL schema of its own. */
export async function createTestDatabase(kind: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  if (kind === 'postgres') await postgresReachable();
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-test-'));
    return {
      name: kind,
      options: { sqliteFile: path.join(dir, 'amtsbote.sqlite') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `amtsbote_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  return { name: kind, options: { url: PG_URL, schema }, drop: () => dropSchema(PG_URL, schema) };
}

/**
 * Runs a describe block once per database. PostgreSQL is required in CI; on a developer machine without it
 * the PostgreSQL half is skipped with a message saying so.
 */
export function describeEachDatabase(
  title: string,
  body: (ctx: { kind: 'sqlite' | 'postgres'; db: () => TestDatabase; store: () => Store }) => void,
): void {
  for (const kind of ['sqlite', 'postgres'] as const) {
    describe(`${title} [${kind}]`, () => {
      let db: TestDatabase | undefined;
      let store: Store | undefined;
      before(async function () {
        if (kind === 'postgres' && !(await postgresReachable())) {
          if (process.env.CI) throw new Error(`PostgreSQL is not reachable at ${PG_URL}; .ci/run should have started it`);
          console.warn(`      (skipped: PostgreSQL not reachable at ${PG_URL}; set AMTSBOTE_TEST_PG_URL)`);
          this.skip();
        }
        db = await createTestDatabase(kind);
        store = await openStore(db.options);
      });
      after(async () => {
        await store?.close();
        await db?.drop();
      });
      body({ kind, db: () => db!, store: () => store! });
    });
  }
}
