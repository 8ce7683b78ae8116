import { sql } from 'kysely';
import { expect } from 'chai';
import { describeEachDatabase } from './support/databases.ts';
import { uuidv7, type NewSubmission } from '../src/store/index.ts';

function newSubmission(externalId: string, targets = ['waste'], at = 1_000_000): NewSubmission {
  return {
    id: uuidv7(at),
    portalId: 'portal-a',
    externalId,
    tenant: '05513000',
    service: 'sperrmuell',
    submittedAt: new Date(at).toISOString(),
    receivedAt: at,
    bodyHash: 'h-' + externalId,
    content: JSON.stringify({ applicant: { familyName: 'Mustermann' }, data: {} }),
    attachments: [{ filename: 'a.txt', mediaType: 'text/plain', size: 3, sha256: 'x', content: Buffer.from('abc') }],
    deliveries: targets.map((t) => ({ id: uuidv7(at), routeId: 'r1', targetId: t, mappingId: 'm.jsonata' })),
  };
}

describeEachDatabase('store', ({ store }) => {
  it('stores a submission with its deliveries and answers a repeat with the first id', async () => {
    const s = newSubmission('ext-1', ['waste', 'archive']);
    expect(await store().createSubmission(s)).to.deep.equal({ outcome: 'created', id: s.id });
    const again = { ...newSubmission('ext-1'), bodyHash: s.bodyHash };
    expect(await store().createSubmission(again)).to.deep.equal({ outcome: 'duplicate', id: s.id, sameBody: true });
    const other = { ...newSubmission('ext-1'), bodyHash: 'different' };
    expect(await store().createSubmission(other)).to.deep.equal({ outcome: 'duplicate', id: s.id, sameBody: false });
    const view = await store().getSubmission(s.id);
    expect(view?.deliveries.map((d) => d.state)).to.deep.equal(['queued', 'queued']);
    const source = await store().messageSource(s.id);
    expect(source?.attachments[0]?.content.toString()).to.equal('abc');
    const events = await store().events(s.id);
    expect(events.map((e) => e.type)).to.deep.equal(['submission.received', 'delivery.queued', 'delivery.queued']);
  });

  it('writes concurrent submissions in shared commits, and the same external id only once', async () => {
    const many = Array.from({ length: 60 }, (_, i) => newSubmission(`batch-${i}`, ['t'], 6_000_000));
    const twins = Array.from({ length: 5 }, () => ({ ...newSubmission('batch-twin', ['t'], 6_000_000), bodyHash: 'same' }));
    const results = await Promise.all([...many, ...twins].map((s) => store().createSubmission(s)));
    expect(results.slice(0, 60).every((r) => r.outcome === 'created')).to.equal(true);
    const twinResults = results.slice(60);
    const created = twinResults.filter((r) => r.outcome === 'created');
    expect(created).to.have.length(1);
    for (const r of twinResults) expect(r).to.deep.include({ id: created[0]!.id });
    expect(twinResults.filter((r) => r.outcome === 'duplicate').every((r) => r.outcome === 'duplicate' && r.sameBody)).to.equal(true);
    const view = await store().getSubmission(many[59]!.id);
    expect(view?.deliveries).to.have.length(1);
  });

  it('fails only the bad submission of a batch', async () => {
    const good = newSubmission('good-1', ['t'], 7_000_000);
    const bad = newSubmission('bad-1', ['t'], 7_000_000);
    bad.deliveries.push({ ...bad.deliveries[0]! }); // the same delivery id twice violates the primary key
    const [g, b] = await Promise.allSettled([store().createSubmission(good), store().createSubmission(bad)]);
    expect(g).to.deep.include({ status: 'fulfilled', value: { outcome: 'created', id: good.id } });
    expect(b.status).to.equal('rejected');
    expect(await store().getSubmission(bad.id)).to.equal(undefined); // nothing half-written
  });

  it('claims due deliveries once, and again only after the lease runs out', async () => {
    const s = newSubmission('ext-2', ['t'], 2_000_000);
    await store().createSubmission(s);
    const now = 2_000_000;
    const first = await store().claimDue('worker-a', now, 60_000, 100);
    const mine = first.find((c) => c.submissionId === s.id)!;
    expect(mine).to.include({ attempt: 1, resumed: false, tenant: '05513000', targetId: 't' });
    expect((await store().claimDue('worker-b', now + 1000, 60_000, 100)).map((c) => c.id)).not.to.include(mine.id);
    // worker-a dies; after the lease, worker-b takes over and the open attempt is marked interrupted
    const retaken = (await store().claimDue('worker-b', now + 61_000, 60_000, 100)).find((c) => c.id === mine.id)!;
    expect(retaken).to.include({ attempt: 2, resumed: true, idempotencyKey: mine.idempotencyKey });
    // the old holder's late result is refused; the new holder's is taken
    expect(await store().completeAttempt(mine, 'worker-a', { outcome: 'delivered', finishedAt: now + 62_000, reference: 'X' })).to.equal(
      false,
    );
    expect(
      await store().completeAttempt(retaken, 'worker-b', { outcome: 'delivered', finishedAt: now + 62_000, reference: 'AZ-1' }),
    ).to.equal(true);
    const view = (await store().getSubmission(s.id))!.deliveries[0]!;
    expect(view).to.include({ state: 'delivered', reference: 'AZ-1', attempts: 2 });
    expect(view.attemptLog.map((a) => a.outcome)).to.deep.equal(['interrupted', 'delivered']);
    expect(view.attemptLog[1]!.durationMs).to.equal(62_000 - 61_000);
  });

  it('refuses the late result of an attempt whose lease ran out even when the same worker claimed it again', async () => {
    const s = newSubmission('ext-same-owner', ['t'], 2_500_000);
    await store().createSubmission(s);
    const now = 2_500_000;
    const first = (await store().claimDue('worker-a', now, 60_000, 100)).find((c) => c.submissionId === s.id)!;
    // worker-a's attempt hangs past its lease; worker-a itself claims the delivery again
    const again = (await store().claimDue('worker-a', now + 61_000, 60_000, 100)).find((c) => c.id === first.id)!;
    expect(again).to.include({ attempt: 2, resumed: true });
    expect(await store().completeAttempt(first, 'worker-a', { outcome: 'delivered', finishedAt: now + 62_000, reference: 'OLD' })).to.equal(
      false,
    );
    expect(await store().completeAttempt(again, 'worker-a', { outcome: 'delivered', finishedAt: now + 63_000, reference: 'NEW' })).to.equal(
      true,
    );
    const view = (await store().getSubmission(s.id))!.deliveries[0]!;
    expect(view).to.include({ state: 'delivered', reference: 'NEW' });
    expect(view.attemptLog.map((a) => a.outcome)).to.deep.equal(['interrupted', 'delivered']);
  });

  it('moves a retry to waiting until its time, and a permanent error to failed', async () => {
    const s = newSubmission('ext-3', ['t'], 3_000_000);
    await store().createSubmission(s);
    const [c] = (await store().claimDue('w', 3_000_000, 60_000, 100)).filter((x) => x.submissionId === s.id);
    await store().completeAttempt(c!, 'w', {
      outcome: 'retry',
      finishedAt: 3_000_100,
      error: 'HTTP 503',
      errorKind: 'http-503',
      httpStatus: 503,
      nextAttemptAt: 3_010_000,
    });
    expect((await store().claimDue('w', 3_005_000, 60_000, 100)).some((x) => x.id === c!.id)).to.equal(false);
    const [c2] = (await store().claimDue('w', 3_010_000, 60_000, 100)).filter((x) => x.id === c!.id);
    expect(c2!.attempt).to.equal(2);
    await store().completeAttempt(c2!, 'w', {
      outcome: 'failed',
      finishedAt: 3_010_050,
      error: 'HTTP 400',
      errorKind: 'http-400',
      httpStatus: 400,
    });
    const d = (await store().getSubmission(s.id))!.deliveries[0]!;
    expect(d).to.include({ state: 'failed', lastError: 'HTTP 400', lastErrorKind: 'http-400' });
    expect(d.attemptLog.map((a) => [a.outcome, a.httpStatus])).to.deep.equal([
      ['retry', 503],
      ['failed', 400],
    ]);
    const types = (await store().events(s.id)).map((e) => e.type);
    expect(types).to.deep.equal([
      'submission.received',
      'delivery.queued',
      'delivery.sending',
      'delivery.waiting',
      'delivery.sending',
      'delivery.failed',
    ]);
  });

  it('waits for an acknowledgement after a hand-over, without spending attempts on asking', async () => {
    const s = newSubmission('ack-1', ['drop'], 8_000_000);
    await store().createSubmission(s);
    const [c] = (await store().claimDue('w', 8_000_000, 60_000, 100)).filter((x) => x.submissionId === s.id);
    expect(
      await store().completeAttempt(c!, 'w', {
        outcome: 'handed-over',
        finishedAt: 8_000_010,
        nextAttemptAt: 8_005_000,
        ack: { token: 'file-1.xml', deadline: 8_100_000 },
      }),
    ).to.equal(true);
    let d = (await store().getSubmission(s.id))!.deliveries[0]!;
    expect(d).to.include({ state: 'acknowledging', attempts: 1 });
    expect(d.attemptLog[0]).to.include({ outcome: 'handed-over' });
    expect((await store().claimDue('w', 8_004_999, 60_000, 100)).some((x) => x.id === c!.id)).to.equal(false);
    const [ask] = (await store().claimDue('w', 8_005_000, 60_000, 100)).filter((x) => x.id === c!.id);
    expect(ask).to.deep.include({ attempt: 1, ack: { token: 'file-1.xml', deadline: 8_100_000 } });
    await store().completeAttempt(ask!, 'w', { outcome: 'ack-pending', finishedAt: 8_005_010, nextAttemptAt: 8_010_000 });
    const [ask2] = (await store().claimDue('w', 8_010_000, 60_000, 100)).filter((x) => x.id === c!.id);
    expect(ask2!.ack?.token).to.equal('file-1.xml');
    await store().completeAttempt(ask2!, 'w', { outcome: 'delivered', finishedAt: 8_010_020, reference: 'OK-77' });
    d = (await store().getSubmission(s.id))!.deliveries[0]!;
    expect(d).to.include({ state: 'delivered', attempts: 1, reference: 'OK-77' });
    const types = (await store().events(s.id)).map((e) => e.type);
    expect(types).to.deep.equal([
      'submission.received',
      'delivery.queued',
      'delivery.sending',
      'delivery.acknowledging',
      'delivery.delivered',
    ]);
  });

  it('records a delivery as delivered even when recording it RECEIVED fails, half of that written nowhere', async () => {
    const s = newSubmission('ext-received-fails', ['t'], 3_500_000);
    await store().createSubmission(s);
    const failures: string[] = [];
    // A hook whose rule breaks half-way through RECEIVED, after its first rows are written.
    store().onDelivered({
      rules: () => ({
        map: () => 'RECEIVED',
        forwards: () => {
          throw new Error('portal list unreadable');
        },
        newId: () => uuidv7(3_500_000),
        now: 3_500_000,
      }),
      recorded: () => failures.push('recorded'),
      failed: (cases, e) => failures.push(`${cases.length}: ${e.message}`),
    });
    try {
      const [c] = (await store().claimDue('w', 3_500_000, 60_000, 100)).filter((x) => x.submissionId === s.id);
      expect(await store().completeAttempt(c!, 'w', { outcome: 'delivered', finishedAt: 3_500_100, reference: 'AZ-9' })).to.equal(true);
    } finally {
      store().onDelivered(undefined);
    }
    expect(failures).to.deep.equal(['1: portal list unreadable']);
    expect((await store().getSubmission(s.id))!.deliveries[0]).to.include({ state: 'delivered', reference: 'AZ-9' });
    const history = await store().db.selectFrom('status_history').select('id').where('submission_id', '=', s.id).execute();
    expect(history, 'the RECEIVED rows went with the rolled-back attempt').to.deep.equal([]);
  });

  it('releases leases on shutdown so the delivery is due at once', async () => {
    const s = newSubmission('ext-4', ['t'], 4_000_000);
    await store().createSubmission(s);
    const [c] = (await store().claimDue('w', 4_000_000, 60_000, 100)).filter((x) => x.submissionId === s.id);
    await store().releaseLeases('w', [c!], 4_000_010);
    const [again] = (await store().claimDue('w2', 4_000_010, 60_000, 100)).filter((x) => x.id === c!.id);
    expect(again).to.include({ attempt: 2, resumed: false });
    const log = (await store().getSubmission(s.id))!.deliveries[0]!.attemptLog;
    expect(log[0]).to.include({ outcome: 'interrupted', errorKind: 'shutdown' });
  });

  it('never hands one delivery to two claimers at once', async () => {
    for (let i = 0; i < 40; i++) await store().createSubmission(newSubmission(`race-${i}`, ['t'], 5_000_000));
    const claims = await Promise.all(Array.from({ length: 4 }, (_, i) => store().claimDue(`w${i}`, 5_000_000, 60_000, 15)));
    const ids = claims.flat().map((c) => c.id);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('warns at start-up when PostgreSQL runs without autovacuum, which a queue table needs', async () => {
    const warnings = await store().maintenanceWarnings();
    if (store().dialect.name === 'sqlite') return expect(warnings).to.deep.equal([]);
    const { rows } = await sql<{ autovacuum: string }>`show autovacuum`.execute(store().db);
    expect(warnings.length).to.equal(rows[0]!.autovacuum === 'off' ? 1 : 0);
    for (const w of warnings) expect(w).to.match(/autovacuum off.*VACUUM deliveries/);
  });
});
