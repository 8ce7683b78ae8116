import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import express, { type Request, type Response } from 'express';
import type { Logger } from 'winston';
import type { Authenticate } from '../operator/operator-auth.ts';
import { httpProblem, pointer } from '../http/problem-details.ts';
import { jsonBody } from '../http/body.ts';
import { reconcileProblem } from './problems.ts';
import type { ReconcileStore, RunRecord } from '../store/reconcile-store.ts';
import { confirmRedeliveries, confirmRun, type ConfirmResult } from './confirm.ts';
import { runCsvChunks, runJson, runJsonChunks } from './export.ts';
import { parseRunFilters } from './request.ts';
import type { Reconciliation } from './jobs.ts';
import type { Clock } from '../clock.ts';
import type { StoredDiscrepancy } from '../store/reconcile-store.ts';
import type { AuditTrail } from '../audit/trail.ts';
import { actorName, principalOf, seesTenant, tenantRestriction, type Principal } from '../operator/principal.ts';
import { scopedRunJson } from './export.ts';

export interface ReconcileRoutesOptions {
  rstore: ReconcileStore;
  reconciliation: Pick<Reconciliation, 'runNow'>;
  knownTargets: readonly string[];
  authenticate: Authenticate;
  /** For changes: `authenticate`, the CSRF check of sessions and the role operator; `authenticate` when absent. */
  operate?: Authenticate;
  audit?: AuditTrail;
  logger: Logger;
  /** Stuck threshold for on-demand runs. */
  stuckAfterMinutes?: number;
  onRedelivered?: () => void;
  /** The hub's clock. */
  now: Clock;
}

const RUN_ID = /^[0-9a-f-]{36}$/;

/**
 * The operator API of reconciliation (mounted under /api/v1, operator token):
 * `GET /reconcile/runs`, `POST /reconcile/runs` (run now), `GET /reconcile/runs/{id}` (JSON, or CSV with
 * `?format=csv` or `Accept: text/csv`), `POST /reconcile/runs/{id}/redeliver` and
 * `POST /reconcile/discrepancies/{id}/redeliver` (confirm re-deliveries a target's policy left to operators).
 */
