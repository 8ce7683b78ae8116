import type { ReconcileStore } from '../store/reconcile-store.ts';
import type { Discrepancy, DiscrepancyClass, ReportSink } from '../core/reconcile/types.ts';

/** The metrics a run feeds (created in src/operator/metrics.ts). */
export interface ReconcileMetrics {
  reconcileDiscrepancies: { inc(labels: { class: string; target: string }, n?: number): void };
  reconcileRuns: { inc(labels: { job: string; state: string }, n?: number): void };
}

/**
 * A run's report as it is being found: counts per class, the matched total, and the findings themselves,
 * written to the store in batches so a run with many findings does not hold them all.
 */
export class RunReport implements ReportSink {
  readonly counts: Partial<Record<DiscrepancyClass, number>> = {};
  matchedCount = 0;
  total = 0;
  private buffer: Discrepancy[] = [];

  constructor(
    private readonly rstore: ReconcileStore,
    readonly runId: string,
    private readonly metrics?: ReconcileMetrics,
    private readonly batch = 500,
  ) {}

  async add(d: Discrepancy): Promise<void> {
    this.counts[d.class] = (this.counts[d.class] ?? 0) + 1;
    this.total++;
    this.metrics?.reconcileDiscrepancies.inc({ class: d.class, target: d.targetId ?? d.portalId ?? '' });
    this.buffer.push(d);
    if (this.buffer.length >= this.batch) await this.flush();
  }

  matched(n: number): void {
    this.matchedCount += n;
  }

  async flush(): Promise<void> {
    if (!this.buffer.length) return;
    const rows = this.buffer;
    this.buffer = [];
    await this.rstore.addDiscrepancies(this.runId, rows);
  }
}
