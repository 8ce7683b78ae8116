import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { sql } from 'kysely';
import { connect } from './connect.ts';

describe('WAL checkpoints in a thread of their own', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-ckpt-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keep the WAL from growing while the hub connection checkpoints nothing itself', async () => {
    const file = path.join(dir, 'hub.sqlite');
    const conn = await connect({ sqliteFile: file });
    try {
      const [mode] = (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(conn.db)).rows;
      expect(mode?.wal_autocheckpoint, 'the connection leaves checkpoints to the thread').to.equal(0);
      await sql`create table blobs (id integer primary key, body text)`.execute(conn.db);
      const body = 'x'.repeat(100_000);
      // 40 commits of 100 KB: 4 MB written to the WAL. The thread checkpoints them as they come, so the writer
      // starts the WAL over and it stays a fraction of that.
      for (let i = 0; i < 40; i++) {
        await conn.db.transaction().execute((trx) => sql`insert into blobs (body) values (${body})`.execute(trx));
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 400));
      }
      expect(statSync(`${file}-wal`).size).to.be.below(2_500_000);
      const rows = await sql<{ n: number }>`select count(*) as n from blobs`.execute(conn.db);
      expect(rows.rows[0]?.n).to.equal(40);
    } finally {
      await conn.close();
    }
  });
});
