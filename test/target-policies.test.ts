import { expect } from 'chai';
import { describeEachDatabase } from './support/databases.ts';
import { openStore, uuidv7, type ClaimedDelivery, type NewSubmission, type Store, type TargetGate } from '../src/store/index.ts';
import type { BreakerChange } from '../src/store/index.ts';

// The store's half of the per-target policies: what two hub instances on one database see when they claim.

function queue(target: string, n: number, at: number): NewSubmission[] {
  return Array.from({ length: n }, (_, i) => ({
    id: uuidv7(at + i),
    portalId: 'portal-a',
    externalId: `${target}-${at}-${i}`,
    tenant: '05513000',
    service: 'sperrmuell',
    submittedAt: new Date(at + i).toISOString(),
    receivedAt: at + i,
    bodyHash: `h-${target}-${i}`,
    content: '{}',
    attachments: [],
    deliveries: [{ id: uuidv7(at + i), routeId: 'r1', targetId: target, mappingId: 'm.jsonata' }],
  }));
}

const LEASE = 60_000;
const settings = { failureThreshold: 2, cooldownMs: 1_000 };
const down = (d: ClaimedDelivery, at: number) => ({
  outcome: 'retry' as const,
  finishedAt: at,
  error: 'HTTP 503',
  errorKind: 'http-503',
  nextAttemptAt: at + 600_000,
  breaker: { signal: 'down' as const, settings },
});
const up = (at: number) => ({
  outcome: 'delivered' as const,
  finishedAt: at,
  reference: 'AZ',
  breaker: { signal: 'up' as const, settings },
});

