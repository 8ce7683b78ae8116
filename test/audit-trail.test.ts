import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { expect } from 'chai';
import { sql } from 'kysely';
import { describeEachDatabase } from './support/databases.ts';
import { amtsbote } from './support/run.ts';
import { openStore, type AuditRecord } from '../src/store/index.ts';
import { chainHash, GENESIS_HASH } from '../src/store/audit-store.ts';
import { storeAuditTrail } from '../src/audit/store-trail.ts';

const NOW = Date.UTC(2026, 11, 3, 9, 0, 0);
const MIN = 60_000;

async function all(it: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describeEachDatabase('audit trail', ({ kind, db, store }) => {
  it('chains each record to the one before, stamped by the injected clock', async () => {
    let t = NOW;
    const trail = storeAuditTrail(store().audit, () => t);
    await trail.record({ actor: 'account:anna', action: 'login' });
    t += MIN;
    await trail.record({
      actor: 'account:anna',
      action: 'replay',
      tenant: '05513000',
      subject: 'd-1',
      detail: { count: 1, dryRun: false },
    });
    const [a, b] = await all(store().audit.records());
    expect(a!.seq).to.equal(1);
    expect(a!.at).to.equal(NOW);
    expect(a!.prevHash).to.equal(GENESIS_HASH);
    expect(b!.at).to.equal(NOW + MIN);
    expect(b!.prevHash).to.equal(a!.hash);
    expect(b!.detail).to.deep.equal({ count: 1, dryRun: false });
    // The hash is SHA-256 over the previous hash and the canonical JSON of the record, keys in any order.
    expect(
      chainHash(a!.hash, {
        detail: { dryRun: false, count: 1 },
        subject: 'd-1',
        tenant: '05513000',
        action: 'replay',
        actor: 'account:anna',
        at: NOW + MIN,
        seq: 2,
      }),
    ).to.equal(b!.hash);
    expect(await store().audit.verify()).to.deep.equal({ ok: true, records: 2, head: b!.hash });
  });

  // Two hub instances share PostgreSQL only; SQLite serves one hub process (a second is refused), whose appends
  // run concurrently here through the one store.
  it('keeps one unbroken chain when two hub instances append at the same time', async function () {
    this.timeout(30_000);
    const other = kind === 'postgres' ? await openStore(db().options) : store();
    try {
      const before = (await store().audit.verify()) as { records: number };
      const each = 60;
      await Promise.all(
        [store(), other].flatMap((s, i) =>
          Array.from({ length: each }, (_, n) => s.audit.append({ actor: `instance-${i}`, action: 'login', detail: { n } }, NOW + n)),
        ),
      );
      const v = await store().audit.verify();
      expect(v).to.include({ ok: true, records: before.records + 2 * each });
      const seqs = (await all(store().audit.records())).map((r) => r.seq);
      expect(seqs).to.deep.equal(seqs.map((_, i) => i + 1));
    } finally {
      if (other !== store()) await other.close();
    }
  });

  it('exports by tenant and time; a filtered export holds the records as stored', async () => {
    const a = store().audit;
    await a.append({ actor: 'account:ge', action: 'form-data-viewed', tenant: '05513000', subject: 's-ge' }, NOW + 10 * MIN);
    await a.append({ actor: 'account:bot', action: 'form-data-viewed', tenant: '05512000', subject: 's-bot' }, NOW + 11 * MIN);
    await a.append({ actor: 'account:ge', action: 'replay', tenant: '05513000', subject: 's-ge-2' }, NOW + 12 * MIN);
    const ge = await all(a.records({ tenants: ['05513000'] }));
    expect(ge.map((r) => r.subject)).to.deep.equal(['d-1', 's-ge', 's-ge-2']);
    const window = await all(a.records({ since: NOW + 11 * MIN, until: NOW + 12 * MIN }));
    expect(window.map((r) => r.subject)).to.deep.equal(['s-bot']);
    expect(await all(a.records({ tenants: [] }))).to.deep.equal([]);
  });

  it('refuses UPDATE and DELETE in the database itself', async () => {
    let refused = 0;
    for (const q of [sql`update audit_trail set actor = 'x' where seq = 1`, sql`delete from audit_trail where seq = 1`]) {
      try {
        await q.execute(store().db);
      } catch (e) {
        expect((e as Error).message).to.contain('append-only');
        refused++;
      }
    }
    expect(refused).to.equal(2);
  });

  it('names the first broken record when someone with the database changes or removes one', async function () {
    this.timeout(30_000);
    const d = store().db;
    const dropTriggers = async () => {
      if (kind === 'postgres') await sql`drop trigger audit_trail_no_change on audit_trail`.execute(d);
      else {
        await sql`drop trigger audit_trail_no_update`.execute(d);
        await sql`drop trigger audit_trail_no_delete`.execute(d);
      }
    };
    await dropTriggers();
    const total = ((await store().audit.verify()) as { records: number }).records;
    expect(total).to.be.greaterThan(5);

    // A changed field: the record's own hash no longer matches.
    await sql`update audit_trail set subject = 's-innocent' where seq = 3`.execute(d);
    expect(await store().audit.verify()).to.deep.equal({ ok: false, records: 2, seq: 3, reason: 'hash-mismatch' });
    const cli = await verifyCli();
    expect(cli.code).to.equal(1);
    expect(cli.stdout).to.match(/BROKEN at record 3 \(hash-mismatch\)/);

    // Re-hashing the changed record breaks the link of the next one.
    const r3 = (await all(store().audit.records())).find((r) => r.seq === 3)!;
    const { prevHash: _p, hash: _h, ...body } = r3;
    await sql`update audit_trail set hash = ${chainHash(r3.prevHash, body)} where seq = 3`.execute(d);
    expect(await store().audit.verify()).to.deep.equal({ ok: false, records: 3, seq: 4, reason: 'previous-hash-mismatch' });

    // A removed record is a gap.
    await sql`delete from audit_trail where seq = 2`.execute(d);
    expect(await store().audit.verify()).to.deep.equal({ ok: false, records: 1, seq: 2, reason: 'gap' });
  });

  async function verifyCli() {
    const o = db().options;
    const where = o.url ? ['--database-url', o.url, '--database-schema', o.schema!] : ['-d', path.dirname(o.sqliteFile!)];
    const none = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-audit-'));
    try {
      return await amtsbote(['audit', 'verify', '-c', path.join(none, 'absent'), ...where]);
    } finally {
      rmSync(none, { recursive: true, force: true });
    }
  }
});

describeEachDatabase('amtsbote audit', ({ db, store }) => {
  const where = () => {
    const o = db().options;
    return [
      '-c',
      path.join(os.tmpdir(), 'amtsbote-no-config'),
      ...(o.url ? ['--database-url', o.url, '--database-schema', o.schema!] : ['-d', path.dirname(o.sqliteFile!)]),
    ];
  };

  it('exports JSON lines by tenant and time, verifies, and records the export', async function () {
    this.timeout(30_000);
    const a = store().audit;
    await a.append({ actor: 'account:ge', action: 'login', tenant: '05513000' }, NOW);
    await a.append({ actor: 'account:bot', action: 'login', tenant: '05512000' }, NOW + MIN);
    await a.append({ actor: 'account:ge', action: 'logout', tenant: '05513000' }, NOW + 2 * MIN);
    const out = await amtsbote(['audit', 'export', '--tenant', '05513000', '--since', new Date(NOW + MIN).toISOString(), ...where()]);
    expect(out.code, out.stderr).to.equal(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ seq: 3, action: 'logout', tenant: '05513000', at: new Date(NOW + 2 * MIN).toISOString() });
    expect(lines[0]!.hash).to.match(/^[0-9a-f]{64}$/);
    const v = await amtsbote(['audit', 'verify', '--json', ...where()]);
    expect(v.code, v.stderr).to.equal(0);
    // The export itself is a record of the trail.
    expect(JSON.parse(v.stdout)).to.include({ ok: true, records: 4 });
    const bad = await amtsbote(['audit', 'export', '--since', 'yesterday', ...where()]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('--since');
  });
});
