import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'winston';
import type { Clock } from '../../clock.ts';
import type { Router } from '../../routing/router.ts';
import type { AckResult, DeliveryMemo } from '../../sdk/types.ts';
import type { ClaimedDelivery, MessageSource } from '../../store/index.ts';
import { HARD_STOP_GRACE_MS, withHardStop } from './in-process.ts';
import type { FromThread, ThreadData, ToThread } from './protocol.ts';
import type { AttemptRunner, RunOutcome } from './types.ts';

/** How long past an attempt's hard stop a thread may stay silent before it counts as stuck and is replaced. */
export const STUCK_AFTER_MS = 5_000;
/** A thread that could not start is tried again after this long, not in a tight loop. */
const RESTART_DELAY_MS = 1_000;

export interface ThreadRunnerOptions {
  threads: number;
  /** The configuration folder: each thread loads it and builds its Router and adapters from it. */
  configDir: string;
  /** The threads' environment (the hub's: secrets and `${env:…}` of the configuration). */
  env: NodeJS.ProcessEnv;
  /** The main thread's router: each attempt's timeout, for the stuck-thread watch. */
  router: Router;
  /** Where the threads' log lines go (the adapters' lines keep their `target` and `adapter` labels). */
  logger: Logger;
  now: Clock;
}

interface Open {
  resolve(v: unknown): void;
  reject(e: Error): void;
  memo?: DeliveryMemo;
  watch: NodeJS.Timeout;
}

interface Thread {
  worker: Worker;
  open: Map<number, Open>;
  ready: Promise<void>;
  /** It has reported ready. */
  started: boolean;
  alive: boolean;
}

/**
 * Renders and sends on `threads` worker threads, so the mapping, the XML and the adapters' HTTP run beside
 * the event loop that takes submissions and writes the store. Each request goes to the thread with the fewest
 * open ones. A thread that dies (or stays silent past an attempt's hard stop) fails its open requests, which
 * the worker retries as internal errors with the same idempotency key, and is replaced.
 */
export class ThreadRunner implements AttemptRunner {
  private readonly slots: (Thread | undefined)[] = [];
  private opened: Promise<void> | undefined;
  private closing = false;
  private nextId = 0;

  constructor(private readonly o: ThreadRunnerOptions) {}

  /** The running threads (tests stop one to see its attempts retried). */
  get threads(): Worker[] {
    return this.slots.filter((t): t is Thread => Boolean(t?.alive)).map((t) => t.worker);
  }

  open(): Promise<void> {
    this.opened ??= (async () => {
      for (let i = 0; i < this.o.threads; i++) this.slots[i] = this.spawn(i);
      try {
        await Promise.all(this.slots.map((t) => t!.ready));
      } catch (e) {
        await this.close();
        throw e;
      }
    })();
    return this.opened;
  }

  /**
   * The attempt ends at the hard stop whatever the thread does: the thread applies it around the adapter, and
   * here it covers the wait for a thread (one starting up, or busy rendering) too, so an attempt never outlives
   * the lease (`leaseMs` ≥ `timeoutMs` + 2000). A late answer is dropped, as a late adapter's is in-process.
   */
  run(d: ClaimedDelivery, src: MessageSource, memo: DeliveryMemo): Promise<RunOutcome> {
    const answer = this.request(d, memo, (id, now) => ({ type: 'run', id, now, delivery: d, source: src })) as Promise<RunOutcome>;
    return withHardStop(answer, this.timeoutOf(d));
  }

