import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import SftpClient from 'ssh2-sftp-client';
import { capturingLogger, xmlMessage } from '../../src/sdk/conformance.ts';
import type { AdapterInstance, DeliveryContext, DeliveryResult } from '../../src/sdk/index.ts';
import fileDrop from './index.ts';
import { sftpTransport } from './sftp.ts';
import { startSshd, type TestSshd } from './test-sshd.ts';
import { HOSTILE_NAMES } from './test-hostile-names.ts';
import { systemClock } from '../../src/clock.ts';

// Against a real OpenSSH server on 127.0.0.1 (started here, as root with key login). The server's
// folder is on this machine, so the test reads it directly and plays the batch job there.

const message = xmlMessage('<?xml version="1.0" encoding="UTF-8"?><antrag><halter>Erika Mustermann</halter></antrag>');
const { logger, lines } = capturingLogger();

describe('file-drop over SFTP (real OpenSSH)', function () {
  this.timeout(30_000);
  let sshd: TestSshd;
  let dir: string;
  let n = 0;
  const instances: AdapterInstance[] = [];

  before(async function () {
    const started = await startSshd();
    if ('unavailable' in started) {
      console.warn(`      SFTP tests skipped: ${started.unavailable}`);
      return this.skip();
    }
    sshd = started;
  });
  after(async () => {
    await sshd?.stop();
  });
  beforeEach(async () => {
    if (!sshd) return;
    dir = join(sshd.root, `drop-${++n}`);
    await mkdir(dir);
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((i) => i.close?.()));
  });

  const transport = (over: Record<string, unknown> = {}) => ({
    type: 'sftp',
    host: '127.0.0.1',
    port: sshd.port,
    username: sshd.username,
    privateKey: sshd.clientKey,
    hostKey: sshd.hostKey,
    directory: dir,
    ...over,
  });

  async function adapter(options: Record<string, unknown> = {}, timeoutMs = 8000): Promise<AdapterInstance> {
    const parsed = fileDrop.options.parse({ ...options, transport: transport(options.transport as Record<string, unknown>) });
    const instance = await fileDrop.create(parsed, { clock: systemClock, targetId: 'sftp-test', logger, timeoutMs });
    instances.push(instance);
    return instance;
  }

  let seq = 0;
  function ctx(over: Partial<DeliveryContext> = {}): DeliveryContext {
    const id = `0190c0de-2222-7000-8000-${String(++seq).padStart(12, '0')}`;
    return { deliveryId: id, idempotencyKey: id, submissionId: 'sub-2', tenant: '05562', service: 'gewerbeanmeldung', attempt: 1, ...over };
  }
  const okResult = (r: DeliveryResult) => {
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    return r as Extract<DeliveryResult, { ok: true }>;
  };
  const accepted = () => (sshd.log().match(/Accepted publickey/g) ?? []).length;

  it('passes check() with the key and the pinned host key, leaving no probe file', async () => {
    const r = await (await adapter()).check();
    expect(r.ok, r.message).to.equal(true);
    expect(r.message).to.include(sshd.hostKey);
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('uploads atomically: the exact bytes under the final name, no temp file left', async () => {
    const a = await adapter();
    const c = ctx();
    const r = okResult(await a.deliver(message, c));
    const name = `05562_gewerbeanmeldung_${c.deliveryId}.xml`;
    expect(r.detail).to.deep.equal({ file: name });
    expect(await readdir(dir)).to.deep.equal([name]);
    expect(await readFile(join(dir, name), 'utf8')).to.equal(message.text);
  });

  it('relies on a server that refuses to rename over an existing file', async () => {
    // What the no-overwrite guarantee rests on, checked against this very server.
    const client = new SftpClient('probe', { error: () => undefined, end: () => undefined, close: () => undefined });
    await client.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.username,
      privateKey: await readFile(sshd.clientKey),
      hostVerifier: () => true,
    });
    try {
      await client.put(Buffer.from('new'), `${dir}/a`);
      await client.put(Buffer.from('old'), `${dir}/b`);
      let refused = false;
      await client.rename(`${dir}/a`, `${dir}/b`).catch(() => (refused = true));
      expect(refused, 'rename over an existing file must fail').to.equal(true);
      expect(await readFile(join(dir, 'b'), 'utf8')).to.equal('old');
    } finally {
      await client.end();
    }
  });

  it('never overwrites a different file and treats its own earlier file as success', async () => {
    const a = await adapter();
    const c = ctx();
    const name = `05562_gewerbeanmeldung_${c.deliveryId}.xml`;
    await writeFile(join(dir, name), 'from somebody else');
    expect(await a.deliver(message, c)).to.deep.include({ ok: false, retryable: false, errorKind: 'conflict' });
    expect(await readFile(join(dir, name), 'utf8')).to.equal('from somebody else');

    const c2 = ctx();
    okResult(await a.deliver(message, c2));
    const again = okResult(await a.deliver(message, { ...c2, attempt: 2 }));
    expect(again.detail).to.deep.include({ alreadyThere: true });
    expect((await readdir(dir)).sort()).to.have.length(2);
  });

  it('shares one connection between deliveries and reconnects after it drops', async () => {
    const before = accepted();
    const a = await adapter();
    for (let i = 0; i < 4; i++) okResult(await a.deliver(message, ctx()));
    // sshd logs the login after the client is in; give the line a moment to arrive.
    await new Promise((r) => setTimeout(r, 200));
    expect(accepted() - before, 'logins for four deliveries').to.equal(1);

    const t = sftpTransport(fileDrop.options.parse({ transport: transport() }).transport as never, {
      logger,
      timeoutMs: 5000,
      privateKey: await readFile(sshd.clientKey),
    });
    try {
      expect(await t.writeNew('x.xml', Buffer.from('x'))).to.equal('written');
      t.abort(); // what a deadline does to a hung session
      expect(await t.writeNew('y.xml', Buffer.from('y'))).to.equal('written');
      expect(await t.writeNew('y.xml', Buffer.from('y'))).to.equal('identical');
      expect(await t.writeNew('y.xml', Buffer.from('z'))).to.equal('conflict');
    } finally {
      await t.close();
    }
  });

  it('writes attachments beside and zipped over SFTP', async () => {
    const a = await adapter({ attachments: 'zip' });
    const att = { filename: 'Gewerbe Nachweis.pdf', mediaType: 'application/pdf', size: 4, sha256: '', content: Buffer.from('%PDF') };
    const name = String(okResult(await a.deliver({ ...message, attachments: [att] }, ctx())).detail!.file);
    expect(name).to.match(/\.zip$/);
    expect((await readFile(join(dir, name))).subarray(0, 2).toString()).to.equal('PK');
    const b = await adapter({ attachments: 'beside' });
    const r = okResult(await b.deliver({ ...message, attachments: [att] }, ctx()));
    expect(r.detail!.files as string[]).to.have.length(2);
    expect((await readdir(dir)).filter((f) => f.includes('.1-Gewerbe_Nachweis.pdf'))).to.have.length(1);
  });

  it('keeps hostile attachment names inside the remote folder as plain names', async () => {
    const a = await adapter({ attachments: 'beside' });
    const attachments = HOSTILE_NAMES.map((filename) => ({
      filename,
      mediaType: 'text/plain',
      size: 1,
      sha256: '',
      content: Buffer.from('x'),
    }));
    const before = (await readdir(sshd.root)).sort();
    okResult(await a.deliver({ ...message, attachments }, ctx()));
    expect((await readdir(sshd.root)).sort(), 'nothing written beside the drop folder').to.deep.equal(before);
    const files = await readdir(dir);
    expect(files).to.have.length(HOSTILE_NAMES.length + 1);
    for (const f of files) expect(f, f).to.match(/^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9_-]$/);
  });

  it('calls a missing remote directory retryable and check() says so', async () => {
    const a = await adapter({ transport: { directory: join(dir, 'not-there') } });
    expect(await a.deliver(message, ctx())).to.deep.include({ ok: false, retryable: true, errorKind: 'directory-missing' });
    const r = await a.check();
    expect(r.ok).to.equal(false);
    expect(r.message).to.include('does not exist');
  });

  it('refuses a server with another host key: check() fails, delivery is permanent (a security failure)', async () => {
    const a = await adapter({ transport: { hostKey: sshd.otherHostKey } });
    const r = await a.check();
    expect(r.ok).to.equal(false);
    expect(r.message).to.include('host key mismatch').and.include(sshd.hostKey);
    const d = await a.deliver(message, ctx());
    expect(d).to.deep.include({ ok: false, retryable: false, errorKind: 'host-key' });
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('fails check() cleanly with a key the server does not know; delivery is permanent', async () => {
    const a = await adapter({ transport: { privateKey: sshd.strangerKey } });
    const r = await a.check();
    expect(r.ok).to.equal(false);
    expect(r.message).to.match(/authentication failed for user \S+ \(private key refused\)/);
    expect(await a.deliver(message, ctx())).to.deep.include({ ok: false, retryable: false, errorKind: 'auth' });
  });

  it('fails check() cleanly when the server refuses the password', async () => {
    const a = await adapter({ transport: { privateKey: undefined, password: 'not-root-password-SECRET' } });
    const r = await a.check();
    expect(r.ok).to.equal(false);
    expect(r.message).to.include('(password refused)').and.not.include('SECRET');
  });

  it('uses an encrypted key with its passphrase, and a wrong passphrase fails check()', async () => {
    const a = await adapter({ transport: { privateKey: sshd.encryptedKey, passphrase: sshd.passphrase } });
    const r = await a.check();
    expect(r.ok, r.message).to.equal(true);
    okResult(await a.deliver(message, ctx()));
    const wrong = await adapter({ transport: { privateKey: sshd.encryptedKey, passphrase: 'not-the-passphrase' } });
    const w = await wrong.check();
    expect(w.ok).to.equal(false);
    expect(w.message).not.to.include('not-the-passphrase');
  });

  it('refuses to start without a readable private key file', async () => {
    let error = '';
    await adapter({ transport: { privateKey: join(sshd.root, 'no-such-key') } }).catch((e: Error) => (error = e.message));
    expect(error).to.include('no-such-key').and.include('ENOENT');
  });

  it('waits for <name>.ok written beside the file on the server', async () => {
    const a = await adapter({ acknowledgement: { mode: 'files', timeoutMs: 60_000 } });
    const r = okResult(await a.deliver(message, ctx()));
    const name = r.awaitingAck!.token;
    expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'pending' });
    await writeFile(join(dir, `${name}.ok`), 'GW-2026-17\n');
    expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'accepted', reference: 'GW-2026-17' });
    const two = okResult(await a.deliver(message, ctx())).awaitingAck!.token;
    await writeFile(join(dir, `${two}.err`), 'Gewerbe bereits angemeldet\n');
    expect(await a.acknowledgement!(two)).to.deep.equal({ state: 'rejected', error: 'Gewerbe bereits angemeldet' });
  });

  it('follows files moved to done/ over SFTP', async () => {
    await mkdir(join(dir, 'done'));
    await mkdir(join(dir, 'error'));
    const a = await adapter({ acknowledgement: { mode: 'folders', timeoutMs: 60_000 } });
    expect((await a.check()).ok).to.equal(true);
    const name = okResult(await a.deliver(message, ctx())).awaitingAck!.token;
    expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'pending' });
    await rename(join(dir, name), join(dir, 'done', name));
    expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'accepted', reference: null });
  });

  it('never logs the passphrase, the key or the message', () => {
    const log = lines.join('\n');
    expect(log).not.to.include(sshd.passphrase);
    expect(log).not.to.include('Mustermann');
    expect(log).not.to.include('PRIVATE KEY');
  });
});

