import type { Logger } from 'winston';

/** One schedule as the scheduler runs it; a job's own schedules add what its runs need. */
export interface Schedule {
  id: string;
  cron: string;
  timezone: string;
  /** The kind of job that runs it (a job registered with the scheduler); logged as `job`. */
  job: string;
}

/** What runs the schedules of one kind: `{ kind: 'prune', run(schedule, at) }`. */
export interface Job<S extends Schedule = Schedule> {
  readonly kind: string;
  /**
   * One firing of `schedule` at its slot `at` (epoch ms, whole seconds), under the schedule's lock; `log` names
   * the schedule and the job. Undefined when another instance already ran this firing.
   */
  run(schedule: S, at: number, log: Logger): Promise<unknown>;
}

/** The lock a firing runs under, so that across instances one firing runs once (the store's `exclusively`). */
export interface Exclusive {
  exclusively<T>(name: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
}
