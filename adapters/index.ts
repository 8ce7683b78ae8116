import type { AdapterDefinition } from '../src/sdk/types.ts';
import rest from './rest/index.ts';
import fileDrop from './file-drop/index.ts';
import soap from './soap/index.ts';
import xmlHttp from './xml-http/index.ts';
import xta2 from './xta2/index.ts';

/** The adapters that ship with the hub, by type. */
export const builtinAdapters: ReadonlyMap<string, AdapterDefinition> = new Map(
  ([rest, soap, xmlHttp, fileDrop, xta2] as AdapterDefinition[]).map((a) => [a.type, a]),
);
