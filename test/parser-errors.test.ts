import net from 'node:net';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { startTestHub, type TestHub } from './support/hub.ts';

/** Sends raw bytes to the hub and reads everything it answers until it closes the connection. */
function rawRequest(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(Number(port), hostname, () => s.write(bytes));
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.setTimeout(5000, () => s.destroy(new Error('no answer')));
  });
}

function parse(answer: string): { status: number; headers: string; body: Record<string, unknown> } {
  const [head, body] = answer.split('\r\n\r\n') as [string, string];
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body: JSON.parse(body) };
}

describe('HTTP parser refusals answered as problem+json', () => {
  let bo: TestBackOffice;
  let t: TestHub;
  before(async () => {
    bo = await new TestBackOffice().start();
    t = await startTestHub({ kind: 'sqlite', backOfficeUrl: bo.url, worker: { enabled: false } });
  });
  after(async () => {
    await t?.stop(true);
    await bo?.stop();
  });

  const shapes: [string, string, number, string][] = [
    ['NUL in a header value', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', 400, 'malformed-request'],
    [
      'Content-Length and Transfer-Encoding together (smuggling)',
      'POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'malformed-request',
    ],
    [
      'two Content-Length values',
      'POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      400,
      'malformed-request',
    ],
    ['a space inside the request target', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'malformed-request'],
    ['a header block over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'header-too-large'],
    ['a space before the colon', 'GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n', 400, 'malformed-request'],
  ];
  for (const [what, bytes, status, type] of shapes) {
    it(`${what}: ${status} ${type}`, async () => {
      const a = parse(await rawRequest(t.hub.url, bytes));
      expect(a.status).to.equal(status);
      expect(a.headers).to.include('content-type: application/problem+json');
      expect(a.headers).to.include('x-content-type-options: nosniff');
      expect(a.body).to.include({ type: `urn:amtsbote:problem:${type}`, status });
      expect(JSON.stringify(a.body)).not.to.match(/aaaa|\\u0000|at .*\.ts/);
    });
  }

  it('the hub still answers after a burst of refusals', async () => {
    await Promise.all(shapes.map(([, bytes]) => rawRequest(t.hub.url, bytes)));
    expect((await t.fetch('/healthz')).status).to.equal(200);
  });
});
