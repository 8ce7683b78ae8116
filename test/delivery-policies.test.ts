import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import express from 'express';
import { describeEachDatabase } from './support/databases.ts';
import { eventually, startTestHub, submission, type TestHub } from './support/hub.ts';
import { documented } from './support/openapi.ts';

const POLICIES = fileURLToPath(new URL('./fixtures/policies', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/amtsbote.js', import.meta.url));
const OPERATOR = 'operator-token-for-policy-tests';

/**
 * A back office on 127.0.0.1 that can be taken down, recording when each request came and how it was answered.
 * Requests to `sluggish` are held until the test releases them, so a test about slowness waits on events, not on time.
 */
class SwitchableBackOffice {
  down = false;
  readonly held: (() => void)[] = [];
  readonly requests: { path: string; key: string; at: number; status: number }[] = [];
  private readonly filed = new Map<string, string>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    const app = express();
    app.use(express.text({ type: () => true }));
    app.post('/:target', async (req, res) => {
      const key = req.get('idempotency-key') ?? '';
      if (req.params.target === 'sluggish') await new Promise<void>((r) => this.held.push(r));
      const status = this.down ? 503 : this.filed.has(key) ? 200 : 201;
      this.requests.push({ path: req.params.target!, key, at: Date.now(), status });
      if (status === 503) return res.status(503).json({ title: 'Wartungsfenster' });
      if (!this.filed.has(key)) this.filed.set(key, `AZ-${this.filed.size + 1}`);
      res.status(status).json({ caseId: this.filed.get(key) });
    });
    await new Promise<void>((r) => (this.server = app.listen(0, '127.0.0.1', () => r())));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  to(path: string) {
    return this.requests.filter((r) => r.path === path);
  }

  /** Answers the `n` oldest held requests. */
  release(n = Infinity): void {
    for (const answer of this.held.splice(0, n)) answer();
  }

  close(): Promise<void> {
    this.release();
    this.server!.closeAllConnections();
    return new Promise((r) => this.server!.close(() => r()));
  }
}

const HOUR = 3_600_000;

/** 12:00 UTC of the first Sunday after `now` (a week on when `now` is a Sunday). */
function comingSundayNoonUtc(now: number): number {
  const day = new Date(now);
  const midnight = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
  return midnight + (7 - day.getUTCDay()) * 24 * HOUR + 12 * HOUR;
}

async function submit(h: TestHub, tenant: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  // One after the other, so the order they were taken in is the order they must reach the back office.
  for (let i = 0; i < n; i++) {
    const res = await h.fetch('/api/v1/submissions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(submission({ tenant })),
    });
    expect(res.status).to.equal(202);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

async function target(h: TestHub, id: string) {
  const res = await h.fetch(`/api/v1/targets/${id}`, { token: OPERATOR });
  expect(res.status).to.equal(200);
  return (await documented(res, '/api/v1/targets/{id}', 'get')) as {
    breaker: { state: string; consecutiveFailures: number; lastError: string | null };
    queue: { due: number; failed: number };
    window: { open: boolean; nextOpening: string | null } | null;
  };
}

async function deliveries(h: TestHub, ids: string[]) {
  return Promise.all(ids.map(async (id) => (await h.hub.store.getSubmission(id))!.deliveries[0]!));
}

describeEachDatabase('delivery policies', ({ kind, db }) => {
  let bo: SwitchableBackOffice;
  const hubs: TestHub[] = [];
  const start = async (opts: { clock?: () => number } = {}) => {
    const h = await startTestHub({
      kind,
      db: db(),
      configDir: POLICIES,
      backOfficeUrl: bo.url,
      env: { AMTSBOTE_OPERATOR_TOKEN: OPERATOR },
      ...opts,
    });
    hubs.push(h);
    return h;
  };
  beforeEach(async () => {
    bo = await new SwitchableBackOffice().start();
  });
  afterEach(async () => {
    for (const h of hubs.splice(0)) await h.stop();
    await bo.close();
  });

  it('holds the queue while the back office is down, spends no attempts on it, and drains in order once it is back', async () => {
    const h = await start();
    // Which claims offered the target room: while its breaker is open the worker should not ask for it at all.
    const offered: number[] = [];
    const claim = h.hub.store.claimForTargets.bind(h.hub.store);
    h.hub.store.claimForTargets = (owner, now, leaseMs, limit, gates) => {
      if (gates.some((g) => g.targetId === 'outage' && g.room > 0)) offered.push(Date.now());
      return claim(owner, now, leaseMs, limit, gates);
    };
    bo.down = true;
    const ids = await submit(h, '05513000', 12);
    const open = await eventually(
      async () => {
        const t = await target(h, 'outage');
        return t.breaker.state !== 'closed' && t;
      },
      10_000,
      'the breaker to open',
    );
    expect(open.breaker.lastError).to.match(/503/);
    // A while down: only the probes reach the back office, one per cool-down, and the worker asks the database
    // for the target only when a cool-down ends, not at every poll (50 ms) and every new submission.
    const since = Date.now();
    const probesBefore = bo.to('outage').length;
    const others = await submit(h, '05562014', 3); // wakes the worker for another target
    await new Promise((r) => setTimeout(r, 1_000));
    const failedWhileDown = bo.to('outage').length;
    expect(failedWhileDown).to.be.within(3, 3 + Math.ceil(1_500 / 300) + 1);
    const cooldowns = Math.ceil((Date.now() - since) / 300);
    expect(offered.filter((t) => t >= since).length, 'claims offering the target room while its breaker was open').to.be.at.most(
      cooldowns + (failedWhileDown - probesBefore) + 1,
    );
    bo.down = false;

    await eventually(async () => (await deliveries(h, [...ids, ...others])).every((d) => d.state === 'delivered'), 15_000, 'all delivered');
    const filed = bo.to('outage').filter((r) => r.status === 201);
    expect(filed).to.have.length(12);
    const all = await deliveries(h, ids);
    // In the order they were submitted.
    expect(filed.map((r) => r.key)).to.deep.equal(all.map((d) => d.idempotencyKey));
    // Only the deliveries tried before the breaker opened (and its probe, the oldest) were tried more than once.
    expect(all.slice(3).every((d) => d.attempts === 1)).to.equal(true);
    // Every probe was the oldest delivery; its budget of 4 was not used up by them.
    const failures = bo.to('outage').filter((r) => r.status === 503);
    expect(failures.slice(3).every((r) => r.key === all[0]!.idempotencyKey)).to.equal(true);
    expect((await target(h, 'outage')).breaker.state).to.equal('closed');
    const log = h.logLines.join('');
    expect(log).to.match(/circuit breaker opened/);
    expect(log).to.match(/circuit breaker closed/);
  });

  it('starts no more deliveries than the rate limit allows, across two instances', async () => {
    const a = await start();
    // SQLite has one process per file; PostgreSQL shares the bucket between instances.
    const b = kind === 'postgres' ? await start() : a;
    const ids = [...(await submit(a, '05562014', 10)), ...(await submit(b, '05562014', 10))];
    await eventually(async () => (await deliveries(a, ids)).every((d) => d.state === 'delivered'), 20_000, 'all delivered');
    const requests = bo.to('metered');
    // Every case reached the back office; more requests than cases only as recorded attempts (a busy machine
    // may time one out and try again, which takes a token like any attempt).
    expect(new Set(requests.map((r) => r.key)).size).to.equal(20);
    const attempts = (await deliveries(a, ids)).reduce((n, d) => n + d.attempts, 0);
    expect(requests).to.have.length(attempts);
    const times = requests.map((r) => r.at).sort((x, y) => x - y);
    // 600 a minute with a burst of 1: one every 100 ms. Allow for timer and network jitter, not for a burst.
    for (let i = 0; i + 5 < times.length; i++) expect(times[i + 5]! - times[i]!, `requests ${i}..${i + 5}`).to.be.at.least(400);
    expect(times.at(-1)! - times[0]!).to.be.at.least(1_700);
  });

  it("shares the worker's slots, so a slow back office with a backlog does not hold up the others", async () => {
    const h = await start();
    const slow = await submit(h, '05562', 12);
    // Alone with work, the slow target may take all four of the worker's slots; the back office holds all four.
    await eventually(async () => bo.held.length === 4, 5_000, 'the slow back office holding four requests');
    const quick = await submit(h, '05562014', 2);
    // One slow case is answered: its slot goes to the target that now has work too, not to the slow target's backlog.
    bo.release(1);
    await eventually(async () => (await deliveries(h, quick)).every((d) => d.state === 'delivered'), 5_000, 'the other target served');
    // ...while the slow back office had answered only the one.
    expect(bo.to('sluggish')).to.have.length(1);
    bo.release();
    await eventually(
      async () => (await deliveries(h, slow)).every((d) => d.state === 'delivered') || (bo.release(), false),
      10_000,
      'the slow backlog drained',
    );
  });

  it('holds deliveries outside the window and releases them when it opens, without counting them late', async () => {
    // The hub's clock at the coming Sunday noon, then at Monday 06:00 UTC: the window opens. Counted from today,
    // so no date is written here: every part of the hub (intake, worker, API) must read the one clock.
    const sundayNoon = comingSundayNoonUtc(Date.now());
    const mondayOpening = sundayNoon + 18 * HOUR;
    let offset = sundayNoon - Date.now();
    const h = await start({ clock: () => Date.now() + offset });
    const ids = await submit(h, '05562008', 3);
    await new Promise((r) => setTimeout(r, 400));
    expect(bo.to('office-hours')).to.have.length(0);
    const closed = await target(h, 'office-hours');
    expect(closed.window).to.include({ open: false, nextOpening: new Date(mondayOpening).toISOString() });
    expect(closed.queue.due).to.equal(3);
    // Stamped by the hub's clock, not the machine's: due since Sunday noon.
    for (const d of await deliveries(h, ids)) expect(d.createdAt).to.be.within(sundayNoon, sundayNoon + 10 * 60_000);

    offset = mondayOpening - Date.now();
    await eventually(
      async () => (await deliveries(h, ids)).every((d) => d.state === 'delivered'),
      10_000,
      'delivered once the window opened',
    );
    const metrics = await (await fetch(`${h.hub.url}/metrics`)).text();
    // All three waited under a minute by the window's reckoning (a slow machine needs some of it), though due since Sunday noon.
    expect(metrics).to.match(/amtsbote_delivery_wait_seconds_bucket\{le="60",target="office-hours"\} 3/);
  });

  it('shows an operator at a shell what the API shows: amtsbote targets', async function () {
    // Three processes of their own, each loading the configuration and connecting: on a loaded 2-core machine
    // that alone can pass mocha's 20 s default, which says nothing about the command.
    this.timeout(90_000);
    const h = await start();
    bo.down = true;
    await submit(h, '05513000', 4);
    await eventually(async () => (await target(h, 'outage')).breaker.state === 'open', 10_000, 'the breaker to open');
    const o = db().options;
    const where = o.url ? ['--database-url', o.url, '--database-schema', o.schema!] : ['-d', path.dirname(o.sqliteFile!)];
    const env = { ...process.env, BACKOFFICE_URL: bo.url, TEST_PORTAL_A_TOKEN: 'a-portal-token-of-16+-chars' };
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [BIN, 'targets', '-c', POLICIES, ...where, ...args], { env });

    const json = JSON.parse((await cli('outage', '--json')).stdout);
    const api = await target(h, 'outage');
    // The breaker probes every 300 ms, so the two reads may see it a probe apart: open or half-open, same error.
    expect(Object.keys(json)).to.deep.equal(Object.keys(api));
    expect(json.breaker).to.include({ enabled: true, lastError: api.breaker.lastError });
    expect(json.breaker.state).to.be.oneOf(['open', 'half-open']);
    expect(json.queue.failed).to.equal(0);
    expect(json.queue.queued + json.queue.waiting + json.queue.sending).to.equal(4);
    const table = (await cli()).stdout.split('\n');
    expect(table[0]).to.match(/^target\s+breaker\s+due/);
    expect(table.find((l) => l.startsWith('outage '))).to.match(/(open|half-open) until \d{4}-/);
    expect(table.find((l) => l.startsWith('metered '))).to.match(/600\/min/);
    expect(table).to.include('outage: last error: ' + api.breaker.lastError);
    const unknown = await cli('nope').then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(unknown).to.include({ code: 2 });
    expect(unknown!.stderr).to.match(/no target nope; configured: metered, office-hours, outage, sluggish/);
  });

  it('lists every target for operators, and only for them', async () => {
    const h = await start();
    const list = await documented(await h.fetch('/api/v1/targets', { token: OPERATOR }), '/api/v1/targets', 'get');
    expect(list.targets.map((t: { id: string }) => t.id)).to.deep.equal(['metered', 'office-hours', 'outage', 'sluggish']);
    expect(list.targets[0]).to.deep.include({ rateLimit: { maxInFlight: null, perMinute: 600, burst: 1, tokens: 1 } });
    const missing = await h.fetch('/api/v1/targets/nope', { token: OPERATOR });
    expect(missing.status).to.equal(404);
    await documented(missing, '/api/v1/targets/{id}', 'get');
    const portal = await h.fetch('/api/v1/targets');
    expect(portal.status).to.equal(401);
    await documented(portal, '/api/v1/targets', 'get');
  });
});
