import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expect } from 'chai';
import { capturingLogger, xmlMessage } from '../../src/sdk/conformance.ts';
import { maskSecrets } from '../../src/sdk/index.ts';
import type { AdapterInstance, DeliveryContext, DeliveryResult, OutboundMessage } from '../../src/sdk/index.ts';
import { FIXTURE_SAMPLE, FIXTURE_XSD } from '../../src/mapping/xsd/bench.ts';
import xmlHttp from './index.ts';
import { xmlReference } from './reference.ts';
import { systemClock } from '../../src/clock.ts';

// A real express back office on 127.0.0.1: headers, bodies, timeouts and refused connections behave as in production.

const PASSWORD = 'Pässwort-Geheim-4711';
const TOKEN = 'tok-9c1e77-SECRET';
const API_KEY = 'key-51af0e-SECRET';
const CLIENT_SECRET = 'client-secret-SECRET-0815';
const OAUTH_TOKEN = 'oauth-access-token-SECRET-77';

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let server: Server;
let base: string;
let refusedUrl: string;
const seen: Seen[] = [];
const { logger, lines } = capturingLogger();
const instances: AdapterInstance[] = [];
let tokenRequests = 0;

const sample = fs.readFileSync(FIXTURE_SAMPLE, 'utf8');
const message: OutboundMessage = xmlMessage(sample);

async function adapter(options: Record<string, unknown>, timeoutMs = 2000): Promise<AdapterInstance> {
  const instance = await xmlHttp.create(xmlHttp.options.parse(options), { clock: systemClock, targetId: 'test', logger, timeoutMs });
  instances.push(instance);
  return instance;
}

let counter = 0;
function dctx(): DeliveryContext {
  counter += 1;
  return {
    deliveryId: `dlv-x-${counter}`,
    idempotencyKey: `idem-x-${counter}`,
    submissionId: 'sub-1',
    tenant: '05513000',
    service: 'hundeanmeldung',
    attempt: 1,
  };
}

