import http from 'node:http';
import express from 'express';
import { expect } from 'chai';
import type { AdapterInstance, CaseStatus } from '../../src/sdk/index.ts';
import rest, { ListingError } from './index.ts';
import { capturingLogger, closeServer, flushLogs, listen } from './test-helpers.ts';
import { systemClock } from '../../src/clock.ts';

// list(since) against a real back office on 127.0.0.1 that pages through its cases by cursor or by link.

const TOKEN = 'listing-token-SECRET-9';
const CLIENT_SECRET = 'listing-client-SECRET-3';
const CITIZEN = 'Erika Mustermann';

interface Row {
  az: string;
  zustand: string;
  schluessel?: string;
  geaendert: string;
  grund?: string;
  name: string;
}

/** 25 cases, changed one minute apart from 08:00; every 7th rejected with a reason. */
const ROWS: Row[] = Array.from({ length: 25 }, (_, i) => ({
  az: `AZ-${String(i + 1).padStart(3, '0')}`,
  zustand: i % 7 === 6 ? 'ABGELEHNT' : i % 2 ? 'ERLEDIGT' : 'IN_BEARBEITUNG',
  ...(i === 3 ? {} : { schluessel: `idem-${i + 1}` }),
  geaendert: new Date(Date.parse('2026-03-02T08:00:00Z') + i * 60_000).toISOString(),
  ...(i % 7 === 6 ? { grund: 'Termin nicht verfügbar' } : {}),
  name: CITIZEN,
}));

