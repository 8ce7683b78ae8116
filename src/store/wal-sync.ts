import { close, fdatasync, open } from 'node:fs';

/** How the WAL file is made durable: fdatasync on libuv's thread pool, so the event loop runs on meanwhile. */
export type SyncFile = (fd: number) => Promise<void>;

const fdatasyncAsync: SyncFile = (fd) => new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));

/**
 * Makes SQLite commits durable off the event loop. better-sqlite3 runs a commit synchronously; at
 * `synchronous = FULL` it includes the WAL's fsync (2+ ms here), during which the hub answers nothing. Committed
 * at `synchronous = NORMAL`, a transaction's frames are written to the WAL but not synced; `sync()` then syncs the
 * WAL file from the thread pool and resolves once every frame written before the call is on disk — what FULL
 * does inside the commit, moved out of it. Until it resolves the caller promises nothing (no 202). A crash before
 * that loses at most frames nobody was told about: the WAL's checksums make recovery stop at the last whole
 * commit, and what checkpoints copied into the database file was synced there by the checkpoint.
 *
 * Callers that ask while a sync runs share the next one (group commit for the disk): a sync that started before
 * their commit cannot cover it.
 */
export class WalSync {
  private fd: Promise<number> | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly walFile: string,
    private readonly syncFile: SyncFile = fdatasyncAsync,
  ) {}

  /** Resolves when everything committed before this call is on disk; rejects if the disk refuses. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    if (!this.running) return this.start();
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  /** Closes the WAL file's descriptor once the syncs under way are done. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.running, this.next]);
    const fd = await this.fd?.catch(() => undefined);
    this.fd = undefined;
    if (fd !== undefined) await new Promise<void>((resolve) => close(fd, () => resolve()));
  }

  private start(): Promise<void> {
    const done = (): void => {
      if (this.running === p) this.running = undefined;
    };
    const p: Promise<void> = this.descriptor()
      .then((fd) => this.syncFile(fd))
      .then(done, (e: unknown) => {
        done();
        throw e;
      });
    this.running = p;
    return p;
  }

  /** Opened at the first sync: SQLite creates the WAL file with the first write. It stays the same file while the store is open. */
  private descriptor(): Promise<number> {
    this.fd ??= new Promise<number>((resolve, reject) => open(this.walFile, 'r+', (e, fd) => (e ? reject(e) : resolve(fd))));
    // A failed open (no WAL yet) is tried again at the next sync.
    this.fd.catch(() => {
      this.fd = undefined;
    });
    return this.fd;
  }
}
