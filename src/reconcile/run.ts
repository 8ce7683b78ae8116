import { hostname } from 'node:os';
import type { Logger } from 'winston';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RetryPolicy, TargetReconcileConfig } from '../config/schema.ts';
import { RetriesFailed, retrying } from '../core/policy/retry.ts';
import type { AdapterInstance } from '../sdk/types.ts';
import { uuidv7 } from '../store/ids.ts';
import type { ReconcileStore, RunRecord } from '../store/reconcile-store.ts';
import type { StatusSink } from '../core/status/types.ts';
import { compareWithBackoffice } from './hub-vs-backoffice.ts';
import { RunReport, type ReconcileMetrics } from './report.ts';
import { findStuckDeliveries } from './stuck-deliveries.ts';
import type { ReportSink } from '../core/reconcile/types.ts';
import type { Clock } from '../clock.ts';

const DAY_MS = 86_400_000;

/** Defaults for a target named in a run without `reconcile` settings of its own: compare and flag only. */
export const DEFAULT_TARGET_RECONCILE: TargetReconcileConfig = {
  timezone: 'Europe/Berlin',
  graceMinutes: 15,
  lookbackDays: 7,
  concurrency: 4,
};

/** How often a back-office read is tried when the target's `reconcile.retry` does not say. */
export const DEFAULT_READ_RETRY = { maxAttempts: 4, maxDurationMs: 120_000 } as const;

export interface ReconcileTarget {
  id: string;
  reconcile?: TargetReconcileConfig | undefined;
  adapter?: AdapterInstance | undefined;
  /** The target's delivery windows: a delivery held by a closed window is not stuck. */
  windows?: readonly string[] | undefined;
  /** The target's retry policy (policy.retry): its delays pace the retries of a failed listing. Absent: read once. */
  retry?: RetryPolicy | undefined;
}

/** Portal vs hub for one portal, reporting into the run's sink (src/reconcile/portal-vs-hub.ts does the work). */
export type PortalComparison = (
  sink: ReportSink,
  o: { since: number; now: number; tenants?: readonly string[] | undefined; runId: string },
) => Promise<unknown>;

export interface ReconcileDeps {
  rstore: ReconcileStore;
  targets: ReadonlyMap<string, ReconcileTarget>;
  /** Portals with a listing API, by id. */
  portals?: ReadonlyMap<string, PortalComparison>;
  status?: StatusSink | undefined;
  metrics?: ReconcileMetrics | undefined;
  logger: Logger;
  /** This process, as runs record it. */
  instance?: string;
  /** Called when deliveries were put back in the queue, so a worker in this process claims them at once. */
  onRedelivered?: () => void;
  /** The hub's clock. */
  now: Clock;
  /** Waits between retries of a back-office read; tests may pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
}

export interface RunRequest {
  job: 'reconcile' | 'stuck-deliveries';
  /** A schedule id, `target:<id>` for a target's own schedule, or `on-demand`. */
  scheduleId: string;
  /** The cron slot; a second run for the same slot (another instance) is refused. */
  scheduledFor?: number | null;
  targets?: readonly string[] | undefined;
  tenants?: readonly string[] | undefined;
  /** Compare deliveries from this time on (epoch ms); default: now − lookbackDays. */
  since?: number | undefined;
  lookbackDays?: number | undefined;
  stuckAfterMinutes: number;
}

export const INSTANCE = `${hostname()}:${process.pid}`;

/**
 * One reconciliation run, recorded from start to end: stuck deliveries, then (job `reconcile`) each target with
 * a listing or status lookup against its back office, then each portal with a listing against the hub. Returns
 * undefined when another instance already ran this schedule slot. A back office's read is retried under the
 * target's retry policy; a side that still fails (its back office down) gets a `side-failed` finding and the
 * run's error, the other sides go on, and the run ends `partial`: its findings stand, that side was not
 * compared. A run that breaks as a whole (the database, a target that cannot be compared at all) ends `failed`.
 */
