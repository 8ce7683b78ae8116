import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * SQLite's WAL checkpoints, moved off the event loop. By default the connection that commits past 1,000 WAL pages
 * copies them into the database file and syncs it, inside that commit: measured here, a 10-row commit took
 * 1.2 ms on average with automatic checkpoints and 0.3 ms without, with single commits stalling for 200+ ms —
 * the hub answering nothing meanwhile. So the hub's connection turns them off (`wal_autocheckpoint = 0`) and a
 * thread with a connection of its own checkpoints every `intervalMs`. PASSIVE never waits for a lock or blocks
 * the writer; a frame a reader still needs is left for the next round. Should the thread fail, the connection
 * goes back to checkpointing itself (`onFailure`), so the WAL never grows without bound.
 */
export interface Checkpointer {
  /** Stops the thread after one last checkpoint. */
  close(): Promise<void>;
}

// The thread's code as a string (eval), so it runs the same from the TypeScript sources and from dist/, and
// loads better-sqlite3 by the path the hub resolved.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { if (e.code !== 'SQLITE_BUSY') throw e; } };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');

export function startCheckpointer(file: string, o: { intervalMs: number; onFailure: (e: Error) => void }): Checkpointer {
  const worker = new Worker(THREAD, { eval: true, workerData: { file, driver: driverPath, intervalMs: o.intervalMs } });
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.once('error', (e) => {
    if (!stopping) o.onFailure(e);
  });
  worker.once('exit', (code) => {
    if (!stopping && code !== 0) o.onFailure(new Error(`the WAL checkpoint thread exited with code ${code}`));
  });
  // Must not keep a finished process alive.
  worker.unref();
  return {
    async close() {
      stopping = true;
      // Held until it has exited, or a process whose last work is this close() would end before it.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
