import { expect } from 'chai';
import winston from 'winston';
import type { Exclusive, Schedule } from './job.ts';
import { onHubClock, Scheduler } from './scheduler.ts';

const quiet = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });

/** One process's locks, as the store's `exclusively` takes them across instances: a held name is skipped. */
class Locks implements Exclusive {
  readonly held = new Set<string>();
  async exclusively<T>(name: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    if (this.held.has(name)) return { ran: false };
    this.held.add(name);
    try {
      return { ran: true, value: await fn() };
    } finally {
      this.held.delete(name);
    }
  }
}

const nightly: Schedule = { id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', job: 'count' };

describe('scheduler', () => {
  it('runs a firing with the job of its kind, at its slot in whole seconds, under the schedule’s lock', async () => {
    const locks = new Locks();
    const fired: [string, number, boolean][] = [];
    const scheduler = new Scheduler({ lock: locks, logger: quiet, now: () => 0 })
      .register({
        kind: 'count',
        run: async (s, at) => fired.push([s.id, at, locks.held.has('schedule:nightly')]),
      })
      .add(nightly);
    expect(await scheduler.fire(nightly, new Date('2026-11-25T02:00:00.750Z'))).to.equal(1);
    expect(fired).to.deep.equal([['nightly', Date.parse('2026-11-25T02:00:00Z'), true]]);
  });

  it('skips a firing while another instance holds the schedule’s lock', async () => {
    const locks = new Locks();
    let runs = 0;
    const scheduler = new Scheduler({ lock: locks, logger: quiet, now: () => 0 }).register({ kind: 'count', run: async () => ++runs });
    locks.held.add('schedule:nightly');
    expect(await scheduler.fire(nightly, new Date())).to.equal(undefined);
    expect(runs).to.equal(0);
  });

  it('refuses a schedule whose kind has no job, and a second job of one kind', () => {
    const scheduler = new Scheduler({ lock: new Locks(), logger: quiet, now: () => 0 });
    expect(() => scheduler.add(nightly)).to.throw('schedules nightly: no job of kind count is registered');
    scheduler.register({ kind: 'count', run: async () => 1 });
    expect(() => scheduler.register({ kind: 'count', run: async () => 2 })).to.throw('a job of kind count is registered already');
  });

  it('waits on stop for a run on demand that is under way', async () => {
    const scheduler = new Scheduler({ lock: new Locks(), logger: quiet, now: () => 0 });
    let finish!: () => void;
    let done = false;
    const run = scheduler.runNow(() => new Promise<void>((r) => (finish = r)).then(() => (done = true)));
    const stopped = scheduler.stop();
    setTimeout(() => finish(), 20);
    await stopped;
    expect(done).to.equal(true);
    expect(await run).to.equal(true);
  });

  it('moves a firing’s slot onto the hub’s clock', () => {
    const ctx = { date: new Date('2026-11-25T02:00:00Z'), triggeredAt: new Date('2026-11-25T02:00:00.040Z') };
    // The machine's clock is the hub's: the slot itself.
    expect(onHubClock(ctx, () => ctx.triggeredAt.getTime()).toISOString()).to.equal('2026-11-25T02:00:00.000Z');
    // A hub clock a day ahead (a test's): the slot a day on.
    expect(onHubClock(ctx, () => ctx.triggeredAt.getTime() + 86_400_000).toISOString()).to.equal('2026-11-26T02:00:00.000Z');
  });
});
