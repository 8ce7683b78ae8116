import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { postgresReachable } from './support/databases.ts';
import { eventually, startTestHub, submission, type TestHub } from './support/hub.ts';
import { PUSH_TOKEN, statusConfig, TestPortal } from './status-support.ts';

/**
 * The same four news for every case: RECEIVED, PROCESSING, ACTION_REQUIRED (with a reason), COMPLETED. The hub itself
 * records RECEIVED when the delivery reaches the back office, so the back office's "eingegangen" changes nothing.
 */
const NEWS = [
  ['eingegangen', '2026-11-20T08:00:00Z'],
  ['in Bearbeitung', '2026-11-20T09:00:00Z'],
  ['Rueckfrage Bauamt', '2026-11-20T10:00:00Z'],
  ['erledigt', '2026-11-20T11:00:00Z'],
] as const;
const EXPECTED = ['RECEIVED', 'PROCESSING', 'ACTION_REQUIRED', 'COMPLETED'];

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`status outbox [${kind}]`, () => {
    let bo: TestBackOffice;
    let portal: TestPortal;
    let config: string;
    const hubs: TestHub[] = [];

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new TestBackOffice().start();
      portal = await new TestPortal().start();
      config = statusConfig(`${portal.url}/status`);
    });
    afterEach(async () => {
      portal.down = false;
      // Stop every hub before dropping: instances share a database, and dropping it under a running one deadlocks.
      const stopped = hubs.splice(0).reverse();
      for (const h of stopped) await h.stop();
      const dropped = new Set<TestHub['db']>();
      for (const h of stopped) if (!dropped.has(h.db) && dropped.add(h.db)) await h.stop(true);
      portal.taken.length = 0;
      portal.requests.length = 0;
    });
    after(async () => {
      await bo?.stop();
      await portal?.stop();
    });

    const start = async (db?: TestHub['db'], dataDir?: string) => {
      const t = await startTestHub({
        kind,
        backOfficeUrl: bo.url,
        configDir: config,
        ...(db ? { db } : {}),
        ...(dataDir ? { dataDir } : {}),
      });
      hubs.push(t);
      return t;
    };

    /** Submits `n` cases and waits until the back office has each; their submission and delivery ids. */
    async function cases(t: TestHub, n: number): Promise<{ id: string; deliveryId: string }[]> {
      const out: { id: string; deliveryId: string }[] = [];
      for (let i = 0; i < n; i++) {
        const res = await t.fetch('/api/v1/submissions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(submission()),
        });
        out.push({ id: ((await res.json()) as { id: string }).id, deliveryId: '' });
      }
      for (const c of out) {
        c.deliveryId = await eventually(
          async () => {
            const v = (await (await t.fetch(`/api/v1/submissions/${c.id}`)).json()) as any;
            return v.status === 'delivered' && (v.deliveries[0].id as string);
          },
          10_000,
          'delivery',
        );
      }
      return out;
    }

    /** Pushes the four news of every case, one request per news, interleaving the cases. */
    async function pushAll(t: TestHub, list: { deliveryId: string }[]): Promise<void> {
      for (const [status, at] of NEWS) {
        const res = await t.fetch('/api/v1/backoffice-events', {
          method: 'POST',
          token: PUSH_TOKEN,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            events: list.map((c) => ({
              idempotencyKey: c.deliveryId,
              status,
              at,
              ...(status.startsWith('Rueckfrage') ? { reason: 'Foto fehlt' } : {}),
            })),
          }),
        });
        expect(res.status).to.equal(200);
      }
    }

    /** Every case's four updates arrived, in order, and each idempotency key was taken (204) exactly once. */
    async function allArrivedInOrder(list: { id: string }[]): Promise<void> {
      await eventually(async () => list.every((c) => portal.updatesOf(c.id).length === 4), 20_000, 'all updates at the portal');
      for (const c of list) {
        const got = portal.updatesOf(c.id);
        expect(got.map((u) => u.status)).to.deep.equal(EXPECTED);
        expect(got.map((u) => u.sequence)).to.deep.equal([1, 2, 3, 4]);
        expect(got[2]!.reason).to.equal('Foto fehlt');
      }
      const keys = portal.taken.filter((u) => list.some((c) => c.id === u.body.submissionId)).map((u) => u.key);
      expect(new Set(keys).size).to.equal(keys.length);
      for (const k of keys)
        expect(
          portal.requests.filter(([key, status]) => key === k && status === 204),
          `key ${k}`,
        ).to.have.length(1);
    }

    it('survives a portal outage: every update arrives once, in order per submission', async () => {
      const t = await start();
      const list = await cases(t, 3);
      // Each case's RECEIVED (from its delivery) reached the portal before the outage.
      await eventually(async () => list.every((c) => portal.updatesOf(c.id).length === 1), 5_000, 'RECEIVED at the portal');
      const before = portal.requests.length;
      portal.down = true;
      await pushAll(t, list);
      await eventually(async () => portal.requests.filter(([, s]) => s === 503).length >= 9, 10_000, 'the outage to be felt');
      // Only the next update of each case was tried: n+1 waits for n.
      const tried = new Set(portal.requests.slice(before).map(([k]) => k));
      expect(tried.size).to.equal(3);
      portal.down = false;
      await allArrivedInOrder(list);
      const events = await eventually(
        async () => {
          const e = (await t.hub.store.events(list[0]!.id)).map((x) => x.type);
          return e.filter((x) => x === 'status.forwarded').length === 4 && e;
        },
        5000,
        'the forwarded events',
      );
      expect(events).to.include('status.forward-retry');
      // The portal may have the last update a moment before the hub records its answer.
      const metrics = await eventually(
        async () => {
          const text = await (await t.fetch('/metrics', { token: null })).text();
          return /amtsbote_status_outbox\{state="delivered"\} 12/.test(text) && text;
        },
        5_000,
        'every update recorded as delivered',
      );
      expect(metrics).to.match(/amtsbote_status_forward_attempts_total\{portal="portal-a",outcome="retry"\} [1-9]/);
    });

    it('survives a hub restart with updates still queued', async () => {
      const first = await start();
      const list = await cases(first, 2);
      portal.down = true;
      await pushAll(first, list);
      await eventually(async () => portal.requests.filter(([, s]) => s === 503).length >= 2, 10_000, 'a refused try');
      hubs.splice(hubs.indexOf(first), 1);
      await first.stop();
      portal.down = false;
      await start(first.db, first.dataDir);
      await allArrivedInOrder(list);
    });

    if (kind === 'postgres') {
      it('keeps the order with two hub instances sending from one outbox', async () => {
        const a = await start();
        const b = await start(a.db, a.dataDir);
        const list = await cases(a, 6);
        portal.down = true;
        await pushAll(b, list);
        await eventually(async () => portal.requests.filter(([, s]) => s === 503).length >= 12, 10_000, 'the outage to be felt');
        portal.down = false;
        await allArrivedInOrder(list);
      });
    }
  });
}
