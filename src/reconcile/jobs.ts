import type { ScheduleConfig } from '../config/schema.ts';
import type { RunRecord } from '../store/reconcile-store.ts';
import type { Schedule } from '../scheduler/job.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import { runReconciliation, type ReconcileDeps, type RunRequest } from './run.ts';
import { processGone } from './process-gone.ts';

/** A run as a schedule or an on-demand caller asks for it (the schedule and its slot are added per run). */
export type ScheduledRequest = Omit<RunRequest, 'scheduleId' | 'scheduledFor'>;

/** One of reconciliation's schedules: a configured one, or a target's own (`target:<id>`). */
export interface ReconcileSchedule extends Schedule {
  job: ScheduledRequest['job'];
  request: ScheduledRequest;
}

/**
 * The configured schedules of reconciliation's jobs (`reconcile`, `stuck-deliveries`) plus one per target with
 * `reconcile.schedule`. Throws at start-up for a schedule that could never run: an unknown target, or a target
 * whose adapter can neither list nor answer status.
 */
export function plannedSchedules(schedules: readonly ScheduleConfig[], targets: ReconcileDeps['targets']): ReconcileSchedule[] {
  for (const s of schedules) {
    if (s.job !== 'reconcile') continue;
    const unknown = s.options.targets?.filter((id) => !targets.has(id)) ?? [];
    if (unknown.length) throw new Error(`schedules ${s.id}: options.targets names no configured target: ${unknown.join(', ')}`);
  }
  const out: ReconcileSchedule[] = [];
  for (const s of schedules) {
    const at = { id: s.id, cron: s.cron, timezone: s.timezone };
    if (s.job === 'reconcile')
      out.push({
        ...at,
        job: s.job,
        request: {
          job: 'reconcile',
          targets: s.options.targets,
          tenants: s.options.tenants,
          lookbackDays: s.options.lookbackDays,
          stuckAfterMinutes: s.options.stuckAfterMinutes,
        },
      });
    else if (s.job === 'stuck-deliveries')
      out.push({ ...at, job: s.job, request: { job: 'stuck-deliveries', stuckAfterMinutes: s.options.olderThanMinutes } });
  }
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
        job: 'reconcile',
        request: { job: 'reconcile', targets: [t.id], stuckAfterMinutes: 15 },
      });
  }
  return out;
}

/** What reconciliation offers beside its schedules: runs on demand, and the clean-up of runs a dead process left. */
export interface Reconciliation {
  /** A run now, outside the schedules (the CLI, the operator API, tests); on-demand runs do not wait for each other. */
  runNow(request: ScheduledRequest): Promise<RunRecord>;
  /** Runs left `running` by a process of this host that is gone (killed mid-run) end as `failed`. */
  closeAbandoned(): Promise<number>;
}

/**
 * Registers reconciliation's jobs with the scheduler and adds their schedules. Every run is recorded
 * (reconcile_runs); the run row is unique per (schedule, fire time), so an instance that fires a moment after
 * another one's run finished finds the slot taken and skips.
 */
export function registerReconciliation(
  scheduler: Pick<Scheduler, 'register' | 'add' | 'runNow'>,
  schedules: readonly ScheduleConfig[],
  deps: ReconcileDeps,
): Reconciliation {
  const planned = plannedSchedules(schedules, deps.targets);
  const run = (s: ReconcileSchedule, at: number) => runReconciliation(deps, { ...s.request, scheduleId: s.id, scheduledFor: at });
  scheduler.register({ kind: 'reconcile', run }).register({ kind: 'stuck-deliveries', run });
  scheduler.add(...planned);
  return {
    async runNow(request) {
      return (await scheduler.runNow(() => runReconciliation(deps, { ...request, scheduleId: 'on-demand' })))!;
    },
    async closeAbandoned() {
      let n = 0;
      for (const r of await deps.rstore.runningRuns()) {
        if (
          processGone(r.instance) &&
          (await deps.rstore.abandonRun(r.id, `the instance ${r.instance} stopped during the run`, deps.now()))
        )
          n++;
      }
      if (n) deps.logger.warn('reconciliation runs left behind by a stopped instance marked failed', { count: n });
      return n;
    },
  };
}
