import type { Logger } from 'winston';
import type { Clock } from '../clock.ts';
import type { AdapterInstance } from '../sdk/types.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import type { LoadedConfig, ResolvedTarget } from './load.ts';

/**
 * Every target's adapter instance, built by its create(): `amtsbote start` serves with them, `amtsbote config
 * check` builds them the same way and closes them again, so both find the same problems (a WSDL missing or
 * without the operation, an XSD that does not compile, a certificate or key file that cannot be read).
 *
 * Decision: no separate "static prepare" step in the adapter contract. create() builds what the options
 * describe and contacts nothing; the first delivery or check() does. That holds for every built-in adapter:
 * rest and xml-http make agents and read TLS files (an OAuth2 token is fetched on the first request), soap
 * reads the local WSDL and refuses remote imports without fetching them, file-drop reads its SFTP key file
 * and opens the SFTP session on first use. The SDK states it for adapter authors (AdapterDefinition.create).
 *
 * Every target is tried, so one run reports every broken one; on any failure the ones built are closed and a
 * ConfigError names each target (its options in the YAML file) and what its adapter said (with the file).
 */
export async function createAdapters(
  config: LoadedConfig,
  loggerFor: (t: ResolvedTarget) => Logger,
  clock: Clock,
): Promise<Map<string, AdapterInstance>> {
  const adapters = new Map<string, AdapterInstance>();
  const problems: ConfigProblem[] = [];
  for (const t of config.targets.values()) {
    try {
      adapters.set(
        t.id,
        await t.adapter.create(t.options as never, { targetId: t.id, logger: loggerFor(t), timeoutMs: t.config.timeoutMs, clock }),
      );
    } catch (e) {
      const path = ['targets', t.id, 'options'];
      problems.push({
        ...config.locate(path),
        path,
        message: `${t.adapter.type} adapter could not start: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }
  if (problems.length) {
    await closeAdapters(adapters);
    throw new ConfigError(problems);
  }
  return adapters;
}

/** Closes every instance; one that fails to close does not keep the others open. */
export async function closeAdapters(adapters: ReadonlyMap<string, AdapterInstance>): Promise<void> {
  await Promise.allSettled([...adapters.values()].map((a) => a.close?.()));
}
