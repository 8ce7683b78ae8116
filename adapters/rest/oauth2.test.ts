import http from 'node:http';
import express from 'express';
import { expect } from 'chai';
import { maskSecrets } from '../../src/sdk/index.ts';
import type { AdapterInstance, DeliveryResult } from '../../src/sdk/index.ts';
import rest from './index.ts';
import { authHeaders } from '../_http/auth.ts';
import { capturingLogger, closeServer, dctx, failure, flushLogs, jsonMessage, listen, sleep } from './test-helpers.ts';
import { systemClock } from '../../src/clock.ts';

// A real OAuth2 token endpoint and API on 127.0.0.1. The token endpoint counts its requests, so the
// tests can say exactly how many tokens the adapter fetched; the API accepts only tokens it knows.

const CLIENT_ID = 'amtsbote-hub';
// Characters that RFC 6749 §2.3.1's form-encoding must carry through Basic auth intact.
const CLIENT_SECRET = 'cs:SECRET+/ä%20 x-9f2e';
const CITIZEN = 'Erika Mustermann';

interface TokenCall {
  authorization: string | undefined;
  form: Record<string, string>;
}

describe('rest adapter: oauth2 client credentials', () => {
  let server: http.Server;
  let base = '';
  const lines: string[] = [];
  const logger = capturingLogger(lines);
  const adapters: AdapterInstance[] = [];

  // What the token endpoint does next, and what it has seen.
  let tokenCalls: TokenCall[] = [];
  let expiresIn: number | string | undefined = 3600;
  let tokenMode: 'ok' | '503' | 'no-token' | 'slow' | 'mac' = 'ok';
  let tokenDelayMs = 0;
  const issued: string[] = [];
  const revoked = new Set<string>();
  let apiCalls: { authorization: string | undefined; idempotencyKey: string | undefined }[] = [];

  async function adapter(options: Record<string, unknown>, timeoutMs = 2000): Promise<AdapterInstance> {
    const instance = await rest.create(rest.options.parse(options), { clock: systemClock, targetId: 'oauth2-test', logger, timeoutMs });
    adapters.push(instance);
    return instance;
  }

  const oauth = (extra: Record<string, unknown> = {}) => ({
    type: 'oauth2',
    tokenUrl: `${base}/oauth/token`,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ...extra,
  });

  /** The client credentials the token endpoint received, by either method. */
  function credentials(req: express.Request): { id?: string; secret?: string } {
    const h = req.headers.authorization;
    if (h?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
      const decode = (v: string | undefined) => (v === undefined ? undefined : decodeURIComponent(v.replace(/\+/g, ' ')));
      return { id: decode(id), secret: decode(secret) };
    }
    const body = req.body as Record<string, string>;
    return { id: body.client_id, secret: body.client_secret };
  }

  before(async () => {
    const app = express();
    app.post('/oauth/token', express.urlencoded({ extended: false }), async (req, res) => {
      tokenCalls.push({ authorization: req.headers.authorization, form: { ...(req.body as Record<string, string>) } });
      if (tokenDelayMs) await sleep(tokenDelayMs);
      if (tokenMode === '503') return void res.status(503).set('Retry-After', '3').json({ error: 'temporarily_unavailable' });
      if (tokenMode === 'slow') return void setTimeout(() => !res.destroyed && res.json({ access_token: 'late' }), 5000).unref();
      const c = credentials(req);
      if ((req.body as Record<string, string>).grant_type !== 'client_credentials')
        return void res.status(400).json({ error: 'unsupported_grant_type' });
      if (c.id !== CLIENT_ID || c.secret !== CLIENT_SECRET) {
        return void res.status(401).json({ error: 'invalid_client', error_description: 'Client authentication failed' });
      }
      if (tokenMode === 'no-token') return void res.json({ token_type: 'Bearer' });
      const token = `at-${issued.length + 1}-Zk9qX`;
      issued.push(token);
      res.json({
        access_token: token,
        token_type: tokenMode === 'mac' ? 'mac' : 'Bearer',
        ...(expiresIn === undefined ? {} : { expires_in: expiresIn }),
      });
    });
    const api = express.Router();
    api.use(express.text({ type: () => true }));
    api.use((req, res, next) => {
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
      apiCalls.push({ authorization: req.headers.authorization, idempotencyKey: req.get('idempotency-key') });
      if (req.path === '/always-401' || !issued.includes(token) || revoked.has(token)) return void res.sendStatus(401);
      next();
    });
    api.get('/', (_req, res) => void res.json({ up: true }));
    api.post('/cases', (req, res) => void res.status(201).json({ id: `AZ-${req.get('idempotency-key')}` }));
    api.get('/status/:ref', (req, res) => void res.json({ state: `S-${req.params.ref}` }));
    app.use('/api', api);
    server = http.createServer(app);
    base = `http://127.0.0.1:${await listen(server)}`;
  });

  beforeEach(() => {
    tokenCalls = [];
    apiCalls = [];
    expiresIn = 3600;
    tokenMode = 'ok';
    tokenDelayMs = 0;
  });

  after(async () => {
    await Promise.all(adapters.map((a) => a.close?.()));
    await closeServer(server);
  });

  const message = jsonMessage({ antragsteller: CITIZEN });

  describe('options', () => {
    it('applies the defaults, masks the client secret and refuses incomplete oauth2', () => {
      const o = rest.options.parse({
        url: 'https://fv.example/cases',
        auth: { type: 'oauth2', tokenUrl: 'https://idp.example/token', clientId: 'c', clientSecret: CLIENT_SECRET },
      });
      expect(o.auth).to.deep.equal({
        type: 'oauth2',
        tokenUrl: 'https://idp.example/token',
        clientId: 'c',
        clientSecret: CLIENT_SECRET,
        clientAuth: 'basic',
        defaultTokenLifetimeSeconds: 300,
        tokenTls: 'target',
      });
      const masked = JSON.stringify(maskSecrets(rest.options, o));
      expect(masked).not.to.contain(CLIENT_SECRET);
      expect(masked).to.contain('"clientId":"c"');
      for (const bad of [
        { type: 'oauth2', tokenUrl: 'https://idp.example/token', clientId: 'c' },
        { type: 'oauth2', tokenUrl: 'not a url', clientId: 'c', clientSecret: 's' },
        { type: 'oauth2', tokenUrl: 'https://idp.example/token', clientId: 'c', clientSecret: 's', clientAuth: 'jwt' },
        { type: 'oauth2', tokenUrl: 'https://idp.example/token', clientId: 'c', clientSecret: 's', grant: 'password' },
        { type: 'oauth2', tokenUrl: 'https://u:p@idp.example/token', clientId: 'c', clientSecret: 's' },
      ]) {
        expect(rest.options.safeParse({ url: 'https://fv.example', auth: bad }).success, JSON.stringify(bad)).to.equal(false);
      }
      // Reserved headers stay reserved with oauth2 too.
      expect(rest.options.safeParse({ url: 'https://fv.example', auth: oauth(), headers: { authorization: 'Bearer x' } }).success).to.equal(
        false,
      );
    });

    it('authHeaders() refuses oauth2 instead of sending no credentials', () => {
      const o = rest.options.parse({ url: 'https://fv.example', auth: oauth() });
      expect(() => authHeaders(o.auth)).to.throw(/OAuth2TokenSource/);
    });
  });

  describe('tokens', () => {
    it('fetches one token for many deliveries, sequential and concurrent, with Basic client auth, scope and audience', async () => {
      tokenDelayMs = 100; // the concurrent deliveries all arrive while the first request is in flight
      const a = await adapter({
        url: `${base}/api/cases`,
        referencePointer: '/id',
        auth: oauth({ scope: 'faelle:schreiben faelle:lesen', audience: 'https://fv.example' }),
      });
      const concurrent = await Promise.all(Array.from({ length: 6 }, () => a.deliver(message, dctx('oa'))));
      for (let i = 0; i < 4; i++) concurrent.push(await a.deliver(message, dctx('oa')));
      expect(
        concurrent.every((r) => r.ok),
        JSON.stringify(concurrent),
      ).to.equal(true);
      expect(tokenCalls).to.have.length(1);
      expect(apiCalls).to.have.length(10);
      expect(new Set(apiCalls.map((c) => c.authorization))).to.deep.equal(new Set([`Bearer ${issued.at(-1)}`]));
      const call = tokenCalls[0]!;
      expect(call.form).to.deep.equal({
        grant_type: 'client_credentials',
        scope: 'faelle:schreiben faelle:lesen',
        audience: 'https://fv.example',
      });
      expect(call.authorization).to.match(/^Basic /);
    });

    it('clientAuth body: sends client_id and client_secret as form fields, no Authorization header', async () => {
      const a = await adapter({ url: `${base}/api/cases`, auth: oauth({ clientAuth: 'body' }) });
      expect((await a.deliver(message, dctx('oa'))).ok).to.equal(true);
      expect(tokenCalls).to.have.length(1);
      expect(tokenCalls[0]!.authorization).to.equal(undefined);
      expect(tokenCalls[0]!.form).to.deep.equal({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    });

    it('fetches a new token when the cached one is about to expire', async () => {
      expiresIn = 2; // a 2 s token is used for half its life (the 30 s skew is capped at half)
      const a = await adapter({ url: `${base}/api/cases`, auth: oauth() });
      expect((await a.deliver(message, dctx('oa'))).ok).to.equal(true);
      expect((await a.deliver(message, dctx('oa'))).ok).to.equal(true);
      expect(tokenCalls).to.have.length(1);
      await sleep(1100);
      expect((await a.deliver(message, dctx('oa'))).ok).to.equal(true);
      expect(tokenCalls).to.have.length(2);
    });

    it('caches a token without expires_in for defaultTokenLifetimeSeconds; takes expires_in as a string', async () => {
      expiresIn = undefined;
      const a = await adapter({ url: `${base}/api/cases`, auth: oauth({ defaultTokenLifetimeSeconds: 1 }) });
      expect((await a.deliver(message, dctx('oa'))).ok).to.equal(true);
      expect((await a.deliver(message, dctx('oa'))).ok).to.equal(true);
      expect(tokenCalls).to.have.length(1);
      await sleep(1100);
      expect((await a.deliver(message, dctx('oa'))).ok).to.equal(true);
      expect(tokenCalls).to.have.length(2);

      expiresIn = '3600';
      const b = await adapter({ url: `${base}/api/cases`, auth: oauth({ defaultTokenLifetimeSeconds: 1 }) });
      await b.deliver(message, dctx('oa'));
      await sleep(1100);
      await b.deliver(message, dctx('oa'));
      expect(tokenCalls).to.have.length(3);
    });

    it('on a 401 from the back office: exactly one new token and one retry, same idempotency key', async () => {
      const a = await adapter({ url: `${base}/api/cases`, referencePointer: '/id', auth: oauth() });
      expect((await a.deliver(message, dctx('oa'))).ok).to.equal(true);
      revoked.add(issued.at(-1)!);
      tokenCalls = [];
      apiCalls = [];
      const ctx = dctx('oa');
      const r = await a.deliver(message, ctx);
      expect(r).to.deep.equal({ ok: true, reference: `AZ-${ctx.idempotencyKey}`, httpStatus: 201 });
      expect(tokenCalls).to.have.length(1);
      expect(apiCalls).to.have.length(2);
      expect(apiCalls.map((c) => c.idempotencyKey)).to.deep.equal([ctx.idempotencyKey, ctx.idempotencyKey]);
      expect(apiCalls[0]!.authorization).not.to.equal(apiCalls[1]!.authorization);
    });

    it('concurrent 401s with the same revoked token share one refresh', async () => {
      const a = await adapter({ url: `${base}/api/cases`, auth: oauth() });
      await a.deliver(message, dctx('oa'));
      revoked.add(issued.at(-1)!);
      tokenCalls = [];
      tokenDelayMs = 100;
      const results = await Promise.all(Array.from({ length: 5 }, () => a.deliver(message, dctx('oa'))));
      expect(
        results.every((r) => r.ok),
        JSON.stringify(results),
      ).to.equal(true);
      expect(tokenCalls).to.have.length(1);
    });

    it('a back office that keeps answering 401: one refresh, one retry, then a permanent failure', async () => {
      const a = await adapter({ url: `${base}/api/always-401`, auth: oauth() });
      const r = failure(await a.deliver(message, dctx('oa')));
      expect(r).to.include({ retryable: false, errorKind: 'http-401', httpStatus: 401 });
      expect(tokenCalls).to.have.length(2);
      expect(apiCalls).to.have.length(2);
    });
  });

  describe('token endpoint failures', () => {
    it('a wrong client secret is permanent, and check() says why', async () => {
      const a = await adapter({ url: `${base}/api/cases`, auth: oauth({ clientSecret: 'wrong-SECRET-77' }) });
      const r = failure(await a.deliver(message, dctx('oa')));
      expect(r).to.include({ retryable: false, errorKind: 'token-http-401' });
      expect(r.error).to.equal(
        `OAuth2 token endpoint ${base}/oauth/token answered HTTP 401: invalid_client (Client authentication failed)`,
      );
      expect(apiCalls).to.have.length(0);

      const c = await a.check();
      expect(c.ok).to.equal(false);
      expect(c.message).to.equal(
        `OAuth2 token request failed: token endpoint ${base}/oauth/token answered HTTP 401: invalid_client (Client authentication failed)`,
      );
      expect(tokenCalls).to.have.length(2); // a failed token is not cached
    });

    it('check() passes with good credentials, using the token', async () => {
      const a = await adapter({ url: `${base}/api/cases`, checkUrl: `${base}/api/`, auth: oauth() });
      const c = await a.check();
      expect(c, c.message).to.include({ ok: true });
      expect(apiCalls[0]!.authorization).to.equal(`Bearer ${issued.at(-1)}`);
    });

    it('5xx from the token endpoint is retryable with Retry-After; a refused one is a network error', async () => {
      tokenMode = '503';
      const a = await adapter({ url: `${base}/api/cases`, auth: oauth() });
      const r = failure(await a.deliver(message, dctx('oa')));
      expect(r).to.include({ retryable: true, errorKind: 'token-http-503', retryAfterMs: 3000 });
      expect(r.error).to.contain('temporarily_unavailable');
      expect((await a.check()).ok).to.equal(false);

      const closed = http.createServer();
      const port = await listen(closed);
      await closeServer(closed);
      const b = await adapter({ url: `${base}/api/cases`, auth: oauth({ tokenUrl: `http://127.0.0.1:${port}/token` }) });
      const n = failure(await b.deliver(message, dctx('oa')));
      expect(n).to.include({ retryable: true, errorKind: 'token-network' });
      expect(n.error).to.contain('ECONNREFUSED');
      const c = await b.check();
      expect(c.ok).to.equal(false);
      expect(c.message).to.contain('OAuth2 token request failed').and.to.contain('ECONNREFUSED');
    });

    it('a slow token endpoint is bounded by the attempt timeout', async () => {
      tokenMode = 'slow';
      const a = await adapter({ url: `${base}/api/cases`, auth: oauth() }, 300);
      const started = Date.now();
      const r = failure(await a.deliver(message, dctx('oa')));
      expect(r).to.include({ retryable: true, errorKind: 'token-timeout' });
      // Well before the token endpoint's answer at 5 s.
      expect(Date.now() - started).to.be.below(4000);
    });

    it('an answer without access_token, or a token type other than Bearer, is permanent', async () => {
      tokenMode = 'no-token';
      const a = await adapter({ url: `${base}/api/cases`, auth: oauth() });
      const r = failure(await a.deliver(message, dctx('oa')));
      expect(r).to.include({ retryable: false, errorKind: 'token-invalid-answer' });
      expect(r.error).to.contain('without a usable access_token');
      tokenMode = 'mac';
      const m = failure(await a.deliver(message, dctx('oa')));
      expect(m.error).to.contain('only Bearer is supported');
    });
  });

  describe('status lookup with oauth2', () => {
    it('uses the token and refreshes it once on a 401', async () => {
      const a = await adapter({
        url: `${base}/api/cases`,
        auth: oauth(),
        statusLookup: { url: `${base}/api/status/{reference}`, statusPointer: '/state' },
      });
      expect(await a.status!('AZ-1')).to.deep.equal({ reference: 'AZ-1', status: 'S-AZ-1' });
      revoked.add(issued.at(-1)!);
      expect(await a.status!('AZ-2')).to.deep.equal({ reference: 'AZ-2', status: 'S-AZ-2' });
      expect(tokenCalls).to.have.length(2);
    });
  });

  it('never logs or returns the client secret, a token or the body', async () => {
    const results: DeliveryResult[] = [];
    const a = await adapter({ url: `${base}/api/cases`, auth: oauth() });
    results.push(await a.deliver(message, dctx('oa')));
    revoked.add(issued.at(-1)!);
    results.push(await a.deliver(message, dctx('oa')));
    const bad = await adapter({ url: `${base}/api/cases`, auth: oauth({ clientSecret: 'wrong-SECRET-77' }) });
    results.push(await bad.deliver(message, dctx('oa')));
    const checks = [await a.check(), await bad.check()];
    await flushLogs();
    expect(lines.length).to.be.greaterThan(3);
    const everything = [...lines, ...results.map((r) => JSON.stringify(r)), ...checks.map((c) => c.message)].join('\n');
    const basic = Buffer.from(`${CLIENT_ID}:`).toString('base64').slice(0, 12);
    for (const forbidden of [CLIENT_SECRET, 'wrong-SECRET-77', 'Zk9qX', basic, CITIZEN]) {
      expect(everything, forbidden).not.to.contain(forbidden);
    }
  });
});
