import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AdapterDefinition } from '../sdk/types.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { readConfigFolder } from './read-folder.ts';

const ENTRY_FILES = ['index.ts', 'index.js', 'index.mjs'];

/**
 * The adapters a configuration can use: the built-in ones (handed in by the caller, so config/ does not depend on
 * adapters/) and those in the folders its `paths.adapters` names. Loaded before the configuration is validated,
 * so their options schemas check the targets like the built-ins'.
 */
export async function adapterRegistry(
  configDir: string,
  builtinAdapters: ReadonlyMap<string, AdapterDefinition>,
): Promise<ReadonlyMap<string, AdapterDefinition>> {
  const problems: ConfigProblem[] = [];
  const raw = readConfigFolder(configDir, problems);
  // A broken folder is reported by loadConfig with everything else.
  const folders = (raw.value.paths as { adapters?: unknown } | undefined)?.adapters;
  if (problems.length || !Array.isArray(folders) || folders.length === 0) return builtinAdapters;

  const registry = new Map(builtinAdapters);
  for (const [i, folder] of folders.entries()) {
    const at = (message: string): ConfigProblem => ({ ...raw.locate(['paths', 'adapters', i]), path: ['paths', 'adapters', i], message });
    if (typeof folder !== 'string') continue;
    const dir = path.resolve(configDir, folder);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      problems.push(at(`adapter folder not found: ${dir}`));
      continue;
    }
    for (const name of readdirSync(dir).sort()) {
      const entry = ENTRY_FILES.map((f) => path.join(dir, name, f)).find((f) => existsSync(f));
      if (!entry) continue;
      let definition: unknown;
      try {
        if (entry.endsWith('.ts')) await typeScriptLoader();
        definition = ((await import(pathToFileURL(entry).href)) as { default?: unknown }).default;
      } catch (e) {
        problems.push(at(`${entry} could not be loaded: ${(e as Error).message.split('\n')[0]}`));
        continue;
      }
      const problem = notAnAdapter(definition);
      if (problem) {
        problems.push(at(`${entry}: ${problem}`));
        continue;
      }
      const adapter = definition as AdapterDefinition;
      if (registry.has(adapter.type)) {
        problems.push(
          at(
            `${entry}: adapter type "${adapter.type}" is already taken${builtinAdapters.has(adapter.type) ? ' by a built-in adapter' : ''}`,
          ),
        );
        continue;
      }
      registry.set(adapter.type, adapter);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return registry;
}

function notAnAdapter(d: unknown): string | undefined {
  if (!d || typeof d !== 'object') return 'the default export is not an adapter (export default defineAdapter({...}))';
  const a = d as Partial<AdapterDefinition>;
  if (typeof a.type !== 'string' || !/^[a-z][a-z0-9-]*$/.test(a.type)) return 'the adapter has no valid type';
  if (typeof a.version !== 'string') return `adapter ${a.type} has no version`;
  if (!a.options || typeof (a.options as { safeParse?: unknown }).safeParse !== 'function')
    return `adapter ${a.type} has no options schema`;
  if (typeof a.create !== 'function') return `adapter ${a.type} has no create()`;
  return undefined;
}

/**
 * An adapter folder may hold TypeScript. Run through tsx (tests, or bin/amtsbote.js without a fresh dist/) the
 * hub loads it as it is; run compiled from dist/, this module is JavaScript and registers tsx first, once.
 */
let tsLoader: Promise<void> | undefined;
function typeScriptLoader(): Promise<void> {
  if (!import.meta.url.endsWith('.js')) return Promise.resolve();
  return (tsLoader ??= import('tsx/esm/api').then(({ register }) => {
    register();
  }));
}
