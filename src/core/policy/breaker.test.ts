import { expect } from 'chai';
import fc from 'fast-check';
import { breakerAfter, breakerGate, CLOSED, probing, type BackOfficeSignal, type BreakerStatus } from './breaker.ts';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const settings = { failureThreshold: 3, cooldownMs: 30_000 };

/** The breaker after a run of attempts by one delivery, `ms` apart, starting at T0. */
function run(signals: BackOfficeSignal[], from: BreakerStatus = CLOSED, ms = 1000): BreakerStatus {
  return signals.reduce(
    (b, signal, i) => breakerAfter(b, signal, settings, T0 + i * ms, { deliveryId: 'd1', error: `failure ${i + 1}` }).status,
    from,
  );
}

describe('circuit breaker', () => {
  it('lets everything through while closed', () => {
    expect(breakerGate(CLOSED, T0)).to.deep.equal({ allow: 'all' });
    expect(run(['down', 'down'])).to.include({ state: 'closed', consecutiveFailures: 2, lastError: 'failure 2' });
  });

  it('opens at the threshold of failures in a row, for one cool-down', () => {
    const opened = breakerAfter(run(['down', 'down']), 'down', settings, T0 + 5000, { deliveryId: 'd1', error: 'HTTP 503' });
    expect(opened.transition).to.equal('opened');
    expect(opened.status).to.deep.equal({
      state: 'open',
      consecutiveFailures: 3,
      openedAt: T0 + 5000,
      retryAt: T0 + 35_000,
      probeDeliveryId: null,
      lastError: 'HTTP 503',
    });
    expect(breakerGate(opened.status, T0 + 34_999)).to.deep.equal({ allow: 'none', wakeAt: T0 + 35_000 });
    expect(breakerGate(opened.status, T0 + 35_000)).to.deep.equal({ allow: 'probe' });
  });

  it('counts only failures in a row: an answer, even a 4xx, starts the count afresh', () => {
    expect(run(['down', 'down', 'up', 'down', 'down'])).to.include({ state: 'closed', consecutiveFailures: 2 });
    const answered = breakerAfter(CLOSED, 'up', settings, T0, { deliveryId: 'd1' });
    expect(answered.status).to.equal(CLOSED);
    expect(answered.transition).to.equal(undefined);
  });

  it('sends one probe after the cool-down: its success closes the breaker', () => {
    const open = run(['down', 'down', 'down']);
    const half = probing(open, 'd7', T0 + 60_000);
    expect(half).to.include({ state: 'half-open', probeDeliveryId: 'd7', retryAt: T0 + 60_000 });
    // While the probe's lease runs, nothing else goes; after it ran out, another delivery may probe.
    expect(breakerGate(half, T0 + 59_999)).to.deep.equal({ allow: 'none', wakeAt: T0 + 60_000 });
    expect(breakerGate(half, T0 + 60_000)).to.deep.equal({ allow: 'probe' });
    expect(breakerAfter(half, 'up', settings, T0 + 40_000, { deliveryId: 'd7' })).to.deep.equal({ status: CLOSED, transition: 'closed' });
  });

  it('reopens for another cool-down when the probe fails, keeping when it first opened', () => {
    const open = run(['down', 'down', 'down']);
    const half = probing(open, 'd7', T0 + 60_000);
    const again = breakerAfter(half, 'down', settings, T0 + 40_000, { deliveryId: 'd7', error: 'still 503' });
    expect(again.transition).to.equal('reopened');
    expect(again.status).to.deep.equal({
      state: 'open',
      consecutiveFailures: 4,
      openedAt: open.openedAt,
      retryAt: T0 + 70_000,
      probeDeliveryId: null,
      lastError: 'still 503',
    });
  });

  it('does not reopen for the failure of an attempt other than the probe (one started before it opened)', () => {
    const half = probing(run(['down', 'down', 'down']), 'd7', T0 + 60_000);
    const late = breakerAfter(half, 'down', settings, T0 + 40_000, { deliveryId: 'd2', error: 'timeout' });
    expect(late.transition).to.equal(undefined);
    expect(late.status).to.include({ state: 'half-open', probeDeliveryId: 'd7', consecutiveFailures: 4, lastError: 'timeout' });
  });

  it('never lets anything through while open before its cool-down ends, whatever came before', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<BackOfficeSignal>('up', 'down'), { maxLength: 30 }), fc.nat(29_999), (signals, wait) => {
        const b = run(signals, CLOSED, 10);
        if (b.state !== 'open') return b.state === 'closed';
        return breakerGate(b, b.retryAt! - 30_000 + wait).allow === 'none';
      }),
    );
  });
});
