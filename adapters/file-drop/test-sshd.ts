import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// A real OpenSSH server on a loopback port for the SFTP tests: the adapter is tested against the
// server it meets in data centres, including its refusal to rename over an existing file.

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  port: number;
  /** SHA256:… of the server's host key. */
  hostKey: string;
  /** Another key's fingerprint, for the mismatch test. */
  otherHostKey: string;
  /** A client key in authorized_keys, one that is not, and one protected by PASSPHRASE. */
  clientKey: string;
  strangerKey: string;
  encryptedKey: string;
  passphrase: string;
  username: string;
  /** Scratch space the tests may use (drop folders live below it). */
  root: string;
  /** What sshd printed, for a skip or failure message. */
  log(): string;
  stop(): Promise<void>;
}

async function keygen(path: string, passphrase = ''): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-f', path, '-N', passphrase, '-C', 'amtsbote-test']);
  const { stdout } = await run('ssh-keygen', ['-l', '-f', `${path}.pub`]);
  const fp = /SHA256:[A-Za-z0-9+/]{43}/.exec(stdout)?.[0];
  if (!fp) throw new Error(`no fingerprint in ssh-keygen output: ${stdout}`);
  return fp;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Starts sshd, or explains why it cannot (the caller skips the SFTP tests with that reason). */
export async function startSshd(): Promise<TestSshd | { unavailable: string }> {
  if (!existsSync(SSHD)) return { unavailable: `${SSHD} is missing (install Debian's openssh-server)` };
  const root = await mkdtemp(join(tmpdir(), 'amtsbote-sshd-'));
  let child: ChildProcess | undefined;
  let output = '';
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await rm(root, { recursive: true, force: true });
  };
  try {
    // sshd refuses to start without its privilege-separation directory.
    if (!existsSync('/run/sshd')) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const hostKey = await keygen(join(root, 'host_ed25519'));
    const otherHostKey = await keygen(join(root, 'other_host_ed25519'));
    await keygen(join(root, 'client_ed25519'));
    await keygen(join(root, 'stranger_ed25519'));
    const passphrase = 'Test-Passphrase-SECRET-9f2c';
    await keygen(join(root, 'encrypted_ed25519'), passphrase);
    const authorized = (
      await Promise.all(['client_ed25519.pub', 'encrypted_ed25519.pub'].map((f) => readFile(join(root, f), 'utf8')))
    ).join('');
    await writeFile(join(root, 'authorized_keys'), authorized, { mode: 0o600 });
    const port = await freePort();
    const username = (await run('id', ['-un'])).stdout.trim();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(root, 'host_ed25519')}`,
      `AuthorizedKeysFile ${join(root, 'authorized_keys')}`,
      `PidFile ${join(root, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${username}`,
      'Subsystem sftp internal-sftp',
      'StrictModes no',
      'UsePAM no',
      'LogLevel INFO',
      '',
    ].join('\n');
    await writeFile(join(root, 'sshd_config'), config);
    child = spawn(SSHD, ['-D', '-e', '-f', join(root, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
    const spawned = child;
    const failed = new Promise<string>((resolve) => {
      spawned.once('error', (e) => resolve(`cannot run ${SSHD}: ${e.message}`));
      spawned.once('exit', (code) => resolve(`${SSHD} exited with ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`));
    });
    for (let i = 0; i < 100; i++) {
      const why = await Promise.race([failed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
      if (why) {
        await stop();
        return { unavailable: why };
      }
      if (await canConnect(port)) {
        return {
          port,
          hostKey,
          otherHostKey,
          clientKey: join(root, 'client_ed25519'),
          strangerKey: join(root, 'stranger_ed25519'),
          encryptedKey: join(root, 'encrypted_ed25519'),
          passphrase,
          username,
          root,
          log: () => output,
          stop,
        };
      }
    }
    await stop();
    return { unavailable: `${SSHD} did not listen on 127.0.0.1:${port} within 10 s` };
  } catch (err) {
    await stop();
    return { unavailable: `cannot prepare sshd: ${(err as Error).message}` };
  }
}
