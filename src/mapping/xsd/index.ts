import fs from 'node:fs';
import path from 'node:path';
import { ParseOption, XmlDocument, XmlError, XmlParseError, XmlValidateError, XsdValidator } from 'libxml2-wasm';
import { whileCompiling, type LoadLog } from './local-files.ts';
import { flatten, parseErrors, validityErrors, type RawDetail, type XsdError } from './messages.ts';

export type { XsdError } from './messages.ts';

/**
 * XSD validation with libxml2 compiled to WebAssembly, in-process: a schema set is compiled once (following
 * xs:include and xs:import from local files only) and then validates documents synchronously, thousands per
 * second, without a worker or a child process per call.
 */

export type XsdResult =
  | { ok: true }
  | {
      ok: false;
      /** At most `MAX_ERRORS`, in document order, each naming the element and the rule (never the value). */
      errors: XsdError[];
      /** How many errors libxml2 reported in all; more than `errors.length` when some were left off. */
      total: number;
    };

export interface CompiledSchema {
  /** The entry XSD: absolute, symbolic links resolved. */
  readonly path: string;
  /** Every file of the set, the entry first. */
  readonly files: readonly string[];
  /** Parses and validates one document. Never throws for a bad document: that is `{ ok: false }`. */
  validate(xml: string | Uint8Array): XsdResult;
  /** Releases this handle. The compiled set's wasm memory is freed when its last handle is released. */
  dispose(): void;
}

/** The schema set cannot be used: a file is missing or not local, or the XSD itself is invalid. */
export class SchemaLoadError extends Error {
  override name = 'SchemaLoadError';
}

export const MAX_ERRORS = 10;

/**
 * Documents are untrusted: no network, no external DTD or entity, no entity substitution (XML_PARSE_NOENT is
 * deliberately absent), and a DOCTYPE is refused after parsing. BIG_LINES keeps line numbers right past 65535.
 */
const DOCUMENT_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_BIG_LINES;
/** Schema files are configuration, trusted, but still never fetched from the network. */
const SCHEMA_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_BIG_LINES;

interface Entry {
  key: string;
  files: string[];
  stamp: string;
  schemaDoc: XmlDocument;
  validator: XsdValidator;
  refs: number;
}

const cache = new Map<string, Entry>();

/**
 * The compiled schema set whose entry is `entryXsdPath` (relative paths resolve against the working directory).
 * Compiled on first use and cached by absolute path; a later call shares the compiled set, and recompiles only
 * when one of its files changed on disk. Throws `SchemaLoadError` when the set cannot be compiled.
 */
export function loadSchema(entryXsdPath: string): CompiledSchema {
  let key: string;
  try {
    key = fs.realpathSync(path.resolve(entryXsdPath));
  } catch {
    throw new SchemaLoadError(`schema ${entryXsdPath} not found`);
  }
  let entry = cache.get(key);
  if (entry && stampOf(entry.files) !== entry.stamp) {
    // Changed on disk: compile anew. Handles on the old set keep it until they are released.
    cache.delete(key);
    entry = undefined;
  }
  if (!entry) {
    entry = compile(key);
    cache.set(key, entry);
  }
  entry.refs++;
  return new Handle(entry);
}

/** How many compiled schema sets are cached (each is in use by at least one handle): for tests and diagnostics. */
export function cachedSchemaCount(): number {
  return cache.size;
}

