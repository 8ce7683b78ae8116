import type { z } from 'zod';
import { wrappedSchema } from '../sdk/define-adapter.ts';

// Reads zod's own definitions (schema._zod.def) to learn which keys an object at a path accepts, so an
// unknown key can be answered with the known one it was probably meant to be.

interface Def {
  type: string;
  [key: string]: unknown;
}

const defOf = (s: z.core.$ZodType): Def => s._zod.def as unknown as Def;

function child(value: unknown, key: string | number): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[key] : undefined;
}

/** Literal values a discriminator field accepts. */
function literals(s: z.core.$ZodType | undefined): unknown[] {
  if (!s) return [];
  return alternatives(s, undefined).flatMap((o) => {
    const d = defOf(o);
    return d.type === 'literal' ? (d.values as unknown[]) : [];
  });
}

/**
 * The schemas a value is checked against, wrappers (optional, default, pipe …) removed. A discriminated union
 * narrows to the option the value's tag names; any other union offers all its options.
 */
function alternatives(s: z.core.$ZodType, value: unknown): z.core.$ZodType[] {
  const inner = wrappedSchema(s);
  if (inner) return alternatives(inner, value);
  const d = defOf(s);
  switch (d.type) {
    case 'union': {
      const options = (d.options as z.core.$ZodType[]).flatMap((o) => alternatives(o, value));
      const tag = typeof d.discriminator === 'string' ? d.discriminator : undefined;
      if (tag) {
        const chosen = options.filter((o) => literals(shapeOf(o)?.[tag]).includes(child(value, tag)));
        if (chosen.length) return chosen;
      }
      return options;
    }
    default:
      return [s];
  }
}

function shapeOf(s: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined {
  const d = defOf(s);
  return d.type === 'object' ? (d.shape as Record<string, z.core.$ZodType>) : undefined;
}

function step(s: z.core.$ZodType, key: string | number): z.core.$ZodType | undefined {
  const d = defOf(s);
  if (d.type === 'object') return typeof key === 'string' ? shapeOf(s)?.[key] : undefined;
  if (d.type === 'array') return typeof key === 'number' ? (d.element as z.core.$ZodType) : undefined;
  if (d.type === 'record') return d.valueType as z.core.$ZodType;
  return undefined;
}

/** The keys the object at `path` may have, following `input` through unions. Empty where no object is expected. */
export function knownKeys(schema: z.core.$ZodType, path: readonly (string | number)[], input: unknown): string[] {
  let nodes = [schema];
  let value = input;
  for (const key of path) {
    nodes = nodes.flatMap((n) => alternatives(n, value)).flatMap((n) => step(n, key) ?? []);
    value = child(value, key);
  }
  const keys = nodes.flatMap((n) => alternatives(n, value)).flatMap((n) => Object.keys(shapeOf(n) ?? {}));
  return [...new Set(keys)];
}

/** The value at `path` of `input`. */
export function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => child(v, k), input);
}
