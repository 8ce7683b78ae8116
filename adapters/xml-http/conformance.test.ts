import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describeAdapterConformance, xmlMessage, type ConformanceHarness } from '../../src/sdk/conformance.ts';
import { FIXTURE_SAMPLE, FIXTURE_XSD } from '../../src/mapping/xsd/bench.ts';
import xmlHttp from './index.ts';

// A deduplicating XML back office on 127.0.0.1 with Basic auth that answers with a namespaced receipt,
// for the standard adapter suite. The target validates against the fixture schema set before sending.
const USER = 'amtsbote';
const PASSWORD = 'conformance-Pässwort-SECRET-9876';
let server: Server | undefined;
let url = '';
let behaviour: 'accept' | 'retryable' | 'permanent' | 'refuse' = 'accept';
const REFUSAL = 'Antragsteller unbekannt';
const cases = new Map<string, string>();
const bodies: Buffer[] = [];

// The receipt carries its verdict, as XML intakes do: Ergebnis OK with the Aktenzeichen, or FEHLER with a Meldung.
const receipt = (az: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><fv:Quittung xmlns:fv="urn:fachverfahren:quittung:2"><fv:Ergebnis>OK</fv:Ergebnis><fv:Aktenzeichen>${az}</fv:Aktenzeichen></fv:Quittung>`;
const refused = (meldung: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><fv:Quittung xmlns:fv="urn:fachverfahren:quittung:2"><fv:Ergebnis>FEHLER</fv:Ergebnis><fv:Meldung>${meldung}</fv:Meldung></fv:Quittung>`;

const harness: ConformanceHarness = {
  async start() {
    cases.clear();
    bodies.length = 0;
    const expected = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`, 'utf8').toString('base64');
    const app = express();
    app.use(express.raw({ type: () => true }));
    app.use((req, res, next) =>
      req.get('authorization') === expected ? next() : res.status(401).type('application/xml').send('<Fehler>unauthorized</Fehler>'),
    );
    app.get('/', (_req, res) => {
      res.type('application/xml').send('<Status>bereit</Status>');
    });
    app.post('/eingang', (req, res) => {
      bodies.push(Buffer.from(req.body as Buffer));
      if (behaviour === 'retryable') return res.status(503).type('application/xml').send('<Fehler>Wartung</Fehler>');
      if (behaviour === 'permanent')
        return res
          .status(422)
          .type('application/problem+json')
          .send(JSON.stringify({ title: 'Pflichtfeld fehlt' }));
      if (behaviour === 'refuse') return res.status(200).type('application/xml').send(refused(REFUSAL));
      const key = req.get('idempotency-key')!;
      const known = cases.get(key);
      if (known) return res.status(200).type('application/xml').send(receipt(known));
      const az = `HU-2026-${String(cases.size + 1).padStart(4, '0')}`;
      cases.set(key, az);
      res.status(201).type('application/xml').send(receipt(az));
    });
    await new Promise<void>((resolve) => (server = app.listen(0, '127.0.0.1', () => resolve())));
    url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  },
  async stop() {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  },
  options: () => ({
    url: `${url}/eingang`,
    auth: { type: 'basic', username: USER, password: PASSWORD },
    schema: FIXTURE_XSD,
    reference: { from: 'xml', path: 'Quittung/Aktenzeichen' },
    acceptance: { accepted: 'Quittung.Ergebnis = "OK"', error: 'Quittung.Meldung' },
  }),
  badCredentialOptions: () => ({ url: `${url}/eingang`, auth: { type: 'basic', username: USER, password: 'wrong-password-000' } }),
  secrets: [PASSWORD],
  behave: (b) => (behaviour = b),
  refusal: { text: REFUSAL },
  filed: () => [...cases.keys()].map((idempotencyKey) => ({ idempotencyKey })),
  received: () => bodies,
  message: xmlMessage(fs.readFileSync(FIXTURE_SAMPLE, 'utf8')),
};

describeAdapterConformance(xmlHttp, harness);
