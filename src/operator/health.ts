import express from 'express';
import type { Store } from '../store/index.ts';
import type { Metrics } from './metrics.ts';

/** `/healthz`: the process answers. `/readyz`: the store answers too. `/metrics`: Prometheus. */
export function healthRoutes(o: { store: Store; metrics: Metrics; worker: () => boolean }): express.Router {
  const r = express.Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    try {
      await o.store.ping();
      res.json({ status: 'ready', database: o.store.dialect.name, worker: o.worker() ? 'running' : 'disabled' });
    } catch {
      res.status(503).type('application/problem+json').json({ type: 'urn:amtsbote:problem:unavailable', title: 'The hub is not ready', status: 503, detail: 'the database does not answer' });
    }
  });
  r.get('/metrics', async (_req, res) => {
    res.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics());
  });
  return r;
}
