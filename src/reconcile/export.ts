import type { ReconcileStore, RunRecord, StoredDiscrepancy } from '../store/reconcile-store.ts';

/** The columns of a run's CSV export, in order. */
export const CSV_COLUMNS = [
  'id',
  'class',
  'action',
  'target',
  'portal',
  'tenant',
  'submission',
  'delivery',
  'reference',
  'idempotencyKey',
  'externalId',
  'resolvedAt',
  'resolvedBy',
  'detail',
] as const;

/** A run as the API and `--json` show it: times as ISO 8601. */
export function runJson(r: RunRecord): Record<string, unknown> {
  return {
    id: r.id,
    job: r.job,
    schedule: r.scheduleId,
    scheduledFor: isoOrNull(r.scheduledFor),
    filters: r.filters,
    instance: r.instance,
    startedAt: new Date(r.startedAt).toISOString(),
    finishedAt: isoOrNull(r.finishedAt),
    state: r.state,
    matched: r.matched,
    discrepancies: r.discrepancies,
    counts: r.counts,
    error: r.error,
  };
}

/** A run for a login scoped to some tenants: the run's totals span every tenant, so they are withheld. */
export function scopedRunJson(r: RunRecord): Record<string, unknown> {
  return { ...runJson(r), matched: null, discrepancies: null, counts: null };
}

export function discrepancyJson(d: StoredDiscrepancy): Record<string, unknown> {
  return {
    id: d.id,
    class: d.class,
    action: d.action,
    target: d.targetId ?? null,
    portal: d.portalId ?? null,
    tenant: d.tenant ?? null,
    submission: d.submissionId ?? null,
    delivery: d.deliveryId ?? null,
    reference: d.reference ?? null,
    idempotencyKey: d.idempotencyKey ?? null,
    externalId: d.externalId ?? null,
    resolvedAt: isoOrNull(d.resolvedAt),
    resolvedBy: d.resolvedBy,
    detail: d.detail ?? null,
  };
}

/** The whole run as JSON text, written piece by piece: the run's fields and `discrepancyList`, its findings in order. */
export async function* runJsonChunks(
  rstore: ReconcileStore,
  run: RunRecord,
  indent = 0,
  visible?: (d: StoredDiscrepancy) => boolean,
): AsyncGenerator<string> {
  const nl = indent ? '\n' : '';
  const pad = (n: number) => ' '.repeat(indent * n);
  const head = JSON.stringify(visible ? scopedRunJson(run) : runJson(run), null, indent);
  // The run object without its closing brace, then the list inside it.
  yield `${head.slice(0, head.lastIndexOf('}')).trimEnd()},${nl}${pad(1)}"discrepancyList":${indent ? ' ' : ''}[`;
  let first = true;
  for await (const d of rstore.discrepancies(run.id)) {
    if (visible && !visible(d)) continue;
    const text = JSON.stringify(discrepancyJson(d), null, indent).replace(/\n/g, '\n' + pad(2));
    yield `${first ? '' : ','}${nl}${pad(2)}${text}`;
    first = false;
  }
  yield `${first ? '' : nl + pad(1)}]${nl}}${nl}`;
}

/** The run's findings as CSV (RFC 4180: comma, CRLF, fields quoted when they hold a comma, quote or line break). */
export async function* runCsvChunks(
  rstore: ReconcileStore,
  run: RunRecord,
  visible?: (d: StoredDiscrepancy) => boolean,
): AsyncGenerator<string> {
  yield csvRow([...CSV_COLUMNS]);
  for await (const d of rstore.discrepancies(run.id)) {
    if (visible && !visible(d)) continue;
    const j = discrepancyJson(d);
    yield csvRow(CSV_COLUMNS.map((c) => (c === 'detail' ? (d.detail ? JSON.stringify(d.detail) : '') : j[c])));
  }
}

export function csvRow(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  // A leading = + - @ makes spreadsheets run the cell as a formula: prefix a quote (OWASP CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
