import { expect } from 'chai';
import { retryDelay } from '../src/core/policy/backoff.ts';

describe('retry back-off', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 10, jitter: 0.2 };

  it('doubles from the base and stops at the cap', () => {
    const none = { ...policy, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(none, n))).to.deep.equal([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    expect(retryDelay(none, 500)).to.equal(60000);
  });

  it('draws the jittered share at random, never above the exponential delay', () => {
    expect(retryDelay(policy, 3, undefined, () => 0)).to.equal(4000);
    expect(retryDelay(policy, 3, undefined, () => 1)).to.equal(3200);
    expect(retryDelay(policy, 3, undefined, () => 0.5)).to.equal(3600);
  });

  it("honours a longer Retry-After, but not one longer than a day", () => {
    expect(retryDelay(policy, 1, 30_000, () => 0)).to.equal(30_000);
    expect(retryDelay(policy, 1, 10, () => 0)).to.equal(1000);
    expect(retryDelay(policy, 1, 7 * 24 * 3600_000, () => 0)).to.equal(24 * 3600_000);
  });
});
