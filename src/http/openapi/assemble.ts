/**
 * Assembles the OpenAPI document from the fragments each feature hands in (the hub lists them in
 * src/api-description.ts). The kernel imports no feature: it adds what every part shares (problem details, the
 * bearer schemes) and refuses fragments that would overwrite each other or name a tag no fragment declares.
 */
import type { z } from 'zod';
import { componentsFromZod } from './from-zod.ts';
import { problemSchemas } from './problems.ts';
import { securitySchemes } from './security.ts';
import type { Header, JsonSchema, OpenApiDocument, PathItem, Tag } from './types.ts';

/** A feature's part of the description. */
export interface OpenApiFragment {
  tags?: Tag[];
  paths: Record<string, PathItem>;
  /** Request bodies as the zod schemas that validate them; described by their input side. */
  requests?: Record<string, z.ZodType>;
  /** Answers as zod schemas; described by their output side. */
  answers?: Record<string, z.ZodType>;
  /** Schemas no zod schema stands for (the XML form, a CSV column list), written as JSON Schema. */
  schemas?: Record<string, JsonSchema>;
  headers?: Record<string, Header>;
}

export function assembleOpenApi(info: OpenApiDocument['info'], fragments: readonly OpenApiFragment[]): OpenApiDocument {
  const tags: Tag[] = [];
  const paths: Record<string, PathItem> = {};
  const headers: Record<string, Header> = {};
  const schemas: Record<string, JsonSchema> = {};
  const requests: Record<string, z.ZodType> = {};
  const answers: Record<string, z.ZodType> = {};
  for (const f of fragments) {
    tags.push(...(f.tags ?? []));
    addAll(paths, f.paths, 'path');
    addAll(headers, f.headers ?? {}, 'header');
    addAll(requests, f.requests ?? {}, 'schema');
    addAll(answers, f.answers ?? {}, 'schema');
    addAll(schemas, f.schemas ?? {}, 'schema');
  }
  for (const name of Object.keys(requests))
    if (name in answers || name in schemas) throw new Error(`OpenAPI: schema ${name} is given twice`);
  for (const name of Object.keys(answers)) if (name in schemas) throw new Error(`OpenAPI: schema ${name} is given twice`);
  addAll(schemas, problemSchemas(), 'schema');
  addAll(schemas, componentsFromZod(requests, 'input'), 'schema');
  addAll(schemas, componentsFromZod(answers, 'output'), 'schema');

  const declared = new Set(tags.map((t) => t.name));
  for (const [path, item] of Object.entries(paths)) {
    for (const op of [item.get, item.post]) {
      for (const tag of op?.tags ?? [])
        if (!declared.has(tag)) throw new Error(`OpenAPI: ${path} names tag ${tag}, which no fragment declares`);
    }
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info,
    servers: [{ url: '/', description: 'this hub' }],
    tags,
    paths,
    components: { securitySchemes: { ...securitySchemes }, headers, schemas },
  };
}

function addAll<T>(into: Record<string, T>, from: Record<string, T>, what: string): void {
  for (const [k, v] of Object.entries(from)) {
    if (k in into) throw new Error(`OpenAPI: ${what} ${k} is given by two fragments`);
    into[k] = v;
  }
}