describe('rest adapter: listing', () => {
  let server: http.Server;
  let base = '';
  let requests: string[] = [];
  const lines: string[] = [];
  const logger = capturingLogger(lines);
  const adapters: AdapterInstance[] = [];
  let tokensIssued = 0;

  async function adapter(listing: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Promise<AdapterInstance> {
    const options = { url: `${base}/cases`, auth: { type: 'bearer', token: TOKEN }, ...(listing ? { listing } : {}), ...extra };
    const instance = await rest.create(rest.options.parse(options), {
      clock: systemClock,
      targetId: 'listing-test',
      logger,
      timeoutMs: 2000,
    });
    adapters.push(instance);
    return instance;
  }
  async function all(it: AsyncIterable<CaseStatus>): Promise<CaseStatus[]> {
    const out: CaseStatus[] = [];
    for await (const c of it) out.push(c);
    return out;
  }
  async function rejection(p: Promise<unknown>): Promise<ListingError> {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(ListingError);
      return e as ListingError;
    }
    throw new Error('expected list() to throw');
  }
  const fields = {
    itemsPointer: '/vorgaenge',
    referencePointer: '/az',
    statusPointer: '/zustand',
    idempotencyKeyPointer: '/schluessel',
    updatedAtPointer: '/geaendert',
    reasonPointer: '/grund',
  };

  before(async () => {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.post('/token', (req, res) => {
      if (req.body.client_secret !== CLIENT_SECRET) return void res.status(401).json({ error: 'invalid_client' });
      tokensIssued += 1;
      res.json({ access_token: TOKEN, token_type: 'Bearer', expires_in: 600 });
    });
    app.use((req, res, next) => {
      requests.push(req.originalUrl);
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.sendStatus(401);
      next();
    });
    const since = (v: unknown) => (/^\d+$/.test(String(v)) ? Number(v) : Date.parse(String(v)));
    const page = (req: express.Request) => {
      const from = since(req.query.since ?? req.query.geaendertSeit);
      const rows = ROWS.filter((r) => Date.parse(r.geaendert) >= from);
      const start = Number(req.query.cursor ?? req.query.seite ?? 0);
      return { rows: rows.slice(start, start + 10), more: start + 10 < rows.length, start };
    };
    // Cursor in the answer.
    app.get('/cases', (req, res) => {
      const { rows, more, start } = page(req);
      res.json({ vorgaenge: rows, weiter: more ? String(start + 10) : null });
    });
    // A next link in the answer (relative, as many APIs give it).
    app.get('/linked', (req, res) => {
      const { rows, more, start } = page(req);
      res.json({
        vorgaenge: rows,
        links: { next: more ? `/linked?since=${encodeURIComponent(String(req.query.since))}&cursor=${start + 10}` : null },
      });
    });
    app.get('/by-path/:since', (req, res) => {
      const rows = ROWS.filter((r) => Date.parse(r.geaendert) >= Date.parse(req.params.since));
      res.json({ vorgaenge: rows });
    });
    app.get('/elsewhere', (_req, res) => void res.json({ vorgaenge: [ROWS[0]], links: { next: 'http://192.0.2.1/steal' } }));
    app.get('/loop', (req, res) => void res.json({ vorgaenge: [ROWS[0]], weiter: String(req.query.cursor ?? '1') }));
    app.get('/broken', (_req, res) => {
      res
        .status(503)
        .type('application/problem+json')
        .send(JSON.stringify({ title: 'Wartung', detail: `case of ${CITIZEN}` }));
    });
    app.get('/flaky', (req, res) => {
      if (req.query.cursor) return void res.status(500).send(`<p>${CITIZEN}</p>`);
      res.json({ vorgaenge: ROWS.slice(0, 2), weiter: '2' });
    });
    app.get('/no-items', (_req, res) => void res.json({ daten: [] }));
    app.get(
      '/odd',
      (_req, res) =>
        void res.json({
          vorgaenge: [
            { zustand: 'X', name: CITIZEN },
            { az: 'AZ-ok', zustand: 'NEU' },
            { az: 'AZ-nostate', name: CITIZEN },
          ],
        }),
    );
    server = http.createServer(app);
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  beforeEach(() => {
    requests = [];
  });
  after(async () => {
    await Promise.all(adapters.map((a) => a.close?.()));
    await closeServer(server);
  });

  it('pages by cursor, yielding each case with its key, time and reason', async () => {
    const a = await adapter({ ...fields, url: `${base}/cases?since={since}`, nextPointer: '/weiter', cursorParam: 'cursor' });
    const cases = await all(a.list!(new Date('2026-03-02T08:00:00Z')));
    expect(cases.map((c) => c.reference)).to.deep.equal(ROWS.map((r) => r.az));
    expect(cases[6]).to.deep.equal({
      reference: 'AZ-007',
      status: 'ABGELEHNT',
      idempotencyKey: 'idem-7',
      updatedAt: '2026-03-02T08:06:00.000Z',
      reason: 'Termin nicht verfügbar',
    });
    expect(cases[3]).to.not.have.property('idempotencyKey');
    expect(requests).to.deep.equal([
      '/cases?since=2026-03-02T08%3A00%3A00.000Z',
      '/cases?since=2026-03-02T08%3A00%3A00.000Z&cursor=10',
      '/cases?since=2026-03-02T08%3A00%3A00.000Z&cursor=20',
    ]);
  });

  it('reads one page at a time: a consumer that stops early asks for no more', async () => {
    const a = await adapter({ ...fields, url: `${base}/cases?since={since}`, nextPointer: '/weiter', cursorParam: 'cursor' });
    for await (const c of a.list!(new Date(0))) {
      if (c.reference === 'AZ-003') break;
    }
    expect(requests).to.have.length(1);
  });

  it('follows next links on the same origin, with the time in a query parameter as epoch milliseconds', async () => {
    const since = new Date('2026-03-02T08:20:00Z');
    const a = await adapter({
      ...fields,
      url: `${base}/linked?format=json`,
      sinceParam: 'since',
      sinceFormat: 'epoch-ms',
      nextPointer: '/links/next',
    });
    const cases = await all(a.list!(new Date('2026-03-02T08:10:00Z')));
    expect(cases.map((c) => c.reference)).to.deep.equal(ROWS.slice(10).map((r) => r.az));
    expect(requests[0]).to.equal(`/linked?format=json&since=${Date.parse('2026-03-02T08:10:00Z')}`);
    expect(requests).to.have.length(2);
    const byPath = await adapter({ ...fields, url: `${base}/by-path/{since}` });
    expect((await all(byPath.list!(since))).map((c) => c.reference)).to.deep.equal(ROWS.slice(20).map((r) => r.az));
  });

  it('maps states like statusLookup, and skips items without a reference or a state, logging counts only', async () => {
    const mapped = await adapter({ ...fields, url: `${base}/by-path/{since}`, map: { ABGELEHNT: 'rejected', ERLEDIGT: 'completed' } });
    const cases = await all(mapped.list!(new Date('2026-03-02T08:06:00Z')));
    expect(cases[0]).to.include({ reference: 'AZ-007', status: 'rejected' });
    expect(cases[0]!.detail).to.deep.equal({ backOfficeStatus: 'ABGELEHNT' });
    expect(cases[2]).to.include({ status: 'IN_BEARBEITUNG' });
    const odd = await adapter({ ...fields, url: `${base}/odd?since={since}` });
    expect(await all(odd.list!(new Date(0)))).to.deep.equal([{ reference: 'AZ-ok', status: 'NEU' }]);
    await flushLogs();
    expect(lines.join('\n')).to.contain('"skipped":2').and.to.contain('not in listing.map');
  });

  it('uses the target’s OAuth2 token like deliveries do', async () => {
    const a = await adapter(
      { ...fields, url: `${base}/cases?since={since}`, nextPointer: '/weiter', cursorParam: 'cursor' },
      { auth: { type: 'oauth2', tokenUrl: `${base}/token`, clientId: 'amtsbote', clientSecret: CLIENT_SECRET, clientAuth: 'body' } },
    );
    const before = tokensIssued;
    expect(await all(a.list!(new Date('2026-03-02T08:15:00Z')))).to.have.length(10);
    expect(tokensIssued - before).to.equal(1);
  });

  it('throws clean errors at the page that failed: status and problem title, never the body, the query or the token', async () => {
    const fail = async (url: string, extra: Record<string, unknown> = {}) =>
      rejection(all((await adapter({ ...fields, url, ...extra })).list!(new Date(0))));
    const e503 = await fail(`${base}/broken?since={since}&key=abc123`);
    expect(e503.message).to.equal(`listing GET ${base}/broken answered HTTP 503 Service Unavailable: Wartung`);
    expect(e503).to.include({ retryable: true, httpStatus: 503 });
    const flaky = await fail(`${base}/flaky?since={since}`, { nextPointer: '/weiter', cursorParam: 'cursor' });
    expect(flaky.message).to.equal(`listing GET ${base}/flaky (page 2) answered HTTP 500 Internal Server Error`);
    const e404 = await fail(`${base}/nowhere?since={since}`);
    expect(e404.message).to.equal(`listing GET ${base}/nowhere answered HTTP 404 Not Found`);
    expect(e404.retryable).to.equal(false);
    expect((await fail(`${base}/no-items?since={since}`)).message).to.equal(
      `listing GET ${base}/no-items: the answer has no array at /vorgaenge`,
    );
    expect((await fail(`${base}/elsewhere?since={since}`, { nextPointer: '/links/next' })).message)
      .to.contain('leaves')
      .and.to.contain('not followed');
    expect((await fail(`${base}/loop?since={since}`, { nextPointer: '/weiter', cursorParam: 'cursor' })).message).to.contain(
      'the next page is the same page',
    );
    const capped = await fail(`${base}/cases?since={since}`, { nextPointer: '/weiter', cursorParam: 'cursor', maxPages: 2 });
    expect(capped.message).to.contain('maxPages (2)');

    const bad = await rest.create(
      rest.options.parse({
        url: `${base}/cases`,
        auth: { type: 'bearer', token: 'wrong' },
        listing: { ...fields, url: `${base}/cases?since={since}` },
      }),
      { clock: systemClock, targetId: 'listing-test', logger, timeoutMs: 2000 },
    );
    adapters.push(bad);
    const e401 = await rejection(all(bad.list!(new Date(0))));
    expect(e401.message).to.equal(`listing credentials rejected: GET ${base}/cases answered HTTP 401 Unauthorized`);

    const closed = http.createServer();
    const port = await listen(closed);
    await closeServer(closed);
    const eNet = await fail(`http://127.0.0.1:${port}/cases?since={since}`);
    expect(eNet.message).to.equal(
      `listing GET http://127.0.0.1:${port}/cases failed: network error ECONNREFUSED: 127.0.0.1:${port} refused the connection (nothing listens there)`,
    );
    expect(eNet.retryable).to.equal(true);

    await flushLogs();
    const everything = [e503, flaky, e404, e401, eNet].map((e) => e.message).join('\n') + lines.join('\n');
    for (const forbidden of [CITIZEN, 'abc123', TOKEN, CLIENT_SECRET]) expect(everything).not.to.contain(forbidden);
  });

  it('is offered only when configured; options need {since} or sinceParam, and nextPointer for a cursor', async () => {
    expect((await adapter(undefined)).list).to.equal(undefined);
    for (const listing of [
      { ...fields, url: `${base}/cases` },
      { ...fields, url: `${base}/cases?since={since}`, sinceParam: 'since' },
      { ...fields, url: `${base}/cases?since={since}`, cursorParam: 'cursor' },
      { ...fields, url: `${base}/cases?since={since}`, itemsPointer: 'items' },
      { ...fields, url: 'ftp://x.example/{since}' },
      { ...fields, url: `${base}/cases?since={since}`, sinceParam: 'a b' },
    ]) {
      expect(rest.options.safeParse({ url: base, listing }).success, JSON.stringify(listing)).to.equal(false);
    }
    expect(
      rest.options.parse({
        url: base,
        listing: { url: `${base}/c?s={since}`, itemsPointer: '', referencePointer: '/r', statusPointer: '/s' },
      }).listing,
    ).to.deep.equal({
      url: `${base}/c?s={since}`,
      sinceFormat: 'iso',
      itemsPointer: '',
      referencePointer: '/r',
      statusPointer: '/s',
      maxPages: 100_000,
    });
  });
});
