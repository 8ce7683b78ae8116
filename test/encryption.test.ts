import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { TestBackOffice } from './support/backoffice.ts';
import { createTestDatabase, PG_URL, postgresReachable } from './support/databases.ts';
import { eventually, startTestHub, submission, type TestHub } from './support/hub.ts';
import { amtsbote, run } from './support/run.ts';
import { PUSH_TOKEN, statusConfig, TestPortal } from './status-support.ts';
import { openStore } from '../src/store/index.ts';
import { Keyring } from '../src/security/field-crypto.ts';
import { addKey } from '../src/security/key-files.ts';

// Encryption at rest (issue 13, docs/keys.md), end to end on both databases: a marked personal value sent as
// form data, an attachment and a back office's status reason is nowhere in the SQLite file, its WAL or a
// pg_dump; it still reaches the back office, the portal's status callback and the submission's reads; a
// ciphertext moved to another row does not open; rotation re-seals everything while the hub runs.

const b64 = () => randomBytes(32).toString('base64');

/** pg_dump of one schema, as text. */
async function pgDump(schema: string): Promise<string> {
  const candidates = ['/usr/lib/postgresql/17/bin/pg_dump', '/usr/lib/postgresql/16/bin/pg_dump', '/usr/lib/postgresql/15/bin/pg_dump'];
  const bin = candidates.find((c) => existsSync(c)) ?? 'pg_dump';
  const r = await run(bin, ['--schema', schema, '--no-owner', PG_URL]);
  expect(r.code, r.stderr).to.equal(0);
  expect(r.stdout).to.contain(`CREATE TABLE ${schema}.submissions`);
  return r.stdout;
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`encryption at rest [${kind}]`, function () {
    this.timeout(60_000);
    const MARKER = `Zq${randomBytes(6).toString('hex')}Xw`;
    const IBAN = 'DE89370400440532013000';
    let keyDir: string;
    let dataFile: string;
    let bo: TestBackOffice;
    let portal: TestPortal;
    let t: TestHub;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      keyDir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-keys-'));
      dataFile = path.join(keyDir, 'data.keys');
      writeFileSync(dataFile, `old:${b64()}\n`, { mode: 0o600 });
      writeFileSync(path.join(keyDir, 'index.keys'), `idx:${b64()}\n`, { mode: 0o600 });
      bo = await new TestBackOffice().start();
      portal = await new TestPortal().start();
      t = await startTestHub({
        kind,
        backOfficeUrl: bo.url,
        configDir: statusConfig(`${portal.url}/status`),
        env: { AMTSBOTE_DATA_KEYS_FILE: dataFile, AMTSBOTE_INDEX_KEYS_FILE: path.join(keyDir, 'index.keys') },
      });
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
      await portal?.stop();
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    });

    const post = (body: unknown) =>
      t.fetch('/api/v1/submissions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const marked = (n: number) =>
      submission({
        externalId: `enc-${n}-${randomBytes(4).toString('hex')}`,
        applicant: {
          givenName: 'Erika',
          familyName: `${MARKER}-Mustermann`,
          street: 'Musterweg',
          houseNumber: '1',
          postalCode: '45879',
          city: 'Gelsenkirchen',
        },
        data: { preferredDate: '2026-12-07', items: [{ kind: 'furniture', quantity: 2 }], remark: `${MARKER} ${IBAN}` },
        attachments: [{ filename: `${MARKER}.txt`, mediaType: 'text/plain', content: Buffer.from(`Ausweis ${MARKER}`).toString('base64') }],
      });
    let first: { id: string; body: Record<string, unknown> };

    /** Submits, waits for the delivery, pushes a status with a marked reason; the submission's id. */
    async function markedCase(n: number): Promise<{ id: string; body: Record<string, unknown> }> {
      const body = marked(n);
      const res = await post(body);
      expect(res.status, await res.clone().text()).to.equal(202);
      const { id } = (await res.json()) as { id: string };
      const reference = await eventually(
        async () => {
          const v = (await (await t.fetch(`/api/v1/submissions/${id}`)).json()) as any;
          return v.status === 'delivered' && v.caseStatus && v.deliveries[0].reference;
        },
        15_000,
        'delivery',
      );
      const pushed = await t.fetch('/api/v1/backoffice-events', {
        method: 'POST',
        token: PUSH_TOKEN,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          reference,
          status: 'Rueckfrage Bauamt',
          reason: `IBAN ${IBAN} von ${MARKER} fehlt`,
          at: '2026-11-20T08:00:00+01:00',
        }),
      });
      expect(pushed.status, await pushed.clone().text()).to.equal(200);
      await eventually(async () => portal.updatesOf(id).length >= 2, 10_000, 'the status update at the portal');
      return { id, body };
    }

    it('takes in, delivers and reports marked values, opened where the hub needs them', async () => {
      first = await markedCase(1);
      // The back office got the mapped message, with the form data opened.
      expect(bo.cases.some((c) => c.body.includes(`${MARKER}-Mustermann`))).to.equal(true);
      // The mapping's input: content and attachment opened.
      const src = (await t.hub.store.messageSource(first.id))!;
      expect(JSON.parse(src.content).applicant.familyName).to.equal(`${MARKER}-Mustermann`);
      expect(src.attachments[0]).to.include({ filename: `${MARKER}.txt`, mediaType: 'text/plain' });
      expect(src.attachments[0]!.content.toString()).to.equal(`Ausweis ${MARKER}`);
      // The portal's read and its status callback: the reason opened.
      const v = (await (await t.fetch(`/api/v1/submissions/${first.id}`)).json()) as any;
      expect(v.caseStatus.reason).to.equal(`IBAN ${IBAN} von ${MARKER} fehlt`);
      expect(portal.updatesOf(first.id)[1]!.reason).to.equal(`IBAN ${IBAN} von ${MARKER} fehlt`);
      const ev = (await t.hub.store.events(first.id)).find((e) => e.type === 'status.recorded' && e.detail?.reason);
      expect(ev!.detail!.reason).to.equal(`IBAN ${IBAN} von ${MARKER} fehlt`);
      // What lies in the tables is ciphertext under the current key.
      const row = await t.hub.store.db
        .selectFrom('submissions')
        .select(['content', 'data_kid', 'body_hash'])
        .where('id', '=', first.id)
        .executeTakeFirstOrThrow();
      expect(row.data_kid).to.equal('old');
      expect(row.content).to.match(/^v1\.old\./);
      expect(row.body_hash).to.match(/^idx\./);
      for (const table of ['status_history', 'delivery_status', 'submission_status', 'status_outbox'] as const) {
        const reasons = await t.hub.store.db
          .selectFrom(table)
          .select('reason')
          .where('submission_id', '=', first.id)
          .where('reason', 'is not', null)
          .execute();
        expect(reasons.length, table).to.be.greaterThan(0);
        for (const r of reasons) expect(r.reason, table).to.match(/^v1\.old\./);
      }
    });

    it('answers a resend by keyed hash: the same body 200 with the first id, a changed one 409', async () => {
      const same = await post(first.body);
      expect(same.status).to.equal(200);
      expect(((await same.json()) as { id: string }).id).to.equal(first.id);
      const changed = await post({ ...first.body, data: { ...(first.body.data as object), remark: 'anders' } });
      expect(changed.status).to.equal(409);
    });

    it('leaves no marked value in the database file, its WAL or a dump', async () => {
      const needles = [MARKER, IBAN, Buffer.from(`Ausweis ${MARKER}`).toString('base64').slice(0, 16)];
      const haystacks: [string, string][] = [];
      if (kind === 'sqlite') {
        const file = t.db.options.sqliteFile!;
        haystacks.push(['file', readFileSync(file).toString('latin1')]);
        expect(existsSync(`${file}-wal`), 'a WAL to look into').to.equal(true);
        haystacks.push(['wal', readFileSync(`${file}-wal`).toString('latin1')]);
      } else {
        haystacks.push(['pg_dump', await pgDump(t.db.options.schema!)]);
      }
      for (const [where, text] of haystacks) for (const n of needles) expect(text.includes(n), `${n} in the ${where}`).to.equal(false);
      // The check can see: the external id, in clear by design, is there.
      expect(
        haystacks
          .map(([, text]) => text)
          .join('')
          .includes(first.body.externalId as string),
        'the external id',
      ).to.equal(true);
    });

    it('does not open a ciphertext moved into another row', async () => {
      const second = await markedCase(2);
      const db = t.hub.store.db;
      const contentOf = async (id: string) =>
        (await db.selectFrom('submissions').select('content').where('id', '=', id).executeTakeFirstOrThrow()).content;
      const [a, b] = [await contentOf(first.id), await contentOf(second.id)];
      await db.updateTable('submissions').set({ content: a }).where('id', '=', second.id).execute();
      try {
        await t.hub.store.messageSource(second.id);
        expect.fail('a swapped content opened');
      } catch (e) {
        expect((e as Error).message).to.contain('copied from another row');
      }
      await db.updateTable('submissions').set({ content: b }).where('id', '=', second.id).execute();
      const reasonOf = async (id: string) =>
        (await db.selectFrom('submission_status').select('reason').where('submission_id', '=', id).executeTakeFirstOrThrow()).reason;
      const [ra, rb] = [await reasonOf(first.id), await reasonOf(second.id)];
      await db.updateTable('submission_status').set({ reason: ra }).where('submission_id', '=', second.id).execute();
      const res = await t.fetch(`/api/v1/submissions/${second.id}`);
      expect(res.status, "a swapped reason is an error, not another citizen's reason").to.equal(500);
      expect(await res.text()).not.to.contain(MARKER);
      await db.updateTable('submission_status').set({ reason: rb }).where('submission_id', '=', second.id).execute();
      expect(JSON.parse((await t.hub.store.messageSource(second.id))!.content).applicant.familyName).to.equal(`${MARKER}-Mustermann`);
    });

    it('rotates to a new key while the hub runs: all readable, no old-key rows, the old key can go', async () => {
      const kid = addKey(dataFile, 'data');
      // The running hub reads the changed file and seals with the new key.
      await eventually(async () => t.hub.store.sealing.kid === kid, 5000, 'the hub to read the new key');
      const during = await markedCase(3);
      const db = t.db.options;
      // The hub goes on taking in, delivering and recording statuses while the rotation runs beside it.
      const rotating = amtsbote(
        [
          'keys',
          'rotate',
          '--batch',
          '2',
          '--config',
          statusConfig(`${portal.url}/status`),
          '--data',
          t.dataDir,
          ...(db.url ? ['--database-url', db.url, '--database-schema', db.schema!] : []),
        ],
        {
          env: {
            AMTSBOTE_DATA_KEYS_FILE: dataFile,
            AMTSBOTE_INDEX_KEYS_FILE: path.join(keyDir, 'index.keys'),
            BACKOFFICE_URL: bo.url,
            DROP_DIR: t.dropDir,
            TEST_PORTAL_A_TOKEN: 'portal-a-token-0123456789',
          },
        },
      );
      const beside = await Promise.all([markedCase(4), markedCase(5)]);
      const r = await rotating;
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.contain(`every value is sealed with ${kid}`);
      expect(r.stdout + r.stderr).not.to.match(/[A-Za-z0-9+/]{43}=/);
      const store = t.hub.store;
      const old = await store.db
        .selectFrom('submissions')
        .select('id')
        .where((eb) => eb.or([eb('data_kid', 'is', null), eb('data_kid', '<>', kid)]))
        .execute();
      expect(old).to.deep.equal([]);
      for (const table of ['status_history', 'delivery_status', 'submission_status', 'status_outbox'] as const) {
        const left = await store.db
          .selectFrom(table)
          .select('reason')
          .where('reason', 'is not', null)
          .where(sql<boolean>`substr(reason, 1, ${kid.length + 4}) <> ${`v1.${kid}.`}`)
          .execute();
        expect(left, table).to.deep.equal([]);
      }
      const events = await store.db
        .selectFrom('events')
        .select('detail')
        .where('type', '=', 'status.recorded')
        .where('detail', 'like', '%"reason":%')
        .execute();
      expect(events.length).to.be.greaterThan(0);
      for (const e of events) expect(JSON.parse(e.detail!).reason).to.match(new RegExp(`^v1\\.${kid}\\.`));
      // Without the old key everything still opens: nothing depends on it any more.
      const lines = readFileSync(dataFile, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith('old:'));
      writeFileSync(dataFile, lines.join('\n'), { mode: 0o600 });
      await eventually(
        async () => !(t.hub.store.sealing.keys as Keyring | undefined)?.toString().includes('old'),
        5000,
        'the hub to drop the old key',
      );
      for (const id of [first.id, during.id, ...beside.map((b) => b.id)]) {
        const src = (await store.messageSource(id))!;
        expect(JSON.parse(src.content).applicant.familyName).to.equal(`${MARKER}-Mustermann`);
        expect(src.attachments[0]!.content.toString()).to.equal(`Ausweis ${MARKER}`);
        expect((await store.status.view(id)).current!.reason).to.equal(`IBAN ${IBAN} von ${MARKER} fehlt`);
      }
      expect((await post(first.body)).status, 'a resend after rotation is still the same').to.equal(200);
    });
  });

  describe(`rows written in clear before encryption [${kind}]`, () => {
    it('are sealed by a rotation that resumes where it stopped: nothing twice, nothing left', async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      const tdb = await createTestDatabase(kind);
      const keys = Keyring.fromEnvironment({ AMTSBOTE_DATA_KEYS: `k1:${b64()}`, AMTSBOTE_INDEX_KEYS: `i1:${b64()}` })!;
      try {
        const plain = await openStore(tdb.options);
        for (let n = 0; n < 5; n++)
          await plain.createSubmission({
            id: `0192f1c2-7d1e-7a00-8000-0000000001${String(n).padStart(2, '0')}`,
            portalId: 'p',
            externalId: `legacy-r${n}`,
            tenant: '05513000',
            service: 'sperrmuell',
            submittedAt: '2026-11-24T09:30:00+01:00',
            receivedAt: 1,
            bodyHash: String(n).repeat(64),
            content: `{"n":${n}}`,
            attachments: [],
            deliveries: [],
          });
        await plain.close();
        const { rotateKeys } = await import('../src/maintenance/key-rotation.ts');
        const stopped = await openStore({ ...tdb.options, keys });
        const firstBatch = await stopped.rotation.step({}, 2);
        expect(firstBatch.resealed.submissions).to.equal(2);
        await stopped.close();
        const resumed = await openStore({ ...tdb.options, keys });
        try {
          const r = await rotateKeys(resumed, { batch: 2 });
          expect(r.resealed.submissions).to.equal(3);
          expect((await rotateKeys(resumed, { batch: 2 })).resealed.submissions).to.equal(0);
          for (let n = 0; n < 5; n++)
            expect((await resumed.messageSource(`0192f1c2-7d1e-7a00-8000-0000000001${String(n).padStart(2, '0')}`))!.content).to.equal(
              `{"n":${n}}`,
            );
        } finally {
          await resumed.close();
        }
      } finally {
        await tdb.drop();
      }
    });

    it('stay readable with keys, and rotation seals them and keys their body hash', async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      const tdb = await createTestDatabase(kind);
      try {
        const plain = await openStore(tdb.options);
        const id = '0192f1c2-7d1e-7a00-8000-0000000000a1';
        await plain.createSubmission({
          id,
          portalId: 'p',
          externalId: 'legacy-1',
          tenant: '05513000',
          service: 'sperrmuell',
          submittedAt: '2026-11-24T09:30:00+01:00',
          receivedAt: 1,
          bodyHash: 'a'.repeat(64),
          content: '{"applicant":{"familyName":"Altbestand"}}',
          attachments: [{ filename: 'a.pdf', mediaType: 'application/pdf', size: 2, sha256: 'b'.repeat(64), content: Buffer.from([1, 2]) }],
          deliveries: [],
        });
        await plain.close();
        const keys = Keyring.fromEnvironment({ AMTSBOTE_DATA_KEYS: `k1:${b64()}`, AMTSBOTE_INDEX_KEYS: `i1:${b64()}` })!;
        const store = await openStore({ ...tdb.options, keys });
        try {
          expect(JSON.parse((await store.messageSource(id))!.content).applicant.familyName).to.equal('Altbestand');
          const again = { ...(await store.messageSource(id))!, id: 'x', bodyHash: 'a'.repeat(64), deliveries: [], receivedAt: 2 };
          expect(await store.createSubmission({ ...again, id: '0192f1c2-7d1e-7a00-8000-0000000000a2' })).to.include({
            outcome: 'duplicate',
            sameBody: true,
          });
          const { rotateKeys } = await import('../src/maintenance/key-rotation.ts');
          const r = await rotateKeys(store, { batch: 10 });
          expect(r.resealed.submissions).to.equal(1);
          const row = await store.db
            .selectFrom('submissions')
            .select(['data_kid', 'body_hash', 'content'])
            .where('id', '=', id)
            .executeTakeFirstOrThrow();
          expect(row.data_kid).to.equal('k1');
          expect(row.body_hash).to.match(/^i1\./);
          expect(row.content).not.to.contain('Altbestand');
          const src = (await store.messageSource(id))!;
          expect(JSON.parse(src.content).applicant.familyName).to.equal('Altbestand');
          expect([...src.attachments[0]!.content]).to.deep.equal([1, 2]);
          expect(await store.createSubmission({ ...again, id: '0192f1c2-7d1e-7a00-8000-0000000000a3' })).to.include({
            outcome: 'duplicate',
            sameBody: true,
          });
        } finally {
          await store.close();
        }
      } finally {
        await tdb.drop();
      }
    });
  });
}

