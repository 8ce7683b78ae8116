import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';
import { PORTAL_A_TOKEN, startTestHub } from './support/hub.ts';
import { startHubProcess, type HubProcess } from './support/hub-process.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/multi-instance', import.meta.url));
const refusal = (pid: number, file: string) =>
  `another Amtsbote process (pid ${pid}) is running on ${file}; SQLite serves one hub process. Stop it, or run several instances on PostgreSQL (--database-url).`;

describe('one hub process per SQLite file', function () {
  this.timeout(60_000);
  let bo: TestBackOffice;
  const dbs: TestDatabase[] = [];
  const procs: HubProcess[] = [];
  before(async () => {
    bo = await new TestBackOffice().start();
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop()));
    for (const db of dbs.splice(0)) await db.drop();
  });
  after(async () => bo?.stop());

  async function database(): Promise<TestDatabase> {
    const db = await createTestDatabase('sqlite');
    dbs.push(db);
    return db;
  }

  /** `amtsbote start` as a real child process on the test database's SQLite file. */
  async function hubProcess(db: TestDatabase, wrap?: string[]): Promise<HubProcess> {
    const p = await startHubProcess({
      configDir: CONFIG,
      dataDir: path.dirname(db.options.sqliteFile!),
      env: { BACKOFFICE_URL: bo.url, TEST_PORTAL_A_TOKEN: PORTAL_A_TOKEN },
      ...(wrap ? { wrap } : {}),
    });
    procs.push(p);
    return p;
  }

  const holderPid = (db: TestDatabase) => (JSON.parse(readFileSync(`${db.options.sqliteFile}.lock`, 'utf8')) as { pid: number }).pid;

  it('refuses a second hub on the same file with a clear message, and lets it start once the first stops', async () => {
    const db = await database();
    const first = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url });
    try {
      const second = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(second).to.equal(refusal(process.pid, db.options.sqliteFile!));
    } finally {
      await first.stop();
    }
    const again = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url });
    await again.stop(true);
  });

  it('refuses a hub beside a live hub process, naming that process', async () => {
    const db = await database();
    const running = await hubProcess(db);
    const second = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(second).to.equal(refusal(running.pid, db.options.sqliteFile!));
  });

  it('starts after a hub process was killed with SIGKILL: the kernel released its lock', async () => {
    const db = await database();
    const victim = await hubProcess(db);
    await victim.kill();
    // The killed hub could not clean up: its information file still names it.
    expect(holderPid(db)).to.equal(victim.pid);
    const hub = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url });
    expect(holderPid(db)).to.equal(process.pid);
    await hub.stop(true);
  });

  it('does not let a lock file of the old format block, whatever live process its pid now names', async () => {
    for (const pid of [process.ppid, 1, process.pid, 4194304999]) {
      const db = await database();
      // What hubs before the record lock wrote: the bare pid.
      writeFileSync(`${db.options.sqliteFile}.lock`, String(pid));
      const hub = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url });
      await hub.stop(true);
    }
  });

  it('restarts as pid 1 in a new pid namespace after the pid-1 hub was killed, as a container does', async function () {
    const unshare = ['unshare', '--fork', '--pid', '--mount-proc', '--kill-child'];
    const probe = spawnSync(unshare[0]!, [...unshare.slice(1), 'true'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      console.warn(
        `      (skipped: cannot make a pid namespace here (${probe.error?.message ?? probe.stderr.trim()}); needs root or user namespaces)`,
      );
      this.skip();
    }
    const db = await database();
    const first = await hubProcess(db, unshare);
    expect(holderPid(db)).to.equal(1);
    await first.kill();
    const second = await hubProcess(db, unshare);
    expect(holderPid(db)).to.equal(1);
    // And it holds the file: a hub outside the namespace is refused.
    const third = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(third).to.equal(refusal(1, db.options.sqliteFile!));
    await second.stop();
  });
});
