import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfigIfPresent, openConfiguredStore, withDatabaseOptions, type DatabaseCommandOptions } from './database.ts';
import { createLogger } from '../log/logger.ts';
import type { AdapterInstance } from '../sdk/types.ts';
import type { Store } from '../store/index.ts';
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

/** `amtsbote reconcile` (run one now), `reconcile show <run>` (export) and `reconcile confirm` (operator's re-delivery). */
export function registerReconcileCommand(program: Command): void {
  const reconcile = withDatabaseOptions(
    program
      .command('reconcile')
      .description('run a reconciliation now against the configured database (no HTTP) and print its report; exit 0 when clean, 1 with discrepancies, 2 when the run failed or the arguments are wrong, 3 when a back office or portal could not be read (partial)')
      .option('--target <id>', 'only this target')
      .option('--tenant <ags>', 'only deliveries of this tenant (a 5-digit district key includes its municipalities)')
      .option('--since <iso>', "compare deliveries from this time on (default: each target's lookbackDays)")
      .option('--stuck-after <minutes>', 'open deliveries this long past due count as stuck', '15')
      .option('--json', 'print the persisted run as JSON'),
  ).action(async (o: DatabaseCommandOptions & { target?: string; tenant?: string; since?: string; stuckAfter: string; json?: boolean }) => {
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
        adapters.set(t.id, await t.adapter.create(t.options as never, { targetId: t.id, logger: logger.child({ target: t.id }), timeoutMs: t.config.timeoutMs, clock }));
      }
      const rstore = store.reconcile;
      const status = new StatusRecorder({ store, config: config.hub, logger, now: clock });
      const portals = reconcilePortals(config.hub.portals, { store, router: new Router(config), logger, now: clock });
      const deps = { rstore, targets: reconcileTargets(config, adapters), portals, status, logger, instance: `${hostname()}:${process.pid}:cli`, now: clock };
      const run = (await runReconciliation(deps, { job: 'reconcile', scheduleId: 'on-demand', ...parsed.filters, stuckAfterMinutes: stuckAfter }))!;
      if (o.json) await print(runJsonChunks(rstore, run, 2));
      else await print(formatRun(rstore, run), true);
      process.exitCode = run.state === 'failed' ? EXIT.trouble : run.state === 'partial' ? EXIT.partial : run.discrepancies ? EXIT.found : EXIT.clean;
    } finally {
      await Promise.all([...adapters.values()].map((a) => a.close?.()));
      await store.close();
    }
  });

  // The subcommands take the database options (and --json) of `reconcile` itself, given before or after them.
  reconcile
    .command('show')
    .description('print a recorded run: its report, or --json / --csv for the whole export')
    .argument('<runId>', 'the run')
    .option('--csv', 'the discrepancies as CSV')
    .action(async (runId: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<DatabaseCommandOptions & { json?: boolean; csv?: boolean }>();
      const store = await openConfiguredStore(o, await loadConfigIfPresent(o).catch(() => undefined));
      try {
        const rstore = store.reconcile;
        const run = /^[0-9a-f-]{36}$/.test(runId) ? await rstore.getRun(runId) : undefined;
        if (!run) return fail(`no reconciliation run ${runId}`);
        await print(o.csv ? runCsvChunks(rstore, run) : o.json ? runJsonChunks(rstore, run, 2) : formatRun(rstore, run, Infinity), !o.csv && !o.json);
      } finally {
        await store.close();
      }
    });

  reconcile
    .command('confirm')
    .description('re-deliver cases a run found missing in the back office and left to an operator (redeliver: ask)')
    .argument('[discrepancyIds...]', 'the findings (#id in the report)')
    .option('--run <id>', 'every finding of this run that awaits an operator')
    .option('--by <name>', 'who confirms, for the sync log (default: the OS user)')
    .option('--reason <text>', 'why, for the sync log')
    .action(async (ids: string[], _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<DatabaseCommandOptions & { run?: string; by?: string; reason?: string }>();
      if (!ids.length === !o.run) return fail('give finding ids or --run, not both and not neither');
      const numbers = ids.map(Number);
      if (numbers.some((n) => !Number.isSafeInteger(n) || n < 1)) return fail('finding ids are whole numbers (the #id of the report)');
      const store = await openConfiguredStore(o, await loadConfigIfPresent(o).catch(() => undefined));
      try {
        const rstore = store.reconcile;
        const by = o.by ?? userName();
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
    });
}

function fail(message: string): void {
  console.error(`amtsbote reconcile: ${message}`);
  process.exitCode = EXIT.trouble;
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
