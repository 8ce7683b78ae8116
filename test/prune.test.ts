import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import winston from 'winston';
import Transport from 'winston-transport';
import { describeEachDatabase } from './support/databases.ts';
import { seedCases } from './support/reconcile-seed.ts';
import { openStore, uuidv7 } from '../src/store/index.ts';
import type { ReconcileStore } from '../src/store/reconcile-store.ts';
import type { StatusStore } from '../src/store/status-store.ts';
import type { PruneStore } from '../src/store/prune-store.ts';
import { runPrune, type PruneReport } from '../src/maintenance/prune.ts';
import { confirmRedeliveries } from '../src/reconcile/confirm.ts';
import { Scheduler } from '../src/scheduler/scheduler.ts';
import { registerPrune } from '../src/maintenance/prune-job.ts';
import { createMetrics } from '../src/operator/metrics.ts';
import type { ReconcileRunState } from '../src/store/reconcile-tables.ts';
import type { Discrepancy } from '../src/core/reconcile/types.ts';
import type { ScheduleConfig } from '../src/config/schema.ts';

const BIN = fileURLToPath(new URL('../bin/amtsbote.js', import.meta.url));
const DAY = 86_400_000;
const NOW = Date.parse('2026-11-25T02:00:00Z');
const DEFAULTS = { reconcileRunsDays: 90, emptyRunsDays: 7, statusOutboxDays: 30 };

/** Keeps the log lines, to check what the job logs. */
class MemoryTransport extends Transport {
  readonly lines: Record<string, unknown>[] = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.lines.push(info);
    next();
  }
}

const reported = (n: number, p: string): Discrepancy[] =>
  Array.from({ length: n }, (_, i) => ({ class: 'stuck-delivery', action: 'reported', deliveryId: `${p}${i}` }));