export async function runReconciliation(deps: ReconcileDeps, req: RunRequest): Promise<RunRecord | undefined> {
  const clock = deps.now;
  const now = clock();
  const id = uuidv7(now);
  const selected = selectTargets(deps.targets, req.targets);
  const filters: Record<string, unknown> = {
    ...(req.targets ? { targets: req.targets } : {}),
    ...(req.tenants ? { tenants: req.tenants } : {}),
    ...(req.since !== undefined ? { since: new Date(req.since).toISOString() } : {}),
    ...(req.lookbackDays !== undefined ? { lookbackDays: req.lookbackDays } : {}),
  };
  const started = await deps.rstore.startRun({
    id,
    job: req.job,
    scheduleId: req.scheduleId,
    scheduledFor: req.scheduledFor ?? null,
    filters,
    instance: deps.instance ?? INSTANCE,
    startedAt: now,
  });
  if (!started) return undefined;
  const log = deps.logger.child({ run: id, job: req.job, schedule: req.scheduleId });
  const report = new RunReport(deps.rstore, id, deps.metrics);
  const errors: string[] = [];
  const sideErrors: string[] = [];
  const sideFailed = async (side: { targetId: string } | { portalId: string }, e: unknown) => {
    const error = (e as Error).message;
    sideErrors.push(`${'targetId' in side ? `target ${side.targetId}` : `portal ${side.portalId}`}: ${error}`);
    await report.add({
      class: 'side-failed',
      action: 'reported',
      ...side,
      detail: { error, attempts: e instanceof RetriesFailed ? e.attempts : 1 },
    });
  };
  let redelivered = 0;
  try {
    const stuck = await findStuckDeliveries(deps.rstore, report, {
      olderThanMinutes: req.stuckAfterMinutes,
      targets: req.targets,
      tenants: req.tenants,
      now,
      windows: (id) => deps.targets.get(id)?.windows,
    });
    if (stuck.reported) log.warn('stuck deliveries', { count: stuck.reported, released: stuck.released, truncated: stuck.truncated });
    if (stuck.released) deps.onRedelivered?.();
    if (req.job === 'reconcile') {
      for (const t of selected) {
        if (!t.adapter?.list && !t.adapter?.status) {
          if (req.targets?.includes(t.id)) errors.push(`target ${t.id}: its adapter offers neither list() nor status()`);
          continue;
        }
        const settings = t.reconcile ?? DEFAULT_TARGET_RECONCILE;
        const since = req.since ?? now - (req.lookbackDays ?? settings.lookbackDays) * DAY_MS;
        try {
          const summary = await compareWithBackoffice(
            { targetId: t.id, adapter: t.adapter, settings, since, until: now - settings.graceMinutes * 60_000, tenants: req.tenants },
            {
              rstore: deps.rstore,
              sink: report,
              status: deps.status,
              logger: log,
              runId: id,
              now,
              retry: readRetry(t, settings, deps, log),
            },
          );
          redelivered += summary.redelivered;
          log.info('target reconciled', { target: t.id, ...summary });
        } catch (e) {
          await sideFailed({ targetId: t.id }, e);
          log.error('target reconciliation failed', { target: t.id, error: (e as Error).message });
        }
      }
      // Portals are compared in runs over all targets; a run for one target (its own schedule, --target) skips them.
      for (const [portalId, compare] of req.targets ? [] : (deps.portals ?? [])) {
        try {
          await compare(report, {
            since: req.since ?? now - (req.lookbackDays ?? DEFAULT_TARGET_RECONCILE.lookbackDays) * DAY_MS,
            now,
            tenants: req.tenants,
            runId: id,
          });
        } catch (e) {
          await sideFailed({ portalId }, e);
          log.error('portal reconciliation failed', { portal: portalId, error: (e as Error).message });
        }
      }
    }
    await report.flush();
  } catch (e) {
    errors.push((e as Error).message);
    log.error('reconciliation run failed', { error: (e as Error).message });
    await report.flush().catch(() => undefined);
  }
  if (redelivered) deps.onRedelivered?.();
  const state = errors.length ? 'failed' : sideErrors.length ? 'partial' : 'finished';
  const error = [...errors, ...sideErrors].join('; ') || null;
  await deps.rstore.finishRun(id, {
    state,
    finishedAt: clock(),
    counts: report.counts,
    matched: report.matchedCount,
    discrepancies: report.total,
    error,
  });
  deps.metrics?.reconcileRuns.inc({ job: req.job, state });
  const run = (await deps.rstore.getRun(id))!;
  log.info('reconciliation run finished', {
    state,
    matched: run.matched,
    discrepancies: run.discrepancies,
    counts: run.counts,
    durationMs: (run.finishedAt ?? now) - now,
  });
  return run;
}

/** One back-office read of target `t` under its retry policy (delays) and `reconcile.retry` (bounds). */
function readRetry(
  t: ReconcileTarget,
  settings: TargetReconcileConfig,
  deps: ReconcileDeps,
  log: Logger,
): (<T>(read: () => Promise<T>) => Promise<T>) | undefined {
  const policy = t.retry;
  if (!policy) return undefined;
  const bounds = settings.retry ?? DEFAULT_READ_RETRY;
  return (read) =>
    retrying(read, {
      policy,
      maxAttempts: bounds.maxAttempts,
      maxDurationMs: bounds.maxDurationMs,
      now: deps.now,
      sleep: deps.sleep ?? ((ms) => sleep(ms)),
      onRetry: (e, attempt, delayMs) =>
        log.warn('back-office read failed, trying again', { target: t.id, attempt, delayMs, error: e.message }),
    });
}

/** The targets a run covers: those named, or else every target with reconcile settings. */
function selectTargets(all: ReadonlyMap<string, ReconcileTarget>, named: readonly string[] | undefined): ReconcileTarget[] {
  if (!named) return [...all.values()].filter((t) => t.reconcile);
  return named.map((id) => {
    const t = all.get(id);
    if (!t) throw new Error(`no target ${id}; known: ${[...all.keys()].join(', ')}`);
    return t;
  });
}
