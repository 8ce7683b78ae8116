import { expect } from 'chai';
import fc from 'fast-check';
import {
  afterFailure,
  budgetAttempt,
  budgetSpent,
  RetriesFailed,
  retrying,
  retryDelay,
  type AttemptBudget,
  type RetryPolicy,
} from './retry.ts';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const MINUTE = 60_000;

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

  it('honours a longer Retry-After, but not one longer than a day', () => {
    expect(retryDelay(policy, 1, 30_000, () => 0)).to.equal(30_000);
    expect(retryDelay(policy, 1, 10, () => 0)).to.equal(1000);
    expect(retryDelay(policy, 1, 7 * 24 * 3600_000, () => 0)).to.equal(24 * 3600_000);
  });

  it('never waits longer than the cap (or the Retry-After), nor less than the unjittered share', () => {
    const policies = fc.record({
      baseDelayMs: fc.nat(3_600_000),
      maxDelayMs: fc.nat(3_600_000),
      maxAttempts: fc.integer({ min: 1, max: 1000 }),
      jitter: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        policies,
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (p, attempt, r) => {
          const delay = retryDelay(p, attempt, undefined, () => r);
          const exp = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
          return delay <= p.maxDelayMs && delay >= Math.floor(exp * (1 - p.jitter));
        },
      ),
    );
    fc.assert(
      fc.property(policies, fc.integer({ min: 1, max: 1000 }), fc.nat(10 * 24 * 3_600_000), (p, attempt, retryAfter) => {
        const delay = retryDelay(p, attempt, retryAfter, () => 0);
        return delay <= Math.max(p.maxDelayMs, 24 * 3_600_000) && delay >= Math.min(retryAfter, 24 * 3_600_000);
      }),
    );
  });
});

describe('retry decision of the delivery queue', () => {
  const policy: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 3, jitter: 0 };
  const first: AttemptBudget = { attempt: 1, replayed: false, probe: false };
  const unavailable = { retryable: true, error: 'back office answered HTTP 503' };

  it('schedules the next attempt after the back-off, from the end of this one', () => {
    expect(afterFailure(unavailable, first, policy, T0)).to.deep.equal({ next: 'retry', at: T0 + 1000 });
    expect(afterFailure(unavailable, { ...first, attempt: 2 }, policy, T0)).to.deep.equal({ next: 'retry', at: T0 + 2000 });
    expect(afterFailure({ ...unavailable, retryAfterMs: 30_000 }, first, policy, T0)).to.deep.equal({ next: 'retry', at: T0 + 30_000 });
  });

  it('fails a permanent error at once, with the adapter’s words', () => {
    expect(afterFailure({ retryable: false, error: 'back office answered HTTP 422' }, first, policy, T0)).to.deep.equal({
      next: 'fail',
      because: 'permanent',
      error: 'back office answered HTTP 422',
    });
  });

  it('gives up when the attempts are used up, and says since when they were counted', () => {
    expect(afterFailure(unavailable, { ...first, attempt: 3 }, policy, T0)).to.deep.equal({
      next: 'fail',
      because: 'attempts-exhausted',
      error: 'back office answered HTTP 503 (gave up after 3 attempts)',
    });
    expect(afterFailure(unavailable, { ...first, attempt: 3, replayed: true }, policy, T0)).to.deep.include({
      error: 'back office answered HTTP 503 (gave up after 3 attempts since the replay)',
    });
  });

  it('lets a breaker’s probe fail without spending the budget', () => {
    expect(afterFailure(unavailable, { ...first, attempt: 3, probe: true }, policy, T0)).to.deep.equal({ next: 'retry', at: T0 + 4000 });
  });

  it('gives up on a delivery older than maxAgeMs, whatever attempts are left', () => {
    const aged = { ...policy, maxAttempts: 100, maxAgeMs: 10 * MINUTE };
    expect(afterFailure(unavailable, { ...first, createdAt: T0 - 10 * MINUTE + 1 }, aged, T0)).to.deep.equal({
      next: 'retry',
      at: T0 + 1000,
    });
    expect(afterFailure(unavailable, { ...first, createdAt: T0 - 10 * MINUTE }, aged, T0)).to.deep.equal({
      next: 'fail',
      because: 'too-old',
      error: 'back office answered HTTP 503 (gave up: the delivery is older than retry.maxAgeMs, 600000 ms)',
    });
  });

  it('counts the budget from the last replay, and refuses an attempt beyond it', () => {
    expect(budgetAttempt(7)).to.equal(7);
    expect(budgetAttempt(7, 5)).to.equal(2);
    expect(budgetSpent(policy, 3)).to.equal(undefined);
    expect(budgetSpent(policy, 4)).to.equal('all 3 attempts are used up; the last one was interrupted before it finished');
  });

  it('never retries a permanent error, never past maxAttempts (probes aside), and never before now', () => {
    const failures = fc.record({
      retryable: fc.boolean(),
      error: fc.string(),
      retryAfterMs: fc.option(fc.nat(3_600_000), { nil: undefined }),
    });
    const budgets = fc.record({ attempt: fc.integer({ min: 1, max: 50 }), replayed: fc.boolean(), probe: fc.boolean() });
    const policies = fc.record({
      baseDelayMs: fc.nat(60_000),
      maxDelayMs: fc.nat(3_600_000),
      maxAttempts: fc.integer({ min: 1, max: 50 }),
      jitter: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(failures, budgets, policies, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (failure, budget, p, r) => {
        const d = afterFailure(failure, budget, p, T0, () => r);
        if (!failure.retryable) return d.next === 'fail' && d.because === 'permanent';
        if (budget.attempt >= p.maxAttempts && !budget.probe) return d.next === 'fail' && d.because === 'attempts-exhausted';
        return d.next === 'retry' && d.at >= T0;
      }),
    );
  });
});

