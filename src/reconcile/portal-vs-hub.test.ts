// Portal vs hub against a real portal on 127.0.0.1 (the demo's portal simulator, an express app) and a real store.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import winston from 'winston';
import { builtinAdapters } from '../../adapters/index.ts';
import { loadConfig } from '../config/load.ts';
import type { PortalConfig } from '../config/schema.ts';
import { startSimulator, type PortalEnvelope, type RunningSimulator } from '../demo/index.ts';
import { acceptSubmission } from '../intake/accept.ts';
import { envelopeSchema } from '../intake/envelope.ts';
import { Router } from '../routing/router.ts';
import type { PortalReconcileStore } from '../store/portal-reconcile-store.ts';
import { describeEachDatabase } from '../../test/support/databases.ts';
import { FIXTURE_CONFIG } from '../../test/support/hub.ts';
import { PortalListingClient, PortalListingError } from './portal-listing.ts';
import { portalComparison, reconcilePortal, type PortalReconcileInput } from './portal-vs-hub.ts';
import type { Discrepancy, ReportSink } from '../core/reconcile/types.ts';

const LISTING_TOKEN = 'portal-listing-token-SECRET-77';
const CITIZEN = 'Erika Mustermann';
const env = { BACKOFFICE_URL: 'http://127.0.0.1:9', TEST_PORTAL_A_TOKEN: 'portal-a-token-0123456789', DROP_DIR: '/tmp' };
const silent = winston.createLogger({ silent: true });

/** A report that keeps what it is given, as the run's report would persist it. */
function collector(): ReportSink & { found: Discrepancy[]; matchedCount: number } {
  const found: Discrepancy[] = [];
  return {
    found,
    matchedCount: 0,
    async add(d) {
      found.push(d);
    },
    matched(n) {
      this.matchedCount += n;
    },
  };
}

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-02T08:00:00Z');

function envelope(externalId: string, minutes: number, over: Partial<PortalEnvelope> = {}): PortalEnvelope {
  return {
    externalId,
    tenant: '05513000',
    service: 'sperrmuell',
    submittedAt: new Date(T0 + minutes * 60_000).toISOString(),
    applicant: { name: CITIZEN },
    data: { items: ['Kleiderschrank'] },
    ...over,
  };
}

