import { expect } from 'chai';
import { describeEachDatabase } from './support/databases.ts';
import { uuidv7, type NewSubmission, type Store } from '../src/store/index.ts';
import { startOfDay } from '../src/store/console-overview.ts';

const GE = '05513000';
const BOT = '05512000';
const T0 = 50_000_000;

function sub(externalId: string, tenant: string, at: number, targets = ['waste']): NewSubmission {
  return {
    id: uuidv7(at),
    portalId: 'portal-a',
    externalId,
    tenant,
    service: 'sperrmuell',
    submittedAt: new Date(at).toISOString(),
    receivedAt: at,
    bodyHash: `h-${externalId}`,
    content: JSON.stringify({ applicant: { familyName: 'Mustermann' }, data: { items: 2 } }),
    attachments: [],
    deliveries: targets.map((t) => ({ id: uuidv7(at), routeId: 'r1', targetId: t, mappingId: 'm.jsonata' })),
  };
}

/** Claims the submission's deliveries and ends each attempt as given (the worker's path through the store). */
async function attempt(
  store: Store,
  s: NewSubmission,
  at: number,
  r: { outcome: 'delivered' | 'failed'; reference?: string; errorKind?: string },
) {
  const claimed = (await store.claimDue('w', at, 60_000, 100)).filter((c) => c.submissionId === s.id);
  for (const c of claimed)
    await store.completeAttempt(c, 'w', {
      outcome: r.outcome,
      finishedAt: at + 40,
      reference: r.reference,
      ...(r.errorKind ? { error: `HTTP ${r.errorKind.slice(5)}`, errorKind: r.errorKind, httpStatus: Number(r.errorKind.slice(5)) } : {}),
    });
}

