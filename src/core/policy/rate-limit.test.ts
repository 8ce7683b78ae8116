import { expect } from 'chai';
import fc from 'fast-check';
import { nextTokenAt, tokensAt, type RateSettings } from './rate-limit.ts';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const twelvePerMinute: RateSettings = { perMinute: 12, burst: 3 };

describe('rate limit (token bucket)', () => {
  it('starts full', () => {
    expect(tokensAt(0, null, T0, twelvePerMinute)).to.equal(3);
  });

  it('refills evenly, perMinute tokens a minute, up to the burst', () => {
    // 12 a minute: one every 5 s.
    expect(tokensAt(0, T0, T0 + 5_000, twelvePerMinute)).to.equal(1);
    expect(tokensAt(0.5, T0, T0 + 2_500, twelvePerMinute)).to.equal(1);
    expect(tokensAt(0, T0, T0 + 10 * 60_000, twelvePerMinute)).to.equal(3);
  });

  it('does not refill for a clock that went back', () => {
    expect(tokensAt(0.25, T0, T0 - 60_000, twelvePerMinute)).to.equal(0.25);
  });

  it('says when the next whole token arrives', () => {
    expect(nextTokenAt(0, T0, twelvePerMinute)).to.equal(T0 + 5_000);
    expect(nextTokenAt(0.5, T0, twelvePerMinute)).to.equal(T0 + 2_500);
    // Rounded up to the millisecond: a token is never promised early.
    expect(nextTokenAt(0, T0, { perMinute: 7, burst: 1 })).to.equal(T0 + 8_572);
  });

  const settings = fc.record({ perMinute: fc.integer({ min: 1, max: 10_000 }), burst: fc.integer({ min: 1, max: 1000 }) });

  it('never holds more than the burst, and never fewer tokens than it had', () => {
    fc.assert(
      fc.property(settings, fc.double({ min: 0, max: 1000, noNaN: true }), fc.nat(24 * 3_600_000), (r, tokens, elapsed) => {
        const held = Math.min(tokens, r.burst);
        const now = tokensAt(held, T0, T0 + elapsed, r);
        return now <= r.burst && now >= held;
      }),
    );
  });

  it('has a whole token at the time nextTokenAt names, and names no time later than one token takes', () => {
    fc.assert(
      fc.property(settings, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r, tokens) => {
        const at = nextTokenAt(tokens, T0, r);
        return at > T0 && at - T0 <= Math.ceil(60_000 / r.perMinute) && tokensAt(tokens, T0, at, r) >= 1;
      }),
    );
  });

  it('lets no minute see more than perMinute + burst - 1 attempts, one token each', () => {
    fc.assert(
      fc.property(settings, fc.array(fc.nat(59_999), { minLength: 1, maxLength: 200 }), (r, offsets) => {
        // Attempts asked for at random moments within one minute (0 to 59 999 ms), each taken when a whole token is there.
        let tokens = r.burst;
        let at: number | null = null;
        let taken = 0;
        for (const t of [...offsets].sort((a, b) => a - b)) {
          const have = tokensAt(tokens, at, T0 + t, r);
          if (have < 1) continue;
          tokens = have - 1;
          at = T0 + t;
          taken++;
        }
        return taken <= r.perMinute + r.burst - 1;
      }),
    );
  });
});
