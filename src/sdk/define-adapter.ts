import { z } from 'zod';
import type { AdapterDefinition } from './types.ts';

/** Declares an adapter. The hub validates `options` at start-up with the target's id and key path in every error. */
export function defineAdapter<S extends z.ZodType>(definition: AdapterDefinition<S>): AdapterDefinition<S> {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.type)) {
    throw new Error(`adapter type "${definition.type}" must be lower-case letters, digits and dashes`);
  }
  return definition;
}

/**
 * Marks a string option as secret: it is masked as "***" wherever options are shown or logged.
 * The mark lives in the schema's metadata, so the JSON Schema and docs show it too.
 */
export function secret<T extends z.ZodType>(schema: T): T {
  return schema.meta({ secret: true, writeOnly: true }) as T;
}

export function isSecret(schema: z.ZodType): boolean {
  const meta = schema.meta();
  return Boolean(meta && (meta as { secret?: boolean }).secret);
}

/** Replaces every value whose schema is marked `secret()` by "***", walking objects, unions and arrays. */
export function maskSecrets(schema: z.ZodType, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (isSecret(schema)) return '***';
  const def = (schema as unknown as { def: Record<string, unknown> & { type: string } }).def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return maskSecrets(def.innerType as z.ZodType, value);
    case 'pipe':
      return maskSecrets(def.in as z.ZodType, value);
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const shape = def.shape as Record<string, z.ZodType>;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out[k] = shape[k] ? maskSecrets(shape[k], v) : v;
      }
      return out;
    }
    case 'array':
      return Array.isArray(value) ? value.map((v) => maskSecrets(def.element as z.ZodType, v)) : value;
    case 'union': {
      // Apply every branch in turn: a key that is secret in any branch is masked, whichever branch the value
      // matches (or none, for raw options that failed validation).
      const options = def.options as z.ZodType[];
      return options.reduce<unknown>((v, o) => maskSecrets(o, v), value);
    }
    case 'record':
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskSecrets(def.valueType as z.ZodType, v)]),
      );
    default:
      return value;
  }
}
