import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The hub's Prometheus metrics, one registry per hub so tests can run several side by side. */
/** `deliveryCounts` is read at each scrape, so the gauge shows the store's state, not this process's view. */
export function createMetrics(deliveryCounts?: () => Promise<Record<string, number>>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'amtsbote_' });
  return {
    registry,
    intake: new Counter({ name: 'amtsbote_intake_total', help: 'Submissions taken in, by portal and outcome (created, duplicate)', labelNames: ['portal', 'outcome'], registers: [registry] }),
    intakeSeconds: new Histogram({ name: 'amtsbote_intake_seconds', help: 'Time to validate and durably store a submission', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] }),
    attempts: new Counter({ name: 'amtsbote_delivery_attempts_total', help: 'Delivery attempts by target and outcome (delivered, retry, failed)', labelNames: ['target', 'outcome'], registers: [registry] }),
    finished: new Counter({ name: 'amtsbote_deliveries_finished_total', help: 'Deliveries that reached delivered or failed, by target (acknowledged hand-overs included)', labelNames: ['target', 'outcome'], registers: [registry] }),
    attemptSeconds: new Histogram({ name: 'amtsbote_delivery_attempt_seconds', help: 'Duration of delivery attempts by target', labelNames: ['target'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
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
