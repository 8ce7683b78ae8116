/**
 * JSON Schemas generated from the zod schemas the routes validate with (zod 4's own `z.toJSONSchema`), so the
 * description says what validation does. Requests are described by their input side (what a client sends, before
 * defaults and transforms), answers by their output side.
 */
import { z } from 'zod';
import type { JsonSchema } from './types.ts';

export type Io = 'input' | 'output';

/**
 * The named schemas as components. A named schema used inside another becomes a `$ref` to its component; a
 * refinement (a rule written as code) is not expressible and is left to the schema's description.
 */
export function componentsFromZod(named: Record<string, z.ZodType>, io: Io): Record<string, JsonSchema> {
  if (Object.keys(named).length === 0) return {};
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io, target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, JsonSchema> = {};
  for (const [id, s] of Object.entries(schemas)) {
    // Each would be a document of its own; inside the OpenAPI document they are parts of one.
    const { $schema: _dialect, $id: _id, ...rest } = s as Record<string, unknown>;
    out[id] = rest as JsonSchema;
  }
  return out;
}
