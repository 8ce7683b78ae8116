import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { WalSync } from './wal-sync.ts';
import { connect } from './connect.ts';
import { migrate } from './migrate.ts';

/** A sync the test lets finish when it wants: the disk, slowed down. */
function heldSyncs() {
  const calls: { fd: number; finish: (e?: Error) => void }[] = [];
  const syncFile = (fd: number) =>
    new Promise<void>((resolve, reject) => calls.push({ fd, finish: (e?: Error) => (e ? reject(e) : resolve()) }));
  return { calls, syncFile };
}

// Long enough for the file open and the callbacks on the thread pool to come back.
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('WalSync: durable commits without holding the event loop', () => {
  let dir: string;
  let wal: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-wal-'));
    wal = path.join(dir, 'db.sqlite-wal');
    writeFileSync(wal, '');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves only after a sync that began after the call', async () => {
    const disk = heldSyncs();
    const s = new WalSync(wal, disk.syncFile);
    let done = false;
    const first = s.sync().then(() => (done = true));
    await tick();
    expect(disk.calls).to.have.length(1);
    expect(done).to.equal(false);
    disk.calls[0]!.finish();
    await first;
    expect(done).to.equal(true);
    await s.close();
  });

  it('lets commits that end while a sync runs share the next one', async () => {
    const disk = heldSyncs();
    const s = new WalSync(wal, disk.syncFile);
    const first = s.sync();
    await tick();
    // Both committed after the first sync began: it cannot cover them.
    const order: string[] = [];
    const second = s.sync().then(() => order.push('second'));
    const third = s.sync().then(() => order.push('third'));
    await tick();
    expect(disk.calls).to.have.length(1);
    disk.calls[0]!.finish();
    await first;
    await tick();
    expect(disk.calls, 'one more sync for both').to.have.length(2);
    expect(order).to.deep.equal([]);
    disk.calls[1]!.finish();
    await Promise.all([second, third]);
    expect(order).to.deep.equal(['second', 'third']);
    await s.close();
  });

  it('passes a refused sync to every caller that waited on it, and syncs again for the next', async () => {
    const disk = heldSyncs();
    const s = new WalSync(wal, disk.syncFile);
    const a = s.sync();
    const b = s.sync();
    await tick();
    disk.calls[0]!.finish(new Error('EIO'));
    const refused = await a.then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(refused).to.equal('EIO');
    await tick();
    disk.calls[1]!.finish();
    await b;
    const c = s.sync();
    await tick();
    disk.calls[2]!.finish();
    await c;
    await s.close();
  });

  it('gives a store on a file durable transactions that sync its WAL (the file is there by the first commit)', async () => {
    const file = path.join(dir, 'hub.sqlite');
    const conn = await connect({ sqliteFile: file });
    try {
      await migrate(conn);
      const row = await conn.synced((trx) =>
        trx.insertInto('target_state').values({ target_id: 'wal-test', updated_at: 1 }).returning('target_id').executeTakeFirstOrThrow(),
      );
      expect(row.target_id).to.equal('wal-test');
      const seen = await conn.db.selectFrom('target_state').select('target_id').where('target_id', '=', 'wal-test').execute();
      expect(seen).to.have.length(1);
    } finally {
      await conn.close();
    }
  });
});
