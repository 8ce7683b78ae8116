// The poll of each FIT-Connect destination as a scheduler job: one schedule per destination
// (`fit-connect-{name}`, its poll.cron), so across instances one poll runs per firing (the schedule's lock).
// A callback fires the same schedule at once, under the same lock.

import type { Logger } from 'winston';
import type { Clock } from '../../clock.ts';
import type { Schedule } from '../../scheduler/job.ts';
import type { Scheduler } from '../../scheduler/scheduler.ts';
import type { FitConnectPoller } from './poller.ts';

export interface FitConnectPollSchedule extends Schedule {
  job: 'fit-connect-poll';
  destination: string;
}

export interface FitConnectPolls {
  /** Polls a destination now (a callback, the start-up): fire-and-forget, failures logged. */
  trigger(destination: string): void;
}

export function registerFitConnectPolls(
  scheduler: Pick<Scheduler, 'register' | 'add' | 'fire'>,
  poller: FitConnectPoller,
  deps: { logger: Logger; now: Clock },
): FitConnectPolls {
  const schedules = new Map<string, FitConnectPollSchedule>();
  if (poller.destinations.length === 0) return { trigger: () => {} };
  scheduler.register<FitConnectPollSchedule>({ kind: 'fit-connect-poll', run: (s) => poller.poll(s.destination) });
  for (const d of poller.destinations) {
    const s: FitConnectPollSchedule = {
      id: `fit-connect-${d.config.name}`,
      cron: d.config.poll.cron,
      timezone: d.config.poll.timezone,
      job: 'fit-connect-poll',
      destination: d.config.name,
    };
    schedules.set(d.config.name, s);
    scheduler.add(s);
  }
  return {
    trigger(destination) {
      const s = schedules.get(destination);
      if (!s) return;
      scheduler
        .fire(s, new Date(deps.now()))
        .catch((e: Error) => deps.logger.error('FIT-Connect poll failed', { destination, error: e.message }));
    },
  };
}
