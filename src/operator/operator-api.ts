import express, { type Request, type Response } from 'express';
import type { Logger } from 'winston';
import type { Store } from '../store/index.ts';
import { parseReplayFilter, replayByFilter } from '../delivery/replay.ts';
import { httpProblem, pointer, type FieldError } from '../http/problem-details.ts';
import { jsonBody } from '../http/body.ts';
import { operatorProblem } from './problems.ts';
import { operatorAuthenticator, type Authenticate } from './operator-auth.ts';
import {
  REPLAY_FILTER_FIELDS,
  replayFilterBody,
  replayReasonField,
  type ReplayedDeliveryAnswer,
  type ReplayReportAnswer,
} from './replay-schemas.ts';
import type { Clock } from '../clock.ts';
import type { AuditTrail } from '../audit/trail.ts';
import { actorName, principalOf, tenantRestriction } from './principal.ts';

export { OPERATOR_TOKEN_ENV } from './operator-auth.ts';

export interface OperatorApiOptions {
  store: Store;
  logger: Logger;
  /** The operator token; undefined or empty disables the API (503). */
  token: string | undefined;
  /** Shared with other operator routers (e.g. reconciliation); made from `token` when absent. */
  authenticate?: Authenticate;
  /** For changes: `authenticate`, the CSRF check of sessions and the role operator; `authenticate` when absent. */
  operate?: Authenticate;
  /** Where replays are recorded for the audit trail. */
  audit?: AuditTrail;
  /** Called after deliveries were put back in the queue, so the worker claims them at once. */
  onReplayed?: () => void;
  /** The hub's clock. */
  now: Clock;
}

const DELIVERY_ID = /^[0-9a-f-]{36}$/;

/** `POST /deliveries/{id}/replay` and `POST /deliveries/replay`, for operators (mounted under /api/v1). */
export function replayRoutes(o: OperatorApiOptions): express.Router {
  const now = o.now;
  const authenticate = o.authenticate ?? operatorAuthenticator(o.token);
  const operate = o.operate ?? authenticate;
  const api = express.Router();
  const readJson = jsonBody('64kb');

  api.post('/deliveries/replay', operate, readJson, async (req: Request, res: Response) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw operatorProblem('invalid-replay', 'the body must be a JSON object', [{ pointer: '#', detail: 'expected object' }]);
    const b = body as Record<string, unknown>;
    const errors: FieldError[] = [];
    for (const k of Object.keys(b)) if (!REPLAY_FILTER_FIELDS.includes(k)) errors.push({ pointer: pointer([k]), detail: 'unknown field' });
    if (!replayFilterBody.shape.dryRun.safeParse(b.dryRun).success)
      errors.push({ pointer: pointer(['dryRun']), detail: 'expected boolean' });
    if (!validReason(b.reason)) errors.push({ pointer: pointer(['reason']), detail: 'expected a string of at most 500 characters' });
    const parsed = parseReplayFilter(b);
    if (!parsed.ok) errors.push(...parsed.problems.map((p) => ({ pointer: p.field ? pointer([p.field]) : '#', detail: p.detail })));
    if (errors.length || !parsed.ok)
      throw operatorProblem('invalid-replay', `${errors.length} field${errors.length > 1 ? 's are' : ' is'} not valid`, errors);
    const dryRun = b.dryRun === true;
    const p = principalOf(res);
    const by = actorName(p);
    // An operator scoped to some tenants matches, counts and replays only their deliveries.
    const report = await replayByFilter(
      o.store,
      { ...parsed.filter, tenants: tenantRestriction(p) },
      {
        dryRun,
        by,
        reason: b.reason as string | undefined,
        now: now(),
      },
    );
    const replayed = report.results.filter((r) => r.outcome === 'replayed').length;
    if (replayed) {
      o.logger.info('failed deliveries replayed', { by, count: replayed, filter: parsed.filter });
      o.onReplayed?.();
      const tenants = new Set(report.matched.map((d) => d.tenant));
      await o.audit?.record({
        actor: p.id,
        action: 'replay',
        tenant: tenants.size === 1 ? [...tenants][0] : undefined,
        detail: { replayed, matched: report.matched.length, filter: JSON.stringify(parsed.filter) },
      });
    }
    const outcome = new Map(report.results.map((r) => [r.id, r.outcome]));
    res.json({
      dryRun,
      matched: report.matched.length,
      replayed,
      truncated: report.truncated,
      deliveries: report.matched.map((d) => ({
        id: d.id,
        submissionId: d.submissionId,
        target: d.targetId,
        tenant: d.tenant,
        errorKind: d.errorKind,
        failedAt: new Date(d.failedAt).toISOString(),
        ...(dryRun ? {} : { outcome: outcome.get(d.id) ?? 'not-found' }),
      })),
    } satisfies ReplayReportAnswer);
  });

  api.post('/deliveries/:id/replay', operate, readJson, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const b = (typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? req.body : {}) as Record<string, unknown>;
    if (!validReason(b.reason)) {
      throw operatorProblem('invalid-replay', '1 field is not valid', [
        { pointer: pointer(['reason']), detail: 'expected a string of at most 500 characters' },
      ]);
    }
    const p = principalOf(res);
    const [r] = DELIVERY_ID.test(id)
      ? await o.store.replay([id], actorName(p), b.reason as string | undefined, now(), tenantRestriction(p))
      : [{ id, outcome: 'not-found' as const }];
    if (!r || r.outcome === 'not-found') throw httpProblem('not-found', `no delivery ${id}`);
    if (r.outcome === 'not-failed')
      throw operatorProblem('delivery-not-failed', `delivery ${id} is ${r.state ?? 'not failed'}; only failed deliveries can be replayed`);
    o.logger.info('failed delivery replayed', { by: actorName(p), deliveryId: id });
    o.onReplayed?.();
    await o.audit?.record({ actor: p.id, action: 'replay', subject: id, detail: { replayed: 1 } });
    res.json({ id, state: 'queued', attempts: r.attempts ?? 0, previousError: r.previousError ?? null } satisfies ReplayedDeliveryAnswer);
  });

  return api;
}

const validReason = (reason: unknown): boolean => reason === undefined || replayReasonField.safeParse(reason).success;
