import type { Logger } from 'winston';
import type { RetentionConfig } from '../config/retention.ts';
import type { PruneStore, PurgeCount, PurgeCutoff } from '../store/prune-store.ts';
import type { AuditTrail } from '../audit/trail.ts';
import type { Clock } from '../clock.ts';
import { purgeCutoffs } from './retention.ts';

export interface PurgeReport {
  dryRun: boolean;
  cutoffs: PurgeCutoff[];
  /** Per (tenant, service): submissions whose data went (in a dry run: would go), and their attachments. */
  counts: PurgeCount[];
  durationMs: number;
}

/** The metric the purge feeds (created in src/operator/metrics.ts, shared with the prune). */
export interface PurgeMetrics {
  prunedRows: { inc(labels: { table: string }, n?: number): void };
}

/**
 * Retention of form data: deletes the data of submissions whose deliveries all reached a final state longer ago
 * than their pair's retention (src/config/retention.ts); a dry run only counts. Each pair that lost data is one
 * `purge` record in the audit trail (ids and counts only) and the run one log line.
 */
export async function runPurge(
  pstore: PruneStore,
  retention: RetentionConfig,
  o: {
    now: Clock;
    dryRun?: boolean;
    batchSize?: number;
    logger?: Logger | undefined;
    metrics?: PurgeMetrics | undefined;
    audit?: AuditTrail | undefined;
    /** Who runs it, for the audit trail: `scheduler:<schedule id>` or `cli:<os user>`. */
    actor: string;
  },
): Promise<PurgeReport> {
  const started = o.now();
  const cutoffs = purgeCutoffs(retention, await pstore.unpurgedPairs(), started);
  const dryRun = Boolean(o.dryRun);
  const counts = dryRun
    ? await pstore.countPurgeable(cutoffs)
    : await pstore.purgeFormData(cutoffs, { now: started, ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }) });
  if (!dryRun) {
    for (const c of counts) {
      if (c.submissions === 0) continue;
      o.metrics?.prunedRows.inc({ table: 'submission_form_data' }, c.submissions);
      o.metrics?.prunedRows.inc({ table: 'attachments' }, c.attachments);
      await o.audit?.record({
        actor: o.actor,
        action: 'purge',
        tenant: c.tenant,
        subject: `service:${c.service}`,
        detail: {
          submissions: c.submissions,
          attachments: c.attachments,
          retentionDays: cutoffs.find((x) => x.tenant === c.tenant && x.service === c.service)!.days,
        },
      });
    }
  }
  const report: PurgeReport = { dryRun, cutoffs, counts, durationMs: o.now() - started };
  const total = counts.reduce((n, c) => n + c.submissions, 0);
  o.logger?.info(dryRun ? 'form data purge counted (dry run)' : 'form data purged', { submissions: total, pairs: counts.length, dryRun });
  return report;
}
