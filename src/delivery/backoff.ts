import type { RetryPolicy } from '../config/schema.ts';

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