  acknowledgement(d: ClaimedDelivery): Promise<AckResult> {
    return this.request(d, undefined, (id, now) => ({ type: 'ack', id, now, delivery: d })) as Promise<AckResult>;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async (t) => {
        if (!t?.alive) return;
        t.worker.postMessage({ type: 'close' } satisfies ToThread);
        // The thread closes its adapters and ends; a thread busy past the grace is stopped.
        const ended = new Promise((r) => t.worker.once('exit', r));
        const timer = setTimeout(() => void t.worker.terminate(), 2_000);
        await ended;
        clearTimeout(timer);
      }),
    );
  }

  private request(d: ClaimedDelivery, memo: DeliveryMemo | undefined, message: (id: number, now: number) => ToThread): Promise<unknown> {
    const t = this.leastBusy();
    if (!t) return Promise.reject(new Error('no delivery thread is running'));
    const id = this.nextId++;
    const limit = this.timeoutOf(d) + HARD_STOP_GRACE_MS + STUCK_AFTER_MS;
    return new Promise((resolve, reject) => {
      const watch = setTimeout(() => {
        this.o.logger.error('a delivery thread did not answer within the attempt time; it is replaced', {
          threadId: t.worker.threadId,
          deliveryId: d.id,
          limitMs: limit,
        });
        void t.worker.terminate();
      }, limit);
      t.open.set(id, { resolve, reject, watch, ...(memo ? { memo } : {}) });
      t.worker.postMessage(message(id, this.o.now()));
    });
  }

  private timeoutOf(d: ClaimedDelivery): number {
    return this.o.router.step(d.routeId, d.targetId)?.target.config.timeoutMs ?? 30_000;
  }

  /** The ready thread with the fewest open requests; a starting one (it queues them) only when none is ready. */
  private leastBusy(): Thread | undefined {
    let best: Thread | undefined;
    const rank = (t: Thread) => (t.started ? 0 : 1_000_000) + t.open.size;
    for (const t of this.slots) if (t?.alive && (!best || rank(t) < rank(best))) best = t;
    return best;
  }

  private spawn(slot: number): Thread {
    const worker = startThread({ configDir: this.o.configDir, now: this.o.now() }, this.o.env);
    let failure: string | undefined;
    let ready!: { resolve(): void; reject(e: Error): void };
    const t: Thread = {
      worker,
      open: new Map(),
      started: false,
      alive: true,
      ready: new Promise<void>((resolve, reject) => (ready = { resolve, reject })),
    };
    // A failed start-up is open()'s to report (or the restart's to log): not an unhandled rejection.
    t.ready.catch(() => undefined);
    worker.on('message', (m: FromThread) => {
      if (m.type === 'ready') {
        t.started = true;
        ready.resolve();
      } else if (m.type === 'failed') {
        failure = m.error;
        ready.reject(new Error(`a delivery thread could not start: ${m.error}`));
      } else if (m.type === 'log') this.o.logger.log(m.level, m.message, m.meta);
      else if (m.type === 'memo') this.answerMemo(t, m);
      else {
        const open = t.open.get(m.id);
        if (!open) return;
        t.open.delete(m.id);
        clearTimeout(open.watch);
        if (m.type === 'threw') open.reject(new Error(m.error));
        else open.resolve(m.type === 'ran' ? m.outcome : m.ack);
      }
    });
    worker.on('error', (e) => {
      failure = e.message;
    });
    worker.on('exit', (code) => {
      t.alive = false;
      const why = failure ?? `exit code ${code}`;
      ready.reject(new Error(`a delivery thread could not start: ${why}`));
      for (const open of t.open.values()) {
        clearTimeout(open.watch);
        open.reject(new Error(`the delivery thread stopped during the attempt (${why})`));
      }
      t.open.clear();
      if (this.closing) return;
      this.o.logger.error('a delivery thread stopped; a new one takes its place', { threadId: worker.threadId, reason: why });
      const restart = () => {
        if (this.closing) return;
        const next = this.spawn(slot);
        this.slots[slot] = next;
        next.ready.catch((e: Error) => this.o.logger.error(e.message));
      };
      if (t.started) restart();
      else setTimeout(restart, RESTART_DELAY_MS).unref();
    });
    return t;
  }

  /** An adapter's memo call: the main thread's store answers, for the delivery of the request that asks. */
  private answerMemo(t: Thread, m: Extract<FromThread, { type: 'memo' }>): void {
    const answer = (a: Omit<Extract<ToThread, { type: 'memo-answer' }>, 'type' | 'call'>) => {
      if (t.alive) t.worker.postMessage({ type: 'memo-answer', call: m.call, ...a } satisfies ToThread);
    };
    const memo = t.open.get(m.id)?.memo;
    if (!memo) {
      answer({ error: 'the attempt is no longer open' });
      return;
    }
    const done = m.op === 'recall' ? memo.recall(m.key) : memo.remember(m.key, m.value ?? '').then(() => undefined);
    done.then(
      (value) => answer(value === undefined ? {} : { value }),
      (e: Error) => answer({ error: e.message }),
    );
  }
}

// Run from source, the thread's entry is TypeScript: a worker thread does not inherit the tsx loader the main
// thread runs under (neither `--import tsx` nor tsx's register()), so a small script registers it first.
const TS_BOOT = `(async () => {
  const { workerData } = await import('node:worker_threads');
  const { register } = await import(workerData.tsx);
  register();
  await import(workerData.entry);
})();`;

function startThread(data: ThreadData, env: NodeJS.ProcessEnv): Worker {
  const entry = new URL(`./thread-main${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { env, workerData: data });
  return new Worker(TS_BOOT, { eval: true, env, workerData: { ...data, entry: entry.href, tsx: import.meta.resolve('tsx/esm/api') } });
}
