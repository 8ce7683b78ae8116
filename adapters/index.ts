import type { AdapterDefinition } from '../src/sdk/types.ts';
import rest from './rest/index.ts';

/** The adapters that ship with the hub, by type. */
export const builtinAdapters: ReadonlyMap<string, AdapterDefinition> = new Map(
  ([rest] as AdapterDefinition[]).map((a) => [a.type, a]),
);
