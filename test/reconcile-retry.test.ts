import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import winston from 'winston';
import rest from '../adapters/rest/index.ts';
import type { RetryPolicy, TargetReconcileConfig } from '../src/config/schema.ts';
import { runReconciliation, type ReconcileTarget } from '../src/reconcile/run.ts';
import type { AdapterInstance } from '../src/sdk/types.ts';
import { systemClock } from '../src/clock.ts';
import { describeEachDatabase } from './support/databases.ts';
import { seedCases } from './support/reconcile-seed.ts';

const quiet = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
const RETRY: RetryPolicy = { baseDelayMs: 10, maxDelayMs: 1000, maxAttempts: 3, jitter: 0 };

/**
 * A back office on 127.0.0.1 with a listing (GET /cases?since=…): it answers 503 to the first `failures` listings
 * (the second one with Retry-After: 1), then lists its cases; `failures: Infinity` never lists, `status` answers
 * every listing with that status instead.
 */
class ListingOffice {
  requests = 0;
  private server: Server | undefined;
  url = '';

  constructor(
    private readonly cases: { reference: string; status: string; key: string }[],
    private readonly o: { failures?: number; status?: number } = {},
  ) {}

  async start(): Promise<this> {
    const app = express();
    app.get('/cases', (_req, res) => {
      this.requests++;
      if (this.o.status) return void res.status(this.o.status).json({ title: 'no such listing' });
      if (this.requests <= (this.o.failures ?? 0)) {
        if (this.requests === 2) res.set('retry-after', '1');
        return void res.status(503).json({ title: 'Wartungsfenster' });
      }
      res.json({ items: this.cases });
    });
    await new Promise<void>((resolve) => (this.server = app.listen(0, '127.0.0.1', () => resolve())));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describeEachDatabase('reconciliation: a back office whose listing fails', ({ store }) => {
  const now = Date.now();
  const offices: ListingOffice[] = [];
  const adapters: AdapterInstance[] = [];
  /** What the runs would have waited: the test's sleep returns at once. */
  let waits: number[] = [];
  const sleep = async (ms: number) => void waits.push(ms);
  beforeEach(() => {
    waits = [];
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.close?.()));
    await Promise.all(offices.splice(0).map((o) => o.stop()));
  });

  async function target(
    id: string,
    office: ListingOffice,
    reconcile: Partial<TargetReconcileConfig> = {},
  ): Promise<[string, ReconcileTarget]> {
    offices.push(await office.start());
    const options = rest.options.parse({
      url: `${office.url}/cases`,
      listing: {
        url: `${office.url}/cases?since={since}`,
        itemsPointer: '/items',
        referencePointer: '/reference',
        statusPointer: '/status',
        idempotencyKeyPointer: '/key',
      },
    });
    const adapter = await rest.create(options, { targetId: id, logger: quiet, timeoutMs: 2000, clock: systemClock });
    adapters.push(adapter);
    return [
      id,
      {
        id,
        adapter,
        retry: RETRY,
        reconcile: { timezone: 'Europe/Berlin', graceMinutes: 0, lookbackDays: 7, concurrency: 2, ...reconcile },
      },
    ];
  }

  const run = (targets: [string, ReconcileTarget][]) =>
    runReconciliation(
      { rstore: store().reconcile, targets: new Map(targets), logger: quiet, now: () => now, sleep },
      { job: 'reconcile', scheduleId: 'on-demand', targets: targets.map(([id]) => id), stuckAfterMinutes: 100_000, since: now - 3_600_000 },
    ).then((r) => r!);

  it("lists after two 503s, waiting the target's back-off and the Retry-After the back office asked for", async () => {
    await seedCases(
      store(),
      [
        { id: 'flaky-1', targetId: 'flaky', deliveredAt: now - 60_000 },
        { id: 'flaky-2', targetId: 'flaky', deliveredAt: now - 60_000 },
      ],
      now,
    );
    const office = new ListingOffice([{ reference: 'AZ-1', status: 'eingegangen', key: 'flaky-1' }], { failures: 2 });
    const r = await run([await target('flaky', office)]);
    expect(r.state, r.error ?? '').to.equal('finished');
    expect(r.counts).to.deep.equal({ 'missing-in-backoffice': 1 });
    expect(r.matched).to.equal(1);
    expect(office.requests).to.equal(3);
    // base delay after the first 503; after the second, the 1 s it asked for (longer than the 20 ms back-off).
    expect(waits).to.deep.equal([10, 1000]);
  });

  it('reports a back office that never lists as side-failed and keeps the findings of the other target: a partial run', async () => {
    await seedCases(
      store(),
      [
        { id: 'down-1', targetId: 'down', deliveredAt: now - 60_000 },
        { id: 'up-1', targetId: 'up', deliveredAt: now - 60_000 },
      ],
      now,
    );
    const down = new ListingOffice([], { failures: Infinity });
    const up = new ListingOffice([
      { reference: 'AZ-UP-1', status: 'eingegangen', key: 'up-1' },
      { reference: 'AZ-FREMD', status: 'eingegangen', key: 'not-from-the-hub' },
    ]);
    const r = await run([await target('down', down), await target('up', up)]);
    expect(r.state).to.equal('partial');
    expect(r.counts).to.deep.equal({ 'side-failed': 1, 'unknown-to-hub': 1 });
    expect(r.matched).to.equal(1);
    // policy.retry.maxAttempts (3) is below reconcile.retry's default (4).
    expect(down.requests).to.equal(3);
    expect(waits).to.deep.equal([10, 1000]);
    const message = `listing GET ${down.url}/cases answered HTTP 503 Service Unavailable (gave up after 3 attempts)`;
    expect(r.error).to.equal(`target down: ${message}`);
    const found = [];
    for await (const d of store().reconcile.discrepancies(r.id)) found.push(d);
    expect(found.find((d) => d.class === 'side-failed')).to.deep.include({
      targetId: 'down',
      action: 'reported',
      detail: { error: message, attempts: 3 },
    });
    expect(found.find((d) => d.class === 'unknown-to-hub')).to.include({ targetId: 'up', reference: 'AZ-FREMD' });
  });

  it('stops trying once the next try would start past reconcile.retry.maxDurationMs', async () => {
    const down = new ListingOffice([], { failures: Infinity });
    // Without the second 503's Retry-After the waits would be 10, 20, 40, …; the 1 s it asks for is past 500 ms.
    const r = await run([await target('short', down, { retry: { maxAttempts: 10, maxDurationMs: 500 } })]);
    expect(r.state).to.equal('partial');
    expect(down.requests).to.equal(2);
    expect(waits).to.deep.equal([10]);
  });

  it('does not ask again after a permanent error', async () => {
    const wrong = new ListingOffice([], { status: 404 });
    const r = await run([await target('wrong', wrong)]);
    expect(r.state).to.equal('partial');
    expect(wrong.requests).to.equal(1);
    expect(waits).to.deep.equal([]);
    expect(r.error).to.equal(`target wrong: listing GET ${wrong.url}/cases answered HTTP 404 Not Found`);
  });
});