export function reconcileRoutes(o: ReconcileRoutesOptions): express.Router {
  const now = o.now;
  const api = express.Router();
  const readJson = jsonBody('64kb');
  const operate = o.operate ?? o.authenticate;
  // A login scoped to some tenants sees only their findings, and no run's totals (they span every tenant).
  const visibleTo = (p: Principal) =>
    p.tenants === 'all' ? undefined : (d: StoredDiscrepancy) => d.tenant !== undefined && seesTenant(p, d.tenant);
  const runView = (p: Principal) => (p.tenants === 'all' ? runJson : scopedRunJson);
  const body = (req: Request): Record<string, unknown> => {
    const b: unknown = req.body;
    if (b === undefined || (typeof b === 'object' && b !== null && Object.keys(b).length === 0)) return {};
    if (typeof b !== 'object' || b === null || Array.isArray(b))
      throw reconcileProblem('invalid-reconcile-request', 'the body must be a JSON object', [{ pointer: '#', detail: 'expected object' }]);
    return b as Record<string, unknown>;
  };
  const findRun = async (id: string): Promise<RunRecord> => {
    const run = RUN_ID.test(id) ? await o.rstore.getRun(id) : undefined;
    if (!run) throw httpProblem('not-found', `no reconciliation run ${id}`);
    return run;
  };

  api.get('/reconcile/runs', o.authenticate, async (req: Request, res: Response) => {
    const limitText = typeof req.query.limit === 'string' ? req.query.limit : '50';
    const limit = Number(limitText);
    const errors = [];
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      errors.push({ pointer: '#/limit', detail: 'expected an integer from 1 to 500' });
    const before = typeof req.query.before === 'string' ? await o.rstore.getRun(req.query.before).catch(() => undefined) : undefined;
    if (req.query.before !== undefined && !before)
      errors.push({ pointer: '#/before', detail: 'expected the id of a run (the last one of the previous page)' });
    if (errors.length) throw reconcileProblem('invalid-reconcile-request', 'the query is not valid', errors);
    const runs = await o.rstore.listRuns({ limit, before: before && { startedAt: before.startedAt, id: before.id } });
    res.json({ runs: runs.map(runView(principalOf(res))), ...(runs.length === limit ? { next: runs[runs.length - 1]!.id } : {}) });
  });

  api.post('/reconcile/runs', operate, readJson, async (req: Request, res: Response) => {
    const b = body(req);
    const errors = Object.keys(b)
      .filter((k) => !['target', 'tenant', 'since'].includes(k))
      .map((k) => ({ pointer: pointer([k]), detail: 'unknown field' }));
    const parsed = parseRunFilters(b, o.knownTargets);
    if (!parsed.ok) errors.push(...parsed.problems.map((p) => ({ pointer: pointer([p.field]), detail: p.detail })));
    if (errors.length || !parsed.ok)
      throw reconcileProblem('invalid-reconcile-request', `${errors.length} field${errors.length > 1 ? 's are' : ' is'} not valid`, errors);
    const p = principalOf(res);
    const scope = tenantRestriction(p);
    // A scoped operator's run covers its tenants only, whatever it asked for.
    const tenants = scope && (parsed.filters.tenants?.filter((t) => scope.includes(t)) ?? scope);
    if (scope && tenants?.length === 0) throw httpProblem('not-found', 'none of these tenants is yours');
    const run = await o.reconciliation.runNow({
      job: 'reconcile',
      ...parsed.filters,
      ...(tenants ? { tenants } : {}),
      stuckAfterMinutes: o.stuckAfterMinutes ?? 15,
    });
    o.logger.info('reconciliation run on demand', { by: actorName(p), run: run.id, state: run.state });
    res.status(201).location(`/api/v1/reconcile/runs/${run.id}`).json(runView(p)(run));
  });

  api.get('/reconcile/runs/:id', o.authenticate, async (req: Request, res: Response) => {
    const run = await findRun(String(req.params.id));
    const csv =
      req.query.format === 'csv' || (req.query.format === undefined && req.accepts(['application/json', 'text/csv']) === 'text/csv');
    if (req.query.format !== undefined && req.query.format !== 'csv' && req.query.format !== 'json') {
      throw reconcileProblem('invalid-reconcile-request', 'the query is not valid', [
        { pointer: '#/format', detail: 'expected json or csv' },
      ]);
    }
    if (csv) res.type('text/csv; charset=utf-8').attachment(`reconcile-${run.id}.csv`);
    else res.type('application/json');
    try {
      const visible = visibleTo(principalOf(res));
      await pipeline(Readable.from(csv ? runCsvChunks(o.rstore, run, visible) : runJsonChunks(o.rstore, run, 0, visible)), res);
    } catch (e) {
      // Once the export has begun, a problem document can no longer be sent: the cut-off answer tells the client.
      if (!res.headersSent) throw e;
      o.logger.warn('reconciliation export broken off', { run: run.id, error: (e as Error).message });
      res.destroy();
    }
  });

  const confirmed = (res: Response, results: ConfirmResult[]) => {
    const redelivered = results.filter((r) => r.outcome === 'redelivered').length;
    if (redelivered) o.onRedelivered?.();
    res.json({ redelivered, results });
  };

  api.post('/reconcile/runs/:id/redeliver', operate, readJson, async (req: Request, res: Response) => {
    const run = await findRun(String(req.params.id));
    const reason = reasonOf(body(req));
    const p = principalOf(res);
    const results = await confirmRun(o.rstore, run.id, { by: actorName(p), reason, now: now(), visible: visibleTo(p) });
    o.logger.info('re-deliveries confirmed', { by: actorName(p), run: run.id, count: results.length });
    await o.audit?.record({ actor: p.id, action: 'reconcile-confirm', subject: run.id, detail: { findings: results.length } });
    confirmed(res, results);
  });

  api.post('/reconcile/discrepancies/:id/redeliver', operate, readJson, async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const reason = reasonOf(body(req));
    const p = principalOf(res);
    const [r] =
      Number.isSafeInteger(id) && id > 0
        ? await confirmRedeliveries(o.rstore, [id], { by: actorName(p), reason, now: now(), visible: visibleTo(p) })
        : [undefined];
    if (!r || r.outcome === 'not-found') throw httpProblem('not-found', `no reconciliation finding ${String(req.params.id)}`);
    if (r.outcome === 'not-awaiting')
      throw reconcileProblem('discrepancy-not-awaiting', `finding ${id} is not a missing case waiting for an operator`);
    o.logger.info('re-delivery confirmed', { by: actorName(p), discrepancy: id, deliveryId: r.deliveryId, outcome: r.outcome });
    await o.audit?.record({ actor: p.id, action: 'reconcile-confirm', subject: String(id), detail: { outcome: r.outcome } });
    confirmed(res, [r]);
  });

  return api;
}

function reasonOf(b: Record<string, unknown>): string | undefined {
  const errors = Object.keys(b)
    .filter((k) => k !== 'reason')
    .map((k) => ({ pointer: pointer([k]), detail: 'unknown field' }));
  if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 500))
    errors.push({ pointer: pointer(['reason']), detail: 'expected a string of at most 500 characters' });
  if (errors.length)
    throw reconcileProblem('invalid-reconcile-request', `${errors.length} field${errors.length > 1 ? 's are' : ' is'} not valid`, errors);
  return b.reason as string | undefined;
}
