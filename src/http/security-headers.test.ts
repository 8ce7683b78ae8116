import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { allowedMethods, answerOptions, noStore, securityHeaders } from './security-headers.ts';
import { notFoundHandler } from './problem-handler.ts';

/** A small app laid out like the hub: headers first, routers under /api/v1, a 404 for the rest. */
function app(): express.Express {
  const a = express();
  a.disable('x-powered-by');
  a.use(securityHeaders());
  a.use(answerOptions(a));
  const api = express.Router();
  api.post('/submissions', (_req, res) => void res.status(202).json({ id: 'x' }));
  api.get('/submissions/:id', noStore, (req, res) => void res.json({ id: req.params.id, applicant: { name: 'Erika Mustermann' } }));
  a.use('/api/v1', api);
  const ops = express.Router();
  ops.route('/deliveries/:id/replay').post((_req, res) => void res.status(202).end());
  a.use('/api/v1/operator', ops);
  a.get('/healthz', (_req, res) => void res.json({ ok: true }));
  a.use(notFoundHandler);
  return a;
}

describe('security headers and OPTIONS', () => {
  let server: Server;
  let base: string;
  let served: express.Express;
  before(async () => {
    served = app();
    server = served.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it('puts helmet’s headers, set for an API, on every answer, errors included', async () => {
    for (const [method, path] of [
      ['GET', '/healthz'],
      ['POST', '/api/v1/submissions'],
      ['GET', '/nowhere'],
    ]) {
      const res = await fetch(base + path, { method });
      const h = res.headers;
      expect(h.get('x-content-type-options'), path).to.equal('nosniff');
      expect(h.get('content-security-policy')).to.equal("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
      expect(h.get('x-frame-options')).to.equal('DENY');
      expect(h.get('referrer-policy')).to.equal('no-referrer');
      expect(h.get('strict-transport-security')).to.match(/^max-age=\d+; includeSubDomains$/);
      expect(h.get('cross-origin-resource-policy')).to.equal('same-origin');
      expect(h.get('x-powered-by')).to.equal(null);
    }
  });

  it('marks answers with personal data Cache-Control: no-store, and only those it is put on', async () => {
    const read = await fetch(`${base}/api/v1/submissions/abc`);
    expect(read.headers.get('cache-control')).to.equal('no-store');
    expect((await fetch(`${base}/healthz`)).headers.get('cache-control')).to.equal(null);
  });

  it('answers OPTIONS on a served path 405 problem+json with Allow, not express’s 200 text/plain', async () => {
    const res = await fetch(`${base}/api/v1/submissions/abc`, { method: 'OPTIONS' });
    expect(res.status).to.equal(405);
    expect(res.headers.get('content-type')).to.equal('application/problem+json; charset=utf-8');
    expect(res.headers.get('allow')).to.equal('GET, HEAD');
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(await res.json()).to.deep.equal({
      type: 'urn:amtsbote:problem:method-not-allowed',
      title: 'This method is not allowed here',
      status: 405,
      detail: '/api/v1/submissions/abc allows GET, HEAD',
      instance: '/api/v1/submissions/abc',
    });
    const post = await fetch(`${base}/api/v1/submissions`, { method: 'OPTIONS' });
    expect(post.headers.get('allow')).to.equal('POST');
  });

  it('answers OPTIONS on an unknown path 404 like any unknown path', async () => {
    const res = await fetch(`${base}/api/v1/nothing`, { method: 'OPTIONS' });
    expect(res.status).to.equal(404);
    expect((await res.json()).type).to.equal('urn:amtsbote:problem:not-found');
  });

  it('finds the methods through routers mounted on a path, and route() chains', () => {
    expect(allowedMethods(served, '/api/v1/operator/deliveries/d1/replay')).to.deep.equal(['POST']);
    expect(allowedMethods(served, '/healthz')).to.deep.equal(['GET', 'HEAD']);
    expect(allowedMethods(served, '/api/v1/operator/deliveries/d1')).to.deep.equal([]);
  });
});
