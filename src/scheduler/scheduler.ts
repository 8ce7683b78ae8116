import cron, { type ScheduledTask, type TaskContext } from 'node-cron';
import type { Logger } from 'winston';
import type { Clock } from '../clock.ts';
import type { Exclusive, Job, Schedule } from './job.ts';

export interface SchedulerDeps {
  /** Takes the schedule's lock for a firing (the store's reconcile part: an advisory lock on PostgreSQL). */
  lock: Exclusive;
  logger: Logger;
  /** The hub's clock. */
  now: Clock;
}

/**
 * Runs schedules with node-cron; what a firing does is the job registered for the schedule's kind (reconcile/
 * and maintenance/ register theirs, hub.ts wires them). Across instances on PostgreSQL a schedule runs once per
 * firing: the firing takes an advisory lock named for the schedule (an instance that cannot get it skips, logged
 * at debug). A job can also refuse a firing another instance already ran (reconciliation: its run row is unique
 * per schedule and slot), which is logged at debug too.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  /** Runs under way, awaited on stop so the store is not closed under them. */
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly jobs = new Map<string, Job>();
  readonly schedules: Schedule[] = [];

  constructor(private readonly deps: SchedulerDeps) {}

  /** The job that runs the schedules of its kind; one job per kind. */
  register<S extends Schedule>(job: Job<S>): this {
    if (this.jobs.has(job.kind)) throw new Error(`scheduler: a job of kind ${job.kind} is registered already`);
    this.jobs.set(job.kind, job as Job);
    return this;
  }

  /** Schedules to run from start(); each of a kind with a registered job. */
  add(...schedules: Schedule[]): this {
    for (const s of schedules) {
      if (!this.jobs.has(s.job)) throw new Error(`schedules ${s.id}: no job of kind ${s.job} is registered`);
      this.schedules.push(s);
    }
    return this;
  }

  start(): void {
    for (const s of this.schedules) {
      const log = this.deps.logger.child({ schedule: s.id, job: s.job });
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

  /** One firing of a schedule at its slot `at`: what its job returns; undefined when another instance has it. */
  async fire(s: Schedule, at: Date): Promise<unknown> {
    const job = this.jobs.get(s.job);
    if (!job) throw new Error(`schedules ${s.id}: no job of kind ${s.job} is registered`);
    const log = this.deps.logger.child({ schedule: s.id, job: s.job });
    const scheduledFor = Math.floor(at.getTime() / 1000) * 1000;
    const r = await this.track(this.deps.lock.exclusively(`schedule:${s.id}`, () => job.run(s, scheduledFor, log)));
    if (!r.ran) log.debug('schedule skipped: another instance is running it', { scheduledFor: new Date(scheduledFor).toISOString() });
    else if (!r.value)
      log.debug('schedule skipped: another instance already ran this firing', { scheduledFor: new Date(scheduledFor).toISOString() });
    return r.ran ? r.value : undefined;
  }

  /** A run now, outside the schedules and their locks (the CLI, the operator API, tests); awaited on stop like a firing. */
  runNow<T>(run: () => Promise<T>): Promise<T> {
    return this.track(run());
  }

  async stop(): Promise<void> {
    await Promise.all(this.tasks.map((t) => t.destroy()));
    this.tasks.length = 0;
    await Promise.allSettled([...this.inflight]);
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