describeEachDatabase('console store', ({ store }) => {
  const s = {
    delivered: sub('ge-delivered', GE, T0),
    failed: sub('ge-failed', GE, T0 + 1000),
    queued: sub('ge-queued', GE, T0 + 2000),
    botFailed: sub('bot-failed', BOT, T0 + 3000),
    botTimeout: sub('bot-timeout', BOT, T0 + 4000, ['archive']),
  };

  before(async () => {
    // One at a time: each claim below must find only its own submission's deliveries due.
    await store().createSubmission(s.delivered);
    await attempt(store(), s.delivered, T0 + 100, { outcome: 'delivered', reference: 'AZ-00001' });
    await store().createSubmission(s.failed);
    await attempt(store(), s.failed, T0 + 1100, { outcome: 'failed', errorKind: 'http-400' });
    await store().createSubmission(s.botFailed);
    await attempt(store(), s.botFailed, T0 + 3100, { outcome: 'failed', errorKind: 'http-400' });
    await store().createSubmission(s.botTimeout);
    await attempt(store(), s.botTimeout, T0 + 4100, { outcome: 'failed', errorKind: 'http-503' });
    await store().createSubmission(s.queued);
  });

  const all = { tenants: undefined };

  it('finds submissions by hub id, external id and back-office reference', async () => {
    const byId = await store().console.search({ ...all, id: s.failed.id }, 10);
    expect(byId.rows.map((r) => r.externalId)).to.deep.equal(['ge-failed']);
    const byExternal = await store().console.search({ ...all, externalId: 'bot-failed' }, 10);
    expect(byExternal.rows.map((r) => r.id)).to.deep.equal([s.botFailed.id]);
    const byReference = await store().console.search({ ...all, reference: 'AZ-00001' }, 10);
    expect(byReference.rows.map((r) => r.externalId)).to.deep.equal(['ge-delivered']);
    expect(byReference.rows[0]!.deliveries[0]).to.include({ target: 'waste', state: 'delivered', reference: 'AZ-00001', attempts: 1 });
  });

  it('filters by tenant, service, state, error kind, target and time range, newest first', async () => {
    const names = async (f: Parameters<Store['console']['search']>[0]) =>
      (await store().console.search(f, 50)).rows.map((r) => r.externalId);
    expect(await names({ ...all, tenant: GE })).to.deep.equal(['ge-queued', 'ge-failed', 'ge-delivered']);
    expect(await names({ ...all, state: 'failed' })).to.deep.equal(['bot-timeout', 'bot-failed', 'ge-failed']);
    expect(await names({ ...all, state: 'failed', errorKind: 'http-400' })).to.deep.equal(['bot-failed', 'ge-failed']);
    expect(await names({ ...all, target: 'archive' })).to.deep.equal(['bot-timeout']);
    expect(await names({ ...all, service: 'sperrmuell', from: T0 + 1000, to: T0 + 3000 })).to.deep.equal(['ge-queued', 'ge-failed']);
    expect(await names({ ...all, service: 'other' })).to.deep.equal([]);
  });

  it('pages with a cursor without gaps or repeats', async () => {
    const seen: string[] = [];
    let page = await store().console.search(all, 2);
    seen.push(...page.rows.map((r) => r.externalId));
    while (page.next) {
      page = await store().console.search(all, 2, page.next);
      seen.push(...page.rows.map((r) => r.externalId));
    }
    expect(seen).to.deep.equal(['bot-timeout', 'bot-failed', 'ge-queued', 'ge-failed', 'ge-delivered']);
  });

  it('counts failed deliveries by target × error kind', async () => {
    expect(await store().console.groupedCounts(all)).to.deep.equal([
      { target: 'waste', errorKind: 'http-400', count: 2 },
      { target: 'archive', errorKind: 'http-503', count: 1 },
    ]);
    expect(await store().console.groupedCounts({ ...all, state: 'delivered' })).to.deep.equal([
      { target: 'waste', errorKind: null, count: 1 },
    ]);
  });

  it('shows a Gelsenkirchen operator nothing of Bottrop: rows, counts, timeline, overview', async () => {
    const ge = { tenants: [GE] };
    const rows = await store().console.search({ ...ge, state: 'failed' }, 50);
    expect(rows.rows.map((r) => r.tenant)).to.deep.equal([GE]);
    expect(await store().console.search({ ...ge, externalId: 'bot-failed' }, 50)).to.deep.include({ rows: [] });
    expect(await store().console.groupedCounts(ge)).to.deep.equal([{ target: 'waste', errorKind: 'http-400', count: 1 }]);
    expect(await store().console.timeline(s.botFailed.id, [GE])).to.equal(undefined);
    expect(await store().console.resolve('bot-failed', [GE])).to.deep.equal([]);
    expect(await store().console.formData(s.botFailed.id, [GE])).to.equal(undefined);
    const o = await store().console.overview([GE], startOfDay(T0 + 5000, 'UTC'));
    expect(o.rows.map((r) => r.tenant)).to.deep.equal([GE]);
    expect(o.breakers.map((b) => b.target)).to.not.include('archive');
    // No tenant at all: nothing, not everything.
    expect((await store().console.search({ tenants: [] }, 50)).rows).to.deep.equal([]);
    expect(await store().console.groupedCounts({ tenants: [] })).to.deep.equal([]);
  });

  it('gives the overview per tenant and target: today in, out, waiting, failed, oldest waiting', async () => {
    const o = await store().console.overview(undefined, startOfDay(T0 + 5000, 'UTC'));
    expect(o.rows).to.deep.equal([
      { tenant: BOT, target: 'archive', receivedToday: 1, deliveredToday: 0, waiting: 0, failed: 1, oldestWaitingAt: null },
      { tenant: BOT, target: 'waste', receivedToday: 1, deliveredToday: 0, waiting: 0, failed: 1, oldestWaitingAt: null },
      { tenant: GE, target: 'waste', receivedToday: 3, deliveredToday: 1, waiting: 1, failed: 1, oldestWaitingAt: T0 + 2000 },
    ]);
    // A later day: nothing came in or went out "today", the backlog stays.
    const next = await store().console.overview(undefined, startOfDay(T0 + 5000, 'UTC') + 86_400_000);
    expect(next.rows.find((r) => r.tenant === GE)).to.include({ receivedToday: 0, deliveredToday: 0, waiting: 1, failed: 1 });
  });

  it('tells a submission as a timeline: received, events, attempts with errors and durations', async () => {
    const t = (await store().console.timeline(s.failed.id, undefined))!;
    expect(t.submission.externalId).to.equal('ge-failed');
    const kinds = t.entries.map((e) => (e.kind === 'event' ? e.type : e.kind));
    expect(kinds[0]).to.equal('received');
    expect(kinds).to.include.members(['submission.received', 'delivery.queued', 'attempt']);
    const a = t.entries.find((e) => e.kind === 'attempt');
    expect(a).to.include({ outcome: 'failed', errorKind: 'http-400', httpStatus: 400, durationMs: 40, target: 'waste' });
    const times = t.entries.map((e) => e.at);
    expect(times).to.deep.equal([...times].sort((x, y) => x - y));
    expect(await store().console.resolve('ge-failed', undefined)).to.deep.equal([s.failed.id]);
    expect(await store().console.formData(s.failed.id, [GE])).to.deep.equal({
      applicant: { familyName: 'Mustermann' },
      data: { items: 2 },
    });
  });
});

describe('startOfDay', () => {
  it('is local midnight in the time zone', () => {
    const noonUtc = 10 * 86_400_000 + 12 * 3_600_000 + 1234;
    expect(startOfDay(noonUtc, 'UTC')).to.equal(10 * 86_400_000);
    // Berlin is an hour ahead in January: its midnight is 23:00 UTC the day before.
    expect(startOfDay(noonUtc, 'Europe/Berlin')).to.equal(10 * 86_400_000 - 3_600_000);
  });
});