describeEachDatabase('target policies', ({ db, store }) => {
  let other: Store;
  before(async () => {
    // A second instance on the same database.
    other = await openStore(db().options);
  });
  after(() => other.close());

  it('caps the deliveries in flight per target across instances', async () => {
    const t = 'cap';
    await Promise.all(queue(t, 6, 1_000_000).map((s) => store().createSubmission(s)));
    await store().ensureTargetStates([t], 1_000_000);
    const gate: TargetGate[] = [{ targetId: t, room: 10, maxInFlight: 2 }];
    const a = await store().claimForTargets('a', 1_000_100, LEASE, 10, gate);
    const b = await other.claimForTargets('b', 1_000_100, LEASE, 10, gate);
    expect(a.claimed).to.have.length(2);
    expect(b.claimed).to.have.length(0);
    await store().completeAttempt(a.claimed[0]!, 'a', { outcome: 'delivered', finishedAt: 1_000_200, reference: 'AZ-1' });
    const b2 = await other.claimForTargets('b', 1_000_300, LEASE, 10, gate);
    expect(b2.claimed).to.have.length(1);
    // Oldest first within the target.
    expect([...a.claimed, ...b2.claimed].map((c) => c.idempotencyKey)).to.deep.equal(
      [...[...a.claimed, ...b2.claimed].map((c) => c.idempotencyKey)].sort(),
    );
  });

  it('draws from one rate bucket across instances and says when the next token comes', async () => {
    const t = 'rate';
    await Promise.all(queue(t, 5, 2_000_000).map((s) => store().createSubmission(s)));
    await store().ensureTargetStates([t], 2_000_000);
    const gate: TargetGate[] = [{ targetId: t, room: 10, rate: { perMinute: 60, burst: 2 } }];
    expect((await store().claimForTargets('a', 2_000_100, LEASE, 10, gate)).claimed).to.have.length(2);
    const empty = await other.claimForTargets('b', 2_000_100, LEASE, 10, gate);
    expect(empty.claimed).to.have.length(0);
    expect(empty.wakeAt).to.equal(2_001_100);
    expect((await other.claimForTargets('b', 2_001_100, LEASE, 10, gate)).claimed).to.have.length(1);
    expect((await store().claimForTargets('a', 2_001_200, LEASE, 10, gate)).claimed).to.have.length(0);
  });

  it('refills from its own clock when the bucket was stamped by a clock ahead of it', async () => {
    const t = 'rate-skew';
    await Promise.all(queue(t, 3, 2_500_000).map((s) => store().createSubmission(s)));
    await store().ensureTargetStates([t], 2_500_000);
    const gate: TargetGate[] = [{ targetId: t, room: 10, rate: { perMinute: 60, burst: 1 } }];
    // An instance whose clock runs an hour ahead takes the one token.
    expect((await other.claimForTargets('ahead', 2_500_000 + 3_600_000, LEASE, 10, gate)).claimed).to.have.length(1);
    // This one waits one token's time by its own clock, not the hour.
    const empty = await store().claimForTargets('a', 2_500_100, LEASE, 10, gate);
    expect(empty.claimed).to.have.length(0);
    expect(empty.wakeAt).to.equal(2_501_100);
    expect((await store().claimForTargets('a', 2_501_100, LEASE, 10, gate)).claimed).to.have.length(1);
  });

  it('opens the breaker after consecutive failures, holds the queue without spending attempts, probes the oldest and closes', async () => {
    const t = 'breaker';
    const changes: BreakerChange[] = [];
    store().onBreakerChange((c) => changes.push(c));
    await Promise.all(queue(t, 5, 3_000_000).map((s) => store().createSubmission(s)));
    await store().ensureTargetStates([t], 3_000_000);
    const gate: TargetGate[] = [{ targetId: t, room: 2, breaker: true }];
    const first = await store().claimForTargets('a', 3_000_100, LEASE, 10, gate);
    expect(first.claimed).to.have.length(2);
    for (const c of first.claimed) await store().completeAttempt(c, 'a', down(c, 3_000_200));
    expect(changes.map((c) => c.transition)).to.deep.equal(['opened']);

    // Open: neither instance claims, and says when the cool-down ends.
    const held = await other.claimForTargets('b', 3_000_500, LEASE, 10, gate);
    expect(held.claimed).to.have.length(0);
    expect(held.wakeAt).to.equal(3_001_200);
    expect(held.blocked).to.deep.equal(new Map([[t, 3_001_200]]));

    // After the cool-down one delivery probes: the target's oldest, although its back-off has not run out.
    const probe = await other.claimForTargets('b', 3_001_200, LEASE, 10, gate);
    expect(probe.claimed.map((c) => c.id)).to.deep.equal([first.claimed[0]!.id]);
    expect(probe.claimed[0]!.probe).to.equal(true);
    // While the probe is out nothing else goes, but the target is not reported held until a known time: the
    // probe may end any moment.
    const whileProbing = await store().claimForTargets('a', 3_001_300, LEASE, 10, gate);
    expect(whileProbing.claimed).to.have.length(0);
    expect(whileProbing.blocked).to.equal(undefined);

    // A failed probe opens it again and costs the delivery nothing of its budget.
    await other.completeAttempt(probe.claimed[0]!, 'b', down(probe.claimed[0]!, 3_001_400));
    const view = await store().getSubmission(probe.claimed[0]!.submissionId);
    expect(view!.deliveries[0]!.attempts).to.equal(2);
    const base = await store()
      .db.selectFrom('deliveries')
      .select('attempt_base')
      .where('id', '=', probe.claimed[0]!.id)
      .executeTakeFirstOrThrow();
    expect(base.attempt_base).to.equal(1);
    expect((await store().claimForTargets('a', 3_002_000, LEASE, 10, gate)).claimed).to.have.length(0);

    // The next probe gets through: closed, and the rest follow oldest first.
    const probe2 = await store().claimForTargets('a', 3_002_400, LEASE, 10, gate);
    expect(probe2.claimed.map((c) => c.id)).to.deep.equal([first.claimed[0]!.id]);
    await store().completeAttempt(probe2.claimed[0]!, 'a', up(3_002_500));
    expect(changes.map((c) => c.transition)).to.include('closed');
    const rest = await store().claimForTargets('a', 3_002_600, LEASE, 10, [{ targetId: t, room: 10, breaker: true }]);
    expect(rest.claimed.map((c) => c.id)[0]).to.equal(first.claimed[1]!.id);
    expect(rest.claimed).to.have.length(4);
  });

  it("shares a claim among the targets with work, each within its room, so one target's backlog leaves room for others", async () => {
    await Promise.all([...queue('big', 20, 4_000_000), ...queue('small', 2, 4_000_050)].map((s) => store().createSubmission(s)));
    const gates = [
      { targetId: 'big', room: 4 },
      { targetId: 'small', room: 4 },
      { targetId: 'idle', room: 4 },
    ];
    const count = (got: { claimed: ClaimedDelivery[] }, id: string) => got.claimed.filter((c) => c.targetId === id).length;
    // Four slots, three targets: an even slice each first, then the rest to whoever has more.
    const first = await store().claimForTargets('a', 4_000_100, LEASE, 4, gates);
    expect([count(first, 'big'), count(first, 'small')]).to.deep.equal([2, 2]);
    // Alone with work, the backlog gets every slot, within its room.
    const second = await store().claimForTargets('a', 4_000_100, LEASE, 8, gates);
    expect([count(second, 'big'), count(second, 'small')]).to.deep.equal([4, 0]);
  });
});
