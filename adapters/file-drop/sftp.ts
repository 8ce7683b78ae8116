import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import type { Logger } from 'winston';
import type { CheckResult } from '../../src/sdk/index.ts';
import { AuthError, ConfigError, HostKeyMismatchError, classifyError, oneLine } from './errors.ts';
import { tempName } from './naming.ts';
import type { SftpTransportOptions } from './options.ts';
import { sameContent, type DropTransport, type FileInfo, type WriteOutcome } from './transport.ts';

type Sftp = Awaited<ReturnType<SftpClient['connect']>>;
type Stats = Parameters<Parameters<Sftp['stat']>[1]>[1];

const SFTP_NO_SUCH_FILE = 2;
/** Below the smallest packet size servers accept (32 KiB of data per SSH_FXP_WRITE is the usual floor). */
const CHUNK = 32 * 1024;
const OPEN_WRITE_EXCLUSIVE = 'wx' as const;

/** OpenSSH's fingerprint of a host key blob: SHA256: and unpadded base64 of its SHA-256. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export interface SftpTransportContext {
  logger: Logger;
  /** Handshake timeout; the adapter bounds whole operations itself. */
  timeoutMs: number;
  /** The private key's content, read at start-up; never logged. */
  privateKey?: Buffer;
}

/**
 * A folder on an SFTP server, over one connection per target that deliveries share. It is opened on
 * first use, re-opened after it drops, and a connection that was lost while idle is retried once,
 * transparently: every step below may safely run twice.
 *
 * Atomic and never overwriting: the bytes go to a temp dot file (opened with O_EXCL), which is
 * fsynced where the server offers fsync@openssh.com, then renamed with the plain SFTP rename. That
 * rename refuses an existing target (SFTP v3; OpenSSH implements it with link+unlink, so the refusal
 * is atomic). posix-rename@openssh.com, which replaces, is never used. The final name is also looked
 * at before uploading, so a retry that finds its own file does not upload again.
 */
