import { readFileSync } from 'node:fs';
import path from 'node:path';
import jsonata from 'jsonata';
import type { OutboundMessage } from '../sdk/types.ts';
import { NoOriginalError, renderOriginal, type OriginalDocument } from '../inbound/pass-through.ts';
import { mappingFunctions } from './functions.ts';
import { MappingError, type SourcePosition } from './errors.ts';
import { writeXml, type XmlOptions } from './xml-writer.ts';
import { renderXdomea } from './xdomea/render.ts';

export { MappingError, type SourcePosition } from './errors.ts';
export { writeXml, type XmlOptions } from './xml-writer.ts';

/**
 * Line and column of the token JSONata blames. Its `position` is the offset just past the token (past the
 * `(` of a function call, before a string's closing quote), so the token is looked for right before it.
 */
export function sourcePosition(source: string, position: number, token?: string): SourcePosition {
  let start = Math.max(0, Math.min(position, source.length) - 1);
  if (token) {
    for (const end of [position, position - 1]) {
      if (end - token.length >= 0 && source.slice(end - token.length, end) === token) {
        start = end - token.length;
        // A variable's `$` and a string's or name's quotes belong to the token JSONata names without them.
        const quote = source[start - 1];
        if (quote === '$') start--;
        else if ((quote === '"' || quote === "'" || quote === '`') && source[end] === quote) start--;
        break;
      }
    }
  }
  const before = source.slice(0, start);
  const line = before.split('\n').length;
  return { line, column: start - (before.lastIndexOf('\n') + 1) + 1 };
}

/** A JSONata error as a MappingError, placed in the mapping's source. */
function fromJsonata(err: JsonataError, message: string, id: string, source: string): MappingError {
  const at = typeof err.position === 'number' ? sourcePosition(source, err.position, err.token) : undefined;
  return new MappingError(message, id, err.code, err.position, err.token, at);
}

export interface CompiledMapping {
  /** The path relative to the mappings folder, the mapping's stable id. */
  id: string;
  evaluate(input: unknown): Promise<unknown>;
}

interface JsonataError {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
  value?: unknown;
}

/**
 * JSONata fills some messages with the value at fault ("Number out of range: 12345"); that value is form data,
 * so it is cut out before the message reaches the sync log.
 */
function safeMessage(err: JsonataError): string {
  let msg = err.message ?? 'mapping failed';
  if (err.value !== undefined && err.value !== null && typeof err.value !== 'object') {
    const v = String(err.value);
    if (v.length > 0) msg = msg.split(JSON.stringify(err.value)).join('…').split(v).join('…');
  }
  return msg;
}

/** Compiles a JSONata file once; a syntax error is reported with its line and column at start-up. */
export function compileMapping(mappingsDir: string, id: string): CompiledMapping {
  const file = path.resolve(mappingsDir, id);
  if (!file.startsWith(path.resolve(mappingsDir) + path.sep)) throw new MappingError('mapping path leaves the mappings folder', id);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    throw new MappingError(`mapping file not found: ${file}`, id);
  }
  let expr: jsonata.Expression;
  try {
    expr = jsonata(source);
  } catch (e) {
    const err = e as JsonataError;
    throw fromJsonata(err, err.message ?? String(e), id, source);
  }
  for (const [name, fn] of Object.entries(mappingFunctions)) expr.registerFunction(name, fn.implementation, fn.signature);
  return {
    id,
    async evaluate(input) {
      try {
        return await expr.evaluate(input);
      } catch (e) {
        const err = e as JsonataError;
        throw fromJsonata(err, safeMessage(err), id, source);
      }
    },
  };
}

/**
 * `original` passes the submission's original document on unchanged (docs/inbound.md); the mapping is not run.
 * `xdomea` writes an xdomea message, validates it and packs it into the standard's container (docs/xdomea.md).
 */
export type RenderFormat = 'json' | 'xml' | 'original' | 'xdomea';

export interface RenderOptions {
  /** Format xdomea: the FVDaten entry XSD to validate against; default the configured set (xdomeaSchemaFile). */
  xdomeaSchema?: string;
}

/** Runs a mapping and writes its result in the target's format. The same input gives byte-identical output. */
export async function renderMessage(
  mapping: CompiledMapping,
  input: unknown,
  format: RenderFormat,
  xml: XmlOptions = { declaration: true, indent: false },
  original?: OriginalDocument,
  options: RenderOptions = {},
): Promise<Pick<OutboundMessage, 'format' | 'body' | 'text' | 'contentType' | 'bytes' | 'container'>> {
  if (format === 'original') {
    try {
      return renderOriginal(original);
    } catch (e) {
      if (e instanceof NoOriginalError) throw new MappingError(e.message, mapping.id);
      throw e;
    }
  }
  if (format === 'xdomea') return renderXdomea(mapping, input, xml, options.xdomeaSchema);
  const body = await mapping.evaluate(input);
  if (body === undefined) throw new MappingError('the mapping produced no result', mapping.id);
  if (format === 'json') {
    return { format, body, text: JSON.stringify(body), contentType: 'application/json' };
  }
  return { format, body, text: writeXml(body, mapping.id, xml), contentType: 'application/xml; charset=utf-8' };
}
