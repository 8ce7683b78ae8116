/**
 * How a target (or a portal's status callback) retries: the delays between tries and when to give up. The
 * configuration's `policy.retry` (src/config/schema.ts) is validated into this shape.
 */
export interface RetryPolicy {
  /** Delay before the 2nd attempt; doubles with each further one. */
  baseDelayMs: number;
  /** Cap of the exponential back-off. */
  maxDelayMs: number;
  maxAttempts: number;
  /** Fraction (0–1) of each delay drawn at random, so retries spread. */
  jitter: number;
  /** Give up once a delivery is this old (from its submission), whatever the attempts. */
  maxAgeMs?: number | undefined;
}

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

/** How an attempt through the queue failed, as the adapter reports it. */
export interface FailedAttempt {
  /** The adapter's word: may the same message succeed later (a timeout, a 5xx), or never (a 4xx)? */
  retryable: boolean;
  error: string;
  /** The back office's Retry-After, if it sent one. */
  retryAfterMs?: number | undefined;
}

/** The delivery whose attempt failed, as far as its retry budget is concerned. */
export interface AttemptBudget {
  /** 1-based and counted since the last replay: a replay starts the budget afresh, the attempt numbers go on. */
  attempt: number;
  /** Whether a replay reset the budget (the reason for giving up says so). */
  replayed: boolean;
  /** A circuit breaker's probe: its failure only says the back office is still down and spends no attempt. */
  probe: boolean;
  /** When the delivery was created, for `maxAgeMs`. */
  createdAt?: number | undefined;
}

/** What comes after a failed attempt: another at `at`, or none (the delivery fails, `error` says why). */
export type RetryDecision =
  | { next: 'retry'; at: number }
  | { next: 'fail'; because: 'permanent' | 'attempts-exhausted' | 'too-old'; error: string };

/** The attempt within the budget: attempts since the last replay (`attemptBase` is the count at that replay). */
export function budgetAttempt(attempt: number, attemptBase = 0): number {
  return attempt - attemptBase;
}

/**
 * Before an attempt: the reason it must not start, or undefined. A delivery whose last attempt was interrupted
 * (its lease ran out) comes back with that attempt counted, and may have none left.
 */
export function budgetSpent(policy: RetryPolicy, attempt: number): string | undefined {
  if (attempt <= policy.maxAttempts) return undefined;
  return `all ${policy.maxAttempts} attempts are used up; the last one was interrupted before it finished`;
}

/**
 * The retry rule of the delivery queue. A permanent error fails the delivery; a retryable one is tried again
 * after `retryDelay`, unless the attempts are used up (a probe's failure spends none) or the delivery is older
 * than `maxAgeMs` at `now`.
 */
export function afterFailure(
  failure: FailedAttempt,
  budget: AttemptBudget,
  policy: RetryPolicy,
  now: number,
  random: () => number = Math.random,
): RetryDecision {
  if (!failure.retryable) return { next: 'fail', because: 'permanent', error: failure.error };
  if (budget.attempt >= policy.maxAttempts && !budget.probe) {
    return {
      next: 'fail',
      because: 'attempts-exhausted',
      error: `${failure.error} (gave up after ${budget.attempt} attempts${budget.replayed ? ' since the replay' : ''})`,
    };
  }
  if (policy.maxAgeMs !== undefined && budget.createdAt !== undefined && now - budget.createdAt >= policy.maxAgeMs) {
    return {
      next: 'fail',
      because: 'too-old',
      error: `${failure.error} (gave up: the delivery is older than retry.maxAgeMs, ${policy.maxAgeMs} ms)`,
    };
  }
  return { next: 'retry', at: now + retryDelay(policy, budget.attempt, failure.retryAfterMs, random) };
}
