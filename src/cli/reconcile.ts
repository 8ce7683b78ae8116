import { hostname } from 'node:os';
import { osUser } from './os-user.ts';
import { loadConfigIfPresent, openConfiguredStore, type DatabaseCommandOptions } from './database.ts';
import { createLogger } from '../log/logger.ts';
import type { AdapterInstance } from '../sdk/types.ts';
import { StatusRecorder } from '../status/recorder.ts';
import { confirmRedeliveries, confirmRun } from '../reconcile/confirm.ts';
import { runCsvChunks, runJsonChunks } from '../reconcile/export.ts';
import { formatRun } from '../reconcile/format.ts';
import { parseRunFilters } from '../reconcile/request.ts';
import { runReconciliation } from '../reconcile/run.ts';
import { reconcilePortals, reconcileTargets } from '../reconcile/sides.ts';
import { Router } from '../routing/router.ts';
import { systemClock } from '../clock.ts';

/**
 * Exit codes of `amtsbote reconcile`: like diff(1), so scripts and cron can tell the cases apart; 3 is a run
 * whose findings stand but that could not read every side (see its side-failed findings).
 */
export const EXIT = { clean: 0, found: 1, trouble: 2, partial: 3 } as const;

async function print(chunks: AsyncIterable<string>, newline = false): Promise<void> {
  for await (const c of chunks) process.stdout.write(newline ? c + '\n' : c);
}

export interface ReconcileCommandOptions extends DatabaseCommandOptions {
  target?: string;
  tenant?: string;
  since?: string;
  stuckAfter: string;
  json?: boolean;
}

/** `amtsbote reconcile`: one run now against the configured database (no HTTP), its report printed; exit codes as EXIT. */
export async function reconcile(o: ReconcileCommandOptions): Promise<void> {
  const config = await loadConfigIfPresent(o);
  if (!config) return fail(`no configuration at ${o.config}: the run needs the targets`);
  const parsed = parseRunFilters({ target: o.target, tenant: o.tenant, since: o.since }, [...config.targets.keys()]);
  const stuckAfter = Number(o.stuckAfter);
  if (!parsed.ok) return fail(parsed.problems.map((p) => `--${p.field}: ${p.detail}`).join('; '));
  if (!Number.isInteger(stuckAfter) || stuckAfter < 1) return fail('--stuck-after: expected a whole number of minutes ≥ 1');
  const logger = createLogger({ level: 'warn', console: false });
  // A process of its own: the machine's clock, made here once and handed to everything the run uses.
  const clock = systemClock;
  const store = await openConfiguredStore(o, config);
  const adapters = new Map<string, AdapterInstance>();
  try {
    for (const t of config.targets.values()) {
      if (parsed.filters.targets ? !parsed.filters.targets.includes(t.id) : !t.config.reconcile) continue;
      adapters.set(
        t.id,
        await t.adapter.create(t.options as never, {
          targetId: t.id,
          logger: logger.child({ target: t.id }),
          timeoutMs: t.config.timeoutMs,
          clock,
        }),
      );
    }
    const rstore = store.reconcile;
    const status = new StatusRecorder({ store, config: config.hub, logger, now: clock });
    const portals = reconcilePortals(config.hub.portals, { store, router: new Router(config), logger, now: clock });
    const deps = {
      rstore,
      targets: reconcileTargets(config, adapters),
      portals,
      status,
      logger,
      instance: `${hostname()}:${process.pid}:cli`,
      now: clock,
    };
    const run = (await runReconciliation(deps, {
      job: 'reconcile',
      scheduleId: 'on-demand',
      ...parsed.filters,
      stuckAfterMinutes: stuckAfter,
    }))!;
    if (o.json) await print(runJsonChunks(rstore, run, 2));
    else await print(formatRun(rstore, run), true);
    process.exitCode =
      run.state === 'failed' ? EXIT.trouble : run.state === 'partial' ? EXIT.partial : run.discrepancies ? EXIT.found : EXIT.clean;
  } finally {
    await Promise.all([...adapters.values()].map((a) => a.close?.()));
    await store.close();
  }
}

/** `amtsbote reconcile show <runId>`: a recorded run's report, or its whole export as JSON or CSV. */
export async function reconcileShow(runId: string, o: DatabaseCommandOptions & { json?: boolean; csv?: boolean }): Promise<void> {
  const store = await openConfiguredStore(o, await loadConfigIfPresent(o).catch(() => undefined));
  try {
    const rstore = store.reconcile;
    const run = /^[0-9a-f-]{36}$/.test(runId) ? await rstore.getRun(runId) : undefined;
    if (!run) return fail(`no reconciliation run ${runId}`);
    await print(
      o.csv ? runCsvChunks(rstore, run) : o.json ? runJsonChunks(rstore, run, 2) : formatRun(rstore, run, Infinity),
      !o.csv && !o.json,
    );
  } finally {
    await store.close();
  }
}

/** `amtsbote reconcile confirm`: re-delivers the findings a run left to an operator (redeliver: ask). */
export async function reconcileConfirm(
  ids: string[],
  o: DatabaseCommandOptions & { run?: string; by?: string; reason?: string },
): Promise<void> {
  if (!ids.length === !o.run) return fail('give finding ids or --run, not both and not neither');
  const numbers = ids.map(Number);
  if (numbers.some((n) => !Number.isSafeInteger(n) || n < 1)) return fail('finding ids are whole numbers (the #id of the report)');
  const store = await openConfiguredStore(o, await loadConfigIfPresent(o).catch(() => undefined));
  try {
    const rstore = store.reconcile;
    const by = o.by ?? osUser();
    // A process of its own: its one reading of the machine's clock.
    const opts = { by, reason: o.reason, now: systemClock() };
    const results = o.run ? await confirmRun(rstore, o.run, opts) : await confirmRedeliveries(rstore, numbers, opts);
    for (const r of results) console.log(`#${r.discrepancy}\t${r.deliveryId ?? '-'}\t${r.outcome}`);
    const n = results.filter((r) => r.outcome === 'redelivered').length;
    console.log(`re-delivered ${n} of ${results.length} by ${by}; a running hub picks them up at its next poll`);
    if (n < results.length) process.exitCode = EXIT.found;
  } finally {
    await store.close();
  }
}

function fail(message: string): void {
  console.error(`amtsbote reconcile: ${message}`);
  process.exitCode = EXIT.trouble;
}
