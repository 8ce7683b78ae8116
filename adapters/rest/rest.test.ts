import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import winston from 'winston';
import { expect } from 'chai';
import { maskSecrets } from '../../src/sdk/index.ts';
import type { AdapterInstance, DeliveryContext, DeliveryResult, OutboundMessage } from '../../src/sdk/index.ts';
import rest from './index.ts';
import { parseJsonPointer, resolveJsonPointer } from '../_http/json-pointer.ts';
import { systemClock } from '../../src/clock.ts';

// A real express server on 127.0.0.1 stands in for the back office: the adapter is tested over
// real sockets, so headers, timeouts and refused connections behave as in production.

const PASSWORD = 'Pässwort-Geheim-4711';
const TOKEN = 'tok-7f3c9e1a-SECRET';
const API_KEY = 'key-0b5d2a-SECRET';
const CITIZEN = 'Erika Mustermann, Heidestraße 17';

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let server: Server;
let base: string;
let refusedUrl: string;
const seen: Seen[] = [];
const lines: string[] = [];
const adapters: AdapterInstance[] = [];

/** Captures everything the adapter logs, down to debug, so tests can search it. */
function capturingLogger(into: string[]): winston.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      into.push(chunk.toString());
      done();
    },
  });
  return winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    defaultMeta: { target: 'test' },
    transports: [new winston.transports.Stream({ stream })],
  });
}

const logger = capturingLogger(lines);

async function adapter(options: Record<string, unknown>, timeoutMs = 2000, log = logger): Promise<AdapterInstance> {
  const parsed = rest.options.parse(options);
  const instance = await rest.create(parsed, { clock: systemClock, targetId: 'test', logger: log, timeoutMs });
  adapters.push(instance);
  return instance;
}

const message: OutboundMessage = {
  format: 'json',
  body: { antragsteller: CITIZEN },
  // Deliberately not what JSON.stringify(body) gives: proves the text is sent verbatim.
  text: `{ "antragsteller" : "${CITIZEN}" }\n`,
  contentType: 'application/json',
  attachments: [],
};

let counter = 0;
function dctx(): DeliveryContext {
  counter += 1;
  return {
    deliveryId: `dlv-${counter}`,
    idempotencyKey: `idem-${counter}`,
    submissionId: 'sub-1',
    tenant: '05513000',
    service: 'hundeanmeldung',
    attempt: 1,
  };
}

function lastSeen(): Seen {
  const s = seen.at(-1);
  if (!s) throw new Error('the server saw no request');
  return s;
}

