import http from 'node:http';
import express from 'express';
import { expect } from 'chai';
import type { AdapterInstance } from '../../src/sdk/index.ts';
import rest, { StatusLookupError } from './index.ts';
import { capturingLogger, closeServer, flushLogs, listen } from './test-helpers.ts';
import { systemClock } from '../../src/clock.ts';

// status(reference) against a real back office on 127.0.0.1 that knows a few cases.

const TOKEN = 'status-token-SECRET-8';
const CITIZEN = 'Erika Mustermann';

describe('rest adapter: status lookup', () => {
  let server: http.Server;
  let base = '';
  let paths: string[] = [];
  const lines: string[] = [];
  const logger = capturingLogger(lines);
  const adapters: AdapterInstance[] = [];
  const cases: Record<string, unknown> = {
    'AZ-1': { vorgang: { zustand: 'IN_BEARBEITUNG', name: CITIZEN } },
    'AZ/2025 07': { vorgang: { zustand: 'ABGESCHLOSSEN' } },
    'AZ-num': { vorgang: { zustand: 3 } },
    'AZ-none': { vorgang: {} },
    'AZ-odd': { vorgang: { zustand: 'NEU_IM_SYSTEM' } },
    'AZ-rej': {
      vorgang: { zustand: 'ABGELEHNT', grund: 'Unterlagen fehlen', geaendert: 1772438400000, schluessel: 'idem-9', name: CITIZEN },
    },
  };

  async function adapter(statusLookup: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Promise<AdapterInstance> {
    const options = { url: `${base}/cases`, auth: { type: 'bearer', token: TOKEN }, ...(statusLookup ? { statusLookup } : {}), ...extra };
    const instance = await rest.create(rest.options.parse(options), {
      clock: systemClock,
      targetId: 'status-test',
      logger,
      timeoutMs: 2000,
    });
    adapters.push(instance);
    return instance;
  }
  async function rejection(p: Promise<unknown>): Promise<StatusLookupError> {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(StatusLookupError);
      return e as StatusLookupError;
    }
    throw new Error('expected status() to throw');
  }

  before(async () => {
    const app = express();
    app.use((req, res, next) => {
      paths.push(req.originalUrl);
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.sendStatus(401);
      next();
    });
    app.get('/cases/:ref', (req, res) => {
      const c = cases[req.params.ref];
      if (!c)
        return void res
          .status(404)
          .type('application/problem+json')
          .send(JSON.stringify({ title: 'Not found' }));
      res.json(c);
    });
    app.get('/lookup', (req, res) => {
      const c = cases[String(req.query.az)];
      c ? res.json(c) : res.sendStatus(404);
    });
    app.get('/broken/:ref', (_req, res) => {
      res
        .status(500)
        .type('application/problem+json')
        .send(JSON.stringify({ title: 'Datenbank nicht erreichbar', detail: `case of ${CITIZEN}` }));
    });
    app.get('/html/:ref', (_req, res) => void res.type('text/html').send(`<p>${CITIZEN}</p>`));
    app.get('/moved/:ref', (_req, res) => void res.redirect(301, '/cases/AZ-1'));
    server = http.createServer(app);
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  beforeEach(() => {
    paths = [];
  });
  after(async () => {
    await Promise.all(adapters.map((a) => a.close?.()));
    await closeServer(server);
  });

  it('reads the state at the pointer, with the URL-encoded reference in the path or the query', async () => {
    const a = await adapter({ url: `${base}/cases/{reference}`, statusPointer: '/vorgang/zustand' });
    expect(await a.status!('AZ-1')).to.deep.equal({ reference: 'AZ-1', status: 'IN_BEARBEITUNG' });
    expect(await a.status!('AZ/2025 07')).to.deep.equal({ reference: 'AZ/2025 07', status: 'ABGESCHLOSSEN' });
    expect(paths).to.deep.equal(['/cases/AZ-1', '/cases/AZ%2F2025%2007']);
    expect(await a.status!('AZ-num')).to.deep.equal({ reference: 'AZ-num', status: '3' });
    const q = await adapter({ url: `${base}/lookup?az={reference}&format=json`, statusPointer: '/vorgang/zustand' });
    expect(await q.status!('AZ/2025 07')).to.deep.equal({ reference: 'AZ/2025 07', status: 'ABGESCHLOSSEN' });
    expect(paths.at(-1)).to.equal('/lookup?az=AZ%2F2025%2007&format=json');
  });

  it('returns null for a case the back office does not know (404)', async () => {
    const a = await adapter({ url: `${base}/cases/{reference}`, statusPointer: '/vorgang/zustand' });
    expect(await a.status!('AZ-unknown')).to.equal(null);
    const q = await adapter({ url: `${base}/lookup?az={reference}`, statusPointer: '/vorgang/zustand' });
    expect(await q.status!('AZ-unknown')).to.equal(null);
  });

  it('maps back-office states to normalised ones, passing unknown states through', async () => {
    const a = await adapter({
      url: `${base}/cases/{reference}`,
      statusPointer: '/vorgang/zustand',
      map: { IN_BEARBEITUNG: 'in-progress', ABGESCHLOSSEN: 'completed' },
    });
    expect(await a.status!('AZ-1')).to.deep.equal({
      reference: 'AZ-1',
      status: 'in-progress',
      detail: { backOfficeStatus: 'IN_BEARBEITUNG' },
    });
    expect(await a.status!('AZ-odd')).to.deep.equal({
      reference: 'AZ-odd',
      status: 'NEU_IM_SYSTEM',
      detail: { backOfficeStatus: 'NEU_IM_SYSTEM' },
    });
    await flushLogs();
    expect(lines.join('\n')).to.contain('not in statusLookup.map');
  });

  it('returns the reason, the time of the change and the idempotency key where pointers say, mapped or not', async () => {
    const pointers = {
      statusPointer: '/vorgang/zustand',
      reasonPointer: '/vorgang/grund',
      updatedAtPointer: '/vorgang/geaendert',
      idempotencyKeyPointer: '/vorgang/schluessel',
    };
    const a = await adapter({ url: `${base}/cases/{reference}`, ...pointers, map: { ABGELEHNT: 'rejected' } });
    expect(await a.status!('AZ-rej')).to.deep.equal({
      reference: 'AZ-rej',
      status: 'rejected',
      idempotencyKey: 'idem-9',
      updatedAt: '2026-03-02T08:00:00.000Z',
      reason: 'Unterlagen fehlen',
      detail: { backOfficeStatus: 'ABGELEHNT' },
    });
    // Absent fields are left out, not null.
    expect(await a.status!('AZ-1')).to.deep.equal({
      reference: 'AZ-1',
      status: 'IN_BEARBEITUNG',
      detail: { backOfficeStatus: 'IN_BEARBEITUNG' },
    });
  });

  it('throws clean errors: status and problem title, never the body, the query or the token', async () => {
    const broken = await adapter({ url: `${base}/broken/{reference}?key=abc123`, statusPointer: '/vorgang/zustand' });
    const e500 = await rejection(broken.status!('AZ-1'));
    expect(e500.message).to.equal(
      `status lookup GET ${base}/broken/{reference} answered HTTP 500 Internal Server Error: Datenbank nicht erreichbar`,
    );
    expect(e500).to.include({ retryable: true, httpStatus: 500 });

    const html = await adapter({ url: `${base}/html/{reference}`, statusPointer: '/vorgang/zustand' });
    const eHtml = await rejection(html.status!('AZ-1'));
    expect(eHtml.message).to.equal(`status lookup GET ${base}/html/{reference} answered HTTP 200 without a JSON body`);
    expect(eHtml.retryable).to.equal(false);

    const a = await adapter({ url: `${base}/cases/{reference}`, statusPointer: '/vorgang/zustand' });
    const eNone = await rejection(a.status!('AZ-none'));
    expect(eNone.message).to.equal(`status lookup GET ${base}/cases/{reference}: the answer has no state at /vorgang/zustand`);

    const moved = await adapter({ url: `${base}/moved/{reference}`, statusPointer: '/vorgang/zustand' });
    expect((await rejection(moved.status!('AZ-1'))).message)
      .to.contain('HTTP 301')
      .and.to.contain('redirects are not followed');

    const bad = await rest.create(
      rest.options.parse({
        url: `${base}/cases`,
        auth: { type: 'bearer', token: 'wrong' },
        statusLookup: { url: `${base}/cases/{reference}`, statusPointer: '/x' },
      }),
      { clock: systemClock, targetId: 'status-test', logger, timeoutMs: 2000 },
    );
    adapters.push(bad);
    const e401 = await rejection(bad.status!('AZ-1'));
    expect(e401.message).to.equal(`status lookup credentials rejected: GET ${base}/cases/{reference} answered HTTP 401 Unauthorized`);
    expect(e401.retryable).to.equal(false);

    const closed = http.createServer();
    const port = await listen(closed);
    await closeServer(closed);
    const refused = await adapter({ url: `http://127.0.0.1:${port}/cases/{reference}`, statusPointer: '/x' });
    const eNet = await rejection(refused.status!('AZ-1'));
    expect(eNet.message).to.equal(
      `status lookup GET http://127.0.0.1:${port}/cases/{reference} failed: network error ECONNREFUSED: 127.0.0.1:${port} refused the connection (nothing listens there)`,
    );
    expect(eNet.retryable).to.equal(true);

    await flushLogs();
    const everything = [e500, eHtml, eNone, e401, eNet].map((e) => e.message).join('\n') + lines.join('\n');
    for (const forbidden of [CITIZEN, 'abc123', TOKEN]) expect(everything).not.to.contain(forbidden);
  });

  it('is offered only when configured; options need the placeholder and GET', async () => {
    const none = await adapter(undefined);
    expect(none.status).to.equal(undefined);
    for (const statusLookup of [
      { url: `${base}/cases/AZ-1`, statusPointer: '/a' },
      { url: 'ftp://x.example/{reference}', statusPointer: '/a' },
      { url: `${base}/cases/{reference}`, statusPointer: 'a' },
      { url: `${base}/cases/{reference}`, statusPointer: '/a', method: 'POST' },
      { url: `${base}/cases/{reference}`, statusPointer: '/a', map: { X: '' } },
      { url: `${base}/cases/{reference}` },
    ]) {
      expect(rest.options.safeParse({ url: base, statusLookup }).success, JSON.stringify(statusLookup)).to.equal(false);
    }
    expect(
      rest.options.parse({ url: base, statusLookup: { url: `${base}/c/{reference}`, statusPointer: '/s' } }).statusLookup,
    ).to.deep.equal({
      url: `${base}/c/{reference}`,
      method: 'GET',
      statusPointer: '/s',
    });
  });
});
