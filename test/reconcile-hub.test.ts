import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import express from 'express';
import { eventually, PORTAL_A_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';
import { createTestDatabase, postgresReachable } from './support/databases.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/reconcile', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/amtsbote.js', import.meta.url));
const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';
/** A slot that never comes during a test run. */
const FAR_AWAY = '0 3 1 1 *';

interface Case {
  reference: string;
  status: string;
  idempotencyKey: string;
  updatedAt: string;
}

/** A back office on 127.0.0.1 that files one case per idempotency key and lists its cases two per page; it can lose one. */
class ListingBackOffice {
  readonly cases = new Map<string, Case>();
  /** The idempotency key of every case filed (a repeat of a known key files nothing). */
  readonly filed: string[] = [];
  private server: Server | undefined;
  private n = 0;
  url = '';

  async start(): Promise<this> {
    const app = express();
    app.use(express.text({ type: () => true }));
    app.post('/cases', (req, res) => {
      const key = req.get('idempotency-key') ?? '';
      const known = this.cases.get(key);
      if (known) return void res.status(200).json({ reference: known.reference });
      const c = {
        reference: `AZ-${String(++this.n).padStart(4, '0')}`,
        status: 'eingegangen',
        idempotencyKey: key,
        updatedAt: new Date().toISOString(),
      };
      this.cases.set(key, c);
      this.filed.push(key);
      res.status(201).json({ reference: c.reference });
    });
    app.get('/cases', (req, res) => {
      const since = Date.parse(String(req.query.since));
      const page = Number(req.query.page ?? 1);
      const all = [...this.cases.values()].filter((c) => Date.parse(c.updatedAt) >= since);
      res.json({ items: all.slice((page - 1) * 2, page * 2), next: page * 2 < all.length ? page + 1 : null });
    });
    await new Promise<void>((resolve) => (this.server = app.listen(0, '127.0.0.1', () => resolve())));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  /** A restore from last night's backup: the case is gone. */
  lose(key: string): void {
    this.cases.delete(key);
  }

  setStatus(key: string, status: string): void {
    this.cases.get(key)!.status = status;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function startHub(
  kind: 'sqlite' | 'postgres',
  bo: ListingBackOffice,
  cron: string,
  db?: Awaited<ReturnType<typeof createTestDatabase>>,
): Promise<TestHub> {
  // The hub reads these from its environment at start-up (the test hub's is a copy of ours).
  process.env.AMTSBOTE_OPERATOR_TOKEN = OPERATOR_TOKEN;
  process.env.RECONCILE_CRON = cron;
  try {
    return await startTestHub({ kind, backOfficeUrl: bo.url, configDir: FIXTURE, ...(db ? { db } : {}) });
  } finally {
    delete process.env.AMTSBOTE_OPERATOR_TOKEN;
    delete process.env.RECONCILE_CRON;
  }
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`reconciliation in the hub [${kind}]`, () => {
    let bo: ListingBackOffice;
    let t: TestHub;
    const keys: string[] = [];
    const operator = (path: string, init: RequestInit & { token?: string | null } = {}) =>
      t.fetch(path, { token: OPERATOR_TOKEN, ...init });
    const runNow = async (body: unknown = {}) => {
      const res = await operator('/api/v1/reconcile/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, await res.clone().text()).to.equal(201);
      return (await res.json()) as { id: string; state: string; matched: number; counts: Record<string, number>; discrepancies: number };
    };

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new ListingBackOffice().start();
      t = await startHub(kind, bo, FAR_AWAY);
      for (let i = 0; i < 3; i++) {
        const res = await t.fetch('/api/v1/submissions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(submission()),
        });
        expect(res.status).to.equal(202);
        const { id } = (await res.json()) as { id: string };
        const d = await eventually(
          async () => {
            const x = (await t.hub.store.getSubmission(id))!.deliveries[0]!;
            return x.state === 'delivered' && x;
          },
          10_000,
          'delivery',
        );
        keys.push(d.idempotencyKey);
      }
    });

    after(async () => {
      await t?.stop(true);
      await bo?.stop();
    });

    it('finds the case the back office lost and re-delivers it with the same idempotency key', async () => {
      bo.lose(keys[0]!);
      bo.cases.set('not-from-the-hub', {
        reference: 'AZ-FREMD-1',
        status: 'eingegangen',
        idempotencyKey: 'not-from-the-hub',
        updatedAt: new Date().toISOString(),
      });
      const run = await runNow();
      expect(run).to.deep.include({ state: 'finished', matched: 2, counts: { 'missing-in-backoffice': 1, 'unknown-to-hub': 1 } });
      // The worker sends it again; the back office files it anew under the key it had.
      await eventually(async () => bo.cases.has(keys[0]!), 10_000, 're-delivery');
      expect(bo.filed.filter((k) => k === keys[0])).to.have.length(2);
      const events = await eventually(
        async () => {
          const sub = (
            await t.hub.store.db
              .selectFrom('deliveries')
              .select('submission_id')
              .where('idempotency_key', '=', keys[0]!)
              .executeTakeFirstOrThrow()
          ).submission_id;
          const ev = await t.hub.store.events(sub);
          return (
            ev.some((e) => e.type === 'delivery.delivered' && ev.findIndex((x) => x.type === 'delivery.redelivered') < ev.indexOf(e)) && ev
          );
        },
        10_000,
        'delivered again',
      );
      expect(events.find((e) => e.type === 'delivery.redelivered')!.detail).to.deep.include({ by: 'reconciliation', runId: run.id });
    });

    it('records a changed status through the status back-channel', async () => {
      // The portal has no status callback, so the change is recorded, not forwarded.
      // The first run taught the hub the back office's word ("eingegangen"); now it moves on.
      bo.setStatus(keys[1]!, 'abgelehnt');
      const run = await runNow();
      expect(run.counts).to.deep.equal({ 'status-changed': 1, 'unknown-to-hub': 1 });
      const res = await operator(`/api/v1/reconcile/runs/${run.id}`);
      const body = (await res.json()) as { discrepancyList: { class: string; action: string; detail: unknown }[] };
      expect(body.discrepancyList.find((d) => d.class === 'status-changed')).to.deep.include({
        action: 'recorded',
        detail: { from: 'eingegangen', to: 'abgelehnt' },
      });
      const d = await t.hub.store.db
        .selectFrom('deliveries')
        .select('backoffice_status')
        .where('idempotency_key', '=', keys[1]!)
        .executeTakeFirstOrThrow();
      expect(d.backoffice_status).to.equal('abgelehnt');
    });

    it('lists runs and exports one as JSON and CSV to operators', async () => {
      expect((await t.fetch('/api/v1/reconcile/runs', { token: PORTAL_A_TOKEN })).status).to.equal(401);
      const list = (await (await operator('/api/v1/reconcile/runs?limit=1')).json()) as {
        runs: { id: string; schedule: string }[];
        next?: string;
      };
      expect(list.runs).to.have.length(1);
      expect(list.next).to.equal(list.runs[0]!.id);
      const rest = (await (await operator(`/api/v1/reconcile/runs?before=${list.next}`)).json()) as {
        runs: { id: string; schedule: string }[];
      };
      expect(rest.runs.map((r) => r.schedule)).to.deep.equal(['on-demand']);

      const csv = await operator(`/api/v1/reconcile/runs/${list.runs[0]!.id}`, { headers: { accept: 'text/csv' } });
      expect(csv.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
      expect(csv.headers.get('content-disposition')).to.match(/^attachment; filename="?reconcile-[0-9a-f-]{36}\.csv"?$/);
      const lines = (await csv.text()).split('\r\n');
      expect(lines[0]).to.match(/^id,class,action,target,/);
      expect(lines.filter((l) => l.includes(',unknown-to-hub,reported,office,'))).to.have.length(1);

      const bad = await operator('/api/v1/reconcile/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ target: 'nope', since: 'yesterday', extra: 1 }),
      });
      expect(bad.status).to.equal(422);
      const problem = (await bad.json()) as { type: string; errors: { pointer: string }[] };
      expect(problem.type).to.equal('urn:amtsbote:problem:invalid-reconcile-request');
      expect(problem.errors.map((e) => e.pointer)).to.have.members(['#/extra', '#/target', '#/since']);
      expect((await operator('/api/v1/reconcile/runs/01a2ffff-0000-7000-8000-000000000000')).status).to.equal(404);
      const notAwaiting = await operator('/api/v1/reconcile/discrepancies/1/redeliver', { method: 'POST' });
      expect(notAwaiting.status).to.equal(409);

      const metrics = await (await t.fetch('/metrics', { token: null })).text();
      expect(metrics).to.match(/amtsbote_reconcile_discrepancies_total\{class="unknown-to-hub",target="office"\} 2/);
      expect(metrics).to.match(/amtsbote_reconcile_runs_total\{job="reconcile",state="finished"\} 2/);
    });

    it('runs on demand from the CLI, without HTTP, and prints the persisted run as JSON', async function () {
      this.timeout(60_000);
      const db = t.db.options;
      const args = [
        'reconcile',
        '--json',
        '-c',
        FIXTURE,
        '-d',
        t.dataDir,
        ...(db.url ? ['--database-url', db.url, '--database-schema', db.schema!] : []),
      ];
      const env = {
        ...process.env,
        BACKOFFICE_URL: bo.url,
        TEST_PORTAL_A_TOKEN: PORTAL_A_TOKEN,
        RECONCILE_CRON: FAR_AWAY,
        DROP_DIR: t.dropDir,
      };
      const out = await promisify(execFile)(process.execPath, [BIN, ...args], { env }).then(
        () => expect.fail('exit code 0 although the back office holds a case the hub does not know'),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect(out.code, out.stderr).to.equal(1);
      const run = JSON.parse(out.stdout) as {
        id: string;
        schedule: string;
        state: string;
        counts: object;
        discrepancyList: { class: string; reference: string }[];
      };
      expect(run).to.deep.include({ schedule: 'on-demand', state: 'finished', counts: { 'unknown-to-hub': 1 } });
      expect(run.discrepancyList.map((d) => [d.class, d.reference])).to.deep.equal([['unknown-to-hub', 'AZ-FREMD-1']]);
      expect(await t.hub.store.reconcile.getRun(run.id)).to.include({ state: 'finished', discrepancies: 1 });

      const show = await promisify(execFile)(process.execPath, [BIN, 'reconcile', 'show', run.id, '--csv', ...args.slice(2)], { env });
      expect(show.stdout.split('\r\n')[1]).to.match(/,unknown-to-hub,reported,office,/);
    });

    it('exits 3 from the CLI when the back office cannot be read after its retries: a partial run, the side reported', async function () {
      this.timeout(60_000);
      const db = t.db.options;
      const args = [
        'reconcile',
        '--json',
        '-c',
        FIXTURE,
        '-d',
        t.dataDir,
        ...(db.url ? ['--database-url', db.url, '--database-schema', db.schema!] : []),
      ];
      // Nothing listens on port 9 of this host: every try of the listing is refused.
      const env = {
        ...process.env,
        BACKOFFICE_URL: 'http://127.0.0.1:9',
        TEST_PORTAL_A_TOKEN: PORTAL_A_TOKEN,
        RECONCILE_CRON: FAR_AWAY,
        DROP_DIR: t.dropDir,
      };
      const out = await promisify(execFile)(process.execPath, [BIN, ...args], { env }).then(
        () => expect.fail('exit code 0 although the back office could not be read'),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect(out.code, out.stderr).to.equal(3);
      const run = JSON.parse(out.stdout) as {
        state: string;
        counts: object;
        error: string;
        discrepancyList: { class: string; targetId?: string; target?: string; detail: { attempts: number } }[];
      };
      expect(run).to.deep.include({ state: 'partial', counts: { 'side-failed': 1 } });
      // policy.retry.maxAttempts of the fixture's target is 3.
      expect(run.discrepancyList[0]!.detail.attempts).to.equal(3);
      expect(run.error).to.match(/^target office: .* \(gave up after 3 attempts\)$/);
    });
  });
}

describe('reconciliation schedules across two hub instances [postgres]', function () {
  this.timeout(60_000);
  let bo: ListingBackOffice;
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const hubs: TestHub[] = [];

  before(async function () {
    if (!process.env.CI && !(await postgresReachable())) this.skip();
    bo = await new ListingBackOffice().start();
  });

  after(async () => {
    for (const h of hubs) await h.stop();
    await db?.drop();
    await bo?.stop();
  });

  it('runs each firing of a schedule on one instance only, and records it', async () => {
    db = await createTestDatabase('postgres');
    // Every second, on both instances.
    hubs.push(await startHub('postgres', bo, '* * * * * *', db));
    hubs.push(await startHub('postgres', bo, '* * * * * *', db));
    const rstore = hubs[0]!.hub.store.reconcile;
    await eventually(
      async () => (await rstore.listRuns({ limit: 100, scheduleId: 'target:office' })).filter((r) => r.state === 'finished').length >= 4,
      20_000,
      'four scheduled runs',
    );
    await Promise.all(hubs.map((h) => h.hub.scheduler.stop()));
    const runs = await rstore.listRuns({ limit: 100, scheduleId: 'target:office' });
    const perSlot = new Map<number, number>();
    for (const r of runs) perSlot.set(r.scheduledFor!, (perSlot.get(r.scheduledFor!) ?? 0) + 1);
    expect(
      [...perSlot.values()].every((n) => n === 1),
      JSON.stringify([...perSlot]),
    ).to.equal(true);
    expect(runs.every((r) => r.state === 'finished')).to.equal(true);
  });
});
