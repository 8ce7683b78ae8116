// Reading the XTA message boxes on a schedule: one schedule per box (id `xta:<name>`), run by the scheduler under
// the schedule's lock, so across instances one reads a box at a time.

import type { Logger } from 'winston';
import type { Clock } from '../clock.ts';
import type { LoadedConfig } from '../config/load.ts';
import { ConfigError, type ConfigProblem } from '../config/errors.ts';
import type { Router } from '../routing/router.ts';
import type { Schedule } from '../scheduler/job.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { Store } from '../store/index.ts';
import type { InboundSetup } from './setup.ts';
import { XtaMailboxReader } from './xta-reader.ts';

export interface XtaSchedule extends Schedule {
  job: 'xta-poll';
  mailbox: string;
}

/**
 * The readers of the configured boxes, checked against the configuration (channel and portal known); throws
 * ConfigError with every problem. Creating one reads its certificate files.
 */
export function xtaReaders(
  config: LoadedConfig,
  inbound: InboundSetup,
  deps: { store: Store; router: Router; logger: Logger; now: Clock; onAccepted?: () => void },
): XtaMailboxReader[] {
  const problems: ConfigProblem[] = [];
  const readers: XtaMailboxReader[] = [];
  config.hub.inbound.xta.forEach((m, i) => {
    const at = (key: string): (string | number)[] => ['inbound', 'xta', i, key];
    const problem = (key: string, message: string) => problems.push({ ...config.locate(at(key)), path: at(key), message });
    const channel = inbound.channels.get(m.channel);
    const portal = config.hub.portals.find((p) => p.id === m.portal);
    if (!channel) problem('channel', `no inbound channel ${m.channel}`);
    if (!portal) problem('portal', `no portal ${m.portal}`);
    if (!channel || !portal) return;
    try {
      readers.push(
        new XtaMailboxReader(
          m,
          { ...deps, channel, portal, serviceSchemas: inbound.serviceSchemas, logger: deps.logger.child({ mailbox: m.name }) },
          config.dir,
        ),
      );
    } catch (e) {
      problem('tls', (e as Error).message);
    }
  });
  if (problems.length) {
    for (const r of readers) r.close();
    throw new ConfigError(problems);
  }
  return readers;
}

/** Registers the `xta-poll` job and one schedule per box. */
export function registerXtaPolling(scheduler: Pick<Scheduler, 'register' | 'add'>, readers: readonly XtaMailboxReader[]): void {
  const byName = new Map(readers.map((r) => [r.config.name, r]));
  scheduler.register<XtaSchedule>({
    kind: 'xta-poll',
    run: async (s, _at, log) => {
      const r = await byName.get(s.mailbox)!.read();
      if (r.listed) log.info('xta message box read', { ...r });
      return r;
    },
  });
  for (const r of readers) {
    scheduler.add({
      id: `xta:${r.config.name}`,
      cron: r.config.cron,
      timezone: r.config.timezone,
      job: 'xta-poll',
      mailbox: r.config.name,
    } as XtaSchedule);
  }
}
