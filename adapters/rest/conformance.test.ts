import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describeAdapterConformance, jsonMessage, type ConformanceHarness } from '../../src/sdk/conformance.ts';
import rest from './index.ts';

// A deduplicating REST back office on 127.0.0.1 with bearer auth, for the standard adapter suite.
const TOKEN = 'conformance-token-SECRET-1234';
let server: Server | undefined;
let url = '';
let behaviour: 'accept' | 'retryable' | 'permanent' | 'refuse' = 'accept';
// The shape of many REST back offices: HTTP 200 with a flag; the adapter's default rule reads it, no option needed.
const REFUSAL = 'Vorgang nicht angelegt: Gemeinde nicht freigeschaltet';
const cases = new Map<string, string>();
const bodies: Buffer[] = [];

const harness: ConformanceHarness = {
  async start() {
    cases.clear();
    bodies.length = 0;
    const app = express();
    app.use(express.raw({ type: () => true }));
    app.use((req, res, next) =>
      req.get('authorization') === `Bearer ${TOKEN}` ? next() : res.status(401).json({ title: 'unauthorized' }),
    );
    app.get('/', (_req, res) => {
      res.json({ ok: true });
    });
    app.post('/cases', (req, res) => {
      bodies.push(Buffer.from(req.body as Buffer));
      if (behaviour === 'retryable') return res.status(503).json({ title: 'maintenance' });
      if (behaviour === 'permanent') return res.status(422).json({ title: 'field missing' });
      if (behaviour === 'refuse') return res.status(200).json({ ok: false, error: REFUSAL });
      const key = req.get('idempotency-key')!;
      const known = cases.get(key);
      if (known) return res.status(200).json({ id: known });
      const id = `AZ-${cases.size + 1}`;
      cases.set(key, id);
      res.status(201).json({ id });
    });
    await new Promise<void>((resolve) => (server = app.listen(0, '127.0.0.1', () => resolve())));
    url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  },
  async stop() {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  },
  options: () => ({ url: `${url}/cases`, auth: { type: 'bearer', token: TOKEN }, referencePointer: '/id' }),
  badCredentialOptions: () => ({ url: `${url}/cases`, auth: { type: 'bearer', token: 'wrong-token-0000000000' }, referencePointer: '/id' }),
  secrets: [TOKEN],
  behave: (b) => (behaviour = b),
  refusal: { text: REFUSAL },
  filed: () => [...cases.keys()].map((idempotencyKey) => ({ idempotencyKey })),
  received: () => bodies,
  message: jsonMessage({ vorgang: { art: 'sperrmuell', termin: '07.12.2026' } }),
};

describeAdapterConformance(rest, harness);
