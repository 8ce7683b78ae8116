import { adapterRegistry } from './adapter-folders.ts';
import { loadConfig } from './load.ts';
import { ConfigError, formatProblem } from './errors.ts';
import { Router } from '../routing/router.ts';

export type CheckResult = { ok: true; summary: string } | { ok: false; problems: string[] };

/** Everything `amtsbote start` checks before it serves: schema, references, adapter options, mapping syntax. */
export async function checkConfig(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  try {
    const loaded = loadConfig(dir, { adapters: await adapterRegistry(dir), env });
    new Router(loaded);
    const h = loaded.hub;
    const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
    const summary = [n(h.tenants.length, 'tenant'), n(h.services.length, 'service'), n(h.portals.length, 'portal'), n(loaded.targets.size, 'target'), n(h.routes.length, 'route'), n(h.schedules.length, 'schedule')].join(', ');
    return { ok: true, summary };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, problems: e.problems.map(formatProblem) };
    throw e;
  }
}
