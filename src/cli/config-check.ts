import path from 'node:path';
import { builtinAdapters } from '../../adapters/index.ts';
import { checkConfig, type TargetReach } from '../config/check.ts';
import { systemClock } from '../clock.ts';

/** `amtsbote config check [dir]`: the configuration validated as start does; exit 1 on errors (with --connect: unless all targets are reachable). */
export async function configCheck(dir: string, o: { connect?: boolean; json?: boolean }): Promise<void> {
  const result = await checkConfig(path.resolve(dir), process.env, { connect: Boolean(o.connect), clock: systemClock, builtinAdapters });
  const failed = !result.ok || (result.targets ?? []).some((t) => t.result !== 'reachable');
  if (failed) process.exitCode = 1;
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

/** `config check --connect`: one line per target, then how many are reachable. */
function formatReachTable(rows: TargetReach[]): string {
  const head: TargetReach = { target: 'target', adapter: 'adapter', result: 'result' as TargetReach['result'], message: 'message' };
  const width = (k: 'target' | 'adapter' | 'result') => Math.max(...[head, ...rows].map((r) => r[k].length));
  const line = (r: TargetReach) =>
    [r.target.padEnd(width('target')), r.adapter.padEnd(width('adapter')), r.result.padEnd(width('result')), r.message].join('  ');
  const reachable = rows.filter((r) => r.result === 'reachable').length;
  return [line(head), ...rows.map(line), '', `${reachable} of ${rows.length} target${rows.length === 1 ? '' : 's'} reachable`].join('\n');
}
