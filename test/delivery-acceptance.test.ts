import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import express from 'express';
import { HundesteuerBackOffice, REFUSAL_TEXT } from '../adapters/soap/fixtures/back-office.ts';
import { eventually, startTestHub, submission, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';

// Back offices that answer HTTP 200 and refuse inside it, in the shapes real ones use, run through the hub's
// worker: the delivery must end `failed` (or `waiting` for a refusal "for now"), never `delivered`, with the
// back office's own text in the attempt's error and no form data in it.
const CONFIG = fileURLToPath(new URL('./fixtures/acceptance', import.meta.url));

interface Attempt {
  outcome: string;
  error: string | null;
  errorKind: string | null;
  httpStatus: number | null;
}
interface View {
  status: string;
  caseStatus: { status: string } | null;
  deliveries: {
    target: string;
    state: string;
    attempts: number;
    reference: string | null;
    lastError: string | null;
    lastErrorKind: string | null;
    attemptLog: Attempt[];
  }[];
}

/** A REST system and an XML intake on one express server; `refuse` makes both answer 200 with a refusal. */
class RefusingBackOffice {
  refuse = true;
  filed = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    const app = express();
    app.use(express.text({ type: () => true }));
    app.post('/cases', (_req, res) => {
      // The applicant's name quoted in the refusal, as back offices do: it must not reach the attempt's error.
      if (this.refuse) return void res.status(200).json({ ok: false, error: 'Vorgang nicht angelegt: Antragsteller Mustermann unbekannt' });
      res.status(201).json({ ok: true, id: `AZ-${++this.filed}` });
    });
    app.post('/eingang', (_req, res) => {
      const xml = this.refuse
        ? '<q:Quittung xmlns:q="urn:fachverfahren:quittung:2"><q:Ergebnis>FEHLER</q:Ergebnis><q:Meldung>Pflichtangabe Abholadresse fehlt</q:Meldung></q:Quittung>'
        : `<q:Quittung xmlns:q="urn:fachverfahren:quittung:2"><q:Ergebnis>OK</q:Ergebnis><q:Aktenzeichen>SPM-${++this.filed}</q:Aktenzeichen></q:Quittung>`;
      res.status(200).type('application/xml').send(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
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

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`delivery of a refusal inside HTTP 200 [${kind}]`, () => {
    let http: RefusingBackOffice;
    let soap: HundesteuerBackOffice;
    let t: TestHub;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      http = await new RefusingBackOffice().start();
      soap = await new HundesteuerBackOffice().start();
      t = await startTestHub({ kind, configDir: CONFIG, backOfficeUrl: http.url, env: { SOAP_URL: soap.url11 } });
    });
    after(async () => {
      await t?.stop(true);
      await http?.stop();
      await soap?.stop();
    });
    beforeEach(() => {
      http.refuse = true;
      soap.behaviour = 'refused';
    });

    async function submit(tenant: string): Promise<string> {
      const res = await t.fetch('/api/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(submission({ tenant })),
      });
      expect(res.status, await res.clone().text()).to.equal(202);
      return ((await res.json()) as { id: string }).id;
    }

    const view = async (id: string) => (await (await t.fetch(`/api/v1/submissions/${id}`)).json()) as View;
    const settled = (id: string) =>
      eventually(
        async () => {
          const v = await view(id);
          return (v.status === 'delivered' || v.status === 'failed') && v;
        },
        10_000,
        `submission ${id} to settle`,
      );

    async function expectRefused(tenant: string, text: string): Promise<void> {
      const id = await submit(tenant);
      const v = await settled(id);
      const d = v.deliveries[0]!;
      expect(v.status).to.equal('failed');
      expect(d).to.include({ state: 'failed', attempts: 1, lastErrorKind: 'refused', reference: null });
      expect(d.attemptLog[0]).to.include({ outcome: 'failed', errorKind: 'refused', httpStatus: 200 });
      expect(d.attemptLog[0]!.error).to.equal(`back office refused the case: ${text}`);
      // The portal is not told the back office received it.
      expect(v.caseStatus?.status).not.to.equal('RECEIVED');
      expect(JSON.stringify(await t.hub.store.events(id))).not.to.include('Mustermann');
    }

    it('REST 200 {"ok": false, "error": …}: failed, with the error text and without the quoted name', async () => {
      await expectRefused('05513000', 'Vorgang nicht angelegt: Antragsteller … unbekannt');
    });

    it('XML 200 <Quittung><Ergebnis>FEHLER</Ergebnis><Meldung>…: failed, with the Meldung', async () => {
      await expectRefused('05562014', 'Pflichtangabe Abholadresse fehlt');
    });

    it('SOAP 200 <status>1</status><errormessage>…: failed, with the errormessage', async () => {
      await expectRefused('05562008', REFUSAL_TEXT);
      expect(soap.filed).to.have.length(0);
    });

    it('SOAP status 2 (busy) is refused for now: waiting between attempts, failed when they run out, never delivered', async () => {
      soap.behaviour = 'busy';
      const id = await submit('05562008');
      const d = (await settled(id)).deliveries[0]!;
      expect(d).to.include({ state: 'failed', attempts: 3, lastErrorKind: 'refused' });
      expect(d.lastError).to.match(/gave up after 3 attempts/);
      expect(d.attemptLog.map((a) => a.outcome)).to.deep.equal(['retry', 'retry', 'failed']);
      for (const a of d.attemptLog)
        expect(a.error).to.include('back office refused the case: System ausgelastet, bitte später erneut senden');
      const types = (await t.hub.store.events(id)).map((e) => e.type).filter((x) => !x.startsWith('status.'));
      expect(types.filter((x) => x === 'delivery.waiting')).to.have.length(2);
      expect(types).not.to.include('delivery.delivered');
    });

    it('delivers once the REST and XML back offices accept, with their references', async () => {
      http.refuse = false;
      const [rest, xml] = [await submit('05513000'), await submit('05562014')];
      expect((await settled(rest)).deliveries[0]).to.include({ state: 'delivered' });
      expect((await settled(rest)).deliveries[0]!.reference).to.match(/^AZ-\d+$/);
      expect((await settled(xml)).deliveries[0]!.reference).to.match(/^SPM-\d+$/);
    });
  });
}
