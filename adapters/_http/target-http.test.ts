import { expect } from 'chai';
import http from 'node:http';
import zlib from 'node:zlib';
import { systemClock } from '../../src/clock.ts';
import { classifyNetworkError } from '../../src/sdk/index.ts';
import { capturingLogger, closeServer, listen } from '../rest/test-helpers.ts';
import { createTargetHttp, proxyConfigured, type TargetHttp } from './target-http.ts';

// The HTTP side every HTTP target shares, against real servers on 127.0.0.1: what rest and xml-http rely on of
// it beyond what their own tests cover (compressed answers, the size cap, a proxy from the environment).

function target(maxResponseBytes = 1024): TargetHttp {
  return createTargetHttp({
    adapter: 'rest',
    version: '1.0.0',
    accept: 'application/json',
    auth: { type: 'none' },
    timeoutMs: 2000,
    logger: capturingLogger([]),
    maxResponseBytes,
    clock: systemClock,
  });
}

const post = (t: TargetHttp, url: string) =>
  t.send(
    { method: 'POST', url, data: Buffer.from('{"a":1}'), headers: { 'Content-Type': 'application/json' } },
    AbortSignal.timeout(2000),
    {},
  );

describe('target-http', () => {
  let server: http.Server | undefined;
  let proxy: http.Server | undefined;
  afterEach(async () => {
    await closeServer(server);
    await closeServer(proxy);
    server = proxy = undefined;
  });

  it('reads gzip, deflate (wrapped or raw) and br answers as text, and offers them in Accept-Encoding', async () => {
    const answer = JSON.stringify({ caseId: 'AZ-1', note: 'ä'.repeat(50) });
    const encoders: Record<string, (b: Buffer) => Buffer> = {
      gzip: zlib.gzipSync,
      deflate: zlib.deflateSync,
      'deflate-raw': zlib.deflateRawSync,
      br: zlib.brotliCompressSync,
    };
    const seen: (string | undefined)[] = [];
    server = http.createServer((req, res) => {
      seen.push(req.headers['accept-encoding']);
      const name = req.url!.slice(1);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': name === 'deflate-raw' ? 'deflate' : name });
      res.end(encoders[name]!(Buffer.from(answer)));
    });
    const port = await listen(server);
    const t = target();
    try {
      for (const name of Object.keys(encoders)) {
        const res = await post(t, `http://127.0.0.1:${port}/${name}`);
        expect(res.data, name).to.equal(answer);
        expect(res.headers['content-encoding'], name).to.equal(undefined);
      }
    } finally {
      t.close();
    }
    expect(seen).to.deep.equal(Array(4).fill('gzip, compress, deflate, br'));
  });

  it('refuses an answer over the cap, also one that is small only while compressed', async () => {
    server = http.createServer((req, res) => {
      const big = Buffer.alloc(4096, 'x');
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        res.end(zlib.gzipSync(big));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(big);
      }
    });
    const port = await listen(server);
    const t = target(1024);
    try {
      for (const path of ['/plain', '/gzip']) {
        const err = await post(t, `http://127.0.0.1:${port}${path}`).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(classifyNetworkError(err), path).to.deep.equal({
          ok: false,
          retryable: true,
          error: `network error ERR_BAD_RESPONSE talking to 127.0.0.1:${port}`,
          errorKind: 'network',
        });
      }
    } finally {
      t.close();
    }
  });

  it('names a refused back office by the host name configured, not the address it resolved to', async () => {
    server = http.createServer();
    const port = await listen(server);
    await closeServer(server);
    server = undefined;
    const t = target();
    try {
      const err = await post(t, `http://localhost:${port}/cases`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(classifyNetworkError(err)).to.include({
        error: `network error ECONNREFUSED: localhost:${port} refused the connection (nothing listens there)`,
      });
    } finally {
      t.close();
    }
  });

  it('goes through the proxy HTTP_PROXY names, as axios did, and straight to the back office without one', async () => {
    const backOffice: string[] = [];
    server = http.createServer((req, res) => {
      backOffice.push(req.url!);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"caseId":"AZ-7"}');
    });
    const port = await listen(server);
    const viaProxy: string[] = [];
    // A forwarding proxy: it gets the absolute URL and passes the request on.
    proxy = http.createServer((req, res) => {
      viaProxy.push(req.url!);
      const out = http.request(req.url!, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(out);
    });
    const proxyPort = await listen(proxy);
    const url = `http://127.0.0.1:${port}/cases`;

    const direct = target();
    try {
      expect((await post(direct, url)).status).to.equal(201);
    } finally {
      direct.close();
    }
    expect(viaProxy).to.deep.equal([]);

    const before = process.env.HTTP_PROXY;
    process.env.HTTP_PROXY = `http://127.0.0.1:${proxyPort}`;
    let proxied: TargetHttp | undefined;
    try {
      expect(proxyConfigured()).to.equal(true);
      proxied = target();
      const res = await post(proxied, url);
      expect(res).to.include({ status: 201, data: '{"caseId":"AZ-7"}' });
    } finally {
      proxied?.close();
      if (before === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = before;
    }
    expect(viaProxy).to.deep.equal([url]);
    expect(backOffice).to.deep.equal(['/cases', '/cases']);
  });
});
