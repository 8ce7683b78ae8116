// What the demo simulators give reconciliation: the REST back offices keep each case with its Idempotency-Key,
// list and look cases up, move statuses on with their clock, lose a case, file one twice and reject some; the
// portal lists its submissions (those it never sent included), serves their envelopes and takes status updates.
// The hub's rest adapter reads them with the listing and statusLookup options of config/targets.yaml.
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { expect } from 'chai';
import winston from 'winston';
import { parse as parseYaml } from 'yaml';
import rest from '../../adapters/rest/index.ts';
import { configSchema, type HubConfig } from '../config/schema.ts';
import { simulatorSchema } from './schema.ts';
import { validateEnvelope } from '../intake/envelope.ts';
import { compileMapping, renderMessage } from '../mapping/engine.ts';
import type { AdapterInstance, CaseStatus } from '../sdk/types.ts';
import { exampleInput, type Example } from './example-input.ts';
import { startSimulator, type RunningSimulator } from './index.ts';
import { systemClock } from '../clock.ts';

const root = path.resolve(import.meta.dirname, '../..');
const configDir = path.join(root, 'config');
const config: HubConfig = configSchema.parse(
  Object.assign(
    {},
    ...readdirSync(configDir)
      .filter((n) => /\.ya?ml$/.test(n))
      .map((n) => parseYaml(readFileSync(path.join(configDir, n), 'utf8')) as Record<string, unknown>),
  ),
);
const readExample = (name: string): Example => JSON.parse(readFileSync(path.join(root, 'examples', name), 'utf8')) as Example;
const silent = winston.createLogger({ silent: true });
const STEP = 1000;
const FORM_DATA = /Mustermann|Musterfrau|Musterweg|Kleiderschrank|Waschmaschine/;

