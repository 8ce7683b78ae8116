import type { Logger } from 'winston';
import type { PruneOptions } from '../config/schema.ts';
import { PRUNED_TABLES, type PruneCounts, type PruneCutoffs, type PruneStore } from '../store/prune-store.ts';
import type { Clock } from '../clock.ts';

const DAY_MS = 86_400_000;

/** The metric the job feeds (created in src/operator/metrics.ts). */
export interface PruneMetrics {
  prunedRows: { inc(labels: { table: string }, n?: number): void };
}

export interface PruneReport {
  dryRun: boolean;
  options: PruneOptions;
  cutoffs: PruneCutoffs;
  /** Rows deleted per table; in a dry run, rows that would be. */
  counts: PruneCounts;
  durationMs: number;
}

/** The retention options as cutoff times: rows from before them are old enough to go. */
export function pruneCutoffs(o: PruneOptions, now: number): PruneCutoffs {
  return {
    runsBefore: now - o.reconcileRunsDays * DAY_MS,
    emptyRunsBefore: now - o.emptyRunsDays * DAY_MS,
    outboxBefore: now - o.statusOutboxDays * DAY_MS,
  };
}

/**
 * Deletes old reconciliation runs (with their findings) and finished portal status updates, so the database stops
 * growing with every schedule firing; a dry run only counts. One log line with the counts (no case data: there is
 * none in them).
 */
export async function runPrune(
  pstore: PruneStore,
  options: PruneOptions,
  o: { now: Clock; dryRun?: boolean; batchSize?: number; logger?: Logger | undefined; metrics?: PruneMetrics | undefined },
): Promise<PruneReport> {
  const clock = o.now;
  const started = clock();
  const cutoffs = pruneCutoffs(options, started);
  const dryRun = Boolean(o.dryRun);
  const counts = dryRun
    ? await pstore.count(cutoffs)
    : await pstore.prune(cutoffs, o.batchSize === undefined ? {} : { batchSize: o.batchSize });
  if (!dryRun) for (const table of PRUNED_TABLES) o.metrics?.prunedRows.inc({ table }, counts[table]);
  const report: PruneReport = { dryRun, options, cutoffs, counts, durationMs: clock() - started };
  o.logger?.info(dryRun ? 'database prune counted (dry run)' : 'database pruned', { counts, dryRun, durationMs: report.durationMs });
  return report;
}
