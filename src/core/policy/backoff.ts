import type { RetryPolicy } from '../../config/schema.ts';

/** Honour at most a day of Retry-After: a back office that asks for more is treated as asking for a day. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Delay before the attempt after `attempt` (1-based): base·2^(attempt-1), capped, with the jittered share
 * drawn at random so many deliveries failing together do not retry together. A Retry-After from the back
 * office wins when it asks for longer.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 40));
  const delay = Math.round(exp * (1 - policy.jitter * random()));
  if (retryAfterMs !== undefined) return Math.max(delay, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
  return delay;
}

export interface RetryLoop {
  /** The delays (and an upper bound of tries): the target's policy.retry, as the worker uses it. */
  policy: RetryPolicy;
  /** Tries at most this many times, and never more than `policy.maxAttempts`. */
  maxAttempts: number;
  /** No further try starts once this long has passed since the first, waits included. */
  maxDurationMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (error: Error, attempt: number, delayMs: number) => void;
}

/** The last error of `retrying`, and how many tries it took. */
export class RetriesFailed extends Error {
  constructor(
    override readonly cause: Error,
    readonly attempts: number,
  ) {
    super(attempts > 1 ? `${cause.message} (gave up after ${attempts} attempts)` : cause.message);
    this.name = 'RetriesFailed';
  }
}

/**
 * Runs `fn` until it succeeds, waiting `retryDelay` between tries, for calls made in-process (a reconciliation
 * run's listing) rather than through the queue. An error with `retryable: false` (the sdk's read errors say so
 * for a 4xx, a wrong answer) is not tried again; any other is, honouring a `retryAfterMs` it carries. Bounded by
 * tries and by total time; the elapsed time counts by the clock and by the waits, whichever is more, so a
 * stopped test clock still ends the loop.
 */
export async function retrying<T>(fn: (attempt: number) => Promise<T>, o: RetryLoop): Promise<T> {
  const started = o.now();
  const limit = Math.max(1, Math.min(o.maxAttempts, o.policy.maxAttempts));
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      const { retryable, retryAfterMs } = error as { retryable?: unknown; retryAfterMs?: unknown };
      if (retryable === false || attempt >= limit) throw new RetriesFailed(error, attempt);
      const delay = retryDelay(o.policy, attempt, typeof retryAfterMs === 'number' ? retryAfterMs : undefined, o.random);
      if (Math.max(o.now() - started, waited) + delay > o.maxDurationMs) throw new RetriesFailed(error, attempt);
      o.onRetry?.(error, attempt, delay);
      await o.sleep(delay);
      waited += delay;
    }
  }
}
