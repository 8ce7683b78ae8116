/** What one round of claiming brought: the items, and perhaps a time to look again before the next poll. */
export interface ClaimRound<T> {
  claimed: T[];
  wakeAt?: number | undefined;
}

export interface ClaimLoopOptions<T extends { id: string }> {
  concurrency: number;
  /**
   * Items claimed ahead and held here until a slot frees (default none): a slot that frees then starts the next
   * at once instead of waiting on a claim's round trip. They are under lease from their claim on.
   */
  prefetch?: number;
  /**
   * Groups that share the slots (the worker's targets): a queued item starts only while its group holds less than
   * an even share of the slots, so a slow group's queue never fills every slot.
   */
  group?: (item: T) => string;
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
  /** Claimed, not yet started: the local queue. */
  private queued: T[] = [];

  constructor(private readonly o: ClaimLoopOptions<T>) {}

  /** Items claimed and held here: those being processed and those queued for a slot. */
  get capacity(): number {
    return this.o.concurrency + (this.o.prefetch ?? 0);
  }

  /** The items this loop holds a claim on: being processed, or queued for a slot. */
  get busy(): T[] {
    return [...[...this.inFlight.values()].map((f) => f.item), ...this.queued];
  }

  get size(): number {
    return this.inFlight.size + this.queued.length;
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
    // Queued items were never started: they go back with the unfinished ones, and a restart claims afresh.
    const left = this.busy;
    this.queued = [];
    return left;
  }

  /** Starts queued items while there are free slots, each group within its share. */
  private startQueued(): void {
    while (this.running && this.queued.length && this.inFlight.size < this.o.concurrency) {
      const i = this.nextStartable();
      if (i < 0) return;
      const [item] = this.queued.splice(i, 1) as [T];
      const done = this.o.process(item).finally(() => {
        this.inFlight.delete(item.id);
        // The next queued item takes the slot at once; the loop claims more when it wakes.
        this.startQueued();
        this.wake();
      });
      this.inFlight.set(item.id, { item, done });
    }
  }

  /** The first queued item whose group is below its share of the slots, or -1. */
  private nextStartable(): number {
    const group = this.o.group;
    // Without a local queue every claimed item has a slot: the claim has already applied the shares.
    if (!group || !this.o.prefetch) return 0;
    const running = new Map<string, number>();
    for (const f of this.inFlight.values()) running.set(group(f.item), (running.get(group(f.item)) ?? 0) + 1);
    const groups = new Set([...running.keys(), ...this.queued.map(group)]);
    const share = Math.max(1, Math.ceil(this.o.concurrency / groups.size));
    return this.queued.findIndex((q) => (running.get(group(q)) ?? 0) < share);
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.capacity - this.size;
      const round: ClaimRound<T> = free > 0 ? await this.o.claim(free) : { claimed: [] };
      this.queued.push(...round.claimed);
      this.startQueued();
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
