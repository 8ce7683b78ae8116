import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import winston from 'winston';
import { createHttpApp } from './app.ts';
import { jsonBody } from './body.ts';
import { defineProblems, pointer } from './problem-details.ts';

// A feature as the kernel sees it: its own problem types (test types are named test-…, see problem.test.ts) and its router.
const orderProblem = defineProblems({ 'test-invalid-order': { status: 422, title: 'The order is not valid' } });

function orders(): express.Router {
  const api = express.Router();
  api.post('/orders', jsonBody('1kb'), (req, res) => {
    const b = req.body as { count?: unknown };
    if (typeof b.count !== 'number')
      throw orderProblem('test-invalid-order', '1 field is not valid', [{ pointer: pointer(['count']), detail: 'expected number' }]);
    res.status(201).json({ count: b.count });
  });
  api.get('/broken', () => {
    throw new Error('SELECT * FROM secrets failed at /srv/hub/store.ts:42');
  });
  return api;
}

describe('the HTTP kernel', () => {
  let server: Server;
  let url: string;
  const logged: string[] = [];

  before(async () => {
    const logger = winston.createLogger({
      transports: [new winston.transports.Stream({ stream: new Writable({ write: (c, _e, cb) => (logged.push(String(c)), cb()) }) })],
    });
    const app = createHttpApp({ logger, mounts: [{ path: '/api/v1', router: orders() }] });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (body: string) => fetch(`${url}/orders`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });

  it('answers a feature’s problem as RFC 9457 problem+json with the field’s pointer', async () => {
    const res = await post('{"count":"three"}');
    expect(res.status).to.equal(422);
    expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(await res.json()).to.deep.equal({
      type: 'urn:amtsbote:problem:test-invalid-order',
      title: 'The order is not valid',
      status: 422,
      detail: '1 field is not valid',
      instance: '/api/v1/orders',
      errors: [{ pointer: '#/count', detail: 'expected number' }],
    });
    expect((await post('{"count":3}')).status).to.equal(201);
  });

  it('turns body-parser’s errors into problems, without the parser’s words', async () => {
    const broken = await post('{"count":');
    expect(await broken.json()).to.deep.include({
      type: 'urn:amtsbote:problem:malformed-body',
      status: 400,
      detail: 'the request body could not be read',
    });
    const big = await post(JSON.stringify({ count: 1, pad: 'x'.repeat(2000) }));
    expect(await big.json()).to.deep.include({
      type: 'urn:amtsbote:problem:body-too-large',
      status: 413,
      detail: 'the limit is 1024 bytes',
    });
  });

  it('answers an unexpected error with a bare 500: the message goes to the log, not to the client', async () => {
    const res = await fetch(`${url}/broken`);
    const text = await res.text();
    expect(res.status).to.equal(500);
    expect(JSON.parse(text)).to.deep.equal({
      type: 'urn:amtsbote:problem:internal-error',
      title: 'The hub could not process the request',
      status: 500,
      instance: '/api/v1/broken',
    });
    expect(text).not.to.include('secrets');
    expect(logged.join('')).to.include('SELECT * FROM secrets failed');
  });

  it('answers a path no feature serves with a 404 problem', async () => {
    const res = await fetch(`${url}/nowhere`);
    expect(res.status).to.equal(404);
    expect(await res.json()).to.deep.include({ type: 'urn:amtsbote:problem:not-found', detail: 'no route for GET /api/v1/nowhere' });
  });
});
