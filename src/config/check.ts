import { builtinAdapters } from '../../adapters/index.ts';
import { loadConfig } from './load.ts';
import { ConfigError, formatProblem } from './errors.ts';
import { Router } from '../routing/router.ts';

export type CheckResult = { ok: true; summary: string } | { ok: false; problems: string[] };

/** Everything `amtsbote start` checks before it serves: schema, references, adapter options, mapping syntax. */
export function checkConfig(dir: string, env: NodeJS.ProcessEnv = process.env): CheckResult {
  try {
    const loaded = loadConfig(dir, { adapters: builtinAdapters, env });
    new Router(loaded);
    const h = loaded.hub;
    return { ok: true, summary: `${h.tenants.length} tenants, ${h.services.length} services, ${h.portals.length} portals, ${loaded.targets.size} targets, ${h.routes.length} routes, ${h.schedules.length} schedules` };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, problems: e.problems.map(formatProblem) };
    throw e;
  }
}
