import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import {
  eventually,
  FIXTURE_CONFIG,
  PORTAL_A_TOKEN,
  startTestHub,
  submission,
  type TestHub,
  postSubmission,
  settledSubmission,
} from './support/hub.ts';
import { createTestDatabase, postgresReachable } from './support/databases.ts';

interface View {
  status: string;
  deliveries: {
    target: string;
    state: string;
    attempts: number;
    reference: string | null;
    lastError: string | null;
    lastErrorKind: string | null;
    attemptLog: { outcome: string; errorKind: string | null; httpStatus: number | null }[];
  }[];
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`delivery [${kind}]`, () => {
    let bo: TestBackOffice;
    let t: TestHub;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new TestBackOffice().start();
      t = await startTestHub({ kind, backOfficeUrl: bo.url });
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
    });

    it('delivers to the back office and records its reference', async () => {
      const id = await postSubmission(t, submission());
      const v = await settledSubmission<View>(t, id);
      expect(v.status).to.equal('delivered');
      const d = v.deliveries[0]!;
      expect(d).to.include({ state: 'delivered', attempts: 1 });
      expect(d.reference).to.match(/^AZ-\d{5}$/);
      expect(d.attemptLog[0]).to.include({ outcome: 'delivered', httpStatus: 201 });
      const filed = bo.cases.find((c) => c.reference === d.reference)!;
      expect(JSON.parse(filed.body)).to.include({ kind: 'waste', tenant: '05513000', date: '07.12.2026' });
      expect(filed.idempotencyKey).to.be.a('string');
      // The portal sees the case as received by the back office.
      const seen = await eventually(
        async () => {
          const res = await t.fetch(`/api/v1/submissions/${id}`);
          return ((await res.json()) as { caseStatus: { status: string } | null }).caseStatus ?? undefined;
        },
        5_000,
        'the case status',
      );
      expect(seen.status).to.equal('RECEIVED');
    });

    it('retries a 503 with back-off and then delivers, once', async () => {
      const id = await postSubmission(t, submission({ data: { preferredDate: '2026-12-07', items: [], scenario: 'flaky-2' } }));
      const v = await settledSubmission<View>(t, id);
      const d = v.deliveries[0]!;
      expect(d.state).to.equal('delivered');
      expect(d.attemptLog.map((a) => [a.outcome, a.httpStatus])).to.deep.equal([
        ['retry', 503],
        ['retry', 503],
        ['delivered', 201],
      ]);
      expect(bo.cases.filter((c) => c.reference === d.reference)).to.have.length(1);
      const keys = bo.requests.filter((r) => r.status === 503 || r.status === 201).map((r) => r.idempotencyKey);
      expect(new Set(keys.slice(-3)).size).to.equal(1); // the same key on every attempt
      const events = await t.hub.store.events(id);
      // The delivery's own events (the case status has its own: status.recorded, status.changed).
      expect(events.map((e) => e.type).filter((t) => !t.startsWith('status.'))).to.deep.equal([
        'submission.received',
        'delivery.queued',
        'delivery.sending',
        'delivery.waiting',
        'delivery.sending',
        'delivery.waiting',
        'delivery.sending',
        'delivery.delivered',
      ]);
    });

    it("waits as long as a 429's Retry-After asks, longer than the policy's back-off", async () => {
      const id = await postSubmission(t, submission({ data: { preferredDate: '2026-12-07', items: [], scenario: 'throttle' } }));
      const v = await settledSubmission<View>(t, id);
      const [first, second] = (await t.hub.store.getSubmission(id))!.deliveries[0]!.attemptLog;
      expect(v.deliveries[0]!.attemptLog.map((a) => [a.outcome, a.httpStatus])).to.deep.equal([
        ['retry', 429],
        ['delivered', 201],
      ]);
      expect(second!.startedAt - first!.finishedAt!).to.be.at.least(1000); // the policy alone would wait 20 ms
    });

    it('gives up when attempts run out', async () => {
      const id = await postSubmission(t, submission({ data: { preferredDate: '2026-12-07', items: [], scenario: 'flaky-9' } }));
      const d = (await settledSubmission<View>(t, id)).deliveries[0]!;
      expect(d).to.include({ state: 'failed', attempts: 3, lastErrorKind: 'http-503' });
      expect(d.lastError).to.match(/gave up after 3 attempts/);
    });

    it('fails permanently on a 400, after one attempt', async () => {
      const id = await postSubmission(t, submission({ data: { preferredDate: '2026-12-07', items: [], scenario: 'reject' } }));
      const v = await settledSubmission<View>(t, id);
      expect(v.status).to.equal('failed');
      expect(v.deliveries[0]).to.include({ state: 'failed', attempts: 1, lastErrorKind: 'http-400' });
    });

    it('fails permanently on a mapping error, with its line and column in the sync log and no form data', async () => {
      const id = await postSubmission(
        t,
        submission({ tenant: '05562014', service: 'hundeanmeldung', data: { dog: { name: 'Rex', breed: 'pudel' } } }),
      );
      const d = (await settledSubmission<View>(t, id)).deliveries[0]!;
      expect(d).to.include({ state: 'failed', attempts: 1, lastErrorKind: 'mapping' });
      // Line 2, column 12: the $code call in test/fixtures/mappings/broken.jsonata, under its comment.
      expect(d.lastError).to.equal('broken.jsonata:2:12: $code: the value is not in the code list (dackel)');
      expect(JSON.stringify(await t.hub.store.events(id))).not.to.include('pudel'); // form data stays out
      const failed = (await t.hub.store.events(id)).find((e) => e.type === 'delivery.failed')!;
      expect(failed.detail).to.include({ errorKind: 'mapping', mapping: 'broken.jsonata' });
      expect(failed.detail).to.include({ line: 2, column: 12 });
      expect(failed.detail!.position).to.be.a('number');
      expect(bo.requests.some((r) => r.idempotencyKey === failed.deliveryId)).to.equal(false);
      const line = t.logLines.find((l) => l.includes(id) && l.includes('delivery failed'))!;
      expect(JSON.parse(line)).to.include({
        submissionId: id,
        tenant: '05562014',
        service: 'hundeanmeldung',
        target: 'backoffice',
        errorKind: 'mapping',
      });
      expect(t.logLines.join('')).not.to.include('Mustermann');
    });

    it('waits for a file-drop acknowledgement: .ok delivers with its reference, .err fails, silence times out', async () => {
      const submit3 = (name: string) =>
        postSubmission(t, submission({ tenant: '05562008', service: 'hundeanmeldung', data: { dog: { name } } }));
      const [okId, errId, silentId] = [await submit3('Ok'), await submit3('Err'), await submit3('Silent')];
      const fileOf = async (id: string) => {
        const deliveryId = (await t.hub.store.getSubmission(id))!.deliveries[0]!.id;
        return eventually(
          async () => readdirSync(t.dropDir).find((f) => f.includes(deliveryId) && f.endsWith('.xml')),
          5000,
          'the dropped file',
        );
      };
      const handedOver = await eventually(
        async () => {
          const d = (await t.hub.store.getSubmission(okId))!.deliveries[0]!;
          return d.state === 'acknowledging' && d;
        },
        5000,
        'the hand-over',
      );
      expect(handedOver.attemptLog[0]).to.include({ outcome: 'handed-over' });
      // The batch job answers two of the three files.
      writeFileSync(path.join(t.dropDir, `${await fileOf(okId)}.ok`), 'HST-05512000-000042\n');
      writeFileSync(path.join(t.dropDir, `${await fileOf(errId)}.err`), 'Chipnummer unbekannt\n');
      await fileOf(silentId);
      const ok = (await settledSubmission<View>(t, okId)).deliveries[0]!;
      expect(ok).to.include({ state: 'delivered', reference: 'HST-05512000-000042', attempts: 1 });
      const err = (await settledSubmission<View>(t, errId)).deliveries[0]!;
      expect(err).to.include({ state: 'failed', lastErrorKind: 'rejected', attempts: 1 });
      expect(err.lastError).to.match(/Chipnummer unbekannt/);
      const silent = (await settledSubmission<View>(t, silentId)).deliveries[0]!;
      expect(silent).to.include({ state: 'failed', lastErrorKind: 'ack-timeout', attempts: 1 });
      const types = (await t.hub.store.events(okId)).map((e) => e.type);
      expect(types.filter((x) => !x.startsWith('status.'))).to.deep.equal([
        'submission.received',
        'delivery.queued',
        'delivery.sending',
        'delivery.acknowledging',
        'delivery.delivered',
      ]);
      // The acknowledgement is what tells the portal the case was received.
      await eventually(
        async () => (await t.hub.store.events(okId)).some((e) => e.type === 'status.changed'),
        5_000,
        'the case status after the acknowledgement',
      );
    });

    it('delivers one submission to several targets, XML to the archive', async () => {
      const id = await postSubmission(t, submission({ service: 'hundeanmeldung', data: { dog: { name: 'Bello & Co' } } }));
      const v = await settledSubmission<View>(t, id);
      expect(v.status).to.equal('delivered');
      const archived = bo.cases.find((c) => c.path === '/archive' && c.body.includes(id))!;
      expect(archived.contentType).to.equal('application/xml; charset=utf-8');
      expect(archived.body).to.equal(
        `<?xml version="1.0" encoding="UTF-8"?><ar:Vorgang xmlns:ar="urn:test:archiv" id="${id}"><ar:Hund>Bello &amp; Co</ar:Hund><ar:Halter>Mustermann</ar:Halter></ar:Vorgang>`,
      );
    });
  });
}

