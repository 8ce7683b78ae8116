import { writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { createTestDatabase } from './support/databases.ts';
import { startTestHub } from './support/hub.ts';

describe('one hub process per SQLite file', () => {
  let bo: TestBackOffice;
  before(async () => {
    bo = await new TestBackOffice().start();
  });
  after(async () => bo?.stop());

  it('refuses a second hub on the same file with a clear message, and lets it start once the first stops', async () => {
    const db = await createTestDatabase('sqlite');
    const first = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url });
    try {
      const second = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(second).to.equal(
        `another Amtsbote process (pid ${process.pid}) is running on ${db.options.sqliteFile}; SQLite serves one hub process. Stop it, or run several instances on PostgreSQL (--database-url).`,
      );
    } finally {
      await first.stop();
    }
    const again = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url });
    await again.stop(true);
  });

  it('takes over the lock of a process that is gone', async () => {
    const db = await createTestDatabase('sqlite');
    // A pid far above any pid_max of a default Linux: no such process.
    writeFileSync(`${db.options.sqliteFile}.lock`, '4194304999');
    const hub = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url });
    await hub.stop(true);
  });
});