describe('retrying in-process calls', () => {
  const policy: RetryPolicy = { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 5, jitter: 0 };

  /** A clock that moves only when the loop sleeps. */
  function clock() {
    let now = T0;
    const waits: number[] = [];
    return {
      waits,
      now: () => now,
      sleep: async (ms: number) => {
        waits.push(ms);
        now += ms;
      },
    };
  }

  it('tries again after the back-off until the call succeeds', async () => {
    const c = clock();
    const result = await retrying(
      async (attempt) => {
        if (attempt < 3) throw new Error('connection refused');
        return `answer on attempt ${attempt}`;
      },
      { policy, maxAttempts: 10, maxDurationMs: MINUTE, ...c },
    );
    expect(result).to.equal('answer on attempt 3');
    expect(c.waits).to.deep.equal([100, 200]);
  });

  it('does not try again an error that says it is not retryable', async () => {
    const c = clock();
    const wrong = Object.assign(new Error('HTTP 404'), { retryable: false });
    const failed = await retrying(async () => Promise.reject(wrong), { policy, maxAttempts: 10, maxDurationMs: MINUTE, ...c }).catch(
      (e: unknown) => e,
    );
    expect(failed).to.be.instanceOf(RetriesFailed).and.include({ attempts: 1, message: 'HTTP 404', cause: wrong });
    expect(c.waits).to.deep.equal([]);
  });

  it('stops at the fewer of its own and the policy’s attempts, or when the time is up', async () => {
    const c = clock();
    const down = async () => Promise.reject(new Error('HTTP 503'));
    const byPolicy = await retrying(down, { policy, maxAttempts: 10, maxDurationMs: MINUTE, ...c }).catch((e: unknown) => e);
    expect(byPolicy).to.be.instanceOf(RetriesFailed).and.include({ attempts: 5, message: 'HTTP 503 (gave up after 5 attempts)' });
    const byTime = await retrying(down, { policy, maxAttempts: 10, maxDurationMs: 250, ...clock() }).catch((e: unknown) => e);
    // 100 ms, then 200 ms would end past 250 ms: two tries.
    expect(byTime).to.be.instanceOf(RetriesFailed).and.include({ attempts: 2 });
  });
});
