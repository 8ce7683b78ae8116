import express from 'express';
import type { Store } from '../store/index.ts';
import type { Metrics } from './metrics.ts';
import { sendProblem } from '../http/problem-details.ts';
import { operatorProblem } from './problems.ts';

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
      sendProblem(res, operatorProblem('unavailable', 'the database does not answer'));
    }
  });
  r.get('/metrics', async (_req, res) => {
    res.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics());
  });
  return r;
}
