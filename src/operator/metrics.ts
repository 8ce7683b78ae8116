import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The hub's Prometheus metrics, one registry per hub so tests can run several side by side. */
/** `deliveryCounts` is read at each scrape, so the gauge shows the store's state, not this process's view. */
export function createMetrics(deliveryCounts?: () => Promise<Record<string, number>>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'amtsbote_' });
  return {
    registry,
    intake: new Counter({
      name: 'amtsbote_intake_total',
      help: 'Submissions taken in, by portal and outcome (created, duplicate)',
      labelNames: ['portal', 'outcome'],
      registers: [registry],
    }),
    intakeSeconds: new Histogram({
      name: 'amtsbote_intake_seconds',
      help: 'Time to validate and durably store a submission',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    attempts: new Counter({
      name: 'amtsbote_delivery_attempts_total',
      help: 'Delivery attempts by target and outcome (delivered, retry, failed)',
      labelNames: ['target', 'outcome'],
      registers: [registry],
    }),
    finished: new Counter({
      name: 'amtsbote_deliveries_finished_total',
      help: 'Deliveries that reached delivered or failed, by target (acknowledged hand-overs included)',
      labelNames: ['target', 'outcome'],
      registers: [registry],
    }),
    statusRecorded: new Counter({
      name: 'amtsbote_status_recorded_total',
      help: 'Back-office status news by target, source (delivery, acknowledgement, push, poll, reconciliation) and outcome (applied, older, unmapped, unchanged, duplicate, unknown-case)',
      labelNames: ['target', 'source', 'outcome'],
      registers: [registry],
    }),
    statusForwarded: new Counter({
      name: 'amtsbote_status_forward_attempts_total',
      help: 'Status updates sent to portal callbacks, by portal and outcome (delivered, retry, failed)',
      labelNames: ['portal', 'outcome'],
      registers: [registry],
    }),
    statusForwardSeconds: new Histogram({
      name: 'amtsbote_status_forward_seconds',
      help: 'Duration of status callback requests by portal',
      labelNames: ['portal'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    waitSeconds: new Histogram({
      name: 'amtsbote_delivery_wait_seconds',
      help: 'How long a delivery waited from falling due (or from its window opening) to its attempt, by target',
      labelNames: ['target'],
      buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600],
      registers: [registry],
    }),
    reconcileDiscrepancies: new Counter({
      name: 'amtsbote_reconcile_discrepancies_total',
      help: 'Reconciliation findings by class (missing-in-backoffice, unknown-to-hub, duplicated-in-backoffice, status-changed, missing-in-hub, unknown-to-portal, stuck-delivery) and target (or portal)',
      labelNames: ['class', 'target'],
      registers: [registry],
    }),
    reconcileRuns: new Counter({
      name: 'amtsbote_reconcile_runs_total',
      help: 'Reconciliation runs this instance ran, by job and end state (finished, failed)',
      labelNames: ['job', 'state'],
      registers: [registry],
    }),
    prunedRows: new Counter({
      name: 'amtsbote_pruned_rows_total',
      help: 'Rows the prune job of this instance deleted, by table (reconcile_runs, reconcile_discrepancies, status_outbox)',
      labelNames: ['table'],
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: 'amtsbote_delivery_attempt_seconds',
      help: 'Duration of delivery attempts by target',
      labelNames: ['target'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    deliveries: new Gauge({
      name: 'amtsbote_deliveries',
      help: 'Deliveries by state (all instances)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        if (!deliveryCounts) return;
        for (const [state, n] of Object.entries(await deliveryCounts())) this.set({ state }, n);
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
