import path from 'node:path';
import type { z } from 'zod';
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
  return hasMark(schema, 'secret');
}

/**
 * Marks a string option as a path to a file that belongs to the configuration (WSDL, XSD, certificate, key).
 * The hub resolves a relative path against the configuration folder, so a configuration can be moved whole.
 */
export function filePath<T extends z.ZodType>(schema: T): T {
  return schema.meta({ filePath: true }) as T;
}

function hasMark(schema: z.ZodType, mark: 'secret' | 'filePath'): boolean {
  const meta = schema.meta() as Record<string, unknown> | undefined;
  return Boolean(meta?.[mark]);
}

/** Replaces every value whose schema is marked `secret()` by "***", walking objects, unions and arrays. */
export function maskSecrets(schema: z.ZodType, value: unknown): unknown {
  return mapMarked(schema, value, 'secret', () => '***');
}

/** Resolves every relative path whose schema is marked `filePath()` against `baseDir`. */
export function resolveFilePaths(schema: z.ZodType, value: unknown, baseDir: string): unknown {
  return mapMarked(schema, value, 'filePath', (v) => (typeof v === 'string' && !path.isAbsolute(v) ? path.resolve(baseDir, v) : v));
}

/** The schema a wrapper (optional, default, pipe …) checks its value with; undefined for any other schema. */
export function wrappedSchema(schema: z.core.$ZodType): z.core.$ZodType | undefined {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return def.innerType as z.core.$ZodType;
    case 'pipe':
      return def.in as z.core.$ZodType;
    case 'lazy':
      return (def.getter as () => z.core.$ZodType)();
    default:
      return undefined;
  }
}

/** Walks a value along its schema and replaces the values whose schema carries `mark`. */
function mapMarked(schema: z.ZodType, value: unknown, mark: 'secret' | 'filePath', fn: (v: unknown) => unknown): unknown {
  if (value === undefined || value === null) return value;
  if (hasMark(schema, mark)) return fn(value);
  const walk = (s: z.ZodType, v: unknown) => mapMarked(s, v, mark, fn);
  const inner = wrappedSchema(schema);
  if (inner) return walk(inner as z.ZodType, value);
  const def = (schema as unknown as { def: Record<string, unknown> & { type: string } }).def;
  switch (def.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const shape = def.shape as Record<string, z.ZodType>;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out[k] = shape[k] ? walk(shape[k], v) : v;
      }
      return out;
    }
    case 'array':
      return Array.isArray(value) ? value.map((v) => walk(def.element as z.ZodType, v)) : value;
    case 'union': {
      // Apply every branch in turn: a key marked in any branch is mapped, whichever branch the value
      // matches (or none, for raw options that failed validation).
      const options = def.options as z.ZodType[];
      return options.reduce<unknown>((v, o) => walk(o, v), value);
    }
    case 'record':
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, walk(def.valueType as z.ZodType, v)]));
    default:
      return value;
  }
}
