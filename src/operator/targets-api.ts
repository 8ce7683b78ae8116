import express, { type Request, type Response } from 'express';
import { Gauge } from 'prom-client';
import type { LoadedConfig } from '../config/load.ts';
import type { Store, TargetOverview } from '../store/index.ts';
import { DeliveryWindows } from '../core/policy/window.ts';
import { tokensAt } from '../core/policy/rate-limit.ts';
import { httpProblem } from '../http/problem-details.ts';
import type { Authenticate } from './operator-auth.ts';
import type { Metrics } from './metrics.ts';
import type { Clock } from '../clock.ts';
import { principalOf, tenantRestriction } from './principal.ts';

export interface TargetsApiOptions {
  store: Store;
  config: LoadedConfig;
  authenticate: Authenticate;
  /** The hub's clock. */
  now: Clock;
}

const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());

/** One target as operators see it: its policies and where they stand now, across all instances. */
export function describeTarget(config: LoadedConfig, o: TargetOverview | undefined, id: string, now: number) {
  const t = config.targets.get(id);
  const policy = t?.config.policy;
  const windows = new DeliveryWindows(policy?.windows);
  const rate = policy?.rateLimit;
  const b = o?.breaker;
  return {
    id,
    configured: Boolean(t),
    adapter: t?.adapter.type ?? null,
    breaker: {
      enabled: policy?.breaker.enabled ?? false,
      state: b?.state ?? 'closed',
      consecutiveFailures: b?.consecutiveFailures ?? 0,
      openedAt: iso(b?.openedAt),
      // Open: when the next probe may go; half-open: when the probe's lease runs out.
      retryAt: iso(b?.retryAt),
      lastError: b?.lastError ?? null,
    },
    rateLimit: {
      maxInFlight: rate?.maxInFlight ?? null,
      perMinute: rate?.perMinute ?? null,
      burst: rate?.burst ?? null,
      tokens:
        rate?.perMinute !== undefined
          ? Math.floor(
              tokensAt(o?.tokens?.tokens ?? 0, o?.tokens?.at ?? null, now, { perMinute: rate.perMinute, burst: rate.burst }) * 100,
            ) / 100
          : null,
    },
    window: windows.always
      ? null
      : {
          windows: policy!.windows,
          open: windows.isOpen(now),
          openedAt: iso(windows.openedAt(now)),
          nextOpening: windows.isOpen(now) ? null : iso(windows.nextOpening(now)),
        },
    queue: {
      ...(o?.queue ?? { queued: 0, waiting: 0, sending: 0, acknowledging: 0, failed: 0, due: 0, oldestDueAt: null }),
      oldestDueAt: iso(o?.queue.oldestDueAt),
    },
  };
}

/**
 * Every target as operators see it, sorted by id: the configured ones and any the database still has deliveries
 * for (a target removed from the configuration); with `only`, that one target if it is either.
 */
export async function describeTargets(store: Store, config: LoadedConfig, now: number, only?: string, tenants?: readonly string[]) {
  const rows = new Map((await store.targetOverview(now, tenants)).map((r) => [r.targetId, r]));
  // A scoped operator sees the targets its tenants' routes use, and any still holding its tenants' deliveries.
  const visible = (id: string) => !tenants || servesTenants(config, id, tenants) || hasQueue(rows.get(id));
  const ids = [...new Set([...config.targets.keys(), ...rows.keys()])]
    .sort()
    .filter((id) => (only === undefined || id === only) && visible(id));
  return ids.map((id) => describeTarget(config, rows.get(id), id, now));
}

function servesTenants(config: LoadedConfig, targetId: string, tenants: readonly string[]): boolean {
  return config.hub.routes.some((r) => r.targets.some((t) => t.target === targetId) && r.tenants.some((t) => tenants.includes(t)));
}

function hasQueue(o: TargetOverview | undefined): boolean {
  const q = o?.queue;
  return Boolean(q && q.queued + q.waiting + q.sending + q.acknowledging + q.failed > 0);
}

/** `GET /targets` and `GET /targets/{id}` for operators (mounted under /api/v1); scoped to the caller's tenants. */
export function targetsRoutes(o: TargetsApiOptions): express.Router {
  const now = o.now;
  const api = express.Router();
  api.get('/targets', o.authenticate, async (_req: Request, res: Response) => {
    res.json({ targets: await describeTargets(o.store, o.config, now(), undefined, tenantRestriction(principalOf(res))) });
  });
  api.get('/targets/:id', o.authenticate, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const [target] = await describeTargets(o.store, o.config, now(), id, tenantRestriction(principalOf(res)));
    if (!target) throw httpProblem('not-found', `no target ${id}`);
    res.json(target);
  });
  return api;
}

/** Breaker state and backlog per target as Prometheus gauges, read from the store at each scrape (all instances). */
export function registerTargetMetrics(metrics: Metrics, store: Store, now: Clock): void {
  let pending: Promise<Map<string, TargetOverview>> | undefined;
  // Both gauges collect in one scrape: read the store once for them.
  const read = () =>
    (pending ??= store
      .targetOverview(now())
      .then((rows) => new Map(rows.map((r) => [r.targetId, r])))
      .finally(() => setTimeout(() => (pending = undefined), 0)));
  const STATE = { closed: 0, open: 1, 'half-open': 2 } as const;
  new Gauge({
    name: 'amtsbote_target_breaker_state',
    help: 'Circuit breaker per target: 0 closed, 1 open, 2 half-open (probing)',
    labelNames: ['target'],
    registers: [metrics.registry],
    async collect() {
      for (const [id, r] of await read()) this.set({ target: id }, STATE[r.breaker.state]);
    },
  });
  new Gauge({
    name: 'amtsbote_target_backlog',
    help: 'Deliveries per target waiting to be sent and due now (all instances)',
    labelNames: ['target'],
    registers: [metrics.registry],
    async collect() {
      for (const [id, r] of await read()) this.set({ target: id }, r.queue.due);
    },
  });
}
