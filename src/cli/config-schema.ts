import { writeFileSync } from 'node:fs';
import { builtinAdapters } from '../../adapters/index.ts';
import { configJsonSchema } from '../config/json-schema.ts';

/** `amtsbote config schema`: the configuration's JSON Schema (with the built-in adapters' options) to stdout or a file. */
export function configSchema(o: { out?: string }): void {
  const text = JSON.stringify(configJsonSchema(builtinAdapters), null, 2) + '\n';
  if (o.out) writeFileSync(o.out, text);
  else process.stdout.write(text);
}
