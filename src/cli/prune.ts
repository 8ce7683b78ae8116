import { loadConfigIfPresent, openConfiguredStore, type DatabaseCommandOptions } from './database.ts';
import { pruneOptionsSchema, type PruneOptions } from '../config/schema.ts';
import { PRUNED_TABLES } from '../store/prune-store.ts';
import { runPrune, type PruneReport } from '../maintenance/prune.ts';
import { systemClock } from '../clock.ts';

export interface PruneCommandOptions extends DatabaseCommandOptions {
  dryRun?: boolean;
  json?: boolean;
}

/** `amtsbote prune`: the prune job now, with the options of the configured prune schedule (else the defaults). */
export async function prune(o: PruneCommandOptions): Promise<void> {
  // Without a configuration folder the data folder's SQLite and the default retention are used.
  const config = await loadConfigIfPresent(o);
  const schedule = config?.hub.schedules.find((s) => s.job === 'prune');
  const options: PruneOptions = schedule?.job === 'prune' ? schedule.options : pruneOptionsSchema.parse({});
  // It may run beside a hub: its deletes go in small batches.
  const store = await openConfiguredStore(o, config);
  try {
    const report = await runPrune(store.prune, options, { now: systemClock, dryRun: Boolean(o.dryRun) });
    console.log(o.json ? JSON.stringify(asJson(report, schedule?.id ?? null), null, 2) : formatReport(report, schedule?.id).join('\n'));
  } finally {
    await store.close();
  }
}

function asJson(r: PruneReport, schedule: string | null) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    dryRun: r.dryRun,
    schedule,
    options: r.options,
    cutoffs: {
      runsBefore: iso(r.cutoffs.runsBefore),
      emptyRunsBefore: iso(r.cutoffs.emptyRunsBefore),
      outboxBefore: iso(r.cutoffs.outboxBefore),
    },
    counts: r.counts,
    durationMs: r.durationMs,
  };
}

function formatReport(r: PruneReport, schedule: string | undefined): string[] {
  const o = r.options;
  return [
    `${r.dryRun ? 'dry run: would delete' : `pruned in ${(r.durationMs / 1000).toFixed(1)} s`} (${schedule ? `options of schedule ${schedule}` : 'default options'}: reconcileRunsDays ${o.reconcileRunsDays}, emptyRunsDays ${o.emptyRunsDays}, statusOutboxDays ${o.statusOutboxDays})`,
    ...PRUNED_TABLES.map((t) => `  ${t.padEnd(26)}${String(r.counts[t]).padStart(10)}`),
  ];
}
