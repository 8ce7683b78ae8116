import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { expect } from 'chai';
import { maskSecrets } from '../../src/sdk/index.ts';
import type { AdapterInstance } from '../../src/sdk/index.ts';
import rest from './index.ts';
import { capturingLogger, closeServer, dctx, failure, flushLogs, jsonMessage, listen } from './test-helpers.ts';
import { systemClock } from '../../src/clock.ts';

// A real HTTPS back office on 127.0.0.1 that demands a client certificate signed by its CA.
// The certificates are made with openssl in a temporary folder for this run only.

const PASSPHRASE = 'Schlüssel-Passphrase-SECRET-31';
const BASIC_PASSWORD = 'basic-pw-SECRET-55';

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** CA, a server certificate for 127.0.0.1, a client certificate, and the client key encrypted. */
function makeCertificates(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    dir,
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=Amtsbote Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'amtsbote-hub'],
  ] as const) {
    openssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
  openssl(dir, 'pkey', '-in', 'client.key', '-aes256', '-passout', `pass:${PASSPHRASE}`, '-out', 'client-enc.key');
}

describe('rest adapter: tls client certificates', function () {
  this.timeout(30_000);
  let dir = '';
  let server: https.Server | undefined;
  let base = '';
  const lines: string[] = [];
  const logger = capturingLogger(lines);
  const adapters: AdapterInstance[] = [];
  let tokenRequests = 0;
  const f = (name: string) => path.join(dir, name);

  async function adapter(options: Record<string, unknown>, timeoutMs = 3000): Promise<AdapterInstance> {
    const instance = await rest.create(rest.options.parse(options), { clock: systemClock, targetId: 'tls-test', logger, timeoutMs });
    adapters.push(instance);
    return instance;
  }

  before(async function () {
    if (spawnSync('openssl', ['version']).status !== 0) {
      console.warn('    (skipped: the TLS client-certificate tests need the openssl command to make certificates)');
      return this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'amtsbote-rest-tls-'));
    makeCertificates(dir);

    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.post('/oauth/token', (_req, res) => {
      tokenRequests++;
      res.json({ access_token: 'mtls-bound-token', token_type: 'Bearer', expires_in: 600 });
    });
    app.use((req, res, next) => {
      // A back office behind mTLS may want credentials on top of the certificate.
      const h = req.headers.authorization;
      if (req.path.startsWith('/basic/') && h !== 'Basic ' + Buffer.from(`hub:${BASIC_PASSWORD}`).toString('base64'))
        return void res.sendStatus(401);
      if (req.path.startsWith('/oauth2/') && h !== 'Bearer mtls-bound-token') return void res.sendStatus(401);
      next();
    });
    const cases = (req: express.Request, res: express.Response) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.status(201).json({ id: 'TLS-1', client: peer.subject?.CN });
    };
    app.post('/cases', cases);
    app.post('/basic/cases', cases);
    app.post('/oauth2/cases', cases);
    app.get('/', (_req, res) => void res.send('ok'));
    server = https.createServer(
      {
        key: readFileSync(f('server.key')),
        cert: readFileSync(f('server.crt')),
        ca: readFileSync(f('ca.crt')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      app,
    );
    base = `https://127.0.0.1:${await listen(server)}`;
  });

  after(async () => {
    await Promise.all(adapters.map((a) => a.close?.()));
    await closeServer(server);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const message = jsonMessage({ name: 'Erika Mustermann' });
  const mtls = (extra: Record<string, unknown> = {}) => ({ cert: f('client.crt'), key: f('client.key'), ca: f('ca.crt'), ...extra });

  it('delivers with the client certificate; the server sees who it is', async () => {
    const a = await adapter({ url: `${base}/cases`, referencePointer: '/id', tls: mtls() });
    expect(await a.deliver(message, dctx('tls'))).to.deep.equal({ ok: true, reference: 'TLS-1', httpStatus: 201 });
    expect((await a.check()).ok).to.equal(true);
  });

  it('without a client certificate the server refuses the handshake: a network failure, and check() fails', async () => {
    const a = await adapter({ url: `${base}/cases`, tls: { ca: f('ca.crt') } });
    const r = failure(await a.deliver(message, dctx('tls')));
    expect(r).to.include({ retryable: true, errorKind: 'network' });
    const c = await a.check();
    expect(c.ok).to.equal(false);
    expect(c.message).to.match(/^GET https:\/\/127\.0\.0\.1:\d+\/ failed: network error /);
  });

  it("without the CA the server's certificate is not trusted; rejectUnauthorized: false accepts it", async () => {
    const a = await adapter({ url: `${base}/cases`, tls: { cert: f('client.crt'), key: f('client.key') } });
    const r = failure(await a.deliver(message, dctx('tls')));
    expect(r.error).to.match(/network error (UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)/);
    const b = await adapter({ url: `${base}/cases`, tls: { cert: f('client.crt'), key: f('client.key'), rejectUnauthorized: false } });
    expect(await b.deliver(message, dctx('tls'))).to.include({ ok: true });
    await flushLogs();
    expect(lines.join('\n')).to.contain('rejectUnauthorized is false');
  });

  it('uses an encrypted key with its passphrase; a wrong passphrase stops create() with a clean message', async () => {
    const a = await adapter({ url: `${base}/cases`, tls: mtls({ key: f('client-enc.key'), passphrase: PASSPHRASE }) });
    expect(await a.deliver(message, dctx('tls'))).to.include({ ok: true });
    let thrown: Error | undefined;
    try {
      await adapter({ url: `${base}/cases`, tls: mtls({ key: f('client-enc.key'), passphrase: 'falsch' }) });
    } catch (e) {
      thrown = e as Error;
    }
    expect(thrown?.message).to.equal('tls: cannot use the configured files: the key cannot be decrypted (wrong or missing passphrase?)');
  });

  it('names a missing file and a key that does not belong to the certificate', async () => {
    expect(() =>
      rest.create(rest.options.parse({ url: `${base}/cases`, tls: mtls({ cert: f('nope.crt') }) }), {
        clock: systemClock,
        targetId: 't',
        logger,
        timeoutMs: 1000,
      }),
    ).to.throw(`tls.cert: cannot read ${f('nope.crt')} (ENOENT)`);
    expect(() =>
      rest.create(rest.options.parse({ url: `${base}/cases`, tls: mtls({ key: f('server.key') }) }), {
        clock: systemClock,
        targetId: 't',
        logger,
        timeoutMs: 1000,
      }),
    ).to.throw('the key does not belong to the certificate');
  });

  it('works together with basic auth and with oauth2 (the token endpoint behind the same mTLS)', async () => {
    const a = await adapter({
      url: `${base}/basic/cases`,
      auth: { type: 'basic', username: 'hub', password: BASIC_PASSWORD },
      tls: mtls(),
    });
    expect(await a.deliver(message, dctx('tls'))).to.include({ ok: true });
    const oauth = { type: 'oauth2', tokenUrl: `${base}/oauth/token`, clientId: 'hub', clientSecret: 'cs-SECRET-9' };
    const b = await adapter({ url: `${base}/oauth2/cases`, referencePointer: '/client', auth: oauth, tls: mtls() });
    expect(await b.deliver(message, dctx('tls'))).to.deep.equal({ ok: true, reference: 'amtsbote-hub', httpStatus: 201 });
    expect(tokenRequests).to.equal(1);
    // tokenTls: system leaves the private CA out of the token request: this token endpoint is then untrusted.
    const c = await adapter({ url: `${base}/oauth2/cases`, auth: { ...oauth, tokenTls: 'system' }, tls: mtls() });
    const r = failure(await c.deliver(message, dctx('tls')));
    expect(r).to.include({ errorKind: 'token-network', retryable: true });
    expect(tokenRequests).to.equal(1);
  });

  it('never logs the passphrase, the key or the basic password', async () => {
    await flushLogs();
    const key = readFileSync(f('client.key'), 'utf8').split('\n')[1]!;
    const log = lines.join('\n');
    for (const forbidden of [PASSPHRASE, BASIC_PASSWORD, key, 'mtls-bound-token', 'cs-SECRET-9'])
      expect(log, forbidden).not.to.contain(forbidden);
  });
});

describe('rest adapter: tls options', () => {
  it('options: paths only, cert and key together, https only, passphrase masked', () => {
    const ok = rest.options.parse({
      url: 'https://fv.example/cases',
      tls: { cert: '/etc/amtsbote/c.pem', key: '/etc/amtsbote/k.pem', passphrase: PASSPHRASE },
    });
    expect(ok.tls).to.deep.equal({
      cert: '/etc/amtsbote/c.pem',
      key: '/etc/amtsbote/k.pem',
      passphrase: PASSPHRASE,
      rejectUnauthorized: true,
    });
    const masked = JSON.stringify(maskSecrets(rest.options, ok));
    expect(masked).not.to.contain(PASSPHRASE);
    expect(masked).to.contain('/etc/amtsbote/k.pem');
    for (const tls of [
      { cert: '/c.pem' },
      { key: '/k.pem' },
      { ca: '/ca.pem', passphrase: 'x' },
      { cert: '/c.pem', key: '-----BEGIN PRIVATE KEY-----\nMIIE...' },
      { ca: '/ca.pem', verify: false },
    ]) {
      const r = rest.options.safeParse({ url: 'https://fv.example/cases', tls });
      expect(r.success, JSON.stringify(tls)).to.equal(false);
      expect(JSON.stringify(r.error?.issues)).not.to.contain('MIIE');
    }
    expect(rest.options.safeParse({ url: 'http://fv.example/cases', tls: { ca: '/ca.pem' } }).success).to.equal(false);
  });
});