/** A controllable clock for the simulators: cases age when the test says so. */
function clock(start = Date.parse('2026-03-02T08:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

async function all(it: AsyncIterable<CaseStatus>): Promise<CaseStatus[]> {
  const out: CaseStatus[] = [];
  for await (const c of it) out.push(c);
  return out;
}

/** The hub's rest adapter for a demo target, moved from the port hub.yaml gives its simulator to the test's. */
async function adapterFor(targetId: string, sim: RunningSimulator, port: string): Promise<AdapterInstance> {
  const options = JSON.parse(JSON.stringify(config.targets[targetId]!.options).replaceAll(`http://127.0.0.1:${port}`, sim.url)) as unknown;
  return rest.create(rest.options.parse(options), { clock: systemClock, targetId, logger: silent, timeoutMs: 2000 });
}

describe('demo simulators for reconciliation', () => {
  describe('config', () => {
    it('points every rest target’s listing and statusLookup at its own simulator', () => {
      for (const [id, t] of Object.entries(config.targets)) {
        if (t.adapter !== 'rest') continue;
        const port = new URL(String(t.options['url'])).port;
        const listing = t.options['listing'] as { url: string };
        const lookup = t.options['statusLookup'] as { url: string };
        expect(new URL(listing.url.replace('{since}', 'x')).port, id).to.equal(port);
        expect(listing.url, id).to.contain(new URL(String(t.options['url'])).pathname + '?since={since}');
        expect(lookup.url, id).to.equal(`http://127.0.0.1:${port}/cases/{reference}`);
      }
    });

    it('takes the case-life fields on the REST simulators and the portal kind with its defaults', () => {
      expect(
        simulatorSchema.parse({ kind: 'waste-rest', port: 1, statusStepMs: 5, loseEvery: 5, duplicateCase: 3, rejectEvery: 4 }),
      ).to.deep.equal({
        kind: 'waste-rest',
        port: 1,
        failureRate: 0,
        statusStepMs: 5,
        loseEvery: 5,
        duplicateCase: 3,
        rejectEvery: 4,
      });
      expect(simulatorSchema.parse({ kind: 'portal', port: 4105 })).to.deep.equal({
        kind: 'portal',
        port: 4105,
        submissions: 12,
        submitEveryMs: 5000,
        statusFailures: 0,
      });
      expect(simulatorSchema.safeParse({ kind: 'dogtax-soap', port: 1, loseEvery: 2 }).success, 'loseEvery on soap').to.equal(false);
      expect(simulatorSchema.safeParse({ kind: 'portal', port: 1, listingToken: 'short' }).success, 'short token').to.equal(false);
    });
  });

  describe('waste-rest (GELSENDIENSTE) with the hub’s rest adapter', () => {
    const t = clock();
    let sim: RunningSimulator;
    let adapter: AdapterInstance;
    const logs: string[] = [];
    const keys: string[] = [];
    const references: string[] = [];
    const route = config.routes.find((r) => r.tenants.includes('05513000') && r.service === 'sperrmuell')!;
    const step = route.targets.find((s) => s.target === 'gelsendienste-sperrmuell')!;

    async function deliver(n: number, key = `idem-rec-${n}`) {
      const ex = readExample('sperrmuell-gelsenkirchen.json');
      const input = exampleInput(config, ex, step.target, n, '0196c000');
      const message = await renderMessage(compileMapping(path.resolve(configDir, config.paths.mappings), step.mapping), input, 'json');
      const result = await adapter.deliver(
        { ...message, attachments: [] },
        { deliveryId: `dlv-${n}`, idempotencyKey: key, submissionId: 'sub', tenant: '05513000', service: 'sperrmuell', attempt: 1 },
      );
      if (!result.ok) throw new Error(result.error);
      return result.reference!;
    }

    before(async () => {
      sim = await startSimulator(
        { kind: 'waste-rest', port: 0, statusStepMs: STEP, loseEvery: 3, duplicateCase: 2, rejectEvery: 2 },
        { logger: (m) => logs.push(m), now: t.now },
      );
      adapter = await adapterFor('gelsendienste-sperrmuell', sim, '4101');
      for (let n = 1; n <= 4; n++) {
        keys.push(`idem-rec-${n}`);
        references.push(await deliver(n));
        t.advance(10);
      }
    });
    after(async () => {
      await adapter?.close?.();
      await sim?.close();
    });

    it('lists each case with the key it arrived with; the 2nd is filed twice under one key', async () => {
      const cases = await all(adapter.list!(new Date(0)));
      expect(cases).to.have.length(5);
      expect(cases.filter((c) => c.idempotencyKey === keys[1])).to.have.length(2);
      for (const c of cases) expect(c).to.include({ status: 'angelegt' }).and.to.have.property('updatedAt');
      expect(cases.map((c) => c.reference)).to.include.members(references);
      expect(logs.filter((l) => l.includes('as well, under the same Idempotency-Key'))).to.have.length(1);
    });

    it('moves statuses on with the clock; every 2nd case ends rejected with a reason', async () => {
      t.advance(STEP);
      const changedSince = new Date(t.now() - 5);
      const moved = await all(adapter.list!(changedSince));
      expect(moved.map((c) => c.status)).to.deep.equal(Array(moved.length).fill('disponiert'));
      t.advance(STEP);
      const done = await adapter.status!(references[0]!);
      expect(done).to.include({ reference: references[0], status: 'erledigt' });
      const rejected = await adapter.status!(references[1]!);
      expect(rejected).to.include({ status: 'abgelehnt', reason: 'Abholung am Wunschtermin nicht möglich; bitte neuen Termin beantragen' });
      expect(rejected!.updatedAt).to.equal(
        new Date(Date.parse(sim.cases().find((c) => c.reference === references[1])!.createdAt) + 2 * STEP).toISOString(),
      );
    });

    it('loses the 3rd case one step after filing it: gone from listing and lookup, its key forgotten', async () => {
      const lost = references[2]!;
      expect(await adapter.status!(lost)).to.equal(null);
      const cases = await all(adapter.list!(new Date(0)));
      expect(cases.map((c) => c.reference)).not.to.include(lost);
      expect(sim.cases().find((c) => c.reference === lost)).to.include({ lost: true });
      // A re-delivery under the same key files it anew, and that case is kept.
      const again = await deliver(3, keys[2]);
      expect(again).not.to.equal(lost);
      t.advance(5 * STEP);
      expect(await adapter.status!(again)).to.include({ status: 'erledigt' });
    });

    it('lists per collection, and every case at /cases; pages with a keyset cursor', async () => {
      const base = sim.url;
      const page1 = (await (await fetch(`${base}/cases?since=0&limit=2`)).json()) as {
        items: { reference: string }[];
        next: string | null;
      };
      expect(page1.items).to.have.length(2);
      const seen = page1.items.map((i) => i.reference);
      let next = page1.next;
      while (next) {
        const p = (await (await fetch(`${base}/cases?since=0&limit=2&cursor=${next}`)).json()) as typeof page1;
        seen.push(...p.items.map((i) => i.reference));
        next = p.next;
      }
      expect(new Set(seen).size).to.equal(seen.length);
      expect(seen).to.have.length(sim.cases().filter((c) => !c.lost).length);
      const best = (await (await fetch(`${base}/best/api/v1/orders?since=0`)).json()) as typeof page1;
      expect(best).to.deep.equal({ items: [], next: null });
      for (const bad of ['since=yesterday', 'limit=0', 'cursor=nonsense']) {
        const res = await fetch(`${base}/cases?${bad}`);
        expect(res.status, bad).to.equal(400);
        expect(res.headers.get('content-type')).to.contain('application/problem+json');
      }
      expect((await fetch(`${base}/cases/NOPE`)).status).to.equal(404);
    });

    it('logs references only, never form data', () => {
      expect(logs.join('\n')).not.to.match(FORM_DATA);
    });
  });

  describe('dogtax-rest', () => {
    it('lists the Kreis towns’ cases at the district path and each town’s at its own', async () => {
      const t = clock();
      const sim = await startSimulator({ kind: 'dogtax-rest', port: 0, statusStepMs: STEP, rejectEvery: 1 }, { now: t.now });
      try {
        const adapter = await adapterFor('kreis-re-hundesteuer', sim, '4102');
        const ex = readExample('hundeanmeldung-gladbeck.json');
        const route = config.routes.find((r) => r.tenants.includes('05562014') && r.service === 'hundeanmeldung')!;
        const input = exampleInput(config, ex, 'kreis-re-hundesteuer', 1, '0196c001');
        const message = await renderMessage(
          compileMapping(path.resolve(configDir, config.paths.mappings), route.targets[0]!.mapping),
          input,
          'json',
        );
        const r = await adapter.deliver(
          { ...message, attachments: [] },
          { deliveryId: 'd', idempotencyKey: 'idem-dog-1', submissionId: 's', tenant: '05562014', service: 'hundeanmeldung', attempt: 1 },
        );
        expect(r.ok).to.equal(true);
        t.advance(3 * STEP);
        expect(await all(adapter.list!(new Date(0)))).to.deep.equal([
          {
            reference: 'HST-05562014-000001',
            status: 'abgelehnt',
            idempotencyKey: 'idem-dog-1',
            updatedAt: new Date(t.now() - STEP).toISOString(),
            reason: 'Hund bereits unter einem anderen Kassenzeichen angemeldet',
          },
        ]);
        const town = (await (await fetch(`${sim.url}/hundesteuer/05562014/anmeldungen?since=0`)).json()) as { items: unknown[] };
        const other = (await (await fetch(`${sim.url}/hundesteuer/05513000/anmeldungen?since=0`)).json()) as { items: unknown[] };
        expect([town.items.length, other.items.length]).to.deep.equal([1, 0]);
        await adapter.close?.();
      } finally {
        await sim.close();
      }
    });
  });

  describe('portal', () => {
    const TOKEN = 'listing-token-0123456789';
    let hub: http.Server;
    let hubUrl = '';
    const received: { key: string | undefined; externalId: string }[] = [];
    let hubAnswer = 202;

    before(async () => {
      // A stand-in for the hub's intake: records what arrives and answers as told.
      const app = express();
      app.use(express.json({ limit: '30mb' }));
      app.post('/api/v1/submissions', (req, res) => {
        if (hubAnswer === 202)
          received.push({ key: req.get('authorization'), externalId: (req.body as { externalId: string }).externalId });
        res.status(hubAnswer).json({});
      });
      hub = http.createServer(app);
      await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
      hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
    });
    after(async () => {
      hub.closeAllConnections();
      await new Promise((r) => hub.close(r));
    });

    it('sends its submissions to the hub, loses every n-th, retries when the hub is down, and lists them all', async () => {
      const logs: string[] = [];
      const sim = await startSimulator(
        {
          kind: 'portal',
          port: 0,
          submitTo: `${hubUrl}/api/v1/submissions`,
          hubToken: 'demo-portal-token',
          listingToken: TOKEN,
          submissions: 5,
          loseEvery: 2,
        },
        { logger: (m) => logs.push(m) },
      );
      try {
        const p = sim.portal!;
        expect(await p.submitNext()).to.include({ state: 'sent' });
        expect(await p.submitNext()).to.include({ state: 'lost' });
        hubAnswer = 503;
        expect(await p.submitNext()).to.include({ state: 'pending' });
        hubAnswer = 202;
        expect(await p.submitNext()).to.include({ state: 'sent' }); // the pending one, again
        while (await p.submitNext());
        const states = p.submissions().map((s) => s.state);
        expect(states).to.deep.equal(['sent', 'lost', 'sent', 'lost', 'sent']);
        expect(received.map((r) => r.key)).to.deep.equal(Array(3).fill('Bearer demo-portal-token'));

        expect((await fetch(`${sim.url}/submissions?since=2000-01-01T00:00:00Z`)).status).to.equal(401);
        const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
        const listed: string[] = [];
        let cursor: string | null = null;
        do {
          const res = await fetch(`${sim.url}/submissions?since=2000-01-01T00:00:00Z&limit=2${cursor ? `&cursor=${cursor}` : ''}`, auth);
          const page = (await res.json()) as {
            items: { externalId: string; tenant: string; service: string; submittedAt: string }[];
            next: string | null;
          };
          for (const i of page.items) expect(Object.keys(i)).to.deep.equal(['externalId', 'tenant', 'service', 'submittedAt']);
          listed.push(...page.items.map((i) => i.externalId));
          cursor = page.next;
        } while (cursor);
        expect(listed).to.deep.equal(p.submissions().map((s) => s.externalId));
        const lostOne = p.submissions().find((s) => s.state === 'lost')!;
        expect(received.map((r) => r.externalId)).not.to.include(lostOne.externalId);
        const envelope = (await (await fetch(`${sim.url}/submissions/${lostOne.externalId}`, auth)).json()) as unknown;
        expect(validateEnvelope(envelope).ok, 'the intake accepts the envelope').to.equal(true);
        expect((await fetch(`${sim.url}/submissions/NOPE`, auth)).status).to.equal(404);
        expect(logs.join('\n')).to.contain(`${lostOne.externalId} was never sent`).and.not.to.match(FORM_DATA);
      } finally {
        await sim.close();
      }
    });

    it('records status updates (204), refusing the first ones with 503 when told, and logs id and status only', async () => {
      const logs: string[] = [];
      const sim = await startSimulator({ kind: 'portal', port: 0, statusFailures: 2 }, { logger: (m) => logs.push(m) });
      try {
        const post = (body: unknown) =>
          fetch(`${sim.url}/status`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        const update = {
          submissionId: '0196c000-0000-7000-8000-000000000001',
          externalId: 'ELP-1',
          status: 'PROCESSING',
          note: 'Erika Mustermann',
        };
        const first = await post(update);
        expect([first.status, first.headers.get('retry-after')]).to.deep.equal([503, '1']);
        expect((await post(update)).status).to.equal(503);
        expect((await post(update)).status).to.equal(204);
        sim.portal!.failStatus(1);
        expect((await post({ ...update, status: 'COMPLETED' })).status).to.equal(503);
        expect((await post({ ...update, status: 'COMPLETED' })).status).to.equal(204);
        expect(sim.portal!.statusUpdates().map((u) => (u.body as { status: string }).status)).to.deep.equal(['PROCESSING', 'COMPLETED']);
        expect(logs).to.include('portal: status update for ELP-1: PROCESSING');
        expect(logs.join('\n')).not.to.match(FORM_DATA);
      } finally {
        await sim.close();
      }
    });
  });
});
