/**
 * Group commit: requests that arrive while a transaction is being written wait and are written together in the
 * next one. Each caller still gets its answer only after the commit that holds its row. On SQLite every commit
 * costs an fsync (synchronous=FULL), so one commit for fifty submissions instead of fifty is what lets durable
 * intake keep pace with the HTTP layer.
 */
export class GroupCommit<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private writers = 0;

  constructor(
    /** Writes a batch in one transaction; returns one result per item, in order. */
    private readonly writeBatch: (items: T[]) => Promise<R[]>,
    private readonly maxBatch: number,
    /**
     * Batches written at the same time. One for SQLite (a single connection); more for PostgreSQL, where a
     * batch mostly waits on round trips and the server commits concurrent transactions together.
     */
    private readonly maxWriters = 1,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.writers < this.maxWriters && this.queue.length === 1) {
        this.writers++;
        // Start on the next turn of the event loop, so requests read in this I/O phase join the first batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.writeBatch(batch.map((b) => b.item));
          batch.forEach((b, i) => {
            b.resolve(results[i]!);
          });
        } catch (e) {
          // One bad item must not fail its neighbours: write them one by one, each with its own answer.
          if (batch.length === 1) batch[0]!.reject(e);
          else for (const b of batch) await this.writeBatch([b.item]).then((r) => b.resolve(r[0]!), b.reject);
        }
        // Let the event loop read more requests before the next batch (better-sqlite3 blocks while it commits).
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.writers--;
    }
  }
}
