import { hostname } from 'node:os';
import { expect } from 'chai';
import winston from 'winston';
import { describeEachDatabase } from './support/databases.ts';
import { seedCases } from './support/reconcile-seed.ts';
import { openStore } from '../src/store/index.ts';
import type { ReconcileStore } from '../src/store/reconcile-store.ts';
import { runReconciliation, type ReconcileTarget } from '../src/reconcile/run.ts';
import { Scheduler } from '../src/scheduler/scheduler.ts';
import { plannedSchedules, registerReconciliation } from '../src/reconcile/jobs.ts';
import { confirmRedeliveries, confirmRun } from '../src/reconcile/confirm.ts';
import { csvRow, runCsvChunks, runJsonChunks } from '../src/reconcile/export.ts';
import { BackofficeIndex } from '../src/reconcile/backoffice-index.ts';
import { stuckKind } from '../src/reconcile/stuck-deliveries.ts';
import { DeliveryWindows } from '../src/core/policy/window.ts';
import type { AdapterInstance, CaseStatus } from '../src/sdk/types.ts';
import type { BackofficeStatusChange, RecordedStatus, StatusSink } from '../src/core/status/types.ts';
import type { TargetReconcileConfig } from '../src/config/schema.ts';

const quiet = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
const MIN = 60_000;

/** A status sink that remembers what it was handed, and says each change was recorded and forwarded. */
class RecordingSink implements StatusSink {
  readonly changes: BackofficeStatusChange[] = [];
  async record(change: BackofficeStatusChange): Promise<RecordedStatus & { forwarded: boolean }> {
    this.changes.push(change);
    return { recorded: true, forwarded: true, deliveryId: change.deliveryId };
  }
}

/** A back office in memory that answers list(since) and status(reference) from its cases. */
function office(cases: CaseStatus[], o: { list?: boolean } = {}): AdapterInstance & { listedSince: Date[] } {
  const listedSince: Date[] = [];
  const a: AdapterInstance & { listedSince: Date[] } = {
    listedSince,
    async deliver() {
      return { ok: true, reference: null };
    },
    async check() {
      return { ok: true, message: 'ok' };
    },
    async status(reference) {
      return cases.find((c) => c.reference === reference) ?? null;
    },
  };
  if (o.list !== false) {
    a.list = async function* (since) {
      listedSince.push(since);
      yield* cases;
    };
  }
  return a;
}

function settings(s: Partial<TargetReconcileConfig> = {}): TargetReconcileConfig {
  return { timezone: 'Europe/Berlin', graceMinutes: 15, lookbackDays: 7, concurrency: 2, ...s };
}

