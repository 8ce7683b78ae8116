import { readFileSync } from 'node:fs';
import path from 'node:path';
import jsonata from 'jsonata';
import { XMLBuilder } from 'fast-xml-parser';
import type { OutboundMessage } from '../sdk/types.ts';
import { NoOriginalError, renderOriginal, type OriginalDocument } from '../inbound/pass-through.ts';
import { mappingFunctions } from './functions.ts';

/** Where in the mapping file an error is: 1-based line and column, as editors count. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A mapping that failed: permanent for the delivery, with JSONata's code and the place in the file for the sync log. */
export class MappingError extends Error {
  constructor(
    message: string,
    readonly mapping: string,
    readonly code?: string,
    /** JSONata's character offset, just past the offending token. */
    readonly position?: number,
    readonly token?: string,
    readonly at?: SourcePosition,
  ) {
    super(message);
    this.name = 'MappingError';
  }

  /** "x.jsonata:12:7 (T2002): …" — never the input values. */
  describe(): string {
    const where = this.at ? `:${this.at.line}:${this.at.column}` : this.position !== undefined ? ` at position ${this.position}` : '';
    const code = this.code ? ` (${this.code})` : '';
    return `${this.mapping}${where}${code}: ${this.message}`;
  }
}

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

export interface XmlOptions {
  declaration: boolean;
  indent: boolean;
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

/** `original` passes the submission's original document on unchanged (docs/inbound.md); the mapping is not run. */
export type RenderFormat = 'json' | 'xml' | 'original';

/** Runs a mapping and writes its result in the target's format. The same input gives byte-identical output. */
export async function renderMessage(
  mapping: CompiledMapping,
  input: unknown,
  format: RenderFormat,
  xml: XmlOptions = { declaration: true, indent: false },
  original?: OriginalDocument,
): Promise<Pick<OutboundMessage, 'format' | 'body' | 'text' | 'contentType' | 'bytes'>> {
  if (format === 'original') {
    try {
      return renderOriginal(original);
    } catch (e) {
      if (e instanceof NoOriginalError) throw new MappingError(e.message, mapping.id);
      throw e;
    }
  }
  const body = await mapping.evaluate(input);
  if (body === undefined) throw new MappingError('the mapping produced no result', mapping.id);
  if (format === 'json') {
    return { format, body, text: JSON.stringify(body), contentType: 'application/json' };
  }
  return { format, body, text: writeXml(body, mapping.id, xml), contentType: 'application/xml; charset=utf-8' };
}

const XML_NAME = /^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?$/;

/**
 * Writes a mapping result as XML. Conventions (fast-xml-parser's): keys starting with `@_` are attributes,
 * `#text` is an element's text, arrays repeat an element; namespaces are attributes (`"@_xmlns:xd": "urn:…"`)
 * and prefixed names (`"xd:Akte"`).
 */
export function writeXml(body: unknown, mappingId: string, opts: XmlOptions): string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new MappingError('an XML mapping must produce an object with one root element', mappingId);
  }
  const roots = Object.keys(body).filter((k) => !k.startsWith('?'));
  if (roots.length !== 1) {
    throw new MappingError(`an XML mapping must produce exactly one root element, got ${roots.length}`, mappingId);
  }
  checkNames(body, mappingId, '');
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    textNodeName: '#text',
    format: opts.indent,
    suppressBooleanAttributes: false,
    suppressEmptyNode: true,
    processEntities: true,
  });
  const xml = builder.build(body) as string;
  return (opts.declaration ? '<?xml version="1.0" encoding="UTF-8"?>' + (opts.indent ? '\n' : '') : '') + xml;
}

function checkNames(node: unknown, mappingId: string, at: string): void {
  if (Array.isArray(node)) {
    for (const n of node) checkNames(n, mappingId, at);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === '#text') continue;
    const name = key.startsWith('@_') ? key.slice(2) : key;
    if (!XML_NAME.test(name)) {
      throw new MappingError(`"${name}" at ${at || '/'} is not a valid XML name`, mappingId);
    }
    if (!key.startsWith('@_')) checkNames(value, mappingId, `${at}/${key}`);
  }
}