export function sftpTransport(o: SftpTransportOptions, ctx: SftpTransportContext): DropTransport {
  const dir = o.directory.replace(/\/+$/, '') || '/';
  const at = (path: string) => (path.startsWith('/') ? path : posix.join(dir, path));
  const where = `sftp://${o.username}@${o.host}:${o.port}${dir.startsWith('/') ? '' : '/~/'}${dir}`;
  const expectedKey = o.hostKey.replace(/=+$/, '');

  class Connection {
    private client: SftpClient | undefined;
    private sftp: Sftp | undefined;
    private pending: Promise<Sftp> | undefined;
    private connecting: SftpClient | undefined;
    closed = false;

    /** The live SFTP session and whether it was opened just now. */
    async get(): Promise<{ sftp: Sftp; fresh: boolean }> {
      if (this.closed) throw Object.assign(new Error('the adapter is closed'), { code: 'ERR_NOT_CONNECTED' });
      if (this.sftp) return { sftp: this.sftp, fresh: false };
      this.pending ??= this.open().finally(() => (this.pending = undefined));
      return { sftp: await this.pending, fresh: true };
    }

    isCurrent(sftp: Sftp): boolean {
      return this.sftp === sftp;
    }

    private async open(): Promise<Sftp> {
      let mismatch: HostKeyMismatchError | undefined;
      let raw: { level?: string; message?: string } | undefined;
      // Own callbacks: the library's defaults print to the console. Any of these means the session is gone.
      const gone = () => {
        if (this.client === client) this.drop();
      };
      const client = new SftpClient('amtsbote-file-drop', { error: gone, end: gone, close: gone });
      this.connecting = client;
      // The library rewraps errors and loses ssh2's `level`, which tells an authentication failure apart.
      client.on('error', (e: { level?: string; message?: string }) => (raw = e));
      const password = o.password;
      if (password) {
        // Servers that take passwords through PAM ask for them as keyboard-interactive prompts.
        client.on(
          'keyboard-interactive',
          (_name: string, _instructions: string, _lang: string, prompts: unknown[], finish: (answers: string[]) => void) =>
            finish(prompts.map(() => password)),
        );
      }
      try {
        const sftp = await client.connect({
          host: o.host,
          port: o.port,
          username: o.username,
          ...(password ? { password, tryKeyboard: true } : {}),
          ...(ctx.privateKey ? { privateKey: ctx.privateKey } : {}),
          ...(o.passphrase ? { passphrase: o.passphrase } : {}),
          readyTimeout: ctx.timeoutMs,
          // Notices a peer that vanished without a FIN (a NAT or firewall dropping an idle connection).
          keepaliveInterval: 15_000,
          keepaliveCountMax: 3,
          hostVerifier: (key: Buffer) => {
            const presented = hostKeyFingerprint(key);
            if (presented === expectedKey) return true;
            mismatch = new HostKeyMismatchError(expectedKey, presented);
            return false;
          },
        });
        if (this.closed) {
          // close() came while the handshake ran: nobody will end this session later.
          destroy(client);
          throw Object.assign(new Error('the adapter is closed'), { code: 'ERR_NOT_CONNECTED' });
        }
        this.client = client;
        this.sftp = sftp;
        ctx.logger.debug('file-drop sftp connected', { where });
        return sftp;
      } catch (err) {
        destroy(client);
        if (mismatch) {
          ctx.logger.warn('file-drop sftp host key mismatch; not connecting', {
            where,
            expected: mismatch.expected,
            presented: mismatch.presented,
          });
          throw mismatch;
        }
        const message = String(raw?.message ?? (err as Error)?.message ?? '');
        if (raw?.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
          throw new AuthError(`authentication failed for user ${o.username} (${credentialKinds()} refused)`);
        }
        if (/privateKey|private key|passphrase/i.test(message)) {
          // ssh2's parser messages ("Cannot parse privateKey: …") name the problem, never the key.
          throw new ConfigError(`the private key cannot be used: ${oneLine(message, 150)}`);
        }
        throw err;
      } finally {
        this.connecting = undefined;
      }
    }

    /** Gives up a handshake in progress (a deadline passed); its caller sees the connection fail. */
    cancelConnect(): void {
      if (this.connecting) destroy(this.connecting);
    }

    drop(): void {
      const client = this.client;
      this.client = undefined;
      this.sftp = undefined;
      if (client) destroy(client);
    }

    async close(): Promise<void> {
      this.closed = true;
      const client = this.client;
      this.client = undefined;
      this.sftp = undefined;
      if (!client) return;
      // A polite end, but never wait on a hung server for long.
      await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
      destroy(client);
    }
  }

  const connection = new Connection();
  /** Bumped by abort(): work cut off by a deadline must not quietly start over. */
  let aborts = 0;

  function credentialKinds(): string {
    return [o.password ? 'password' : '', ctx.privateKey ? 'private key' : ''].filter(Boolean).join(' and ');
  }

  /**
   * Runs `fn` on the shared session. A session found dead on first use after idling is re-opened and
   * `fn` run once more; a session opened just now is not (the failure is real).
   */
  async function run<T>(fn: (sftp: Sftp) => Promise<T>): Promise<T> {
    const generation = aborts;
    const { sftp, fresh } = await connection.get();
    try {
      return await fn(sftp);
    } catch (err) {
      const lost = !connection.isCurrent(sftp) || /no response from server|not connected|channel/i.test(String((err as Error)?.message));
      if (!lost) throw err;
      connection.drop();
      if (fresh || connection.closed || generation !== aborts) throw err;
      ctx.logger.debug('file-drop sftp connection lost; reconnecting once', { where });
      return fn((await connection.get()).sftp);
    }
  }

  async function statOn(sftp: Sftp, path: string): Promise<Stats | null> {
    try {
      return await call<Stats>((cb) => sftp.stat(path, cb));
    } catch (err) {
      if ((err as { code?: unknown }).code === SFTP_NO_SUCH_FILE) return null;
      throw err;
    }
  }

  async function readOn(sftp: Sftp, path: string): Promise<Buffer | null> {
    try {
      return await call<Buffer>((cb) => sftp.readFile(path, cb));
    } catch (err) {
      if ((err as { code?: unknown }).code === SFTP_NO_SUCH_FILE) return null;
      throw err;
    }
  }

  async function upload(sftp: Sftp, path: string, content: Buffer): Promise<void> {
    const handle = await call<Buffer>((cb) => sftp.open(path, OPEN_WRITE_EXCLUSIVE, { mode: 0o644 }, cb));
    try {
      for (let pos = 0; pos < content.length; pos += CHUNK) {
        const len = Math.min(CHUNK, content.length - pos);
        await call<void>((cb) => sftp.write(handle, content, pos, len, pos, cb));
      }
      await fsync(sftp, handle);
    } finally {
      await call<void>((cb) => sftp.close(handle, cb)).catch(() => undefined);
    }
  }

  const t: DropTransport = {
    where,

    writeNew(name, content): Promise<WriteOutcome> {
      return run(async (sftp) => {
        const final = posix.join(dir, name);
        const earlier = await sameContentOn(sftp, final, content);
        if (earlier !== null) return earlier ? 'identical' : 'conflict';
        const tmp = posix.join(dir, tempName(name));
        try {
          await upload(sftp, tmp, content);
          try {
            await call<void>((cb) => sftp.rename(tmp, final, cb));
            return 'written';
          } catch (err) {
            // The refusal of an existing target is a bare SSH_FX_FAILURE: look whether the name is taken now.
            const same = await sameContentOn(sftp, final, content);
            if (same === null) throw err;
            return same ? 'identical' : 'conflict';
          }
        } catch (err) {
          await call<void>((cb) => sftp.unlink(tmp, cb)).catch(() => undefined);
          throw err;
        }
      });
    },

    stat(path): Promise<FileInfo | null> {
      return run(async (sftp) => {
        const s = await statOn(sftp, at(path));
        return s ? { size: s.size, mtimeMs: s.mtime * 1000, isFile: s.isFile() } : null;
      });
    },

    read(path) {
      return run((sftp) => readOn(sftp, at(path)));
    },

    list(path) {
      return run(async (sftp) => {
        try {
          const entries = await call<{ filename: string }[]>((cb) => sftp.readdir(path === undefined ? dir : at(path), cb));
          return entries.map((e) => e.filename).filter((n) => n !== '.' && n !== '..');
        } catch (err) {
          if ((err as { code?: unknown }).code === SFTP_NO_SUCH_FILE) return null;
          throw err;
        }
      });
    },

    async check(folders): Promise<CheckResult> {
      try {
        return await run(async (sftp) => {
          const s = await statOn(sftp, dir);
          if (!s) return { ok: false, message: `${where}: directory does not exist` };
          if (!s.isDirectory()) return { ok: false, message: `${where}: not a directory` };
          const probe = posix.join(dir, `.amtsbote-check-${randomBytes(6).toString('hex')}`);
          try {
            await upload(sftp, probe, Buffer.from('amtsbote check\n'));
            await call<void>((cb) => sftp.unlink(probe, cb));
          } catch (err) {
            await call<void>((cb) => sftp.unlink(probe, cb)).catch(() => undefined);
            return { ok: false, message: `${where}: directory is not writable (${describe(err)})` };
          }
          for (const f of folders) {
            const fs = await statOn(sftp, at(f));
            if (!fs?.isDirectory()) return { ok: false, message: `${where}: acknowledgement folder ${at(f)} does not exist` };
          }
          return { ok: true, message: `${where}: connected (host key ${expectedKey} verified), directory writable` };
        });
      } catch (err) {
        if (err instanceof HostKeyMismatchError) return { ok: false, message: `${where}: ${err.message}` };
        if (err instanceof AuthError) return { ok: false, refused: true, message: `${where}: ${err.message}` };
        if (err instanceof ConfigError) return { ok: false, message: `${where}: ${err.message}` };
        const c = classifyError(err, where);
        return { ok: false, message: `cannot connect: ${c.ok ? '' : c.error}` };
      }
    },

    abort() {
      // Ends the shared session: whatever waits on it fails now instead of hanging, and the next use reconnects.
      aborts++;
      connection.cancelConnect();
      connection.drop();
    },

    close: () => connection.close(),
  };

  /** The same comparison as for local folders, on this session (so `run` can repeat a step whole). */
  function sameContentOn(sftp: Sftp, path: string, content: Buffer): Promise<boolean | null> {
    return sameContent(
      {
        stat: async (p) => {
          const s = await statOn(sftp, p);
          return s ? { size: s.size, mtimeMs: s.mtime * 1000, isFile: s.isFile() } : null;
        },
        read: (p) => readOn(sftp, p),
      },
      path,
      content,
    );
  }

  return t;
}

/** fsync@openssh.com where the server has it; elsewhere durability is the server's business. */
async function fsync(sftp: Sftp, handle: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    try {
      sftp.ext_openssh_fsync(handle, (err) => (err ? reject(err) : resolve()));
    } catch {
      resolve(); // "Server does not support this extended request", thrown synchronously
    }
  });
}

function call<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value)));
  });
}

/** Tears the socket down at once; the library's end() only acts once an SFTP channel exists. */
function destroy(client: SftpClient): void {
  client.end().catch(() => undefined);
  (client as unknown as { client?: { destroy?: () => void } }).client?.destroy?.();
}

function describe(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return code !== undefined ? String(code) : oneLine(String((err as Error)?.message ?? err), 100);
}
