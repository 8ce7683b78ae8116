import { hostname } from 'node:os';

/**
 * Whether the process an owner string names (`<host>:<pid>`, or a worker's `<host>:<pid>:<random>`) is known to be
 * gone: only a process on this host can be checked; one elsewhere is never known gone.
 */
export function processGone(owner: string): boolean {
  const m = /^(.*?):(\d+)(?::[^:]*)?$/.exec(owner);
  if (!m || m[1] !== hostname()) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
