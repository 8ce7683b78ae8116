import type { Clock } from '../clock.ts';
import winston from 'winston';
import Transport from 'winston-transport';
import type { AdapterDefinition, AdapterInstance } from '../sdk/types.ts';
import { adapterRegistry } from './adapter-folders.ts';
import { closeAdapters, createAdapters } from './adapter-instances.ts';
import { loadConfig, type LoadedConfig } from './load.ts';
import { ConfigError, formatProblem } from './errors.ts';
import { Router } from '../routing/router.ts';
import { compileInbound } from '../inbound/setup.ts';
import { buildDestinations } from '../intake/fit-connect/destination.ts';

/** One target's answer to its check(): `refused` is a back office that answered and refused the credentials. */
export interface TargetReach {
  target: string;
  adapter: string;
  result: 'reachable' | 'refused' | 'unreachable';
  message: string;
}

export type CheckResult =
  | { ok: true; summary: string; warnings: string[]; targets?: TargetReach[] }
  | { ok: false; problems: string[]; warnings: string[] };

export interface CheckOptions {
  /** Also run each target's check(): reachability and credentials. Without it nothing leaves the machine. */
  connect?: boolean;
  /** The clock the adapters are built with (the command's own: it is a process of its own). */
  clock: Clock;
  /** The built-in adapters (adapters/index.ts); those of the configuration's adapter folders are added. */
  builtinAdapters: ReadonlyMap<string, AdapterDefinition>;
}

/**
 * Everything `amtsbote start` checks before it serves: schema, references, adapter options, mappings, and
 * every target's adapter built as start builds it (WSDL and its operation, XSD, certificate and key files),
 * then closed again. No back office is contacted unless `connect` is set.
 */
export async function checkConfig(dir: string, env: NodeJS.ProcessEnv = process.env, opts: CheckOptions): Promise<CheckResult> {
  const warnings: string[] = [];
  let loaded: LoadedConfig;
  let adapters: Map<string, AdapterInstance>;
  try {
    loaded = loadConfig(dir, { adapters: await adapterRegistry(dir, opts.builtinAdapters), env });
    const router = new Router(loaded);
    const inbound = compileInbound(loaded);
    await buildDestinations(loaded, router, inbound, opts.clock, { keys: false });
    adapters = await createAdapters(loaded, (t) => warningsOf(t.id, warnings), opts.clock);
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, problems: e.problems.map(formatProblem), warnings };
    throw e;
  }
  try {
    const h = loaded.hub;
    const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
    const summary = [
      n(h.tenants.length, 'tenant'),
      n(h.services.length, 'service'),
      n(h.portals.length, 'portal'),
      n(loaded.targets.size, 'target'),
      n(h.routes.length, 'route'),
      n(h.schedules.length, 'schedule'),
      ...(h.inbound.channels.length ? [n(h.inbound.channels.length, 'inbound channel')] : []),
    ].join(', ');
    if (!opts.connect) return { ok: true, summary, warnings };
    return { ok: true, summary, warnings, targets: await reachAll(loaded, adapters) };
  } finally {
    await closeAdapters(adapters);
  }
}

/** Every target's check() at once, each bounded by its timeout (an adapter's own deadline should come first). */
function reachAll(config: LoadedConfig, adapters: ReadonlyMap<string, AdapterInstance>): Promise<TargetReach[]> {
  return Promise.all(
    [...config.targets.values()].map(async (t): Promise<TargetReach> => {
      const row = (result: TargetReach['result'], message: string) => ({ target: t.id, adapter: t.adapter.type, result, message });
      const limitMs = t.config.timeoutMs + 1000;
      let timer: NodeJS.Timeout | undefined;
      try {
        const r = await Promise.race([
          adapters.get(t.id)!.check(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms`)), limitMs))),
        ]);
        return row(r.ok ? 'reachable' : r.refused ? 'refused' : 'unreachable', r.message);
      } catch (e) {
        return row('unreachable', `check() failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

/**
 * A logger that keeps what an adapter warns about while it is built (an unverified certificate, a password
 * sent readable), for the check's output; its info and debug lines are not for this command.
 */
function warningsOf(targetId: string, into: string[]): winston.Logger {
  const keep = new (class extends Transport {
    override log(info: { message?: unknown }, next: () => void): void {
      into.push(`targets.${targetId}: ${String(info.message)}`);
      next();
    }
  })({ level: 'warn' });
  return winston.createLogger({ level: 'warn', transports: [keep] });
}