/** Each test compares its own target, so the cases of one test are not in the next one's way. */
function targets(id: string, adapter: AdapterInstance, s: Partial<TargetReconcileConfig> = {}): Map<string, ReconcileTarget> {
  return new Map([[id, { id, reconcile: settings(s), adapter }]]);
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('reconciliation: back-office index', () => {
  it('finds cases by key and by reference, tells a second case under one key from the same case listed again', () => {
    const index = new BackofficeIndex();
    for (let i = 0; i < 5000; i++) index.add({ reference: `AZ-${i}`, status: i % 2 ? 'offen' : 'erledigt', idempotencyKey: `key-${i}` });
    index.add({ reference: 'AZ-7', status: 'offen', idempotencyKey: 'key-7' });
    index.add({ reference: 'AZ-7b', status: 'offen', idempotencyKey: 'key-7' });
    index.add({ reference: 'ÄZ-ohne-Schlüssel', status: 'offen' });
    expect(index.size).to.equal(5001);
    expect(index.repeats).to.equal(1);
    const i = index.findByKey('key-4321');
    expect([index.reference(i), index.status(i), index.key(i)]).to.deep.equal(['AZ-4321', 'offen', 'key-4321']);
    expect(index.findByReference('AZ-4321')).to.equal(i);
    expect(index.duplicates(index.findByKey('key-7'))).to.deep.equal(['AZ-7b']);
    expect(index.key(index.findByReference('ÄZ-ohne-Schlüssel'))).to.equal(undefined);
    expect(index.findByKey('key-5000')).to.equal(-1);
    index.markSeen(i);
    expect([...index.unseen()]).to.have.length(5000);
  });

  it("keeps keys in the hub's UUID form compactly and tells them from the same text in another form", () => {
    const index = new BackofficeIndex();
    const uuid = '01a20f8d-4ba7-7915-81a3-571deacb6558';
    index.add({ reference: 'AZ-1', status: 'offen', idempotencyKey: uuid });
    index.add({ reference: 'AZ-2', status: 'offen', idempotencyKey: uuid.toUpperCase() });
    expect(index.key(index.findByKey(uuid))).to.equal(uuid);
    expect(index.reference(index.findByKey(uuid))).to.equal('AZ-1');
    expect(index.reference(index.findByKey(uuid.toUpperCase()))).to.equal('AZ-2');
    expect(index.findByKey(uuid.replace(/-/g, ''))).to.equal(-1);
  });
});

describe('reconciliation: schedules', () => {
  const t = (adapter: AdapterInstance, schedule?: string) =>
    new Map<string, ReconcileTarget>([['office', { id: 'office', adapter, reconcile: settings(schedule ? { schedule } : {}) }]]);
  const nightly = {
    id: 'nightly',
    job: 'reconcile' as const,
    cron: '0 3 * * *',
    timezone: 'Europe/Berlin',
    options: { targets: ['office'], stuckAfterMinutes: 15 },
  };

  it('plans the configured schedules and one per target with a schedule of its own', () => {
    const planned = plannedSchedules(
      [nightly, { id: 'stuck', job: 'stuck-deliveries', cron: '*/5 * * * *', timezone: 'UTC', options: { olderThanMinutes: 10 } }],
      t(office([]), '15 * * * *'),
    );
    expect(planned).to.deep.equal([
      {
        id: 'nightly',
        cron: '0 3 * * *',
        timezone: 'Europe/Berlin',
        job: 'reconcile',
        request: { job: 'reconcile', targets: ['office'], tenants: undefined, lookbackDays: undefined, stuckAfterMinutes: 15 },
      },
      {
        id: 'stuck',
        cron: '*/5 * * * *',
        timezone: 'UTC',
        job: 'stuck-deliveries',
        request: { job: 'stuck-deliveries', stuckAfterMinutes: 10 },
      },
      {
        id: 'target:office',
        cron: '15 * * * *',
        timezone: 'Europe/Berlin',
        job: 'reconcile',
        request: { job: 'reconcile', targets: ['office'], stuckAfterMinutes: 15 },
      },
    ]);
  });

  it('refuses at start-up a schedule that could never run', () => {
    expect(() => plannedSchedules([{ ...nightly, options: { targets: ['nope'], stuckAfterMinutes: 15 } }], t(office([])))).to.throw(
      'schedules nightly: options.targets names no configured target: nope',
    );
    const mute: AdapterInstance = { deliver: async () => ({ ok: true, reference: null }), check: async () => ({ ok: true, message: '' }) };
    expect(() => plannedSchedules([], t(mute, '15 * * * *'))).to.throw(
      "targets.office.reconcile.schedule: the target's adapter offers neither list() nor status()",
    );
  });
});

describe('reconciliation: stuck deliveries and delivery windows', () => {
  const waiting = {
    id: 'd',
    submissionId: 's',
    targetId: 'office',
    tenant: '05513000',
    state: 'queued' as const,
    attempts: 0,
    createdAt: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
  };
  it('does not call a delivery stuck that waited for its window, only one that waited after the opening', () => {
    const windows = new DeliveryWindows(['Mon-Fri 06:00-22:00 Europe/Berlin']);
    const fridayNight = Date.parse('2026-11-27T22:00:00Z');
    const d = { ...waiting, nextAttemptAt: fridayNight };
    const mondayQuarterPast = Date.parse('2026-11-30T05:15:00Z');
    // Due since Friday by the clock, but the window opened a quarter of an hour ago: not yet stuck at 20 minutes.
    expect(stuckKind(d, mondayQuarterPast, 20 * 60_000, windows.dueSince(d.nextAttemptAt, mondayQuarterPast))).to.equal(undefined);
    expect(stuckKind(d, mondayQuarterPast, 10 * 60_000, windows.dueSince(d.nextAttemptAt, mondayQuarterPast))).to.equal('never-claimed');
    // Without the window it would have been stuck all weekend.
    expect(stuckKind(d, mondayQuarterPast, 20 * 60_000)).to.equal('never-claimed');
  });
});

describe('reconciliation: CSV', () => {
  it('quotes fields with commas, quotes and line breaks, and defuses spreadsheet formulas', () => {
    expect(csvRow(['a', 'b,c', 'say "hi"', 'two\nlines', null, 3, '=SUM(A1)'])).to.equal(
      'a,"b,c","say ""hi""","two\nlines",,3,\'=SUM(A1)\r\n',
    );
  });
});

describeEachDatabase('reconciliation', ({ kind, store, db }) => {
  let rstore: ReconcileStore;
  const now = Date.now();
  before(() => {
    rstore = store().reconcile;
  });

  it('classifies every case: matched, missing, unknown, duplicated, status changed, stuck; records the run', async () => {
    const p = 'c1-';
    await seedCases(
      store(),
      [
        { id: `${p}matched` },
        { id: `${p}by-ref` },
        { id: `${p}missing` },
        { id: `${p}dup` },
        { id: `${p}changed`, backofficeStatus: 'eingegangen' },
        { id: `${p}first-word`, backofficeStatus: null },
        { id: `${p}spelling`, backofficeStatus: 'in Bearbeitung' },
        { id: `${p}fresh`, deliveredAt: now - 2 * MIN },
        { id: `${p}old`, deliveredAt: now - 30 * 86_400_000 },
        { id: `${p}other-target`, targetId: 'elsewhere' },
        { id: `${p}never-claimed`, state: 'queued', nextAttemptAt: now - 60 * MIN, createdAt: now - 60 * MIN },
        { id: `${p}overdue`, state: 'waiting', attempts: 2, nextAttemptAt: now - 40 * MIN },
        { id: `${p}lease-expired`, state: 'sending', leaseOwner: 'elsewhere:1:x', leaseExpiresAt: now - MIN, nextAttemptAt: now - MIN },
        {
          id: `${p}holder-gone`,
          state: 'sending',
          leaseOwner: `${hostname()}:999999:dead`,
          leaseExpiresAt: now + 10 * MIN,
          nextAttemptAt: now + 10 * MIN,
        },
        {
          id: `${p}holder-alive`,
          state: 'sending',
          leaseOwner: `${hostname()}:${process.pid}:live`,
          leaseExpiresAt: now + 10 * MIN,
          nextAttemptAt: now + 10 * MIN,
        },
      ],
      now,
    );
    const bo = office([
      { reference: `AZ-${p}matched`, status: 'eingegangen', idempotencyKey: `${p}matched` },
      { reference: `AZ-${p}matched`, status: 'eingegangen', idempotencyKey: `${p}matched` }, // listed twice: the same case
      { reference: `AZ-${p}by-ref`, status: 'eingegangen' },
      { reference: `AZ-${p}dup`, status: 'eingegangen', idempotencyKey: `${p}dup` },
      { reference: `AZ-${p}dup-2`, status: 'eingegangen', idempotencyKey: `${p}dup` },
      { reference: `AZ-${p}changed`, status: 'abgeschlossen', idempotencyKey: `${p}changed`, reason: 'Abholung erfolgt' },
      { reference: `AZ-${p}first-word`, status: 'eingegangen', idempotencyKey: `${p}first-word` },
      { reference: `AZ-${p}spelling`, status: 'IN_BEARBEITUNG', idempotencyKey: `${p}spelling` },
      { reference: `AZ-${p}fresh`, status: 'eingegangen', idempotencyKey: `${p}fresh` },
      { reference: `AZ-${p}old`, status: 'eingegangen', idempotencyKey: `${p}old` },
      { reference: 'AZ-stranger', status: 'in Bearbeitung', idempotencyKey: 'not-from-the-hub' },
    ]);
    const sink = new RecordingSink();
    const run = (await runReconciliation(
      { rstore, targets: targets('office', bo), status: sink, logger: quiet, now: () => now },
      { job: 'reconcile', scheduleId: 'on-demand', stuckAfterMinutes: 15 },
    ))!;

    expect(run.state, run.error ?? '').to.equal('finished');
    // matched, by-ref, first-word (the hub learns it), spelling (one word); and fresh and old too: outside the
    // window, but listed, so compared as well.
    expect(run.matched).to.equal(6);
    expect(run.counts).to.deep.equal({
      'missing-in-backoffice': 1,
      'unknown-to-hub': 1,
      'duplicated-in-backoffice': 1,
      'status-changed': 1,
      'stuck-delivery': 4,
    });
    expect(run.discrepancies).to.equal(8);
    expect(bo.listedSince[0]!.getTime()).to.equal(now - 7 * 86_400_000);

    const found = await all(rstore.discrepancies(run.id));
    const by = (cls: string) => found.filter((d) => d.class === cls);
    expect(by('missing-in-backoffice')[0]).to.include({
      deliveryId: `${p}missing`,
      action: 'flagged',
      submissionId: `s-${p}missing`,
      externalId: `ext-${p}missing`,
      tenant: '05513000',
      targetId: 'office',
      idempotencyKey: `${p}missing`,
    });
    expect(by('unknown-to-hub')[0]).to.include({ reference: 'AZ-stranger', idempotencyKey: 'not-from-the-hub', action: 'reported' });
    expect(by('duplicated-in-backoffice')[0]).to.deep.include({
      deliveryId: `${p}dup`,
      action: 'flagged',
      detail: { references: [`AZ-${p}dup`, `AZ-${p}dup-2`] },
    });
    expect(by('status-changed')[0]).to.deep.include({
      deliveryId: `${p}changed`,
      action: 'forwarded',
      detail: { from: 'eingegangen', to: 'abgeschlossen' },
    });
    expect(sink.changes.map((c) => [c.deliveryId, c.status])).to.have.deep.members([
      [`${p}first-word`, 'eingegangen'],
      [`${p}changed`, 'abgeschlossen'],
    ]);
    expect(sink.changes.find((c) => c.deliveryId === `${p}changed`)).to.deep.equal({
      targetId: 'office',
      deliveryId: `${p}changed`,
      idempotencyKey: `${p}changed`,
      reference: `AZ-${p}changed`,
      status: 'abgeschlossen',
      reason: 'Abholung erfolgt',
      at: now,
      source: 'reconciliation',
    });
    const stuck = Object.fromEntries(by('stuck-delivery').map((d) => [d.deliveryId, [(d.detail as { kind: string }).kind, d.action]]));
    expect(stuck).to.deep.equal({
      [`${p}never-claimed`]: ['never-claimed', 'reported'],
      [`${p}overdue`]: ['overdue', 'reported'],
      [`${p}lease-expired`]: ['lease-expired', 'reported'],
      [`${p}holder-gone`]: ['holder-gone', 'released'],
    });
    // Released: due now, so the next claim takes it over and marks its attempt interrupted.
    const gone = await store()
      .db.selectFrom('deliveries')
      .select(['state', 'next_attempt_at'])
      .where('id', '=', `${p}holder-gone`)
      .executeTakeFirstOrThrow();
    expect(gone).to.deep.equal({ state: 'sending', next_attempt_at: now });

    // Persisted and exportable.
    const stored = await rstore.getRun(run.id);
    expect(stored).to.deep.include({
      job: 'reconcile',
      scheduleId: 'on-demand',
      scheduledFor: null,
      state: 'finished',
      matched: 6,
      discrepancies: 8,
    });
    expect(stored!.finishedAt).to.be.a('number');
    const json = JSON.parse((await all(runJsonChunks(rstore, stored!, 2))).join('')) as {
      discrepancyList: { class: string }[];
      counts: object;
    };
    expect(json.discrepancyList.map((d) => d.class)).to.have.members(found.map((d) => d.class));
    expect(JSON.parse((await all(runJsonChunks(rstore, stored!))).join(''))).to.deep.equal(json);
    const csv = (await all(runCsvChunks(rstore, stored!))).join('');
    const lines = csv.split('\r\n');
    expect(lines[0]).to.equal(
      'id,class,action,target,portal,tenant,submission,delivery,reference,idempotencyKey,externalId,resolvedAt,resolvedBy,detail',
    );
    expect(lines).to.have.length(8 + 2);
    expect(csv).to.include(
      `,duplicated-in-backoffice,flagged,office,portal-a,05513000,s-${p}dup,${p}dup,AZ-${p}dup,${p}dup,ext-${p}dup,,,"{""references"":[""AZ-${p}dup"",""AZ-${p}dup-2""]}"`,
    );
  });

  it('re-delivers a missing case under redeliver: auto with the same idempotency key and a new retry budget', async () => {
    const p = 'c2-';
    await seedCases(store(), [{ id: `${p}lost`, idempotencyKey: `${p}key`, attempts: 3, targetId: 'auto' }], now);
    let woken = 0;
    const run = (await runReconciliation(
      { rstore, targets: targets('auto', office([]), { redeliver: 'auto' }), logger: quiet, now: () => now, onRedelivered: () => woken++ },
      { job: 'reconcile', scheduleId: 'on-demand', targets: ['auto'], stuckAfterMinutes: 15, since: now - 2 * 3_600_000 },
    ))!;
    const [d] = await all(rstore.discrepancies(run.id));
    expect(d).to.include({ class: 'missing-in-backoffice', action: 'redelivered', deliveryId: `${p}lost` });
    expect(woken).to.equal(1);
    const row = await store().db.selectFrom('deliveries').selectAll().where('id', '=', `${p}lost`).executeTakeFirstOrThrow();
    expect(row).to.include({
      state: 'queued',
      idempotency_key: `${p}key`,
      attempts: 3,
      attempt_base: 3,
      next_attempt_at: now,
      lease_owner: null,
    });
    const [ev] = (await store().events(`s-${p}lost`)).filter((e) => e.type === 'delivery.redelivered');
    expect(ev!.detail).to.deep.include({
      by: 'reconciliation',
      reason: 'reconciliation: delivered by the hub but not in the back office',
      previousReference: `AZ-${p}lost`,
      runId: run.id,
    });
  });

  it('leaves a missing case to an operator under redeliver: ask, and re-delivers it once when confirmed', async () => {
    const p = 'c3-';
    await seedCases(
      store(),
      [
        { id: `${p}lost`, targetId: 'ask' },
        { id: `${p}lost-too`, targetId: 'ask' },
      ],
      now,
    );
    const run = (await runReconciliation(
      { rstore, targets: targets('ask', office([]), { redeliver: 'ask' }), logger: quiet, now: () => now },
      { job: 'reconcile', scheduleId: 'on-demand', targets: ['ask'], stuckAfterMinutes: 15, since: now - 2 * 3_600_000 },
    ))!;
    const found = await all(rstore.discrepancies(run.id));
    expect(found.map((d) => [d.deliveryId, d.action])).to.deep.equal([
      [`${p}lost`, 'awaiting-operator'],
      [`${p}lost-too`, 'awaiting-operator'],
    ]);
    expect(
      (await store().db.selectFrom('deliveries').select('state').where('id', '=', `${p}lost`).executeTakeFirstOrThrow()).state,
    ).to.equal('delivered');

    const [one] = await confirmRedeliveries(rstore, [found[0]!.id], { by: 'erika', now });
    expect(one).to.deep.equal({ discrepancy: found[0]!.id, deliveryId: `${p}lost`, outcome: 'redelivered' });
    expect(await confirmRedeliveries(rstore, [found[0]!.id, 999_999], { by: 'max', now })).to.deep.equal([
      { discrepancy: found[0]!.id, deliveryId: `${p}lost`, outcome: 'not-awaiting' },
      { discrepancy: 999_999, deliveryId: null, outcome: 'not-found' },
    ]);
    expect(await rstore.getDiscrepancy(found[0]!.id)).to.include({ action: 'redelivered', resolvedBy: 'erika', resolvedAt: now });
    const rest = await confirmRun(rstore, run.id, { by: 'erika', reason: 'Nachlieferung nach Rücksicherung', now });
    expect(rest.map((r) => r.outcome)).to.deep.equal(['redelivered']);
    const ev = (await store().events(`s-${p}lost-too`)).find((e) => e.type === 'delivery.redelivered');
    expect(ev!.detail).to.deep.include({ by: 'erika', reason: 'Nachlieferung nach Rücksicherung' });
  });

  it('asks status(reference) per delivered case when the adapter cannot list', async () => {
    const p = 'c4-';
    const t = { targetId: 'asked' };
    await seedCases(
      store(),
      [
        { id: `${p}same`, ...t },
        { id: `${p}gone`, ...t },
        { id: `${p}moved`, ...t },
        { id: `${p}no-ref`, reference: null, ...t },
      ],
      now,
    );
    const bo = office(
      [
        { reference: `AZ-${p}same`, status: 'eingegangen' },
        { reference: `AZ-${p}moved`, status: 'abgelehnt', reason: 'unvollständig' },
      ],
      { list: false },
    );
    const run = (await runReconciliation(
      { rstore, targets: targets('asked', bo), logger: quiet, now: () => now },
      { job: 'reconcile', scheduleId: 'on-demand', targets: ['asked'], stuckAfterMinutes: 15, since: now - 2 * 3_600_000 },
    ))!;
    expect(run.counts).to.deep.equal({ 'missing-in-backoffice': 1, 'status-changed': 1 });
    expect(run.matched).to.equal(1);
    const found = await all(rstore.discrepancies(run.id));
    // No status sink: the change is reported, not forwarded.
    expect(found.map((d) => [d.class, d.deliveryId, d.action])).to.have.deep.members([
      ['missing-in-backoffice', `${p}gone`, 'flagged'],
      ['status-changed', `${p}moved`, 'reported'],
    ]);
  });

  it('records a partial run when a back office cannot be listed, and carries on with the other targets', async () => {
    const broken: AdapterInstance = {
      ...office([]),
      // biome-ignore lint/correctness/useYield: a listing that fails before its first page
      list: async function* () {
        throw new Error('listing GET http://127.0.0.1:9/cases answered HTTP 503');
      },
    };
    const t = new Map<string, ReconcileTarget>([
      ['broken', { id: 'broken', reconcile: settings(), adapter: broken }],
      ['office', { id: 'office', reconcile: settings(), adapter: office([]) }],
    ]);
    const run = (await runReconciliation(
      { rstore, targets: t, logger: quiet, now: () => now },
      { job: 'reconcile', scheduleId: 'on-demand', targets: ['broken', 'office'], stuckAfterMinutes: 100_000, since: now - 60_000 },
    ))!;
    expect(run.state).to.equal('partial');
    expect(run.counts['side-failed']).to.equal(1);
    expect(run.error).to.equal('target broken: listing GET http://127.0.0.1:9/cases answered HTTP 503');
  });

  it('runs a schedule slot once across two schedulers on one database', async () => {
    // Two instances: on PostgreSQL two stores with pools of their own; SQLite is one process by design, so
    // there the second scheduler shares the store and only the slot's uniqueness is tested.
    const second = kind === 'postgres' ? await openStore(db().options) : store();
    try {
      const schedules = [
        { id: 'nightly', job: 'reconcile' as const, cron: '0 3 * * *', timezone: 'Europe/Berlin', options: { stuckAfterMinutes: 100_000 } },
      ];
      const instance = (s: typeof second) => {
        const scheduler = new Scheduler({ lock: s.reconcile, logger: quiet, now: () => now });
        registerReconciliation(scheduler, schedules, { rstore: s.reconcile, targets: new Map(), logger: quiet, now: () => now });
        return scheduler;
      };
      const a = instance(store());
      const b = instance(second);
      const slot = new Date('2026-11-25T02:00:00Z');
      const results = await Promise.all([a.fire(a.schedules[0]!, slot), b.fire(b.schedules[0]!, slot), a.fire(a.schedules[0]!, slot)]);
      expect(results.filter(Boolean)).to.have.length(1);
      const runs = await rstore.listRuns({ limit: 10, scheduleId: 'nightly' });
      expect(runs.map((r) => [r.scheduledFor, r.state])).to.deep.equal([[slot.getTime(), 'finished']]);
      // The next slot runs again.
      expect(await b.fire(b.schedules[0]!, new Date('2026-11-26T02:00:00Z'))).to.include({ state: 'finished', scheduleId: 'nightly' });
    } finally {
      if (second !== store()) await second.close();
    }
  });

  it('ends as failed a run whose instance on this host died mid-run', async () => {
    const left = {
      id: '01a20000-dead-7000-8000-000000000001',
      job: 'reconcile',
      scheduleId: 'on-demand',
      scheduledFor: null,
      filters: {},
      startedAt: now,
    };
    await rstore.startRun({ ...left, instance: `${hostname()}:999999` });
    await rstore.startRun({ ...left, id: '01a20000-dead-7000-8000-000000000002', instance: `${hostname()}:${process.pid}` });
    await rstore.startRun({ ...left, id: '01a20000-dead-7000-8000-000000000003', instance: 'another-host:999999' });
    const scheduler = new Scheduler({ lock: rstore, logger: quiet, now: () => now });
    const reconciliation = registerReconciliation(scheduler, [], { rstore, targets: new Map(), logger: quiet, now: () => now });
    expect(await reconciliation.closeAbandoned()).to.equal(1);
    expect(await rstore.getRun(left.id)).to.include({ state: 'failed', error: `the instance ${hostname()}:999999 stopped during the run` });
    expect((await rstore.getRun('01a20000-dead-7000-8000-000000000002'))!.state).to.equal('running');
    expect((await rstore.getRun('01a20000-dead-7000-8000-000000000003'))!.state).to.equal('running');
  });

  it('holds the advisory lock for the length of a run (PostgreSQL)', async function () {
    if (kind !== 'postgres') this.skip();
    const otherStore = await openStore(db().options);
    const other = otherStore.reconcile;
    try {
      let release!: () => void;
      const holding = rstore.exclusively('schedule:lock-test', () => new Promise<string>((r) => (release = () => r('first'))));
      await new Promise((r) => setTimeout(r, 100));
      expect(await other.exclusively('schedule:lock-test', async () => 'second')).to.deep.equal({ ran: false });
      release();
      expect(await holding).to.deep.equal({ ran: true, value: 'first' });
      expect(await other.exclusively('schedule:lock-test', async () => 'second')).to.deep.equal({ ran: true, value: 'second' });
    } finally {
      await otherStore.close();
    }
  });
});