describe('keys of a fresh SQLite hub (the demo)', () => {
  it('are generated into the data folder with mode 0600, logged by id, never printed', async () => {
    const bo = await new TestBackOffice().start();
    const env = { AMTSBOTE_DATA_KEYS: '', AMTSBOTE_DATA_KEYS_FILE: '', AMTSBOTE_INDEX_KEYS: '', AMTSBOTE_INDEX_KEYS_FILE: '' };
    const t = await startTestHub({ kind: 'sqlite', backOfficeUrl: bo.url, env });
    try {
      const file = path.join(t.dataDir, 'keys', 'data.keys');
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect(statSync(path.join(t.dataDir, 'keys', 'index.keys')).mode & 0o777).to.equal(0o600);
      const key = /^[^#\n]+:(\S+)$/m.exec(readFileSync(file, 'utf8'))![1]!;
      const generated = t.logLines.find((l) => l.includes('generated data and index keys'));
      expect(generated).to.contain(file);
      expect(t.logLines.join('\n')).not.to.contain(key);
      expect(t.hub.store.sealing.on).to.equal(true);
    } finally {
      await t.stop(true);
      await bo.stop();
    }
  });

  it('are not made with AMTSBOTE_ENCRYPTION=off: what comes in is stored in clear (the benchmark rows in clear)', async () => {
    const bo = await new TestBackOffice().start();
    const env = {
      AMTSBOTE_DATA_KEYS: '',
      AMTSBOTE_DATA_KEYS_FILE: '',
      AMTSBOTE_INDEX_KEYS: '',
      AMTSBOTE_INDEX_KEYS_FILE: '',
      AMTSBOTE_ENCRYPTION: 'off',
    };
    const t = await startTestHub({ kind: 'sqlite', backOfficeUrl: bo.url, env, worker: { enabled: false } });
    try {
      expect(t.hub.store.sealing.on).to.equal(false);
      expect(existsSync(path.join(t.dataDir, 'keys'))).to.equal(false);
      const res = await t.fetch('/api/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(submission()),
      });
      expect(res.status).to.equal(202);
      const { id } = (await res.json()) as { id: string };
      const row = await t.hub.store.db
        .selectFrom('submissions')
        .select(['data_kid', 'content'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.data_kid).to.equal(null);
      expect(JSON.parse(row.content)).to.have.property('applicant');
    } finally {
      await t.stop(true);
      await bo.stop();
    }
  });
});

describe('amtsbote keys generate', () => {
  it('adds a current key to the key file (0600), keeps the older ones, and prints the key id only', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-keys-cli-'));
    try {
      const env = { AMTSBOTE_DATA_KEYS: '', AMTSBOTE_DATA_KEYS_FILE: '', AMTSBOTE_INDEX_KEYS: '', AMTSBOTE_INDEX_KEYS_FILE: '' };
      const first = await amtsbote(['keys', 'generate', '--data', data], { env });
      const second = await amtsbote(['keys', 'generate', '--data', data], { env });
      expect(first.code, first.stderr).to.equal(0);
      expect(second.code, second.stderr).to.equal(0);
      const file = path.join(data, 'keys', 'data.keys');
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      const entries = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'));
      expect(entries).to.have.length(2);
      const [newer, older] = entries.map((l) => l.split(':'));
      expect(second.stdout).to.contain(`added data key ${newer![0]}`);
      expect(first.stdout).to.contain(`added data key ${older![0]}`);
      for (const out of [first.stdout + first.stderr, second.stdout + second.stderr])
        for (const [, key] of [newer!, older!]) expect(out).not.to.contain(key);
      // A Keyring reads the file: the newest key is current.
      const ring = Keyring.fromEnvironment({ AMTSBOTE_DATA_KEYS_FILE: file, AMTSBOTE_INDEX_KEYS: `i:${b64()}` })!;
      expect(ring.kids).to.deep.equal([newer![0], older![0]]);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
