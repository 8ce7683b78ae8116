import type { AccessStore } from '../../store/access-store.ts';
import type { Clock } from '../../clock.ts';

export interface ThrottlePolicy {
  freeFailures: number;
  maxDelayMs: number;
  resetMs: number;
}

/**
 * Login throttling per account name and per client address, in the database so every hub instance counts the
 * same failures. After `freeFailures` failures a key must wait 1 s, then 2 s, 4 s … up to `maxDelayMs` after its
 * last failure; a key quiet for `resetMs` starts again. A success clears the account's counter (not the address's:
 * one good password must not reset a guesser's budget for other names).
 */
export class LoginThrottle {
  constructor(
    private readonly store: AccessStore,
    private readonly policy: ThrottlePolicy,
    private readonly now: Clock,
  ) {}

  /** Milliseconds to wait before another try for these keys; 0: go ahead. */
  async waitMs(account: string, address: string): Promise<number> {
    const t = this.now();
    let wait = 0;
    for (const r of await this.store.throttle(keys(account, address))) {
      if (t - r.lastFailureAt >= this.policy.resetMs || r.failures < this.policy.freeFailures) continue;
      const delay = Math.min(this.policy.maxDelayMs, 1000 * 2 ** (r.failures - this.policy.freeFailures));
      wait = Math.max(wait, r.lastFailureAt + delay - t);
    }
    return wait;
  }

  failed(account: string, address: string): Promise<void> {
    const t = this.now();
    return this.store.recordFailure(keys(account, address), t, t - this.policy.resetMs);
  }

  succeeded(account: string): Promise<void> {
    return this.store.clearFailures([`account:${account.toLowerCase()}`]);
  }
}

const keys = (account: string, address: string) => [`account:${account.toLowerCase()}`, `address:${address}`];
