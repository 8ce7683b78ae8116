// The hub's inbound side, built once at start-up (and by `config check`): every configured channel compiled,
// every service's data schema loaded. A missing schema or a broken mapping stops the start with the key path
// at fault, like a broken route mapping does (routing/router.ts).

import type { LoadedConfig } from '../config/load.ts';
import { ConfigError, type ConfigProblem } from '../config/errors.ts';
import { MappingError } from '../mapping/engine.ts';
import { compileChannel, type InboundChannel } from './channel.ts';
import type { CompiledJsonSchema } from './json-schema.ts';
import { loadServiceSchemas, type ServiceDataSchemas } from './service-data.ts';

export interface InboundSetup {
  /** By channel name. */
  channels: ReadonlyMap<string, InboundChannel>;
  serviceSchemas: ServiceDataSchemas;
}

/** Compiles the channels and service schemas of a loaded configuration; throws ConfigError with every problem. */
export function compileInbound(config: LoadedConfig): InboundSetup {
  const problems: ConfigProblem[] = [];
  const problem = (path: (string | number)[], e: unknown) =>
    problems.push({ ...config.locate(path), path, message: e instanceof MappingError ? e.describe() : (e as Error).message });

  const channels = new Map<string, InboundChannel>();
  config.hub.inbound.channels.forEach((c, i) => {
    if (channels.has(c.name)) {
      problem(['inbound', 'channels', i, 'name'], new Error(`channel ${c.name} is defined twice`));
      return;
    }
    try {
      channels.set(c.name, compileChannel(c, { mappingsDir: config.mappingsDir, configDir: config.dir }));
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      // The mapping, else the schema: the key the message is about.
      const key = e instanceof MappingError ? 'mapping' : 'document';
      problem(['inbound', 'channels', i, key], e);
    }
  });

  // XTA message boxes read through a channel, as a portal (src/inbound/xta-job.ts builds their readers).
  config.hub.inbound.xta.forEach((m, i) => {
    if (!channels.has(m.channel) && !config.hub.inbound.channels.some((c) => c.name === m.channel))
      problem(['inbound', 'xta', i, 'channel'], new Error(`no inbound channel ${m.channel}`));
    if (!config.hub.portals.some((p) => p.id === m.portal)) problem(['inbound', 'xta', i, 'portal'], new Error(`no portal ${m.portal}`));
    if (config.hub.inbound.xta.findIndex((o) => o.name === m.name) !== i)
      problem(['inbound', 'xta', i, 'name'], new Error(`message box ${m.name} is defined twice`));
  });

  const schemas = new Map<string, CompiledJsonSchema>();
  config.hub.services.forEach((s, i) => {
    if (!s.dataSchema) return;
    try {
      const one = loadServiceSchemas({ [s.slug]: s.dataSchema }, config.dir).forService(s.slug)!;
      schemas.set(s.slug, one);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      problem(['services', i, 'dataSchema'], e);
    }
  });
  if (problems.length) throw new ConfigError(problems);
  return { channels, serviceSchemas: { forService: (service) => schemas.get(service) } };
}
