import type { Generated } from 'kysely';

/** `partial`: the run went through, but a side (a back office, a portal) could not be read and was not compared. */
export type ReconcileRunState = 'running' | 'finished' | 'partial' | 'failed';

/** One reconciliation run: who ran what, when, and how it ended. Counts per class are JSON (one column per class would need a migration per new class). */
export interface ReconcileRunsTable {
  id: string;
  /** `reconcile` or `stuck-deliveries`. */
  job: string;
  /** The schedule id (`target:<id>` for a target's own schedule), or `on-demand`. */
  schedule_id: string;
  /** The fire time a cron schedule ran for (epoch ms); null on demand. Unique per schedule: one run per slot across instances. */
  scheduled_for: number | null;
  /** JSON: { targets?, tenants?, since } as the run took them. */
  filters: string;
  instance: string;
  started_at: number;
  finished_at: number | null;
  state: ReconcileRunState;
  /** JSON: { <class>: n } for every class found. */
  counts: string;
  matched: number;
  discrepancies: number;
  error: string | null;
}

/** One finding of a run. Ids, states, times; never form data. */
export interface ReconcileDiscrepanciesTable {
  id: Generated<number>;
  run_id: string;
  class: string;
  action: string;
  submission_id: string | null;
  delivery_id: string | null;
  target_id: string | null;
  portal_id: string | null;
  tenant: string | null;
  reference: string | null;
  idempotency_key: string | null;
  external_id: string | null;
  /** JSON. */
  detail: string | null;
  /** When an operator acted on it (e.g. confirmed a re-delivery the target's policy left to them). */
  resolved_at: number | null;
  resolved_by: string | null;
}

export interface ReconcileDatabase {
  reconcile_runs: ReconcileRunsTable;
  reconcile_discrepancies: ReconcileDiscrepanciesTable;
}
