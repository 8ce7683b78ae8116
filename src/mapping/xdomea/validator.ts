import { type CompiledSchema, loadSchema } from '../xsd/index.ts';

// Imported on the first xdomea message, not at start: it instantiates libxml2 (WebAssembly).

const warm = new Map<string, CompiledSchema>();

/**
 * The compiled FVDaten set, kept for the life of the process: compiling it takes about half a second (five
 * files, 440 KB), validating one message a few milliseconds.
 */
export function fvDatenSchema(file: string): CompiledSchema {
  let schema = warm.get(file);
  if (!schema) {
    schema = loadSchema(file);
    warm.set(file, schema);
  }
  return schema;
}
