import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';
import { openStore } from '../src/store/index.ts';

const WRITER = fileURLToPath(new URL('./support/sqlite-writer.ts', import.meta.url));
const N = 300;

/**
 * An operator command beside a running hub is a second process on the SQLite file. Its write transactions and
 * the hub's must wait for each other (busy_timeout, BEGIN IMMEDIATE) rather than fail with "database is locked".
 */
describe('two processes writing one SQLite file', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('sqlite');
    // Migrated once here, as the hub does before an operator command runs beside it.
    await (await openStore(db.options)).close();
  });
  after(async () => db?.drop());

  it('wait for each other: every submission filed and every delivery completed, no "database is locked"', async () => {
    const run = (role: string, tag: string, n: number) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', WRITER, db.options.sqliteFile!, role, String(n), tag]).then(
        (r) => ({ code: 0, stderr: r.stderr }),
        (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
      );
    // Two filing processes and one worker, all at once: each transaction reads, then writes.
    const results = await Promise.all([run('intake', 'a', N), run('intake', 'b', N), run('worker', 'w', 2 * N)]);
    for (const r of results) {
      expect(r.stderr).not.to.include('database is locked');
      expect(r.code, r.stderr).to.equal(0);
    }
    const store = await openStore(db.options);
    try {
      expect(await store.deliveryCounts()).to.include({ delivered: 2 * N, queued: 0, sending: 0 });
    } finally {
      await store.close();
    }
  });
});
