// JSON Schema validation for inbound documents and form data: every offending place, as a JSON pointer, with
// ajv's message, which names the rule and never the value (values are form data).

import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

/** One place where a document breaks its schema. */
export interface SchemaViolation {
  /** RFC 6901 JSON pointer into the document; '' is the document itself. */
  path: string;
  detail: string;
}

export interface CompiledJsonSchema {
  /** The file it came from, for messages. */
  readonly source: string;
  /** Every violation (ajv's allErrors), in ajv's order; empty when the document is valid. */
  validate(data: unknown): SchemaViolation[];
}

export class JsonSchemaLoadError extends Error {
  override name = 'JsonSchemaLoadError';
}

/** At most this many violations are reported; a document that breaks more has bigger problems. */
export const MAX_VIOLATIONS = 50;

/**
 * Compiles a JSON Schema file. The draft follows its `$schema`: 2020-12 (FIM's JSON schemas), 2019-09, else
 * draft-07. Unknown keywords are allowed (`strict: false`): schemas from standards carry annotations of their
 * own. Nothing is fetched: a `$ref` to a schema not in the file is a load error.
 */
export function loadJsonSchema(file: string): CompiledJsonSchema {
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new JsonSchemaLoadError(`JSON Schema ${file} cannot be read: ${(e as Error).message}`);
  }
  return compileJsonSchema(schema, file);
}

export function compileJsonSchema(schema: unknown, source: string): CompiledJsonSchema {
  const dialect = typeof (schema as { $schema?: unknown })?.$schema === 'string' ? (schema as { $schema: string }).$schema : '';
  const options = { allErrors: true, strict: false, validateFormats: true } as const;
  const ajv = dialect.includes('2020-12') ? new Ajv2020(options) : dialect.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
  addFormats(ajv as Ajv);
  let check: ValidateFunction;
  try {
    check = ajv.compile(schema as object);
  } catch (e) {
    throw new JsonSchemaLoadError(`JSON Schema ${source} does not compile: ${(e as Error).message}`);
  }
  return {
    source,
    validate(data) {
      if (check(data)) return [];
      return (check.errors ?? []).slice(0, MAX_VIOLATIONS).map(violation);
    },
  };
}

function escapeSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A missing or unexpected property is reported at the property itself, not at the object holding it. */
function violation(e: ErrorObject): SchemaViolation {
  const p = e.params as { missingProperty?: string; additionalProperty?: string; unevaluatedProperty?: string };
  const child = p.missingProperty ?? p.additionalProperty ?? p.unevaluatedProperty;
  const path = child !== undefined ? `${e.instancePath}/${escapeSegment(child)}` : e.instancePath;
  if (e.keyword === 'required') return { path, detail: 'required' };
  if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') return { path, detail: 'not allowed here' };
  return { path, detail: e.message ?? `fails ${e.keyword}` };
}