describeEachDatabase('portal vs hub', ({ store }) => {
  let router: Router;
  let portal: PortalConfig;
  let sim: RunningSimulator;
  let reader: PortalReconcileStore;
  let client: PortalListingClient;

  /** The hub receives it as if the portal had sent it, at `minutes` after T0. */
  const received = (e: PortalEnvelope, minutes: number) =>
    acceptSubmission(store(), router, portal, envelopeSchema.parse(e), T0 + minutes * 60_000);

  function run(extra: Partial<PortalReconcileInput> = {}) {
    const report = collector();
    const input: PortalReconcileInput = {
      reader,
      portalId: portal.id,
      client,
      fetchMissing: 'auto',
      since: T0,
      until: T0 + 10 * HOUR,
      report,
      takeIn: (e) => acceptSubmission(store(), router, portal, e, T0 + 9 * HOUR),
      batchSize: 2,
      ...extra,
    };
    return reconcilePortal(input).then((summary) => ({ summary, report }));
  }

  before(async () => {
    router = new Router(loadConfig(FIXTURE_CONFIG, { adapters: builtinAdapters, env }));
    portal = router.config.hub.portals.find((p) => p.id === 'portal-a')!;
    reader = store().portalReconcile;
    sim = await startSimulator({ kind: 'portal', port: 0, listingToken: LISTING_TOKEN });
    client = new PortalListingClient(portal.id, { url: `${sim.url}/submissions`, token: LISTING_TOKEN, timeoutMs: 2000 });
    const p = sim.portal!;
    // Sent and received.
    for (const [id, m] of [
      ['ELP-1', 1],
      ['ELP-2', 2],
    ] as const) {
      p.add(envelope(id, m));
      await received(envelope(id, m), m + 1);
    }
    // The webhook never arrived: one in Gelsenkirchen, one in Gladbeck (Kreis Recklinghausen).
    p.add(envelope('ELP-LOST-1', 3), { lost: true });
    p.add(envelope('ELP-LOST-2', 4, { tenant: '05562014' }), { lost: true });
    // The hub has it, the portal does not list it.
    await received(envelope('ELP-GHOST', 5), 6);
    // Submitted before the range, received in it: not the portal's to list, not reported.
    await received(envelope('ELP-OLD', -30), 7);
  });
  after(async () => {
    await sim?.close();
  });

  it('takes in what the portal has and the hub lacks, and reports what the portal does not know', async () => {
    const { summary, report } = await run();
    expect(summary).to.deep.equal({ listed: 4, matched: 2, takenIn: 2, flagged: 0, unknownToPortal: 1, skipped: 0 });
    expect(report.matchedCount).to.equal(2);
    const taken = report.found.filter((d) => d.class === 'missing-in-hub');
    expect(taken.map((d) => [d.externalId, d.action, d.tenant])).to.deep.equal([
      ['ELP-LOST-1', 'taken-in', '05513000'],
      ['ELP-LOST-2', 'taken-in', '05562014'],
    ]);
    for (const d of taken) {
      const s = await store().getSubmission(d.submissionId!);
      expect(s, d.externalId).to.include({ externalId: d.externalId, tenant: d.tenant });
      expect(s!.deliveries).to.have.length(1);
      expect(d.detail).to.include({ outcome: 'created', deliveries: 1, service: 'sperrmuell' });
    }
    const ghost = report.found.filter((d) => d.class === 'unknown-to-portal');
    expect(ghost).to.have.length(1);
    expect(ghost[0]).to.include({ action: 'reported', externalId: 'ELP-GHOST', portalId: 'portal-a', tenant: '05513000' });
    expect(ghost[0]!.detail).to.include({ receivedAt: new Date(T0 + 6 * 60_000).toISOString() });
    expect(JSON.stringify(report.found)).not.to.contain(CITIZEN).and.not.to.contain('Kleiderschrank');
  });

  it('is idempotent: a second run finds them matched and takes nothing in twice', async () => {
    const { summary } = await run();
    expect(summary).to.include({ listed: 4, matched: 4, takenIn: 0, unknownToPortal: 1 });
  });

  it('leaves out the hub’s submissions received after the run started (until)', async () => {
    const { summary } = await run({ until: T0 + 6 * 60_000 });
    expect(summary.unknownToPortal).to.equal(0);
  });

  it('flags instead of taking in with fetchMissing: flag, and asks the portal for no envelope', async () => {
    sim.portal!.add(envelope('ELP-LOST-3', 10), { lost: true });
    const { summary, report } = await run({ fetchMissing: 'flag' });
    expect(summary).to.include({ takenIn: 0, flagged: 1 });
    expect(report.found.find((d) => d.class === 'missing-in-hub')).to.deep.include({ action: 'flagged', externalId: 'ELP-LOST-3' });
    expect(await reader.known('portal-a', ['ELP-LOST-3'])).to.have.property('size', 0);
  });

  it('flags what the intake refuses, naming the rule, never the data', async () => {
    sim.portal!.add(envelope('ELP-BOTTROP', 11, { tenant: '05512000' }), { lost: true });
    sim.portal!.add({ ...envelope('ELP-BROKEN', 12), applicant: 'nobody' as never }, { lost: true });
    const { report } = await run();
    const flagged = report.found.filter((d) => d.action === 'flagged');
    // ELP-LOST-3 is taken in now (auto); the two refused ones are flagged.
    expect(report.found.find((d) => d.externalId === 'ELP-LOST-3')).to.include({ action: 'taken-in' });
    expect(flagged.map((d) => d.externalId)).to.deep.equal(['ELP-BOTTROP', 'ELP-BROKEN']);
    expect(String(flagged[0]!.detail!['error'])).to.contain('may not submit for tenant 05512000');
    expect(String(flagged[1]!.detail!['error'])).to.contain('#/applicant');
    expect(JSON.stringify(report.found)).not.to.contain('nobody');
  });

  it('compares only the tenants asked for (a district key includes its towns)', async () => {
    const { summary, report } = await run({ tenants: ['05562'] });
    expect(summary).to.include({ listed: 1, matched: 1, unknownToPortal: 0 });
    expect(report.found).to.have.length(0);
  });

  it('pages through a long listing', async () => {
    for (let i = 0; i < 60; i++) sim.portal!.add(envelope(`ELP-MANY-${String(i).padStart(2, '0')}`, 20 + i), { lost: true });
    const { summary } = await run({ fetchMissing: 'flag' });
    expect(summary.flagged).to.equal(62); // the 60 and the two the intake refuses
  });

  it('fails cleanly when the portal refuses the token or is down, never showing the token', async () => {
    const wrong = new PortalListingClient('portal-a', { url: `${sim.url}/submissions`, token: 'wrong-token-0000000000', timeoutMs: 2000 });
    const e = await run({ client: wrong }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).to.be.instanceOf(PortalListingError);
    expect((e as Error).message).to.equal(`portal portal-a listing GET ${sim.url}/submissions answered HTTP 401 (credentials rejected)`);
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = new PortalListingClient('portal-a', {
      url: `http://127.0.0.1:${port}/submissions`,
      token: LISTING_TOKEN,
      timeoutMs: 2000,
    });
    const e2 = (await run({ client: down }).catch((err: unknown) => err)) as PortalListingError;
    expect(e2.message).to.equal(`portal portal-a listing GET http://127.0.0.1:${port}/submissions failed: network error ECONNREFUSED`);
    expect(e2.retryable).to.equal(true);
    expect(`${(e as Error).message} ${e2.message}`).not.to.contain(LISTING_TOKEN);
  });

  it('flags a submission whose envelope the portal fails to serve, and goes on', async () => {
    const app = express();
    app.get('/subs', (_req, res) => void res.json({ items: [{ externalId: 'ELP-500' }, { externalId: 'ELP-1' }], next: null }));
    app.get('/subs/:id', (_req, res) => void res.status(500).send(CITIZEN));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/subs`;
      const { summary, report } = await run({ client: new PortalListingClient('portal-a', { url, timeoutMs: 2000 }), until: T0 });
      expect(summary).to.include({ listed: 2, matched: 1, flagged: 1 });
      expect(report.found[0]!.detail!['error']).to.equal(
        `fetching the envelope failed: portal portal-a listing GET ${url}/{externalId} answered HTTP 500`,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('plugs into a reconciliation run as the portal’s comparison', async () => {
    expect(portalComparison(portal, { store: store(), router, logger: silent, now: () => T0 + 9 * HOUR })).to.equal(undefined);
    const withListing = {
      ...portal,
      listing: { url: `${sim.url}/submissions`, token: LISTING_TOKEN, fetchMissing: 'auto' as const, timeoutMs: 2000 },
    };
    let woken = 0;
    const compare = portalComparison(withListing, {
      store: store(),
      router,
      logger: silent,
      now: () => T0 + 9 * HOUR,
      onAccepted: () => (woken += 1),
    })!;
    const report = collector();
    await compare(report, { since: T0, now: T0 + 10 * HOUR, runId: 'run-1' });
    // The 60 flagged before are taken in now.
    expect(report.found.filter((d) => d.action === 'taken-in')).to.have.length(60);
    expect(woken).to.equal(60);
  });
});
