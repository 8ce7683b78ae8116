import { z } from 'zod';
import type { AdapterDefinition } from '../sdk/types.ts';
import { configSchema, targetSchema } from './schema.ts';

/**
 * The configuration's JSON Schema, generated from the zod schemas. Targets are a union over the adapters given
 * (the built-in ones for `config schema`), so an editor completes and checks each adapter's options too.
 */
export function configJsonSchema(adapters: ReadonlyMap<string, AdapterDefinition>): Record<string, unknown> {
  const perAdapter = [...adapters.values()].map((a) =>
    targetSchema.extend({ adapter: z.literal(a.type).describe(a.description), options: a.options as z.ZodType }),
  );
  const target = perAdapter.length > 1 ? z.union(perAdapter as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]) : perAdapter[0]!;
  // Every key optional: each YAML file of the folder holds only some of them.
  const schema = configSchema.extend({ targets: z.record(z.string(), target) }).partial();
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...json,
    title: 'Amtsbote configuration',
    description: 'One file of an Amtsbote configuration folder (hub.yaml, tenants.yaml, …); see docs/configuration.md.',
  };
}
