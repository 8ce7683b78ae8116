import express, { type Request, type Response } from 'express';
import type { AuditTrail } from '../audit/trail.ts';
import type { Clock } from '../clock.ts';
import { httpProblem } from '../http/problem-details.ts';
import type { OperatorAccess } from '../operator/access.ts';
import { principalOf, seesTenant, tenantRestriction } from '../operator/principal.ts';
import { startOfDay } from '../store/console-overview.ts';
import type { Store } from '../store/index.ts';
import { countsJson, overviewJson, searchJson, timelineJson } from './answers.ts';
import { LOG_LEVELS, type LogTap } from './log-tap.ts';
import { lookupTimeline } from './lookup.ts';
import { consoleProblem } from './problems.ts';
import { type ParsedSearch, parseSearch } from './search-query.ts';
import { logFilterOf, streamLog } from './sse.ts';

export interface ConsoleApiOptions {
  store: Store;
  access: OperatorAccess;
  audit: AuditTrail;
  logTap: LogTap;
  /** The hub's clock. */
  now: Clock;
}

/** Search parameters from the query string, or 400 problem+json naming each bad parameter. */
export function searchOf(req: Request): ParsedSearch {
  const r = parseSearch(req.query as Record<string, unknown>);
  if (!r.ok)
    throw consoleProblem(
      'invalid-console-query',
      `${r.errors.length} parameter${r.errors.length > 1 ? 's are' : ' is'} not valid`,
      r.errors,
    );
  return r.value;
}

/**
 * The console's JSON API (mounted under /api/v1): overview, search, grouped counts, a submission's timeline, its
 * form data (admin, audited) and the live log as server-sent events. Every answer is cut to the principal's tenants.
 */
export function consoleApiRoutes(o: ConsoleApiOptions): express.Router {
  const api = express.Router();
  const auth = o.access.api;

  api.get('/console/overview', auth, async (_req: Request, res: Response) => {
    const tenants = tenantRestriction(principalOf(res));
    res.json(overviewJson(await o.store.console.overview(tenants, startOfDay(o.now()))));
  });

  api.get('/console/submissions', auth, async (req: Request, res: Response) => {
    const q = searchOf(req);
    const page = await o.store.console.search({ ...q.search, tenants: tenantRestriction(principalOf(res)) }, q.limit, q.cursor);
    res.json(searchJson(page));
  });

  api.get('/console/submissions/counts', auth, async (req: Request, res: Response) => {
    const q = searchOf(req);
    res.json(countsJson(await o.store.console.groupedCounts({ ...q.search, tenants: tenantRestriction(principalOf(res)) })));
  });

  api.get('/console/submissions/:ref', auth, async (req: Request, res: Response) => {
    const ref = String(req.params.ref);
    const found = await lookupTimeline(o.store, ref, tenantRestriction(principalOf(res)));
    // Another tenant's submission is as absent as a missing one: its existence is not told either.
    if (!found) throw httpProblem('not-found', `no submission ${ref}`);
    res.json(timelineJson(found.timeline, found.otherMatches));
  });

  api.get('/console/submissions/:id/form-data', auth, o.access.requireRole('admin'), async (req: Request, res: Response) => {
    const p = principalOf(res);
    const id = String(req.params.id);
    const t = await o.store.console.timeline(id, tenantRestriction(p));
    if (!t || !seesTenant(p, t.submission.tenant)) throw httpProblem('not-found', `no submission ${id}`);
    // Written before the data leaves: a view that cannot be recorded is not shown.
    await o.audit.record({ actor: p.id, action: 'form-data-viewed', tenant: t.submission.tenant, subject: id, detail: { via: 'api' } });
    res.json({ submissionId: id, content: await o.store.console.formData(id, tenantRestriction(p)) });
  });

  api.get('/console/log', auth, (req: Request, res: Response) => {
    const f = logFilterOf(req.query as Record<string, unknown>);
    if (f.level !== undefined && !(LOG_LEVELS as readonly string[]).includes(f.level))
      throw consoleProblem('invalid-console-query', '1 parameter is not valid', [
        { pointer: '#/level', detail: `expected one of ${LOG_LEVELS.join(', ')}` },
      ]);
    streamLog(req, res, o.logTap, principalOf(res), f);
  });

  return api;
}
