// Form data checked per service at the door: a service that names a JSON Schema for its data gets bad data
// refused with 422 and every offending path, instead of a 202 and a permanent mapping failure later.

import path from 'node:path';
import { loadJsonSchema, type CompiledJsonSchema } from './json-schema.ts';
import { refuse, type Refusal } from './result.ts';

export interface ServiceDataSchemas {
  /** The schema for this service's data; undefined when the service names none (then any data passes). */
  forService(service: string): CompiledJsonSchema | undefined;
}

/**
 * Compiles the schemas services name, once, at start-up: service slug → JSON Schema file, relative paths
 * against `baseDir` (the configuration folder). Throws JsonSchemaLoadError for a schema that cannot be used.
 */
export function loadServiceSchemas(files: Readonly<Record<string, string>>, baseDir: string): ServiceDataSchemas {
  const compiled = new Map<string, CompiledJsonSchema>();
  for (const [service, file] of Object.entries(files)) compiled.set(service, loadJsonSchema(path.resolve(baseDir, file)));
  return { forService: (service) => compiled.get(service) };
}

/**
 * Checks a submission's data against its service's schema. Paths are JSON pointers into the submission, so they
 * start with `/data` (set `at` for data that sits elsewhere).
 */
export function validateServiceData(schemas: ServiceDataSchemas, service: string, data: unknown, at = '/data'): { ok: true } | Refusal {
  const schema = schemas.forService(service);
  if (!schema) return { ok: true };
  const violations = schema.validate(data).map((v) => ({ path: at + v.path, detail: v.detail }));
  if (violations.length === 0) return { ok: true };
  const first = violations[0]!;
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
  return refuse(
    422,
    `the data does not fit the schema of service ${service}: ${first.path || '/'} ${first.detail}${more}`,
    first.path,
    violations,
  );
}
