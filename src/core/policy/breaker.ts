/**
 * The circuit breaker of one target, shared by every instance through the store. Closed: deliveries flow.
 * After `failureThreshold` retryable failures in a row it opens: nothing is sent, and no attempt is spent, until
 * the cool-down ends; then one delivery (the target's oldest) probes. A probe that gets through closes it, one
 * that fails opens it again for another cool-down.
 */
export interface BreakerSettings {
  failureThreshold: number;
  cooldownMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerStatus {
  state: BreakerState;
  consecutiveFailures: number;
  openedAt: number | null;
  /** open: when the cool-down ends; half-open: when the probe's lease runs out. */
  retryAt: number | null;
  probeDeliveryId: string | null;
  lastError: string | null;
}

export const CLOSED: BreakerStatus = {
  state: 'closed',
  consecutiveFailures: 0,
  openedAt: null,
  retryAt: null,
  probeDeliveryId: null,
  lastError: null,
};

/** What an attempt's end says about the back office: it answered (`up`, even with a 4xx) or it did not (`down`). */
export type BackOfficeSignal = 'up' | 'down';

export type BreakerTransition = 'opened' | 'reopened' | 'closed';

/** May the claim send to the target now: everything, one probe, or nothing until `wakeAt`. */
export function breakerGate(b: BreakerStatus, now: number): { allow: 'all' } | { allow: 'probe' } | { allow: 'none'; wakeAt: number } {
  if (b.state === 'closed') return { allow: 'all' };
  if (b.retryAt !== null && now < b.retryAt) return { allow: 'none', wakeAt: b.retryAt };
  return { allow: 'probe' };
}

/** The breaker after a probe was claimed: half-open until the probe's lease runs out. */
export function probing(b: BreakerStatus, deliveryId: string, leaseExpiresAt: number): BreakerStatus {
  return { ...b, state: 'half-open', retryAt: leaseExpiresAt, probeDeliveryId: deliveryId };
}

/** The breaker after an attempt ended. */
export function breakerAfter(
  b: BreakerStatus,
  signal: BackOfficeSignal,
  settings: BreakerSettings,
  now: number,
  attempt: { deliveryId: string; error?: string | undefined },
): { status: BreakerStatus; transition?: BreakerTransition } {
  if (signal === 'up') {
    if (b.state === 'closed') return { status: b.consecutiveFailures === 0 ? b : { ...b, consecutiveFailures: 0 } };
    return { status: CLOSED, transition: 'closed' };
  }
  const failures = b.consecutiveFailures + 1;
  const lastError = attempt.error ?? b.lastError;
  const open = (): BreakerStatus => ({
    state: 'open',
    consecutiveFailures: failures,
    openedAt: b.openedAt ?? now,
    retryAt: now + settings.cooldownMs,
    probeDeliveryId: null,
    lastError,
  });
  if (b.state === 'closed' && failures >= settings.failureThreshold) return { status: { ...open(), openedAt: now }, transition: 'opened' };
  if (b.state === 'half-open' && b.probeDeliveryId === attempt.deliveryId) return { status: open(), transition: 'reopened' };
  return { status: { ...b, consecutiveFailures: failures, lastError } };
}
