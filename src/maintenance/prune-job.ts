import type { PruneOptions, ScheduleConfig } from '../config/schema.ts';
import type { PruneStore } from '../store/prune-store.ts';
import type { Clock } from '../clock.ts';
import type { Schedule } from '../scheduler/job.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import { runPrune, type PruneMetrics } from './prune.ts';
import { runPurge } from './purge.ts';
import type { RetentionConfig } from '../config/retention.ts';
import type { AuditTrail } from '../audit/trail.ts';

/** A configured `prune` schedule as the scheduler runs it. */
export interface PruneSchedule extends Schedule {
  job: 'prune';
  options: PruneOptions;
}

/**
 * Registers the prune job with the scheduler and adds the configured `prune` schedules. A firing takes the
 * schedule's lock like any other but records no run: an instance firing after the first one finished prunes
 * again and finds (next to) nothing left, which does no harm. After the prune, the same firing applies the
 * retention of form data (purge.ts), when one is configured.
 */
export function registerPrune(
  scheduler: Pick<Scheduler, 'register' | 'add'>,
  schedules: readonly ScheduleConfig[],
  deps: {
    prune: PruneStore;
    metrics?: PruneMetrics | undefined;
    now: Clock;
    retention?: RetentionConfig | undefined;
    audit?: AuditTrail | undefined;
  },
): void {
  scheduler.register<PruneSchedule>({
    kind: 'prune',
    run: async (s, _at, log) => {
      const pruned = await runPrune(deps.prune, s.options, { logger: log, metrics: deps.metrics, now: deps.now });
      const r = deps.retention;
      if (!r || (r.formDataDays === undefined && r.rules.length === 0)) return pruned;
      const purged = await runPurge(deps.prune, r, {
        logger: log,
        metrics: deps.metrics,
        now: deps.now,
        audit: deps.audit,
        actor: `scheduler:${s.id}`,
      });
      // The firing's answer is the prune's report, with the purge's beside it.
      return { ...pruned, purge: purged };
    },
  });
  for (const s of schedules) {
    if (s.job !== 'prune') continue;
    const planned: PruneSchedule = { id: s.id, cron: s.cron, timezone: s.timezone, job: 'prune', options: s.options };
    scheduler.add(planned);
  }
}