function stampOf(files: string[]): string {
  return files
    .map((f) => {
      try {
        const s = fs.statSync(f);
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

function compile(key: string): Entry {
  const log: LoadLog = { served: [], refused: [] };
  const dir = path.dirname(key);
  const shown = (f: string) => (f.startsWith(dir + path.sep) ? path.relative(dir, f) : f);
  let schemaDoc: XmlDocument;
  try {
    schemaDoc = XmlDocument.fromBuffer(fs.readFileSync(key), { url: key, option: SCHEMA_OPTIONS });
  } catch (err) {
    throw new SchemaLoadError(`schema ${key} is not well-formed XML: ${detailText(err, shown)}`);
  }
  let validator: XsdValidator;
  try {
    validator = whileCompiling(log, () => XsdValidator.fromDoc(schemaDoc));
  } catch (err) {
    schemaDoc.dispose();
    const refused = log.refused.length ? `; could not load ${describeRefused(log.refused)}` : '';
    throw new SchemaLoadError(`schema ${key} does not compile: ${detailText(err, shown)}${refused}`);
  }
  if (log.refused.length) {
    // libxml2 only warns when an xs:import cannot be loaded and compiles without it. A set with a hole in it
    // would accept anything in that namespace's wildcards, or reject valid documents later: refuse it now.
    validator.dispose();
    schemaDoc.dispose();
    throw new SchemaLoadError(`schema ${key} imports what cannot be loaded: ${describeRefused(log.refused)}`);
  }
  const files = [key, ...new Set(log.served.filter((f) => f !== key))];
  return { key, files, stamp: stampOf(files), schemaDoc, validator, refs: 0 };
}

function describeRefused(locations: string[]): string {
  return [...new Set(locations)]
    .slice(0, 5)
    .map((l) =>
      /^[a-z][a-z0-9+.-]*:\/\//i.test(l) && !l.startsWith('file:')
        ? `${l} (not a local file: schemas are never fetched from the network)`
        : `${l} (no such file)`,
    )
    .join(', ');
}

function detailText(err: unknown, shown: (f: string) => string): string {
  const details = (err as { details?: RawDetail[] }).details;
  if (!Array.isArray(details) || details.length === 0) return flatten(err instanceof Error ? err.message : String(err));
  return details
    .filter((d) => (d.level ?? 2) >= 2)
    .slice(0, 5)
    .map((d) => flatten(`${d.file ? shown(d.file) + ':' : ''}${d.line ?? '?'}: ${d.message}`, 300))
    .join('; ');
}

function release(entry: Entry): void {
  entry.refs--;
  if (entry.refs > 0) return;
  if (cache.get(entry.key) === entry) cache.delete(entry.key);
  // The validator points into the schema document's dictionary: free it first.
  entry.validator.dispose();
  entry.schemaDoc.dispose();
}

class Handle implements CompiledSchema {
  readonly path: string;
  readonly files: readonly string[];
  #entry: Entry | null;

  constructor(entry: Entry) {
    this.#entry = entry;
    this.path = entry.key;
    this.files = Object.freeze([...entry.files]);
  }

  validate(xml: string | Uint8Array): XsdResult {
    const entry = this.#entry;
    if (!entry) throw new Error(`schema ${this.path} was disposed`);
    let doc: XmlDocument;
    try {
      doc =
        typeof xml === 'string'
          ? // A JS string is Unicode whatever its XML declaration says: parse its UTF-8 bytes as UTF-8.
            XmlDocument.fromString(xml, { option: DOCUMENT_OPTIONS, encoding: 'utf-8' })
          : XmlDocument.fromBuffer(xml, { option: DOCUMENT_OPTIONS });
    } catch (err) {
      if (err instanceof XmlParseError) {
        const errors = parseErrors(err.details, MAX_ERRORS);
        return { ok: false, errors, total: errors.length };
      }
      throw err;
    }
    try {
      const dtd = doc.dtd;
      if (dtd) {
        dtd.dispose(); // a no-op for a DTD the document owns; releases the wrapper
        return {
          ok: false,
          errors: [{ line: doctypeLine(xml), message: 'DOCTYPE declarations are not allowed: no DTD, no entity declarations' }],
          total: 1,
        };
      }
      entry.validator.validate(doc);
      return { ok: true };
    } catch (err) {
      if (err instanceof XmlValidateError) {
        const errors = validityErrors(err.details, MAX_ERRORS);
        const total = err.details.filter((d) => d.level >= 2).length;
        return { ok: false, errors, total: Math.max(total, errors.length) };
      }
      // libxml2 answers -1 ("internal error") for documents it cannot validate at all; the document is at fault.
      if (!(err instanceof XmlError)) throw err;
      return { ok: false, errors: [{ line: 0, message: 'the validator could not process the document' }], total: 1 };
    } finally {
      doc.dispose();
    }
  }

  dispose(): void {
    const entry = this.#entry;
    if (!entry) return;
    this.#entry = null;
    release(entry);
  }
}

function doctypeLine(xml: string | Uint8Array): number {
  const text = typeof xml === 'string' ? xml : Buffer.from(xml.buffer, xml.byteOffset, xml.byteLength).toString('latin1');
  const at = text.search(/<!DOCTYPE/i);
  if (at < 0) return 1;
  let line = 1;
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
