import { existsSync } from 'node:fs';
import path from 'node:path';
import { storeAuditTrail } from '../audit/store-trail.ts';
import { loadConfigIfPresent, openConfiguredStore } from './database.ts';
import { osUser } from './os-user.ts';
import { builtinAdapters } from '../../adapters/index.ts';
import { checkConfig, type TargetReach } from '../config/check.ts';
import { systemClock } from '../clock.ts';

/** `amtsbote config check [dir]`: the configuration validated as start does; exit 1 on errors (with --connect: unless all targets are reachable). */
export async function configCheck(
  dir: string,
  o: { connect?: boolean; json?: boolean; data?: string; databaseUrl?: string; databaseSchema?: string },
): Promise<void> {
  const result = await checkConfig(path.resolve(dir), process.env, { connect: Boolean(o.connect), clock: systemClock, builtinAdapters });
  const failed = !result.ok || (result.targets ?? []).some((t) => t.result !== 'reachable');
  if (failed) process.exitCode = 1;
  if (o.connect && result.ok && result.targets) await recordConnect(dir, o, result.targets);
  if (o.json) {
    console.log(JSON.stringify({ dir, ...result }, null, 2));
    return;
  }
  if (!result.ok) {
    console.error(`${dir}: ${result.problems.length} problem${result.problems.length > 1 ? 's' : ''}`);
    for (const p of result.problems) console.error('  ' + p);
  } else {
    console.log(`${dir}: ok — ${result.summary}`);
  }
  for (const w of result.warnings) console.error(`  warning: ${w}`);
  if (result.ok && result.targets) console.log('\n' + formatReachTable(result.targets));
}

/**
 * `--connect` reaches every back office with the configured credentials: an act the audit trail keeps, in the
 * hub's own database. Where there is none yet (no database URL, no SQLite file in the data folder) the check
 * makes none and says on stderr that it was not recorded.
 */
async function recordConnect(
  dir: string,
  o: { data?: string; databaseUrl?: string; databaseSchema?: string },
  targets: TargetReach[],
): Promise<void> {
  const opts = { config: dir, data: o.data ?? './data', databaseUrl: o.databaseUrl, databaseSchema: o.databaseSchema };
  try {
    const config = await loadConfigIfPresent(opts);
    const url = opts.databaseUrl || config?.hub.database.url;
    if (!url && !existsSync(path.join(path.resolve(opts.data), 'amtsbote.sqlite'))) {
      console.error(`  note: not recorded in an audit trail: no hub database in ${opts.data} (give --data or --database-url)`);
      return;
    }
    const store = await openConfiguredStore(opts, config);
    try {
      await storeAuditTrail(store.audit, systemClock).record({
        actor: `cli:${osUser()}`,
        action: 'config-check-connect',
        detail: { targets: targets.length, reachable: targets.filter((t) => t.result === 'reachable').length },
      });
    } finally {
      await store.close();
    }
  } catch (e) {
    console.error(`  note: not recorded in the audit trail: ${(e as Error).message}`);
  }
}

/** `config check --connect`: one line per target, then how many are reachable. */
function formatReachTable(rows: TargetReach[]): string {
  const head: TargetReach = { target: 'target', adapter: 'adapter', result: 'result' as TargetReach['result'], message: 'message' };
  const width = (k: 'target' | 'adapter' | 'result') => Math.max(...[head, ...rows].map((r) => r[k].length));
  const line = (r: TargetReach) =>
    [r.target.padEnd(width('target')), r.adapter.padEnd(width('adapter')), r.result.padEnd(width('result')), r.message].join('  ');
  const reachable = rows.filter((r) => r.result === 'reachable').length;
  return [line(head), ...rows.map(line), '', `${reachable} of ${rows.length} target${rows.length === 1 ? '' : 's'} reachable`].join('\n');
}
