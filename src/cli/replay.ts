import { InvalidArgumentError } from 'commander';
import { parseReplayFilter, replayByFilter } from '../delivery/replay.ts';
import { systemClock } from '../clock.ts';
import { loadConfigIfPresent, openConfiguredStore, type DatabaseCommandOptions } from './database.ts';
import { osUser } from './os-user.ts';

export interface ReplayCommandOptions extends DatabaseCommandOptions {
  target?: string;
  tenant?: string;
  errorKind?: string;
  since?: string;
  until?: string;
  dryRun?: boolean;
  by?: string;
  reason?: string;
}

/** `amtsbote replay`: failed deliveries back in the queue (same idempotency key), by id or by filter. */
export async function replay(ids: string[], o: ReplayCommandOptions): Promise<void> {
  const hasFilter = [o.target, o.tenant, o.errorKind, o.since, o.until].some((v) => v !== undefined);
  if (ids.length && hasFilter) throw new InvalidArgumentError('give delivery ids or a filter, not both');
  if (!ids.length && !hasFilter)
    throw new InvalidArgumentError('give delivery ids or at least one of --target, --tenant, --error-kind, --since, --until');
  const parsed = hasFilter
    ? parseReplayFilter({ target: o.target, tenant: o.tenant, errorKind: o.errorKind, since: o.since, until: o.until })
    : undefined;
  if (parsed && !parsed.ok) {
    const flag = (f: string) => '--' + f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    throw new InvalidArgumentError(parsed.problems.map((p) => (p.field ? `${flag(p.field)}: ${p.detail}` : p.detail)).join('; '));
  }
  // Only the database setting is needed; without a configuration folder the data folder's SQLite is used.
  const store = await openConfiguredStore(o, o.databaseUrl ? undefined : await loadConfigIfPresent(o));
  try {
    const by = o.by ?? osUser();
    // A process of its own: its one reading of the machine's clock.
    const now = systemClock();
    const iso = (ms: number) => new Date(ms).toISOString();
    if (parsed?.ok) {
      const r = await replayByFilter(store, parsed.filter, { dryRun: Boolean(o.dryRun), by, reason: o.reason, now });
      const outcome = new Map(r.results.map((x) => [x.id, x.outcome]));
      for (const d of r.matched)
        console.log(
          [d.id, d.targetId, d.tenant, d.errorKind ?? '-', iso(d.failedAt), ...(o.dryRun ? [] : [outcome.get(d.id) ?? 'not-found'])].join(
            '\t',
          ),
        );
      const replayed = r.results.filter((x) => x.outcome === 'replayed').length;
      console.log(
        o.dryRun
          ? `dry run: ${r.matched.length} failed deliver${r.matched.length === 1 ? 'y' : 'ies'} would be replayed${r.truncated ? ' (more match: run again)' : ''}`
          : `replayed ${replayed} of ${r.matched.length} failed deliver${r.matched.length === 1 ? 'y' : 'ies'} by ${by}${r.truncated ? ' (more match: run again)' : ''}`,
      );
      return;
    }
    if (o.dryRun) {
      const state = await store.deliveryStates(ids);
      for (const id of ids)
        console.log(
          `${id}\t${state.get(id) === 'failed' ? 'would be replayed' : state.has(id) ? `not failed (${state.get(id)})` : 'not found'}`,
        );
      const n = ids.filter((id) => state.get(id) === 'failed').length;
      console.log(`dry run: ${n} of ${ids.length} would be replayed`);
      return;
    }
    const results = await store.replay(ids, by, o.reason, now);
    for (const r of results)
      console.log(
        `${r.id}\t${r.outcome === 'replayed' ? 'replayed (queued)' : r.outcome === 'not-failed' ? `not failed (${r.state ?? '?'}): left alone` : 'not found'}`,
      );
    const replayed = results.filter((r) => r.outcome === 'replayed').length;
    console.log(`replayed ${replayed} of ${results.length} by ${by}; a running hub picks them up at its next poll`);
    if (replayed < results.length) process.exitCode = 1;
  } finally {
    await store.close();
  }
}