function failure(r: DeliveryResult): Extract<DeliveryResult, { ok: false }> {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

function lastSeen(): Seen {
  const s = seen.at(-1);
  if (!s) throw new Error('the server saw no request');
  return s;
}

const flushLogs = () => new Promise((resolve) => setImmediate(resolve));

const RECEIPT_NS = `<?xml version="1.0" encoding="UTF-8"?>
<q:Quittung xmlns:q="urn:fachverfahren:quittung:2" xmlns:x="urn:other">
  <q:Status>angenommen</q:Status>
  <q:Aktenzeichen>HU-2026-0815</q:Aktenzeichen>
  <x:Hinweis>Eingang bestätigt</x:Hinweis>
</q:Quittung>`;

before(async () => {
  const app = express();
  app.use(express.raw({ type: () => true, limit: '1mb' }));
  app.use((req, _res, next) => {
    if (req.path !== '/token')
      seen.push({ method: req.method, path: req.path, headers: req.headers, body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) });
    next();
  });
  const xml = (res: express.Response, body: string, status = 201, type = 'application/xml; charset=utf-8') =>
    res.status(status).type(type).send(body);

  app.post('/xml', (_req, res) => xml(res, RECEIPT_NS));
  app.put('/xml', (_req, res) => xml(res, RECEIPT_NS, 200));
  app.post('/xml-default-ns', (_req, res) =>
    xml(res, '<Quittung xmlns="urn:fv" aktenzeichen="ATTR-1"><Aktenzeichen typ="intern">DEF-77</Aktenzeichen></Quittung>', 200, 'text/xml'),
  );
  app.post('/xml-as-text', (_req, res) => xml(res, RECEIPT_NS, 200, 'text/plain'));
  app.post('/xml-doctype', (_req, res) =>
    xml(res, '<!DOCTYPE q [<!ENTITY e SYSTEM "file:///etc/passwd">]><Quittung><Aktenzeichen>&e;</Aktenzeichen></Quittung>'),
  );
  app.post('/xml-two', (_req, res) => xml(res, '<Quittung><Aktenzeichen>A</Aktenzeichen><Aktenzeichen>B</Aktenzeichen></Quittung>'));
  app.post('/json', (_req, res) => res.status(201).json({ id: 'FV-42', vorgang: { nr: 1234 } }));
  app.post('/empty', (_req, res) => res.sendStatus(204));

  app.post('/auth/basic', (req, res) => {
    const expected = 'Basic ' + Buffer.from(`sachbearbeitung:${PASSWORD}`, 'utf8').toString('base64');
    if (req.headers.authorization !== expected) return void res.sendStatus(401);
    xml(res, RECEIPT_NS);
  });
  app.post('/auth/bearer', (req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.sendStatus(401);
    xml(res, RECEIPT_NS);
  });
  app.post('/auth/api-key', (req, res) => {
    if (req.headers['x-fv-key'] !== API_KEY) return void res.sendStatus(401);
    xml(res, RECEIPT_NS);
  });
  app.post('/token', (req, res) => {
    tokenRequests++;
    const expected = 'Basic ' + Buffer.from(`amtsbote:${CLIENT_SECRET}`, 'utf8').toString('base64');
    if (req.headers.authorization !== expected) return void res.status(401).json({ error: 'invalid_client' });
    res.json({ access_token: OAUTH_TOKEN, token_type: 'Bearer', expires_in: 3600 });
  });
  app.post('/auth/oauth2', (req, res) => {
    if (req.headers.authorization !== `Bearer ${OAUTH_TOKEN}`) return void res.sendStatus(401);
    xml(res, RECEIPT_NS);
  });

  app.post('/status/503', (_req, res) => void res.set('Retry-After', '7').sendStatus(503));
  app.post('/status/429', (_req, res) => void res.set('Retry-After', '30').sendStatus(429));
  app.post('/status/408', (_req, res) => void res.sendStatus(408));
  app.post('/status/400', (req, res) => {
    // Echoes the request: none of it may reach an error or a log line.
    res
      .status(400)
      .type('application/problem+json')
      .send(JSON.stringify({ title: 'Schemafehler', detail: String(req.body) }));
  });
  app.post(
    '/status/500',
    (req, res) =>
      void res
        .status(500)
        .type('application/xml')
        .send(`<Fehler>${String(req.body)}</Fehler>`),
  );
  app.post('/redirect', (_req, res) => res.redirect(307, '/xml'));
  app.post('/slow', (_req, res) => {
    setTimeout(() => {
      if (!res.writableEnded && !res.destroyed) xml(res, RECEIPT_NS);
    }, 5000).unref();
  });
  app.post('/trickle', (_req, res) => {
    res.status(201).type('application/xml');
    res.write('<Quittung><Aktenzeichen>');
    let n = 0;
    const timer = setInterval(() => {
      if (res.destroyed || ++n > 100) {
        clearInterval(timer);
        if (!res.destroyed) res.end('</Aktenzeichen></Quittung>');
        return;
      }
      res.write('x');
    }, 50);
    timer.unref();
  });

  app.get('/', (_req, res) => void res.type('text/plain').send('Fachverfahren'));
  app.get('/health', (req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.sendStatus(401);
    res.json({ status: 'up' });
  });

  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = await new Promise<Server>((resolve) => {
    const s = express().listen(0, '127.0.0.1', () => resolve(s));
  });
  refusedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/cases`;
  await new Promise((resolve) => closed.close(resolve));
});

after(async () => {
  await Promise.all(instances.map((i) => i.close?.()));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('xml-http adapter', () => {
  describe('options', () => {
    it('applies the defaults and declares itself', () => {
      expect(xmlHttp.options.parse({ url: 'https://fv.example/in' })).to.deep.equal({
        url: 'https://fv.example/in',
        method: 'POST',
        auth: { type: 'none' },
        contentType: 'application/xml; charset=utf-8',
        idempotencyHeader: 'Idempotency-Key',
      });
      expect(xmlHttp).to.include({ type: 'xml-http', version: '1.0.0', defaultFormat: 'xml' });
    });

    it('accepts both reference forms, an attribute path and a prefixed path', () => {
      for (const reference of [
        { from: 'xml', path: 'Quittung/Aktenzeichen' },
        { from: 'xml', path: '/q:Quittung/q:Aktenzeichen' },
        { from: 'xml', path: 'Quittung/@aktenzeichen' },
        { from: 'xml', path: 'Rückmeldung/Geschäftszeichen' },
        { from: 'json', pointer: '/auftrag/id' },
      ]) {
        expect(xmlHttp.options.safeParse({ url: 'https://fv.example', reference }).success, JSON.stringify(reference)).to.equal(true);
      }
    });

    it('rejects unknown keys, bad paths, bad pointers, URL schemas, bad content types and headers it sets', () => {
      const bad = [
        { url: 'https://fv.example', retries: 3 },
        { url: 'ftp://fv.example' },
        { url: 'https://fv.example', method: 'PATCH' },
        { url: 'https://fv.example', reference: { from: 'xml', path: 'Quittung//Aktenzeichen' } },
        { url: 'https://fv.example', reference: { from: 'xml', path: 'Quittung/@a/b' } },
        { url: 'https://fv.example', reference: { from: 'xml', path: '' } },
        { url: 'https://fv.example', reference: { from: 'xml', pointer: '/id' } },
        { url: 'https://fv.example', reference: { from: 'json', pointer: 'id' } },
        { url: 'https://fv.example', reference: { from: 'html', path: 'a' } },
        { url: 'https://fv.example', schema: 'https://xoev.de/schemata/xdomea.xsd' },
        { url: 'https://fv.example', schema: '' },
        { url: 'https://fv.example', contentType: 'xml' },
        { url: 'https://fv.example', contentType: 'application/xml\r\nX-Injected: 1' },
        { url: 'https://fv.example', headers: { 'Content-Type': 'text/plain' } },
        { url: 'https://fv.example', headers: { Authorization: 'Bearer x' } },
        { url: 'https://fv.example', idempotencyHeader: 'X-Amtsbote-Delivery' },
        { url: 'https://fv.example', auth: { type: 'bearer', token: 't', user: 'u' } },
      ];
      for (const o of bad) expect(xmlHttp.options.safeParse(o).success, JSON.stringify(o)).to.equal(false);
    });

    it('masks every secret and never echoes one in a validation message', () => {
      const shown = JSON.stringify(
        [
          { type: 'basic', username: 'sachbearbeitung', password: PASSWORD },
          { type: 'bearer', token: TOKEN },
          { type: 'api-key', value: API_KEY },
          { type: 'oauth2', tokenUrl: 'https://idp.example/token', clientId: 'amtsbote', clientSecret: CLIENT_SECRET },
        ].map((auth) => maskSecrets(xmlHttp.options, xmlHttp.options.parse({ url: 'https://fv.example', auth }))),
      );
      for (const s of [PASSWORD, TOKEN, API_KEY, CLIENT_SECRET]) expect(shown).not.to.contain(s);
      const r = xmlHttp.options.safeParse({ url: `https://user:${PASSWORD}@fv.example/` });
      expect(JSON.stringify(r.error?.issues)).not.to.contain(PASSWORD);
    });
  });

  describe('deliver', () => {
    it('POSTs the document byte for byte and reads the reference from a namespaced XML answer', async () => {
      const a = await adapter({ url: `${base}/xml`, reference: { from: 'xml', path: 'Quittung/Aktenzeichen' } });
      // CRLF, a BOM-less UTF-8 declaration, umlauts and a trailing newline: all must arrive untouched.
      const text = sample.replace(/\n/g, '\r\n') + '\r\n';
      const ctx = dctx();
      const r = await a.deliver(xmlMessage(text), ctx);
      expect(r).to.deep.equal({ ok: true, reference: 'HU-2026-0815', httpStatus: 201 });
      const s = lastSeen();
      expect(s.method).to.equal('POST');
      expect(s.body.equals(Buffer.from(text, 'utf8'))).to.equal(true);
      expect(s.headers['content-type']).to.equal('application/xml; charset=utf-8');
      expect(s.headers['idempotency-key']).to.equal(ctx.idempotencyKey);
      expect(s.headers['x-amtsbote-delivery']).to.equal(ctx.deliveryId);
      expect(s.headers['user-agent']).to.equal('Amtsbote-xml-http/1.0.0');
      expect(s.headers.authorization).to.equal(undefined);
    });

    it('sends a pass-through original byte for byte with its own media type, also in ISO-8859-1', async () => {
      const a = await adapter({ url: `${base}/xml`, reference: { from: 'xml', path: 'Quittung/Aktenzeichen' } });
      const bytes = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<anzeige>Stra\xdfe</anzeige>', 'latin1');
      const original: OutboundMessage = {
        ...xmlMessage(bytes.toString('latin1')),
        contentType: 'application/xml; charset=iso-8859-1',
        bytes,
      };
      expect((await a.deliver(original, dctx())).ok).to.equal(true);
      const s = lastSeen();
      expect(s.body.equals(bytes)).to.equal(true);
      expect(s.headers['content-type']).to.equal('application/xml; charset=iso-8859-1');
    });

    it('PUTs with a custom content type, idempotency header and extra headers; prefixes in the path are ignored', async () => {
      const a = await adapter({
        url: `${base}/xml`,
        method: 'PUT',
        contentType: 'application/vnd.xdomea+xml; charset=utf-8',
        idempotencyHeader: 'X-Request-Id',
        headers: { 'X-Mandant': '05513000' },
        reference: { from: 'xml', path: '/fv:Quittung/fv:Aktenzeichen' },
      });
      const ctx = dctx();
      expect(await a.deliver(message, ctx)).to.deep.equal({ ok: true, reference: 'HU-2026-0815', httpStatus: 200 });
      const s = lastSeen();
      expect(s.method).to.equal('PUT');
      expect(s.headers['content-type']).to.equal('application/vnd.xdomea+xml; charset=utf-8');
      expect(s.headers['x-request-id']).to.equal(ctx.idempotencyKey);
      expect(s.headers['idempotency-key']).to.equal(undefined);
      expect(s.headers['x-mandant']).to.equal('05513000');
    });

    it('reads a default-namespace answer, an attribute, and XML labelled text/plain', async () => {
      const el = await adapter({ url: `${base}/xml-default-ns`, reference: { from: 'xml', path: 'Quittung/Aktenzeichen' } });
      expect(await el.deliver(message, dctx())).to.include({ ok: true, reference: 'DEF-77' });
      const attr = await adapter({ url: `${base}/xml-default-ns`, reference: { from: 'xml', path: 'Quittung/@aktenzeichen' } });
      expect(await attr.deliver(message, dctx())).to.include({ ok: true, reference: 'ATTR-1' });
      const plain = await adapter({ url: `${base}/xml-as-text`, reference: { from: 'xml', path: 'Quittung/Aktenzeichen' } });
      expect(await plain.deliver(message, dctx())).to.include({ ok: true, reference: 'HU-2026-0815' });
    });

    it('reads the reference from a JSON answer by pointer, numbers included', async () => {
      const a = await adapter({ url: `${base}/json`, reference: { from: 'json', pointer: '/id' } });
      expect(await a.deliver(message, dctx())).to.deep.equal({ ok: true, reference: 'FV-42', httpStatus: 201 });
      const n = await adapter({ url: `${base}/json`, reference: { from: 'json', pointer: '/vorgang/nr' } });
      expect(await n.deliver(message, dctx())).to.include({ ok: true, reference: '1234' });
    });

    it('is delivered with reference null and a warning when the answer lacks the reference, and never reads a DOCTYPE', async () => {
      const cases: [string, Record<string, unknown>, string][] = [
        ['/xml', { from: 'xml', path: 'Quittung/Geschaeftszeichen' }, 'not in the answer'],
        ['/xml', { from: 'json', pointer: '/id' }, 'the answer is not JSON'],
        ['/json', { from: 'xml', path: 'Quittung/Aktenzeichen' }, 'the answer is not XML'],
        ['/empty', { from: 'xml', path: 'Quittung/Aktenzeichen' }, 'the answer is not XML'],
        ['/xml-doctype', { from: 'xml', path: 'Quittung/Aktenzeichen' }, 'DOCTYPE'],
        ['/xml-two', { from: 'xml', path: 'Quittung/Aktenzeichen' }, 'more than one value there'],
      ];
      for (const [p, reference, why] of cases) {
        const a = await adapter({ url: `${base}${p}`, reference });
        const r = await a.deliver(message, dctx());
        expect(r.ok, p).to.equal(true);
        if (!r.ok) continue;
        expect(r.reference, p).to.equal(null);
        expect(r.warning, p)
          .to.match(/^back office accepted but gave no reference at /)
          .and.contain(why);
        expect(r.warning).not.to.contain('root:');
      }
      const none = await adapter({ url: `${base}/empty` });
      expect(await none.deliver(message, dctx())).to.deep.equal({ ok: true, reference: null, httpStatus: 204 });
    });

    it('refuses a JSON message without sending it', async () => {
      const a = await adapter({ url: `${base}/xml` });
      const before = seen.length;
      const r = failure(
        await a.deliver({ format: 'json', body: { a: 1 }, text: '{"a":1}', contentType: 'application/json', attachments: [] }, dctx()),
      );
      expect(r).to.include({ retryable: false, errorKind: 'format' });
      expect(seen.length).to.equal(before);
    });

    it('does not follow redirects', async () => {
      const a = await adapter({ url: `${base}/redirect` });
      const before = seen.length;
      const r = failure(await a.deliver(message, dctx()));
      expect(r).to.include({ retryable: false, httpStatus: 307 });
      expect(r.error).to.contain('redirects are not followed');
      expect(seen.length).to.equal(before + 1);
    });
  });

  describe('schema validation', () => {
    it('sends a document that passes the schema', async () => {
      const a = await adapter({ url: `${base}/xml`, schema: FIXTURE_XSD, reference: { from: 'xml', path: 'Quittung/Aktenzeichen' } });
      const before = seen.length;
      expect(await a.deliver(message, dctx())).to.include({ ok: true, reference: 'HU-2026-0815' });
      expect(seen.length).to.equal(before + 1);
      expect(lastSeen().body.equals(Buffer.from(sample, 'utf8'))).to.equal(true);
    });

    it('refuses a violation permanently, names the element and the rule, and sends nothing', async () => {
      const a = await adapter({ url: `${base}/xml`, schema: path.relative(process.cwd(), FIXTURE_XSD) });
      const before = seen.length;

      const missing = failure(await a.deliver(xmlMessage(sample.replace(/\s*<ha:Rasse>Labrador Retriever<\/ha:Rasse>/, '')), dctx()));
      expect(missing).to.include({ retryable: false, errorKind: 'schema' });
      expect(missing.error).to.match(/^the message violates the schema hundeanmeldung\.xsd, nothing was sent: line \d+: /);
      expect(missing.error).to.contain("Element 'Geschlecht': This element is not expected. Expected is ( Rasse ).");

      const wrongType = failure(
        await a.deliver(xmlMessage(sample.replace('<p:Geburtsdatum>1984-03-17<', '<p:Geburtsdatum>17.03.1984<')), dctx()),
      );
      expect(wrongType).to.include({ retryable: false, errorKind: 'schema' });
      expect(wrongType.error).to.contain("Element 'Geburtsdatum': the value is not a valid value of the atomic type 'xs:date'");
      expect(wrongType.error).not.to.contain('17.03.1984');

      const many = failure(
        await a.deliver(xmlMessage(sample.replace(/<ha:(Geburtsdatum|Haltungsbeginn)>[^<]*</g, '<ha:$1>bald<')), dctx()),
      );
      expect(many.error).to.match(/\(and 3 more\)$/);

      const doctype = failure(await a.deliver(xmlMessage(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`), dctx()));
      expect(doctype).to.include({ errorKind: 'schema' });
      expect(doctype.error).to.contain('DOCTYPE declarations are not allowed');

      expect(seen.length, 'the back office received nothing').to.equal(before);
    });

    it('stops start-up with the reason when the schema cannot be compiled', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xml-http-'));
      try {
        const entry = path.join(dir, 'antrag.xsd');
        fs.writeFileSync(
          entry,
          '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:include schemaLocation="fehlt.xsd"/></xs:schema>',
        );
        let error: unknown;
        await adapter({ url: `${base}/xml`, schema: entry }).catch((e: unknown) => (error = e));
        expect(String(error)).to.match(/xml-http schema: .*fehlt\.xsd/);
        error = undefined;
        await adapter({ url: `${base}/xml`, schema: path.join(dir, 'gibt-es-nicht.xsd') }).catch((e: unknown) => (error = e));
        expect(String(error)).to.contain('gibt-es-nicht.xsd not found');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('auth', () => {
    it('basic, bearer and api-key reach the back office', async () => {
      const ref = { from: 'xml', path: 'Quittung/Aktenzeichen' };
      const basic = await adapter({
        url: `${base}/auth/basic`,
        reference: ref,
        auth: { type: 'basic', username: 'sachbearbeitung', password: PASSWORD },
      });
      expect(await basic.deliver(message, dctx())).to.include({ ok: true, reference: 'HU-2026-0815' });
      const bearer = await adapter({ url: `${base}/auth/bearer`, reference: ref, auth: { type: 'bearer', token: TOKEN } });
      expect(await bearer.deliver(message, dctx())).to.include({ ok: true });
      const key = await adapter({
        url: `${base}/auth/api-key`,
        reference: ref,
        auth: { type: 'api-key', header: 'X-FV-Key', value: API_KEY },
      });
      expect(await key.deliver(message, dctx())).to.include({ ok: true });
    });

    it('oauth2 client credentials: one token for several deliveries', async () => {
      const a = await adapter({
        url: `${base}/auth/oauth2`,
        reference: { from: 'xml', path: 'Quittung/Aktenzeichen' },
        auth: { type: 'oauth2', tokenUrl: `${base}/token`, clientId: 'amtsbote', clientSecret: CLIENT_SECRET },
      });
      const before = tokenRequests;
      expect(await a.deliver(message, dctx())).to.include({ ok: true, reference: 'HU-2026-0815' });
      expect(await a.deliver(message, dctx())).to.include({ ok: true });
      expect(tokenRequests - before).to.equal(1);
      const wrong = await adapter({
        url: `${base}/auth/oauth2`,
        auth: { type: 'oauth2', tokenUrl: `${base}/token`, clientId: 'amtsbote', clientSecret: 'wrong-secret' },
      });
      expect(failure(await wrong.deliver(message, dctx()))).to.include({ retryable: false, errorKind: 'token-http-401' });
    });

    it('rejected credentials are a permanent failure', async () => {
      const a = await adapter({ url: `${base}/auth/bearer`, auth: { type: 'bearer', token: 'wrong-token' } });
      expect(failure(await a.deliver(message, dctx()))).to.include({ retryable: false, errorKind: 'http-401', httpStatus: 401 });
    });
  });

  describe('classification', () => {
    it('503 and 429 are retryable with Retry-After; 408 and 500 are retryable', async () => {
      expect(failure(await (await adapter({ url: `${base}/status/503` })).deliver(message, dctx()))).to.include({
        retryable: true,
        errorKind: 'http-503',
        retryAfterMs: 7000,
      });
      expect(failure(await (await adapter({ url: `${base}/status/429` })).deliver(message, dctx()))).to.include({
        retryable: true,
        errorKind: 'http-429',
        retryAfterMs: 30_000,
      });
      expect(failure(await (await adapter({ url: `${base}/status/408` })).deliver(message, dctx()))).to.include({
        retryable: true,
        errorKind: 'http-408',
      });
      const r500 = failure(await (await adapter({ url: `${base}/status/500` })).deliver(message, dctx()));
      expect(r500).to.include({ retryable: true, errorKind: 'http-500' });
      expect(r500.error).not.to.contain('Mustermann');
    });

    it('400 is permanent, with only the problem title shown', async () => {
      const r = failure(await (await adapter({ url: `${base}/status/400` })).deliver(message, dctx()));
      expect(r).to.include({ retryable: false, errorKind: 'http-400', httpStatus: 400 });
      expect(r.error).to.equal('back office answered HTTP 400 Bad Request: Schemafehler');
    });

    it('a refused connection is retryable, errorKind network', async () => {
      const r = failure(await (await adapter({ url: refusedUrl })).deliver(message, dctx()));
      expect(r).to.include({ retryable: true, errorKind: 'network' });
      expect(r.error).to.equal(`network error ECONNREFUSED: ${new URL(refusedUrl).host} refused the connection (nothing listens there)`);
    });

    it('a slow or trickling back office times out within timeoutMs, retryable', async () => {
      for (const p of ['/slow', '/trickle']) {
        const a = await adapter(
          { url: `${base}${p}`, schema: FIXTURE_XSD, reference: { from: 'xml', path: 'Quittung/Aktenzeichen' } },
          200,
        );
        const started = Date.now();
        expect(failure(await a.deliver(message, dctx())), p).to.include({ retryable: true, errorKind: 'timeout' });
        // Well before the back office would have finished (5 s either way); the margin is for a busy machine.
        expect(Date.now() - started, p).to.be.below(4000);
      }
    });
  });

  describe('check', () => {
    it('is ok when the origin answers, uses checkUrl with the credentials, and fails cleanly', async () => {
      const ok = await (await adapter({ url: `${base}/xml` })).check();
      expect(ok).to.deep.equal({ ok: true, message: `reachable: GET ${base}/ answered HTTP 200` });

      const withKey = await (
        await adapter({ url: `${base}/xml`, checkUrl: `${base}/health?probe=${TOKEN}`, auth: { type: 'bearer', token: TOKEN } })
      ).check();
      expect(withKey.ok).to.equal(true);
      expect(withKey.message).not.to.contain(TOKEN);

      const rejected = await (
        await adapter({ url: `${base}/xml`, checkUrl: `${base}/health`, auth: { type: 'bearer', token: 'wrong' } })
      ).check();
      expect(rejected).to.deep.equal({ ok: false, refused: true, message: `credentials rejected: GET ${base}/health answered HTTP 401` });

      const refused = await (await adapter({ url: refusedUrl })).check();
      expect(refused.ok).to.equal(false);
      expect(refused.message).to.contain('ECONNREFUSED');
    });
  });

  describe('logs', () => {
    it('never contain a secret, the document or the answer', async () => {
      await flushLogs();
      const everything = lines.join('\n');
      expect(lines.length).to.be.greaterThan(10);
      const basicHeader = Buffer.from(`sachbearbeitung:${PASSWORD}`, 'utf8').toString('base64');
      for (const forbidden of [
        PASSWORD,
        TOKEN,
        API_KEY,
        CLIENT_SECRET,
        OAUTH_TOKEN,
        basicHeader,
        'Mustermann',
        'Heidestra',
        '17.03.1984',
        'angenommen',
        'root:',
      ]) {
        expect(everything, forbidden).not.to.contain(forbidden);
      }
      // The schema warning is there, naming elements and rules.
      const warnings = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.message === 'xml-http message violates the schema; nothing was sent');
      expect(warnings.map((w) => w.level)).to.include('warn');
      expect(JSON.stringify(warnings)).to.contain("Element 'Geburtsdatum'").and.contain("Element 'Geschlecht'");
    });
  });
});

describe('xml-http reference paths', () => {
  it('walks element names from the root, ignoring namespaces, and refuses ambiguity', () => {
    expect(xmlReference(RECEIPT_NS, 'Quittung/Aktenzeichen')).to.deep.equal({ found: true, reference: 'HU-2026-0815' });
    expect(xmlReference(RECEIPT_NS, 'Aktenzeichen')).to.deep.equal({ found: false, why: 'not in the answer' });
    expect(xmlReference('<a><b>1</b><b>2</b></a>', 'a/b')).to.deep.equal({ found: false, why: 'more than one value there' });
    expect(xmlReference('<a><b><c>1</c></b><b><c>2</c></b></a>', 'a/b/c')).to.deep.equal({
      found: false,
      why: 'more than one element on the way there',
    });
    expect(xmlReference('<a><b> 007 </b></a>', 'a/b')).to.deep.equal({ found: true, reference: '007' });
    expect(xmlReference('<a><b/></a>', 'a/b')).to.deep.equal({ found: false, why: 'empty there' });
    expect(xmlReference('<a><b><c/></b></a>', 'a/b')).to.deep.equal({ found: false, why: 'not a single value there' });
    expect(xmlReference('<a><b>x</b></a>', 'a/__proto__')).to.deep.equal({ found: false, why: 'not in the answer' });
    expect(xmlReference('<a><b>x</b></a>', 'a/constructor')).to.deep.equal({ found: false, why: 'not in the answer' });
    expect(xmlReference('<a>&lt;1&amp;2&gt;</a>', 'a')).to.deep.equal({ found: true, reference: '<1&2>' });
  });
});