describe('delivery across restarts [sqlite]', function () {
  this.timeout(40_000);
  let bo: TestBackOffice;
  before(async () => {
    bo = await new TestBackOffice().start();
  });
  after(async () => bo?.stop());

  it('on graceful shutdown gives the lease back, and the next start delivers with the same idempotency key', async () => {
    const db = await createTestDatabase('sqlite');
    // A grace period shorter than the back office's 1.5 s answer: the attempt is still open at shutdown.
    const first = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url, worker: { shutdownGraceMs: 200 } });
    const id = await postSubmission(first, submission({ data: { preferredDate: '2026-12-07', items: [], scenario: 'slow' } }));
    await eventually(
      async () => bo.requests.length > 0 || (await first.hub.store.getSubmission(id))?.deliveries[0]?.state === 'sending',
      5000,
    );
    await first.stop();
    const inspect = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url, worker: { enabled: false } });
    const released = (await inspect.hub.store.getSubmission(id))!.deliveries[0]!;
    expect(released.state).to.equal('waiting');
    expect(released.attemptLog[0]).to.include({ outcome: 'interrupted', errorKind: 'shutdown' });
    await inspect.stop();
    const second = await startTestHub({ kind: 'sqlite', db, backOfficeUrl: bo.url });
    const v = await settledSubmission<View>(second, id, 15_000);
    const d = v.deliveries[0]!;
    expect(d.state).to.equal('delivered');
    expect(bo.cases.filter((c) => c.reference === d.reference)).to.have.length(1);
    await second.stop(true);
  });

  it('after a SIGKILL mid-delivery, a restarted hub takes the delivery over when the lease expires, and it is filed once', async () => {
    const db = await createTestDatabase('sqlite');
    const dataDir = fileURLToPath(new URL('.', `file://${db.options.sqliteFile}`));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('../bin/amtsbote.js', import.meta.url)),
        'start',
        '--config',
        FIXTURE_CONFIG,
        '--data',
        dataDir,
        '--port',
        String(port),
      ],
      {
        env: { ...process.env, BACKOFFICE_URL: bo.url, TEST_PORTAL_A_TOKEN: PORTAL_A_TOKEN, DROP_DIR: dataDir },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += String(c)));
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`the hub process exited with ${child.exitCode}: ${stderr}`);
          return (await fetch(`${base}/healthz`).catch(() => undefined))?.ok;
        },
        15_000,
        'the hub process to start',
      );
      const res = await fetch(`${base}/api/v1/submissions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${PORTAL_A_TOKEN}` },
        body: JSON.stringify(submission({ data: { preferredDate: '2026-12-07', items: [], scenario: 'slow' } })),
      });
      expect(res.status).to.equal(202);
      const { id } = (await res.json()) as { id: string };
      const before = bo.requests.length;
      const arrived = bo.arrivals.length;
      // Kill it while the back office is still working on the request.
      await eventually(async () => bo.arrivals.length > arrived, 5000, 'the request to reach the back office');
      expect(await countSending(db.options.sqliteFile!)).to.equal(1);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(bo.requests.length).to.equal(before); // the slow answer has not come back yet

      const restarted = await startTestHub({ kind: 'sqlite', db, dataDir, backOfficeUrl: bo.url });
      const v = await settledSubmission<View>(restarted, id, 20_000); // the fixture's lease is 5 s
      const d = v.deliveries[0]!;
      expect(d.state).to.equal('delivered');
      expect(d.attemptLog.map((a) => [a.outcome, a.errorKind])).to.deep.equal([
        ['interrupted', 'lease-expired'],
        ['delivered', null],
      ]);
      // Two requests reached the back office with one key; it filed one case.
      await eventually(
        async () => bo.requests.length >= before + 2,
        5000,
        `the killed request to finish: ${JSON.stringify(bo.requests.slice(before - 1))}`,
      );
      expect(bo.cases.filter((c) => c.reference === d.reference)).to.have.length(1);
      await restarted.stop(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

async function countSending(sqliteFile: string): Promise<number> {
  const { default: SQLite } = await import('better-sqlite3');
  const db = new SQLite(sqliteFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("select count(*) as n from deliveries where state = 'sending'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
