import { expect } from 'chai';
import net, { type AddressInfo } from 'node:net';
import axios from 'axios';
import { classifyNetworkError, hostAndPort } from './http-errors.ts';

/** What a real connection attempt throws, through axios as the HTTP adapters use it. */
async function thrownBy(url: string): Promise<unknown> {
  try {
    await axios.get(url, { timeout: 5000 });
  } catch (err) {
    return err;
  }
  throw new Error(`expected ${url} to fail`);
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('network error classification', () => {
  it('names host and port of a refused connection, never the path, query or credentials', async () => {
    const port = await closedPort();
    const err = await thrownBy(`http://operator:S3CRET@127.0.0.1:${port}/api/cases?token=S3CRET`);
    const r = classifyNetworkError(err);
    expect(r).to.deep.equal({
      ok: false,
      retryable: true,
      error: `network error ECONNREFUSED: 127.0.0.1:${port} refused the connection (nothing listens there)`,
      errorKind: 'network',
    });
  });

  it('names the peer that closed the connection', async () => {
    // A server that accepts and hangs up at once: the client sees ECONNRESET or a socket closed mid-request.
    const server = net.createServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await thrownBy(`http://127.0.0.1:${port}/x`);
      const r = classifyNetworkError(err);
      expect(r).to.include({ retryable: true, errorKind: 'network' });
      expect(r.ok ? '' : r.error).to.equal(`network error ECONNRESET: 127.0.0.1:${port} closed the connection`);
    } finally {
      server.close();
    }
  });

  it('names host and port when the name does not resolve', async () => {
    // RFC 6761: .invalid never resolves. Without DNS at all the lookup fails with EAI_AGAIN instead.
    const err = await thrownBy('https://fachverfahren.invalid/api?apiKey=S3CRET');
    const r = classifyNetworkError(err);
    const text = r.ok ? '' : r.error;
    expect(text).to.be.oneOf([
      'network error ENOTFOUND: the host name of fachverfahren.invalid:443 is not known to DNS',
      'network error EAI_AGAIN: DNS could not look up fachverfahren.invalid:443 just now',
    ]);
  });

  it('takes host and port from the URL the caller gives, with the default port of the scheme', () => {
    const r = classifyNetworkError({ code: 'ETIMEDOUT' }, 'https://user:pw@fv.example/cases/{reference}?q=1');
    expect(r).to.deep.equal({
      ok: false,
      retryable: true,
      error: 'back office fv.example:443 did not answer in time',
      errorKind: 'timeout',
    });
    expect(hostAndPort('http://[::1]:8080/x')).to.equal('[::1]:8080');
    expect(hostAndPort('not a url')).to.equal(undefined);
    // Without anything to name, the message stays as it was.
    expect(classifyNetworkError({ code: 'EPROTO' })).to.include({ error: 'network error EPROTO' });
  });
});
