import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import express from 'express';
import { describeAdapterConformance, jsonMessage, type ConformanceHarness } from '../../src/sdk/conformance.ts';
import rest from './index.ts';

// The standard suite once more, with the new options together: OAuth2 client credentials and a
// multipart body with an attachment. It proves multipart keeps the byte-for-byte determinism check
// and a wrong client secret fails check() cleanly.

const CLIENT_SECRET = 'conformance-client-SECRET-5150';
const ACCESS_TOKEN = 'conformance-access-token-SECRET-77';
let server: Server | undefined;
let url = '';
let behaviour: 'accept' | 'retryable' | 'permanent' | 'refuse' = 'accept';
// A back office with a status field rather than a flag: {"status": "rejected", "message": …} with HTTP 200.
const REFUSAL = 'Impfpass nicht lesbar';
const cases = new Map<string, string>();
const bodies: Buffer[] = [];

const pdf = Buffer.from('%PDF-1.7\r\n%âãÏÓ\r\n');
const message = {
  ...jsonMessage({ vorgang: { art: 'hundeanmeldung', rasse: 'Mischling' } }),
  attachments: [
    {
      filename: 'Impfpass.pdf',
      mediaType: 'application/pdf',
      size: pdf.length,
      sha256: createHash('sha256').update(pdf).digest('hex'),
      content: pdf,
    },
  ],
};

const harness: ConformanceHarness = {
  async start() {
    cases.clear();
    bodies.length = 0;
    const app = express();
    app.post('/token', express.urlencoded({ extended: false }), (req, res) => {
      const expected = 'Basic ' + Buffer.from(`hub:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64');
      if (req.get('authorization') !== expected) return void res.status(401).json({ error: 'invalid_client' });
      res.json({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300 });
    });
    app.use(express.raw({ type: () => true }));
    app.use((req, res, next) =>
      req.get('authorization') === `Bearer ${ACCESS_TOKEN}` ? next() : res.status(401).json({ title: 'unauthorized' }),
    );
    app.get('/', (_req, res) => void res.json({ ok: true }));
    app.post('/cases', async (req, res) => {
      const raw = Buffer.from(req.body as Buffer);
      bodies.push(raw);
      if (behaviour === 'retryable') return void res.status(503).json({ title: 'maintenance' });
      if (behaviour === 'permanent') return void res.status(422).json({ title: 'field missing' });
      if (behaviour === 'refuse') return void res.status(200).json({ status: 'rejected', message: REFUSAL });
      // A back office that reads the multipart body: the message and the file must both be there.
      const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': req.get('content-type')! } }).formData();
      if (typeof form.get('message') !== 'string' || !(form.get('attachments') instanceof File))
        return void res.status(400).json({ title: 'parts missing' });
      const key = req.get('idempotency-key')!;
      const known = cases.get(key);
      if (known) return void res.status(200).json({ id: known });
      const id = `AZ-${cases.size + 1}`;
      cases.set(key, id);
      res.status(201).json({ id });
    });
    await new Promise<void>((resolve) => (server = app.listen(0, '127.0.0.1', () => resolve())));
    url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  },
  async stop() {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  },
  options: () => ({
    url: `${url}/cases`,
    auth: { type: 'oauth2', tokenUrl: `${url}/token`, clientId: 'hub', clientSecret: CLIENT_SECRET },
    body: 'multipart',
    referencePointer: '/id',
    acceptance: { accepted: '$not(status = "rejected")', error: 'message' },
  }),
  badCredentialOptions: () => ({
    url: `${url}/cases`,
    auth: { type: 'oauth2', tokenUrl: `${url}/token`, clientId: 'hub', clientSecret: 'wrong-client-secret-000' },
    body: 'multipart',
    referencePointer: '/id',
  }),
  secrets: [CLIENT_SECRET, ACCESS_TOKEN],
  behave: (b) => (behaviour = b),
  refusal: { text: REFUSAL },
  filed: () => [...cases.keys()].map((idempotencyKey) => ({ idempotencyKey })),
  received: () => bodies,
  message,
};

describe('rest with oauth2 and body: multipart', () => describeAdapterConformance(rest, harness));
