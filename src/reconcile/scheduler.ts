import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'winston';
import type { ScheduleConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import { stuckDeliveries } from './stuck-deliveries.ts';

export type Job<O> = (store: Store, options: O, logger: Logger) => Promise<Record<string, unknown>>;

const jobs: { [K in ScheduleConfig['job']]: Job<Extract<ScheduleConfig, { job: K }>['options']> } = {
  'stuck-deliveries': stuckDeliveries,
};

/** Runs the configured schedules with node-cron, one run of a schedule at a time, its log routed into winston. */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];

  constructor(
    private readonly schedules: readonly ScheduleConfig[],
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  start(): void {
    for (const s of this.schedules) {
      const log = this.logger.child({ schedule: s.id, job: s.job });
      const task = cron.schedule(s.cron, () => this.run(s, log), {
        name: s.id,
        timezone: s.timezone,
        noOverlap: true,
        logger: {
          info: (m) => log.debug(m),
          warn: (m) => log.warn(m),
          error: (m) => log.error(String(m)),
          debug: (m) => log.debug(String(m)),
        },
      });
      this.tasks.push(task);
    }
  }

  /** Runs one schedule now; what `amtsbote reconcile` and tests use. */
  async run(s: ScheduleConfig, log: Logger = this.logger.child({ schedule: s.id, job: s.job })): Promise<Record<string, unknown>> {
    const started = Date.now();
    try {
      const result = await jobs[s.job](this.store, s.options, log);
      log.info('scheduled job finished', { durationMs: Date.now() - started, ...result });
      return result;
    } catch (e) {
      log.error('scheduled job failed', { durationMs: Date.now() - started, error: (e as Error).message });
      throw e;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.tasks.map((t) => t.destroy()));
    this.tasks.length = 0;
  }
}
