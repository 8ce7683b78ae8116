import cron, { type ScheduledTask, type TaskContext } from 'node-cron';
import type { Clock } from '../clock.ts';
import type { PruneOptions, ScheduleConfig } from '../config/schema.ts';
import type { RunRecord } from '../store/reconcile-store.ts';
import type { PruneStore } from '../store/prune-store.ts';
import { runPrune, type PruneMetrics, type PruneReport } from '../maintenance/prune.ts';
import { runReconciliation, type ReconcileDeps, type RunRequest } from '../reconcile/run.ts';
import type { ReconcileMetrics } from '../reconcile/report.ts';
import { processGone } from '../reconcile/process-gone.ts';

/** What a firing does: a reconciliation run, or the prune job. */
export type ScheduledRequest = Omit<RunRequest, 'scheduleId' | 'scheduledFor'> | { job: 'prune'; options: PruneOptions };

/** What the schedules need; the metrics (if any) are fed by reconciliation runs and the prune job alike. */
export type SchedulerDeps = ReconcileDeps & { prune: PruneStore; metrics?: (ReconcileMetrics & PruneMetrics) | undefined };

/** One schedule as the scheduler runs it: a configured one, or a target's own (`target:<id>`). */
export interface PlannedSchedule {
  id: string;
  cron: string;
  timezone: string;
  request: ScheduledRequest;
}

/**
 * The configured schedules plus one per target with `reconcile.schedule`. Throws at start-up for a schedule that
 * could never run: an unknown target, or a target whose adapter can neither list nor answer status.
 */
export function plannedSchedules(schedules: readonly ScheduleConfig[], targets: ReconcileDeps['targets']): PlannedSchedule[] {
  for (const s of schedules) {
    if (s.job !== 'reconcile') continue;
    const unknown = s.options.targets?.filter((id) => !targets.has(id)) ?? [];
    if (unknown.length) throw new Error(`schedules ${s.id}: options.targets names no configured target: ${unknown.join(', ')}`);
  }
  const out: PlannedSchedule[] = schedules.map((s) => ({
    id: s.id,
    cron: s.cron,
    timezone: s.timezone,
    request:
      s.job === 'reconcile'
        ? {
            job: 'reconcile',
            targets: s.options.targets,
            tenants: s.options.tenants,
            lookbackDays: s.options.lookbackDays,
            stuckAfterMinutes: s.options.stuckAfterMinutes,
          }
        : s.job === 'prune'
          ? { job: 'prune', options: s.options }
          : { job: 'stuck-deliveries', stuckAfterMinutes: s.options.olderThanMinutes },
  }));
  for (const t of targets.values()) {
    const r = t.reconcile;
    if (r?.schedule && t.adapter && !t.adapter.list && !t.adapter.status) {
      throw new Error(
        `targets.${t.id}.reconcile.schedule: the target's adapter offers neither list() nor status(), so there is nothing to compare`,
      );
    }
    if (r?.schedule)
      out.push({
        id: `target:${t.id}`,
        cron: r.schedule,
        timezone: r.timezone,
        request: { job: 'reconcile', targets: [t.id], stuckAfterMinutes: 15 },
      });
  }
  return out;
}

