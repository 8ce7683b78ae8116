import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { CheckResult } from '../../src/sdk/index.ts';
import { errorCode } from './errors.ts';
import { tempName } from './naming.ts';
import { sameContent, type DropTransport, type FileInfo, type WriteOutcome } from './transport.ts';

/** link(2) answers these where the file system has no hard links (vfat, some SMB/CIFS mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);
/** fsync on a directory is refused by some file systems (network shares among them): durability is then the server's. */
const NO_DIR_FSYNC = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EBADF', 'EPERM', 'EACCES']);

/**
 * A folder on this machine (a local disk or a mounted share).
 *
 * Atomic and never overwriting: the bytes go to a temp dot file in the same directory, which is
 * fsynced, then hard-linked to the final name and unlinked. link(2) fails with EEXIST when the name
 * exists, atomically, so two writers (two hub instances, a lease that ran out) can never replace each
 * other's file, and the batch job sees the final name only when the content is complete. rename(2)
 * would silently replace an existing file, and "check, then rename" leaves a window in between.
 * Only where the file system has no hard links does the transport fall back to exactly that
 * check-then-rename; the window is then guarded by the hub's lease, which lets one worker at a
 * time hold a delivery, and names are unique per delivery.
 */
export function localTransport(directory: string): DropTransport {
  const dir = resolve(directory);
  const at = (path: string) => (isAbsolute(path) ? path : join(dir, path));

  const t: DropTransport = {
    where: dir,

    async writeNew(name, content): Promise<WriteOutcome> {
      const final = join(dir, name);
      const tmp = join(dir, tempName(name));
      // O_EXCL on the temp name as well: never write into a file somebody else has open.
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      try {
        try {
          await fh.writeFile(content);
          await fh.sync();
        } finally {
          await fh.close();
        }
        try {
          await link(tmp, final);
        } catch (err) {
          const code = errorCode(err);
          if (code === 'EEXIST') return await existing(final, content);
          if (typeof code !== 'string' || !NO_HARD_LINKS.has(code)) throw err;
          // No hard links here: check, then rename (see above for why that is still safe enough).
          if (await exists(final)) return await existing(final, content);
          await rename(tmp, final);
        }
        await fsyncDir(dir);
        return 'written';
      } finally {
        // After link the temp name is a second name of the final file; after rename it is gone.
        await unlink(tmp).catch(() => undefined);
      }
    },

    async stat(path): Promise<FileInfo | null> {
      try {
        const s = await stat(at(path));
        return { size: s.size, mtimeMs: s.mtimeMs, isFile: s.isFile() };
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return null;
        throw err;
      }
    },

    async read(path) {
      try {
        return await readFile(at(path));
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return null;
        throw err;
      }
    },

    async list(path) {
      try {
        return await readdir(path === undefined ? dir : at(path));
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return null;
        throw err;
      }
    },

    async check(folders): Promise<CheckResult> {
      let s: Awaited<ReturnType<typeof stat>>;
      try {
        s = await stat(dir);
      } catch (err) {
        const code = errorCode(err);
        if (code === 'ENOENT') return { ok: false, message: `directory ${dir} does not exist (a share not mounted?)` };
        if (code === 'ENOTDIR') return { ok: false, message: `directory ${dir}: a part of the path is not a directory` };
        return { ok: false, message: `directory ${dir} cannot be read (${code ?? 'error'})` };
      }
      if (!s.isDirectory()) return { ok: false, message: `${dir} is not a directory` };
      const probe = join(dir, `.amtsbote-check-${randomBytes(6).toString('hex')}`);
      try {
        const fh = await open(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        try {
          await fh.writeFile('amtsbote check\n');
        } finally {
          await fh.close();
        }
        await unlink(probe);
      } catch (err) {
        await unlink(probe).catch(() => undefined);
        return { ok: false, message: `directory ${dir} is not writable (${errorCode(err) ?? 'error'})` };
      }
      for (const f of folders) {
        const p = at(f);
        const fs = await stat(p).catch(() => null);
        if (!fs?.isDirectory()) return { ok: false, message: `acknowledgement folder ${p} does not exist` };
      }
      return { ok: true, message: `directory ${dir} is writable` };
    },

    // Local file-system calls cannot be cancelled; a hung mount keeps its thread until the kernel gives up.
    abort() {},
    async close() {},
  };

  async function existing(final: string, content: Buffer): Promise<WriteOutcome> {
    const same = await sameContent(t, final, content);
    if (same === null) {
      // It was there a moment ago and is gone (the batch job took it?): let the next attempt look again.
      throw Object.assign(new Error('the file vanished while it was compared'), { code: 'EAGAIN' });
    }
    return same ? 'identical' : 'conflict';
  }

  return t;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** Makes the new directory entry durable, so a crash after "delivered" cannot lose the name. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, constants.O_RDONLY);
    await fh.sync();
  } catch (err) {
    const code = errorCode(err);
    if (typeof code !== 'string' || !NO_DIR_FSYNC.has(code)) throw err;
  } finally {
    await fh?.close();
  }
}