function failure(r: DeliveryResult): Extract<DeliveryResult, { ok: false }> {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

/** Lets winston's streams flush before the captured lines are read. */
const flushLogs = () => new Promise((resolve) => setImmediate(resolve));

before(async () => {
  const app = express();
  app.use(express.text({ type: () => true }));
  app.use((req, _res, next) => {
    seen.push({ method: req.method, path: req.path, headers: req.headers, body: typeof req.body === 'string' ? req.body : '' });
    next();
  });

  app.post('/cases', (_req, res) => {
    res.status(201).json({ auftrag: { aktenzeichen: 'AZ-2025-0001', status: 'eingegangen' } });
  });
  app.put('/cases/escaped', (_req, res) => {
    res.json({ 'a/b': { 'm~n': 'REF-ESC-42' } });
  });
  app.post('/numeric', (_req, res) => {
    res.type('application/vnd.fachverfahren+json').send(JSON.stringify({ ids: [{ nr: 987654 }] }));
  });
  app.post('/no-ref', (_req, res) => {
    res.status(201).json({ received: true });
  });
  app.post('/plain', (_req, res) => {
    res.type('text/plain').send('OK');
  });

  app.post('/auth/basic', (req, res) => {
    const expected = 'Basic ' + Buffer.from(`sachbearbeitung:${PASSWORD}`, 'utf8').toString('base64');
    if (req.headers.authorization !== expected) return void res.sendStatus(401);
    res.status(201).json({ id: 'B-1' });
  });
  app.post('/auth/bearer', (req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.sendStatus(401);
    res.status(201).json({ id: 'T-1' });
  });
  app.post('/auth/api-key', (req, res) => {
    if (req.headers['x-api-key'] !== API_KEY) return void res.sendStatus(401);
    res.status(201).json({ id: 'K-1' });
  });
  app.post('/auth/custom-key', (req, res) => {
    if (req.headers['x-fachverfahren-schluessel'] !== API_KEY) return void res.sendStatus(401);
    res.status(201).json({ id: 'K-2' });
  });

  app.post('/status/503', (_req, res) => {
    res.set('Retry-After', '7').sendStatus(503);
  });
  app.post('/status/429', (_req, res) => {
    res.set('Retry-After', new Date(Date.now() + 120_000).toUTCString()).sendStatus(429);
  });
  app.post('/status/400', (req, res) => {
    // A back office that echoes the request: none of this may reach an error or a log line.
    res
      .status(400)
      .type('application/problem+json')
      .send(JSON.stringify({ type: 'about:blank', title: 'Pflichtfeld fehlt\r\nforged log line', detail: `echo: ${String(req.body)}` }));
  });
  app.post('/status/422-long', (_req, res) => {
    res
      .status(422)
      .type('application/problem+json')
      .send(JSON.stringify({ title: 'x'.repeat(500) }));
  });
  app.post('/status/408', (_req, res) => {
    res.sendStatus(408);
  });
  app.post('/status/500', (req, res) => {
    res
      .status(500)
      .type('text/plain')
      .send(`internal error while processing ${String(req.body)}`);
  });
  app.post('/redirect', (_req, res) => {
    res.redirect(307, '/cases');
  });

  app.post('/slow', (_req, res) => {
    setTimeout(() => {
      if (!res.writableEnded && !res.destroyed) res.status(201).json({ id: 'late' });
    }, 5000).unref();
  });
  app.post('/trickle', (_req, res) => {
    // Headers at once, then a byte every 50 ms: never idle long enough for a socket timeout.
    res.status(201).type('application/json');
    res.write('{"id":"');
    let n = 0;
    const timer = setInterval(() => {
      if (res.destroyed || ++n > 100) {
        clearInterval(timer);
        if (!res.destroyed) res.end('"}');
        return;
      }
      res.write('x');
    }, 50);
    timer.unref();
  });

  app.get('/', (_req, res) => {
    res.type('text/plain').send('Fachverfahren');
  });
  app.get('/health', (req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.sendStatus(401);
    res.json({ status: 'up' });
  });

  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A port that was just free and is closed again: connecting to it is refused.
  const closed = await new Promise<Server>((resolve) => {
    const s = express().listen(0, '127.0.0.1', () => resolve(s));
  });
  refusedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/cases`;
  await new Promise((resolve) => closed.close(resolve));
});

after(async () => {
  await Promise.all(adapters.map((a) => a.close?.()));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('rest adapter', () => {
  describe('options', () => {
    it('applies the defaults', () => {
      const o = rest.options.parse({ url: 'https://fachverfahren.example/api/cases' });
      expect(o).to.deep.equal({
        url: 'https://fachverfahren.example/api/cases',
        method: 'POST',
        auth: { type: 'none' },
        idempotencyHeader: 'Idempotency-Key',
      });
      const k = rest.options.parse({ url: 'https://x.example', auth: { type: 'api-key', value: 'v' } });
      expect(k.auth).to.deep.equal({ type: 'api-key', header: 'X-API-Key', value: 'v' });
      expect(rest.type).to.equal('rest');
      expect(rest.version).to.equal('1.2.0');
      expect(rest.defaultFormat).to.equal('json');
    });

    it('rejects a bad URL', () => {
      for (const url of ['not a url', 'ftp://fachverfahren.example/in', '/relative/path', `https://user:${PASSWORD}@x.example/`]) {
        const r = rest.options.safeParse({ url });
        expect(r.success, url).to.equal(false);
        // The message must not repeat the value: it may carry a credential.
        expect(JSON.stringify(r.error?.issues)).not.to.contain(PASSWORD);
      }
      expect(rest.options.safeParse({ url: 'https://x.example', checkUrl: 'mailto:a@b' }).success).to.equal(false);
    });

    it('rejects unknown keys, at the top and inside auth', () => {
      const top = rest.options.safeParse({ url: 'https://x.example', retries: 3 });
      expect(top.success).to.equal(false);
      expect(top.error?.issues[0]?.code).to.equal('unrecognized_keys');
      const inner = rest.options.safeParse({ url: 'https://x.example', auth: { type: 'bearer', token: 't', user: 'u' } });
      expect(inner.success).to.equal(false);
      expect(rest.options.safeParse({ url: 'https://x.example', auth: { type: 'oauth2' } }).success).to.equal(false);
      expect(rest.options.safeParse({ url: 'https://x.example', method: 'PATCH' }).success).to.equal(false);
    });

    it('rejects bad pointers, headers the adapter sets, and header values with line breaks', () => {
      const bad = [
        { url: 'https://x.example', referencePointer: 'auftrag/aktenzeichen' },
        { url: 'https://x.example', referencePointer: '/a~2' },
        { url: 'https://x.example', headers: { Authorization: 'Bearer x' } },
        { url: 'https://x.example', headers: { 'content-type': 'text/plain' } },
        { url: 'https://x.example', headers: { 'idempotency-key': 'fixed' } },
        { url: 'https://x.example', headers: { 'X-Mandant': 'a\r\nX-Injected: 1' } },
        { url: 'https://x.example', auth: { type: 'bearer', token: 'a\nb' } },
        { url: 'https://x.example', auth: { type: 'basic', username: 'a:b', password: 'p' } },
        { url: 'https://x.example', idempotencyHeader: 'X-Amtsbote-Delivery' },
      ];
      for (const o of bad) expect(rest.options.safeParse(o).success, JSON.stringify(o)).to.equal(false);
      expect(
        rest.options.safeParse({ url: 'https://x.example', referencePointer: '/a~1b/~0c/0', headers: { 'X-Mandant': '05513000' } }).success,
      ).to.equal(true);
    });

    it('masks password, token and api-key value', () => {
      const cases = [
        { auth: { type: 'basic', username: 'sachbearbeitung', password: PASSWORD }, field: 'password' },
        { auth: { type: 'bearer', token: TOKEN }, field: 'token' },
        { auth: { type: 'api-key', value: API_KEY }, field: 'value' },
      ];
      for (const c of cases) {
        const parsed = rest.options.parse({ url: 'https://x.example', auth: c.auth, headers: { 'X-Mandant': '05513000' } });
        const masked = maskSecrets(rest.options, parsed) as { auth: Record<string, unknown>; url: string; headers: Record<string, string> };
        expect(masked.auth[c.field]).to.equal('***');
        expect(masked.auth.type).to.equal(c.auth.type);
        expect(masked.url).to.equal('https://x.example');
        expect(masked.headers['X-Mandant']).to.equal('05513000');
        const text = JSON.stringify(masked);
        for (const s of [PASSWORD, TOKEN, API_KEY]) expect(text).not.to.contain(s);
      }
      const basic = maskSecrets(rest.options, rest.options.parse({ url: 'https://x.example', auth: cases[0]!.auth })) as {
        auth: { username: string };
      };
      expect(basic.auth.username).to.equal('sachbearbeitung');
    });
  });

  describe('json pointer', () => {
    it('unescapes ~1 and ~0 in that order and reads arrays by index', () => {
      expect(parseJsonPointer('/a~1b/m~0n/~01')).to.deep.equal(['a/b', 'm~n', '~1']);
      expect(parseJsonPointer('')).to.deep.equal([]);
      const doc = { a: [{ b: 'x' }], '': { ' ': 1 } };
      expect(resolveJsonPointer(doc, '/a/0/b')).to.equal('x');
      expect(resolveJsonPointer(doc, '/a/01/b')).to.equal(undefined);
      expect(resolveJsonPointer(doc, '/a/-')).to.equal(undefined);
      expect(resolveJsonPointer(doc, '//%20')).to.equal(undefined);
      expect(resolveJsonPointer(doc, '// ')).to.equal(1);
      expect(resolveJsonPointer(doc, '/constructor')).to.equal(undefined);
      expect(resolveJsonPointer(doc, '')).to.equal(doc);
    });
  });

  describe('deliver', () => {
    it('POSTs the text verbatim and reads the reference by a nested pointer', async () => {
      const a = await adapter({ url: `${base}/cases`, referencePointer: '/auftrag/aktenzeichen' });
      const ctx = dctx();
      const r = await a.deliver(message, ctx);
      expect(r).to.deep.equal({ ok: true, reference: 'AZ-2025-0001', httpStatus: 201 });
      const s = lastSeen();
      expect(s.method).to.equal('POST');
      expect(s.body).to.equal(message.text);
      expect(s.headers['content-type']).to.equal('application/json');
      expect(s.headers['idempotency-key']).to.equal(ctx.idempotencyKey);
      expect(s.headers['x-amtsbote-delivery']).to.equal(ctx.deliveryId);
      expect(s.headers.authorization).to.equal(undefined);
    });

    it('PUTs, and resolves a pointer with ~1 and ~0 escapes', async () => {
      const a = await adapter({ url: `${base}/cases/escaped`, method: 'PUT', referencePointer: '/a~1b/m~0n' });
      const r = await a.deliver(message, dctx());
      expect(r).to.deep.equal({ ok: true, reference: 'REF-ESC-42', httpStatus: 200 });
      expect(lastSeen().method).to.equal('PUT');
    });

    it('sends XML with its content type, a custom idempotency header and extra headers', async () => {
      const a = await adapter({
        url: `${base}/plain`,
        idempotencyHeader: 'X-Request-Id',
        headers: { 'X-Mandant': '05513000' },
      });
      const xml: OutboundMessage = {
        format: 'xml',
        body: null,
        text: '<?xml version="1.0" encoding="UTF-8"?><antrag><name>Ä</name></antrag>',
        contentType: 'application/xml; charset=utf-8',
        attachments: [],
      };
      const ctx = dctx();
      const r = await a.deliver(xml, ctx);
      // A non-JSON success answer is fine when no reference is expected.
      expect(r).to.deep.equal({ ok: true, reference: null, httpStatus: 200 });
      const s = lastSeen();
      expect(s.body).to.equal(xml.text);
      expect(s.headers['content-type']).to.equal('application/xml; charset=utf-8');
      expect(s.headers['x-request-id']).to.equal(ctx.idempotencyKey);
      expect(s.headers['idempotency-key']).to.equal(undefined);
      expect(s.headers['x-mandant']).to.equal('05513000');
    });

    it('takes a number as reference from a +json answer', async () => {
      const a = await adapter({ url: `${base}/numeric`, referencePointer: '/ids/0/nr' });
      expect(await a.deliver(message, dctx())).to.deep.equal({ ok: true, reference: '987654', httpStatus: 200 });
    });

    it('succeeds with reference null and a warning when the answer lacks the reference', async () => {
      const captured: string[] = [];
      const a = await adapter({ url: `${base}/no-ref`, referencePointer: '/auftrag/aktenzeichen' }, 2000, capturingLogger(captured));
      const r = await a.deliver(message, dctx());
      expect(r.ok).to.equal(true);
      expect(r.ok && r.reference).to.equal(null);
      expect(r.ok && r.warning).to.equal('back office accepted but gave no reference at /auftrag/aktenzeichen');
      await flushLogs();
      const warn = captured.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 'warn');
      expect(warn?.message).to.contain('no reference at /auftrag/aktenzeichen');

      const plain = await adapter({ url: `${base}/plain`, referencePointer: '/id' });
      expect(await plain.deliver(message, dctx())).to.include({ ok: true, reference: null });
    });

    it('does not follow redirects', async () => {
      const a = await adapter({ url: `${base}/redirect` });
      const before = seen.length;
      const r = failure(await a.deliver(message, dctx()));
      expect(r).to.include({ retryable: false, httpStatus: 307 });
      expect(seen.length).to.equal(before + 1);
    });
  });

  describe('auth', () => {
    it('basic: the server accepts the UTF-8 credentials', async () => {
      const a = await adapter({
        url: `${base}/auth/basic`,
        referencePointer: '/id',
        auth: { type: 'basic', username: 'sachbearbeitung', password: PASSWORD },
      });
      expect(await a.deliver(message, dctx())).to.include({ ok: true, reference: 'B-1' });
    });

    it('bearer: the server accepts the token', async () => {
      const a = await adapter({ url: `${base}/auth/bearer`, referencePointer: '/id', auth: { type: 'bearer', token: TOKEN } });
      expect(await a.deliver(message, dctx())).to.include({ ok: true, reference: 'T-1' });
    });

    it('api-key: default header X-API-Key and a custom header', async () => {
      const a = await adapter({ url: `${base}/auth/api-key`, referencePointer: '/id', auth: { type: 'api-key', value: API_KEY } });
      expect(await a.deliver(message, dctx())).to.include({ ok: true, reference: 'K-1' });
      const b = await adapter({
        url: `${base}/auth/custom-key`,
        referencePointer: '/id',
        auth: { type: 'api-key', header: 'X-Fachverfahren-Schluessel', value: API_KEY },
      });
      expect(await b.deliver(message, dctx())).to.include({ ok: true, reference: 'K-2' });
    });

    it('rejected credentials (401) are a permanent failure', async () => {
      const a = await adapter({ url: `${base}/auth/bearer`, auth: { type: 'bearer', token: 'wrong-token' } });
      const r = failure(await a.deliver(message, dctx()));
      expect(r).to.include({ retryable: false, errorKind: 'http-401', httpStatus: 401 });
    });
  });

  describe('classification', () => {
    it('503 is retryable and honours Retry-After seconds', async () => {
      const a = await adapter({ url: `${base}/status/503` });
      const r = failure(await a.deliver(message, dctx()));
      expect(r).to.include({ retryable: true, errorKind: 'http-503', httpStatus: 503, retryAfterMs: 7000 });
    });

    it('429 is retryable and honours an HTTP-date Retry-After', async () => {
      const a = await adapter({ url: `${base}/status/429` });
      const r = failure(await a.deliver(message, dctx()));
      expect(r).to.include({ retryable: true, errorKind: 'http-429' });
      // The date has whole seconds, so up to a second is lost; allow for a slow machine too.
      expect(r.retryAfterMs).to.be.within(100_000, 120_000);
    });

    it('400 is permanent; only the flattened problem title is shown', async () => {
      const a = await adapter({ url: `${base}/status/400` });
      const r = failure(await a.deliver(message, dctx()));
      expect(r).to.include({ retryable: false, errorKind: 'http-400', httpStatus: 400 });
      expect(r.error).to.equal('back office answered HTTP 400 Bad Request: Pflichtfeld fehlt forged log line');
      expect(r.error).not.to.contain('Mustermann');
      expect(r.retryAfterMs).to.equal(undefined);
    });

    it('truncates a long problem title to 200 characters', async () => {
      const a = await adapter({ url: `${base}/status/422-long` });
      const r = failure(await a.deliver(message, dctx()));
      const title = r.error.split(': ')[1] ?? '';
      expect(title).to.have.length(200);
      expect(r.retryable).to.equal(false);
    });

    it('408 and 500 are retryable', async () => {
      const a = await adapter({ url: `${base}/status/408` });
      expect(failure(await a.deliver(message, dctx()))).to.include({ retryable: true, errorKind: 'http-408' });
      const b = await adapter({ url: `${base}/status/500` });
      const r = failure(await b.deliver(message, dctx()));
      expect(r).to.include({ retryable: true, errorKind: 'http-500' });
      expect(r.error).not.to.contain('Mustermann');
    });

    it('a refused connection is retryable, errorKind network, and names host and port but not path or query', async () => {
      const a = await adapter({ url: `${refusedUrl}?apiKey=SECRET-IN-QUERY` });
      const r = failure(await a.deliver(message, dctx()));
      expect(r).to.include({ retryable: true, errorKind: 'network' });
      expect(r.error).to.equal(`network error ECONNREFUSED: ${new URL(refusedUrl).host} refused the connection (nothing listens there)`);
    });

    it('a back office slower than timeoutMs is retryable, errorKind timeout', async () => {
      const a = await adapter({ url: `${base}/slow` }, 200);
      const started = Date.now();
      const r = failure(await a.deliver(message, dctx()));
      expect(r).to.include({ retryable: true, errorKind: 'timeout' });
      expect(r.error).to.equal(`back office ${new URL(base).host} did not answer in time`);
      // Well before the back office's answer at 5 s; the margin is for a busy machine.
      expect(Date.now() - started).to.be.below(4000);
    });

    it('the timeout bounds the whole answer, not just silence on the socket', async () => {
      const a = await adapter({ url: `${base}/trickle` }, 200);
      const started = Date.now();
      const r = failure(await a.deliver(message, dctx()));
      expect(r).to.include({ retryable: true, errorKind: 'timeout' });
      // The trickle would take 5 s to the end.
      expect(Date.now() - started).to.be.below(4000);
    });
  });

  describe('check', () => {
    it('is ok when the origin answers', async () => {
      const a = await adapter({ url: `${base}/cases` });
      const r = await a.check();
      expect(r.ok).to.equal(true);
      expect(r.message).to.contain(`GET ${base}/ answered HTTP 200`);
      expect(lastSeen()).to.include({ method: 'GET', path: '/' });
    });

    it('uses checkUrl with the credentials', async () => {
      const a = await adapter({ url: `${base}/cases`, checkUrl: `${base}/health?probe=1`, auth: { type: 'bearer', token: TOKEN } });
      const r = await a.check();
      expect(r.ok).to.equal(true);
      expect(r.message).not.to.contain('probe=1');
      expect(r.message).not.to.contain(TOKEN);
    });

    it('is not ok when credentials are rejected', async () => {
      const a = await adapter({ url: `${base}/cases`, checkUrl: `${base}/health`, auth: { type: 'bearer', token: 'wrong' } });
      const r = await a.check();
      expect(r.ok).to.equal(false);
      expect(r.message).to.contain('credentials rejected');
      expect(r.message).to.contain('401');
    });

    it('is not ok when the connection is refused', async () => {
      const a = await adapter({ url: refusedUrl });
      const r = await a.check();
      expect(r.ok).to.equal(false);
      expect(r.message).to.contain('ECONNREFUSED');
    });
  });

  describe('logs', () => {
    it('never contain a secret or the body, in failing and succeeding deliveries', async () => {
      const captured: string[] = [];
      const log = capturingLogger(captured);
      const results: DeliveryResult[] = [];
      const auths = [
        { type: 'basic', username: 'sachbearbeitung', password: PASSWORD },
        { type: 'bearer', token: TOKEN },
        { type: 'api-key', value: API_KEY },
      ];
      for (const auth of auths) {
        for (const path of [
          '/auth/basic',
          '/auth/bearer',
          '/auth/api-key',
          '/status/400',
          '/status/500',
          '/status/503',
          '/no-ref',
          '/redirect',
        ]) {
          const a = await adapter({ url: `${base}${path}`, auth, referencePointer: '/auftrag/aktenzeichen' }, 2000, log);
          results.push(await a.deliver(message, dctx()));
        }
        const refused = await adapter({ url: refusedUrl, auth }, 2000, log);
        results.push(await refused.deliver(message, dctx()));
        const slow = await adapter({ url: `${base}/slow`, auth }, 200, log);
        results.push(await slow.deliver(message, dctx()));
      }
      await flushLogs();

      expect(results.some((r) => r.ok)).to.equal(true);
      expect(results.some((r) => !r.ok)).to.equal(true);
      expect(captured.length).to.be.greaterThan(10);
      const everything = [...captured, ...lines, ...results.map((r) => JSON.stringify(r))].join('\n');
      const basicHeader = Buffer.from(`sachbearbeitung:${PASSWORD}`, 'utf8').toString('base64');
      for (const forbidden of [PASSWORD, TOKEN, API_KEY, basicHeader, 'Mustermann', 'Heidestra', 'antragsteller']) {
        expect(everything, forbidden).not.to.contain(forbidden);
      }
    });
  });
});