/**
 * Runs the schedules with node-cron. Across instances on PostgreSQL a schedule runs once per firing: the run
 * takes an advisory lock named for the schedule (an instance that cannot get it skips, logged at debug), and
 * the run row is unique per (schedule, fire time), so an instance that fires a moment after the first one
 * finished skips as well. Every reconciliation run is recorded (reconcile_runs). The prune job takes the same
 * lock but records no run: an instance firing after the first one finished prunes again and finds (next to)
 * nothing left, which does no harm.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  /** Runs under way, awaited on stop so the store is not closed under them. */
  private readonly inflight = new Set<Promise<unknown>>();
  readonly schedules: PlannedSchedule[];

  constructor(
    schedules: readonly ScheduleConfig[],
    private readonly deps: SchedulerDeps,
  ) {
    this.schedules = plannedSchedules(schedules, deps.targets);
  }

  start(): void {
    void this.closeAbandoned().catch((e: Error) =>
      this.deps.logger.warn('could not close abandoned reconciliation runs', { error: e.message }),
    );
    for (const s of this.schedules) {
      const log = this.deps.logger.child({ schedule: s.id, job: s.request.job });
      const task = cron.schedule(
        s.cron,
        async (ctx) => {
          await this.fire(s, onHubClock(ctx, this.deps.now)).catch((e: Error) => log.error('scheduled run failed', { error: e.message }));
        },
        {
          name: s.id,
          timezone: s.timezone,
          noOverlap: true,
          logger: {
            info: (m) => log.debug(m),
            warn: (m) => log.warn(m),
            error: (m) => log.error(String(m)),
            debug: (m) => log.debug(String(m)),
          },
        },
      );
      this.tasks.push(task);
    }
  }

  /** One firing of a schedule at its slot `at`: the run, or the prune's report; undefined when another instance has it. */
  async fire(s: PlannedSchedule, at: Date): Promise<RunRecord | PruneReport | undefined> {
    const log = this.deps.logger.child({ schedule: s.id, job: s.request.job });
    const scheduledFor = Math.floor(at.getTime() / 1000) * 1000;
    const req = s.request;
    const job =
      req.job === 'prune'
        ? () => runPrune(this.deps.prune, req.options, { logger: log, metrics: this.deps.metrics, now: this.deps.now })
        : () => runReconciliation(this.deps, { ...req, scheduleId: s.id, scheduledFor });
    const r = await this.track(this.deps.rstore.exclusively<RunRecord | PruneReport | undefined>(`schedule:${s.id}`, job));
    if (!r.ran) log.debug('schedule skipped: another instance is running it', { scheduledFor: new Date(scheduledFor).toISOString() });
    else if (!r.value)
      log.debug('schedule skipped: another instance already ran this firing', { scheduledFor: new Date(scheduledFor).toISOString() });
    return r.ran ? r.value : undefined;
  }

  /** A run now, outside the schedules (the CLI, the operator API, tests); on-demand runs do not wait for each other. */
  async runNow(request: Omit<RunRequest, 'scheduleId' | 'scheduledFor'>): Promise<RunRecord> {
    return (await this.track(runReconciliation(this.deps, { ...request, scheduleId: 'on-demand' })))!;
  }

  async stop(): Promise<void> {
    await Promise.all(this.tasks.map((t) => t.destroy()));
    this.tasks.length = 0;
    await Promise.allSettled([...this.inflight]);
  }

  /** Runs left `running` by a process of this host that is gone (killed mid-run) end as `failed`. */
  async closeAbandoned(): Promise<number> {
    let n = 0;
    for (const r of await this.deps.rstore.runningRuns()) {
      if (
        processGone(r.instance) &&
        (await this.deps.rstore.abandonRun(r.id, `the instance ${r.instance} stopped during the run`, this.deps.now()))
      )
        n++;
    }
    if (n) this.deps.logger.warn('reconciliation runs left behind by a stopped instance marked failed', { count: n });
    return n;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }
}

/**
 * A firing's slot on the hub's clock. node-cron's timers run on the machine's clock (a timer can wait on no
 * other), and it says which slot fired (`date`) and when it fired (`triggeredAt`), both by that clock; the slot
 * is moved by how far the hub's clock is from it at the firing. With the machine's clock as the hub's, as in
 * production, that is the slot itself; a test that moves the hub's clock sees its runs at the hub's time.
 */
export function onHubClock(ctx: Pick<TaskContext, 'date' | 'triggeredAt'>, now: Clock): Date {
  return new Date(ctx.date.getTime() + (now() - ctx.triggeredAt.getTime()));
}
