import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';

/**
 * One hub process per SQLite file.
 *
 * Decision: the claim is an OS-level lock, not a pid in a file. `<file>-lock` is an empty SQLite database on
 * which the hub holds an open `BEGIN IMMEDIATE` transaction for as long as it runs: SQLite takes a POSIX
 * record lock (fcntl) on it, which the kernel drops the moment the process ends, however it ends (SIGKILL, OOM,
 * power-off of the container). Whether "the holder is still alive" is then answered by the kernel, never
 * guessed. A pid file was wrong in two ways that matter in containers: the hub is pid 1, so after a crash the
 * restarted hub (pid 1 again) found "itself" named and refused; and any unrelated process that inherited the
 * old pid kept the database locked. pid + process start time + boot id would fix those, but not two containers
 * sharing a volume (each one's pid 1 lives in its own pid namespace, where the other's pid means nothing),
 * and it still needs a take-over race of its own. A record lock has none of that: it works across pid
 * namespaces on one kernel, and the same SQLite locking also guards the database itself. (Like SQLite, it
 * needs a file system with working POSIX locks: local disks and bind mounts are fine, some network shares not.)
 *
 * The lock file is never deleted: removing a lock file another starter may already have opened would let two
 * processes each lock a different inode. `<file>.lock` beside it is information only (who holds the claim,
 * for the refusal message and for people); it proves nothing and a stale one is simply overwritten.
 */
export function claimSqliteFile(file: string): () => void {
  mkdirSync(path.dirname(file), { recursive: true });
  const lockFile = `${file}-lock`;
  const infoFile = `${file}.lock`;
  const lock = new SQLite(lockFile);
  try {
    // No waiting: a held claim means another hub runs; and no journal file, as nothing is ever written.
    lock.pragma('busy_timeout = 0');
    lock.pragma('journal_mode = MEMORY');
    lock.exec('BEGIN IMMEDIATE');
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
    throw new Error(
      `${holder(infoFile)} is running on ${file}; SQLite serves one hub process. Stop it, or run several instances on PostgreSQL (--database-url).`,
    );
  }
  const me = JSON.stringify({ pid: process.pid, host: hostname() });
  try {
    writeFileSync(infoFile, me + '\n');
  } catch (e) {
    lock.close();
    throw e;
  }
  return () => {
    try {
      if (readFileSync(infoFile, 'utf8').trim() === me) unlinkSync(infoFile);
    } catch {
      // already gone
    }
    // Ends the transaction and drops the record lock; the next hub may claim the file.
    lock.close();
  };
}

/** Who the information file names; it may be missing or half-written, and older hubs wrote a bare pid. */
function holder(infoFile: string): string {
  try {
    const text = readFileSync(infoFile, 'utf8').trim();
    const info = /^\d+$/.test(text) ? { pid: Number(text) } : (JSON.parse(text) as { pid?: unknown; host?: unknown });
    if (typeof info.pid === 'number')
      return `another Amtsbote process (pid ${info.pid}${typeof info.host === 'string' && info.host !== hostname() ? ` on ${info.host}` : ''})`;
  } catch {
    // unreadable: say what we know
  }
  return 'another Amtsbote process';
}
