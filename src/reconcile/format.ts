import type { ReconcileStore, RunRecord, StoredDiscrepancy } from '../store/reconcile-store.ts';
import { DISCREPANCY_CLASSES } from '../core/reconcile/types.ts';

/** How many findings the readable report lists before it points at the export. */
export const LISTED_MAX = 200;

/** A run as people read it: the counts per class, then the findings, one line each. */
export async function* formatRun(rstore: ReconcileStore, run: RunRecord, listedMax = LISTED_MAX): AsyncGenerator<string> {
  const duration = run.finishedAt === null ? '' : ` in ${((run.finishedAt - run.startedAt) / 1000).toFixed(1)} s`;
  yield `reconciliation run ${run.id} (${run.scheduleId}) ${run.state}${duration}`;
  const f = run.filters;
  const filters = [
    f.targets ? `targets ${(f.targets as string[]).join(', ')}` : 'all targets with reconcile settings',
    f.tenants ? `tenants ${(f.tenants as string[]).join(', ')}` : '',
    f.since ? `since ${String(f.since)}` : '',
  ].filter(Boolean);
  yield `  ${filters.join('; ')}`;
  if (run.error) yield `  error: ${run.error}`;
  yield '';
  yield `  ${'matched'.padEnd(26)}${String(run.matched).padStart(9)}`;
  for (const c of DISCREPANCY_CLASSES) yield `  ${c.padEnd(26)}${String(run.counts[c] ?? 0).padStart(9)}`;
  if (run.discrepancies === 0) {
    yield '';
    yield '  no discrepancies';
    return;
  }
  yield '';
  let n = 0;
  for await (const d of rstore.discrepancies(run.id)) {
    if (n++ === listedMax) {
      yield `  … ${run.discrepancies - listedMax} more: amtsbote reconcile show ${run.id} --csv`;
      return;
    }
    yield '  ' + line(d);
  }
}

function line(d: StoredDiscrepancy): string {
  const where = d.targetId ? `target ${d.targetId}` : d.portalId ? `portal ${d.portalId}` : '';
  const what = [
    d.deliveryId && `delivery ${d.deliveryId}`,
    d.reference && `ref ${d.reference}`,
    d.externalId && `ext ${d.externalId}`,
    d.tenant && `tenant ${d.tenant}`,
  ]
    .filter(Boolean)
    .join(' ');
  const detail = d.detail ? ' ' + JSON.stringify(d.detail) : '';
  return `#${d.id} ${d.class} → ${d.action}  ${where}  ${what}${detail}`;
}