describe('file-drop over SFTP: unreachable servers', function () {
  this.timeout(20_000);
  let silent: Server;
  let silentPort = 0;
  const sockets: Socket[] = [];
  const base = {
    type: 'sftp',
    host: '127.0.0.1',
    username: 'amtsbote',
    password: 'pw-SECRET-1',
    hostKey: 'SHA256:' + 'A'.repeat(43),
    directory: '/in',
  };
  const ctx: DeliveryContext = {
    deliveryId: 'd-1',
    idempotencyKey: 'd-1',
    submissionId: 's',
    tenant: '05513000',
    service: 'x',
    attempt: 1,
  };

  before(async () => {
    // Accepts TCP and never says a word: a hung server or a black-holing firewall.
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as { port: number }).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  async function make(port: number, timeoutMs: number) {
    return fileDrop.create(fileDrop.options.parse({ transport: { ...base, port } }), {
      clock: systemClock,
      targetId: 't',
      logger,
      timeoutMs,
    });
  }

  it('calls a refused connection retryable and check() not ok', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const a = await make(port, 3000);
    try {
      const r = await a.deliver(message, ctx);
      expect(r).to.deep.include({ ok: false, retryable: true, errorKind: 'network' });
      // Host and port are named: the folder's address carries them.
      expect(r.ok ? '' : r.error).to.match(new RegExp(`^sftp://\\w+@127\\.0\\.0\\.1:${port}/in: connection failed \\(ECONNREFUSED\\)`));
      const c = await a.check();
      expect(c.ok).to.equal(false);
      expect(c.message).to.contain(`127.0.0.1:${port}`);
    } finally {
      await a.close?.();
    }
  });

  it('gives up on a silent server within the timeout, retryable', async () => {
    const a = await make(silentPort, 1000);
    try {
      const started = Date.now();
      const r = await a.deliver(message, ctx);
      expect(r).to.deep.include({ ok: false, retryable: true, errorKind: 'timeout' });
      // The server never answers: bounded by the timeout, with a margin for a busy machine.
      expect(Date.now() - started).to.be.below(5000);
      const c = await a.check();
      expect(c.ok).to.equal(false);
      expect(c.message).not.to.include('pw-SECRET-1');
    } finally {
      await a.close?.();
    }
  });
});
