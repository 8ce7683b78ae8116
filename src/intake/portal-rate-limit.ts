import type { PortalConfig } from '../config/schema.ts';
import type { Clock } from '../clock.ts';
import { nextTokenAt, tokensAt } from '../core/policy/rate-limit.ts';
import { intakeProblem } from './problems.ts';

/**
 * A token bucket per portal token on this instance (the bucket rule of src/core/policy/rate-limit.ts, on the hub
 * clock): a portal over its `rateLimit` gets 429 with Retry-After before its body is read. Several instances each
 * allow the configured rate (docs/security.md).
 */
export class PortalRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: Clock) {}

  /** Takes one token for the portal, or throws the 429. */
  take(portal: PortalConfig): void {
    const r = portal.rateLimit;
    if (!r) return;
    const now = this.now();
    const b = this.buckets.get(portal.id);
    const tokens = tokensAt(b?.tokens ?? 0, b ? b.at : null, now, r);
    if (tokens >= 1) {
      this.buckets.set(portal.id, { tokens: tokens - 1, at: now });
      return;
    }
    this.buckets.set(portal.id, { tokens, at: now });
    const seconds = Math.max(1, Math.ceil((nextTokenAt(tokens, now, r) - now) / 1000));
    throw intakeProblem('too-many-requests', `portal ${portal.id} may send ${r.perMinute} submissions per minute`, undefined, {
      'Retry-After': String(seconds),
    });
  }
}