describeEachDatabase('prune', ({ kind, store, db }) => {
  let rstore: ReconcileStore;
  let sstore: StatusStore;
  let pstore: PruneStore;
  before(() => {
    rstore = store().reconcile;
    sstore = store().status;
    pstore = store().prune;
  });
  // The tests share one database: each starts without runs and status updates (submissions stay; ids differ per test).
  beforeEach(async () => {
    for (const t of ['reconcile_discrepancies', 'reconcile_runs', 'status_outbox'] as const) await store().db.deleteFrom(t).execute();
  });

  /** A reconciliation run as a run records itself: started, its findings, then (unless still running) its end. */
  async function recordRun(o: { daysAgo: number; state: ReconcileRunState; findings?: Discrepancy[]; error?: string }): Promise<string> {
    const startedAt = NOW - o.daysAgo * DAY;
    const id = uuidv7(startedAt);
    expect(
      await rstore.startRun({
        id,
        job: 'reconcile',
        scheduleId: 'on-demand',
        scheduledFor: null,
        filters: {},
        instance: 'test:1',
        startedAt,
      }),
    ).to.equal(true);
    await rstore.addDiscrepancies(id, o.findings ?? []);
    if (o.state !== 'running') {
      await rstore.finishRun(id, {
        state: o.state,
        finishedAt: startedAt + 2_000,
        counts: {},
        matched: 0,
        discrepancies: o.findings?.length ?? 0,
        error: o.error ?? null,
      });
    }
    return id;
  }

  /** A status update for the portal of a seeded case, queued `daysAgo` as the status back-channel queues it. */
  async function queueUpdate(caseId: string, daysAgo: number): Promise<{ id: string; at: number }> {
    const at = NOW - daysAgo * DAY;
    const rules = { map: () => 'PROCESSING' as const, forwards: () => true, newId: () => uuidv7(at), now: at };
    await sstore.recordAll([{ targetIds: [], deliveryId: caseId, word: 'in Bearbeitung', reason: null, at, source: 'push' }], rules);
    const [row] = await sstore.outbox(`s-${caseId}`);
    return { id: row!.id, at };
  }

  /** Sends the only due update (the portal answers, or the hub gives up on it); undefined leaves it `sending`. */
  async function send(u: { id: string; at: number }, outcome?: 'delivered' | 'failed'): Promise<void> {
    const [claimed] = await sstore.claimUpdates('test-sender', u.at, 60_000, 10);
    expect(claimed!.id).to.equal(u.id);
    if (outcome)
      await sstore.completeUpdate(claimed!, 'test-sender', {
        outcome,
        finishedAt: u.at + 1_000,
        ...(outcome === 'failed' ? { error: 'HTTP 410', errorKind: 'http-410' } : {}),
      });
  }

  const runIds = async () => (await store().db.selectFrom('reconcile_runs').select('id').execute()).map((r) => r.id);
  const findingRuns = async () => (await store().db.selectFrom('reconcile_discrepancies').select('run_id').execute()).map((r) => r.run_id);
  const outboxIds = async () => (await store().db.selectFrom('status_outbox').select('id').execute()).map((r) => r.id);
  const auditTrail = async () => {
    const out: Record<string, number> = {};
    for (const t of ['events', 'status_history', 'submissions', 'deliveries'] as const)
      out[t] = Number(
        (
          await store()
            .db.selectFrom(t)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return out;
  };

  it('deletes old runs with their findings and finished status updates; keeps running runs, runs awaiting an operator, updates on their way and young rows', async () => {
    const p = 'p1-';
    await seedCases(
      store(),
      ['lost', 'confirmed', 'delivered-old', 'given-up', 'delivered-young', 'pending', 'sending'].map((c) => ({ id: `${p}${c}` })),
      NOW - 100 * DAY,
    );

    const oldFinished = await recordRun({ daysAgo: 100, state: 'finished', findings: reported(2, `${p}a`) });
    const oldFailed = await recordRun({
      daysAgo: 95,
      state: 'failed',
      findings: reported(1, `${p}b`),
      error: 'target office: listing answered HTTP 503',
    });
    const oldRunning = await recordRun({ daysAgo: 100, state: 'running', findings: reported(1, `${p}c`) });
    // redeliver: ask — one finding waits for an operator, so the whole run stays, whatever its age.
    const oldAwaiting = await recordRun({
      daysAgo: 120,
      state: 'finished',
      findings: [{ class: 'missing-in-backoffice', action: 'awaiting-operator', deliveryId: `${p}lost` }, ...reported(1, `${p}d`)],
    });
    // The same, but an operator has decided: nothing holds it any more.
    const oldConfirmed = await recordRun({
      daysAgo: 100,
      state: 'finished',
      findings: [{ class: 'missing-in-backoffice', action: 'awaiting-operator', deliveryId: `${p}confirmed` }],
    });
    const [finding] = await store().db.selectFrom('reconcile_discrepancies').select('id').where('run_id', '=', oldConfirmed).execute();
    expect((await confirmRedeliveries(rstore, [Number(finding!.id)], { by: 'erika', now: NOW - 99 * DAY }))[0]!.outcome).to.equal(
      'redelivered',
    );
    const emptyLastWeek = await recordRun({ daysAgo: 8, state: 'finished' });
    const failedEmptyLastWeek = await recordRun({ daysAgo: 8, state: 'failed', error: 'target office: listing answered HTTP 503' });
    const foundLastWeek = await recordRun({ daysAgo: 8, state: 'finished', findings: reported(1, `${p}e`) });
    const emptyYesterday = await recordRun({ daysAgo: 1, state: 'finished' });

    const deliveredOld = await queueUpdate(`${p}delivered-old`, 40);
    await send(deliveredOld, 'delivered');
    const givenUp = await queueUpdate(`${p}given-up`, 35);
    await send(givenUp, 'failed');
    const deliveredYoung = await queueUpdate(`${p}delivered-young`, 10);
    await send(deliveredYoung, 'delivered');
    const sending = await queueUpdate(`${p}sending`, 45);
    await send(sending);
    const pending = await queueUpdate(`${p}pending`, 40);

    const expected = { reconcile_runs: 4, reconcile_discrepancies: 4, status_outbox: 2 };
    const trail = await auditTrail();
    const dry = await runPrune(pstore, DEFAULTS, { now: () => NOW, dryRun: true });
    expect(dry).to.deep.include({ dryRun: true, counts: expected });
    expect(await runIds()).to.have.length(9);
    expect(await outboxIds()).to.have.length(5);

    const done = await runPrune(pstore, DEFAULTS, { now: () => NOW });
    expect(done).to.deep.include({
      dryRun: false,
      counts: expected,
      cutoffs: { runsBefore: NOW - 90 * DAY, emptyRunsBefore: NOW - 7 * DAY, outboxBefore: NOW - 30 * DAY },
    });
    expect(await runIds()).to.have.members([oldRunning, oldAwaiting, failedEmptyLastWeek, foundLastWeek, emptyYesterday]);
    expect(await findingRuns()).to.have.members([oldRunning, oldAwaiting, oldAwaiting, foundLastWeek]);
    for (const gone of [oldFinished, oldFailed, oldConfirmed, emptyLastWeek]) expect(await rstore.getRun(gone)).to.equal(undefined);
    expect(await outboxIds()).to.have.members([deliveredYoung.id, sending.id, pending.id]);
    expect(await auditTrail(), 'events, status history, submissions and deliveries are the audit trail').to.deep.equal(trail);

    // Nothing is left that is old enough: a second prune deletes nothing.
    expect((await runPrune(pstore, DEFAULTS, { now: () => NOW })).counts).to.deep.equal({
      reconcile_runs: 0,
      reconcile_discrepancies: 0,
      status_outbox: 0,
    });
  });

  it('deletes in batches: more runs, findings and status updates than a batch holds, skipping a run it must keep', async () => {
    const p = 'p2-';
    const old = Array.from({ length: 25 }, (_, i) => `${p}u${i}`);
    await seedCases(
      store(),
      [...old, `${p}pending`].map((id) => ({ id })),
      NOW - 100 * DAY,
    );
    for (let i = 0; i < 12; i++) await recordRun({ daysAgo: 100 + i, state: 'finished' });
    const held = await recordRun({
      daysAgo: 95,
      state: 'finished',
      findings: [{ class: 'missing-in-backoffice', action: 'awaiting-operator', deliveryId: `${p}held` }],
    });
    for (let i = 0; i < 13; i++)
      await recordRun({ daysAgo: 91 + i * 0.5, state: 'failed', error: 'target office: listing answered HTTP 503' });
    // One run with a report larger than two default batches (1,000 rows).
    await recordRun({ daysAgo: 93, state: 'finished', findings: reported(2_345, `${p}big`) });
    for (const id of old) await send(await queueUpdate(id, 31), 'delivered');
    const pending = await queueUpdate(`${p}pending`, 60);

    const expected = { reconcile_runs: 26, reconcile_discrepancies: 2_345, status_outbox: 25 };
    expect((await runPrune(pstore, DEFAULTS, { now: () => NOW, dryRun: true })).counts).to.deep.equal(expected);
    expect((await runPrune(pstore, DEFAULTS, { now: () => NOW, batchSize: 10 })).counts).to.deep.equal(expected);
    expect(await runIds()).to.deep.equal([held]);
    expect(await findingRuns()).to.deep.equal([held]);
    expect(await outboxIds()).to.deep.equal([pending.id]);
  });

  it('a prune schedule firing prunes once across two schedulers on one database', async () => {
    // Two instances: on PostgreSQL two stores with pools of their own; SQLite is one process by design.
    const second = kind === 'postgres' ? await openStore(db().options) : store();
    try {
      await seedCases(store(), [{ id: 'p3-a' }, { id: 'p3-b' }], NOW - 100 * DAY);
      for (let i = 0; i < 3; i++) await recordRun({ daysAgo: 10 + i, state: 'finished' });
      await send(await queueUpdate('p3-a', 40), 'delivered');
      await send(await queueUpdate('p3-b', 41), 'failed');

      const schedules: ScheduleConfig[] = [
        { id: 'nightly-prune', job: 'prune', cron: '0 3 * * *', timezone: 'Europe/Berlin', options: DEFAULTS },
      ];
      const log = new MemoryTransport();
      const instance = (s: typeof second) => {
        const metrics = createMetrics();
        const scheduler = new Scheduler({ lock: s.reconcile, logger: winston.createLogger({ transports: [log] }), now: () => NOW });
        registerPrune(scheduler, schedules, { prune: s.prune, metrics, now: () => NOW });
        return { metrics, scheduler };
      };
      const a = instance(store());
      const b = instance(second);
      const slot = new Date('2026-11-25T02:00:00Z');

      if (kind === 'postgres') {
        // While another instance holds the schedule's lock, this one skips the firing and deletes nothing.
        let release!: () => void;
        let held!: () => void;
        const holding = new Promise<void>((r) => (held = r));
        const other = second.reconcile.exclusively('schedule:nightly-prune', () => new Promise<void>((r) => ((release = r), held())));
        await holding;
        expect(await a.scheduler.fire(a.scheduler.schedules[0]!, slot)).to.equal(undefined);
        release();
        await other;
        expect(await runIds()).to.have.length(3);
      }

      const fired = (await Promise.all([
        a.scheduler.fire(a.scheduler.schedules[0]!, slot),
        b.scheduler.fire(b.scheduler.schedules[0]!, slot),
      ])) as (PruneReport | undefined)[];
      // Each row is deleted and counted once, whichever instance got to it.
      const total = { reconcile_runs: 0, reconcile_discrepancies: 0, status_outbox: 0 };
      for (const r of fired) if (r && 'dryRun' in r) for (const t of Object.keys(total) as (keyof typeof total)[]) total[t] += r.counts[t];
      expect(total).to.deep.equal({ reconcile_runs: 3, reconcile_discrepancies: 0, status_outbox: 2 });
      expect(await runIds()).to.deep.equal([]);
      expect(await outboxIds()).to.deep.equal([]);

      const pruned = async (m: typeof a.metrics, table: string) =>
        (await m.prunedRows.get()).values.find((v) => v.labels.table === table)?.value ?? 0;
      expect((await pruned(a.metrics, 'reconcile_runs')) + (await pruned(b.metrics, 'reconcile_runs'))).to.equal(3);
      expect((await pruned(a.metrics, 'status_outbox')) + (await pruned(b.metrics, 'status_outbox'))).to.equal(2);
      const line = log.lines.find((l) => l.message === 'database pruned' && (l.counts as { reconcile_runs: number }).reconcile_runs === 3);
      expect(line).to.deep.include({ level: 'info', schedule: 'nightly-prune', job: 'prune', dryRun: false });
      // The job is no reconciliation run: nothing of it is recorded among the runs.
      expect(await rstore.listRuns({ limit: 10 })).to.deep.equal([]);
    } finally {
      if (second !== store()) await second.close();
    }
  });

  it('runs from the CLI with the options of the configured prune schedule, counting first with --dry-run', async function () {
    this.timeout(60_000);
    await seedCases(store(), [{ id: 'p4-a' }], NOW - 100 * DAY);
    // Delivered to the portal ten days before now (the real clock: the CLI has no other).
    const u = await queueUpdate('p4-a', (NOW - Date.now()) / DAY + 10);
    await send(u, 'delivered');
    const configDir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-prune-config-'));
    try {
      writeFileSync(
        path.join(configDir, 'schedules.yaml'),
        'schedules:\n  - id: weekly-prune\n    job: prune\n    cron: "0 4 * * 0"\n    options:\n      statusOutboxDays: 5\n',
      );
      const o = db().options;
      const where = o.url ? ['--database-url', o.url, '--database-schema', o.schema!] : ['-d', path.dirname(o.sqliteFile!)];
      const prune = async (...args: string[]) =>
        JSON.parse((await promisify(execFile)(process.execPath, [BIN, 'prune', '--json', '-c', configDir, ...where, ...args])).stdout) as {
          dryRun: boolean;
          schedule: string;
          options: object;
          counts: object;
        };

      const dry = await prune('--dry-run');
      expect(dry).to.deep.include({
        dryRun: true,
        schedule: 'weekly-prune',
        options: { reconcileRunsDays: 90, emptyRunsDays: 7, statusOutboxDays: 5 },
        counts: { reconcile_runs: 0, reconcile_discrepancies: 0, status_outbox: 1 },
      });
      expect(await outboxIds()).to.deep.equal([u.id]);
      expect(await prune()).to.deep.include({ dryRun: false, counts: { reconcile_runs: 0, reconcile_discrepancies: 0, status_outbox: 1 } });
      expect(await outboxIds()).to.deep.equal([]);
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  });
});
