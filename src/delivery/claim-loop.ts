/** What one round of claiming brought: the items, and perhaps a time to look again before the next poll. */
export interface ClaimRound<T> {
  claimed: T[];
  wakeAt?: number | undefined;
}

export interface ClaimLoopOptions<T extends { id: string }> {
  concurrency: number;
  pollIntervalMs: number;
  shutdownGraceMs: number;
  /** Claims at most `free` items (fewer, or none, when it prefers to wait). Must not throw. */
  claim(free: number): Promise<ClaimRound<T>>;
  /** Works one item to its end. Must not throw. */
  process(item: T): Promise<void>;
  now: () => number;
}

/**
 * The loop the delivery worker and the status outbox share: claim into free slots, process each claimed item
 * without waiting for it, and sleep until an item ends, `wake()` is called, a claim's `wakeAt` or the next poll.
 */
export class ClaimLoop<T extends { id: string }> {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly inFlight = new Map<string, { item: T; done: Promise<void> }>();

  constructor(private readonly o: ClaimLoopOptions<T>) {}

  /** The items being processed now. */
  get busy(): T[] {
    return [...this.inFlight.values()].map((f) => f.item);
  }

  get size(): number {
    return this.inFlight.size;
  }

  /** Starts claiming once `before` (start-up work) has finished. */
  start(before: Promise<void> = Promise.resolve()): void {
    if (this.running) return;
    this.running = true;
    this.loop = before.then(() => this.run());
  }

  wake(): void {
    this.wakeUp?.();
  }

  /** Stops claiming and waits up to the grace period for items under way; returns those still unfinished. */
  async stop(): Promise<T[]> {
    if (!this.running) return [];
    this.running = false;
    this.wake();
    await this.loop;
    if (this.inFlight.size) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => (timer = setTimeout(r, this.o.shutdownGraceMs)));
      await Promise.race([Promise.all([...this.inFlight.values()].map((f) => f.done)), grace]);
      clearTimeout(timer);
    }
    return this.busy;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.o.concurrency - this.inFlight.size;
      const round: ClaimRound<T> = free > 0 ? await this.o.claim(free) : { claimed: [] };
      for (const item of round.claimed) {
        const done = this.o.process(item).finally(() => {
          this.inFlight.delete(item.id);
          this.wake();
        });
        this.inFlight.set(item.id, { item, done });
      }
      // A full round means more may be due: go again at once.
      if (round.claimed.length > 0 && round.claimed.length === free) continue;
      if (!this.running) break;
      const wakeAt = round.wakeAt;
      const sleep =
        wakeAt !== undefined && Number.isFinite(wakeAt)
          ? Math.min(this.o.pollIntervalMs, Math.max(5, wakeAt - this.o.now()))
          : this.o.pollIntervalMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, sleep);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wakeUp = done;
      });
      this.wakeUp = undefined;
    }
  }
}
