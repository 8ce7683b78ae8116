// The JSON shape of an XML document that inbound mappings read (docs/inbound.md, "The JSON shape of XML").
// Names are resolved to namespace URI + local name and written with the channel's own prefixes, so the same
// document gives the same JSON whatever prefixes the sender chose. The document is untrusted: no DOCTYPE, no
// entity but XML's five, bounded depth.

import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** The XML namespace is bound to `xml` in every document (Namespaces in XML 1.0, section 3). */
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

export interface XmlShapeOptions {
  /**
   * Prefix → namespace URI, the names the JSON uses (not the document's prefixes). `''` maps a namespace to bare
   * local names. A namespace not listed is written `{uri}local`; `xml` and `xsi` have their usual prefixes.
   */
  namespaces?: Readonly<Record<string, string>>;
  /**
   * Element paths that are always arrays, even when the document has one of them (or none: then the key is
   * absent). A path is the JSON keys from the root, joined by `/`: `gew:anzeige/gew:betrieb/gew:taetigkeit`.
   * A path starting with `//` matches wherever it ends a path (`//gew:feld`), for recursive structures.
   */
  arrays?: readonly string[];
  /** Elements nested deeper than this are refused. */
  maxDepth?: number;
}

/** The document cannot be read: not well-formed, hostile, or using an undeclared prefix. */
export class XmlShapeError extends Error {
  override name = 'XmlShapeError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

export interface XmlName {
  /** '' for no namespace. */
  namespace: string;
  local: string;
}

export interface ShapedXml {
  /** The root element's resolved name. */
  root: XmlName;
  /** `{ [root key]: root value }`, the document in the JSON shape. */
  value: Record<string, unknown>;
  /**
   * An element named by libxml2's node path (`/*[1]/*[2]/xgewerbe:plz`, what XSD errors carry) → its path in
   * the JSON keys, prefix-independent: `/gew:anzeige/gew:taetigkeit[2]/gew:beginn` (`[n]`, from 1, only where
   * siblings share the key). Undefined when the path names no element of this document.
   */
  pathOf(nodePath: string): string | undefined;
}

export const DEFAULT_MAX_DEPTH = 64;

const parser = new XMLParser({
  // Document order and every text node, so repetition and text are decided here, not by the parser.
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: false,
  // Values stay the text they are: "01234" stays "01234", "true" stays "true".
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // No DOCTYPE gets this far (refused below), so only the five predefined entities and character references
  // remain; htmlEntities decodes the character references (&#228; &#xE4;) after the named ones, so &amp;#228;
  // stays the text "&#228;". Named HTML entities are refused before parsing.
  processEntities: { enabled: true, maxEntityCount: 0, maxEntitySize: 0, maxTotalExpansions: 1_000_000, maxExpandedLength: 100_000_000 },
  htmlEntities: true,
});

/** What the parser gives for one node in `preserveOrder` mode. */
type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

/**
 * Checks the text the parser would be too lenient about: DOCTYPE and entity declarations, named entities other
 * than XML's five, character references to characters XML does not allow.
 */
function refuseHostile(text: string): void {
  const doctype = /<!DOCTYPE|<!ENTITY/i.exec(text);
  if (doctype) throw new XmlShapeError('DOCTYPE and entity declarations are not allowed', lineAt(text, doctype.index));
  const outsideCdata = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, (m) => m.replace(/[^\n]/g, ' '));
  const unknown = /&(?!(?:lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9A-Fa-f]{1,6});)[^;\s<]{0,32};?/.exec(outsideCdata);
  if (unknown) {
    throw new XmlShapeError(
      `undefined entity ${unknown[0].slice(0, 34)}; only &lt; &gt; &amp; &quot; &apos; and character references are allowed`,
      lineAt(text, unknown.index),
    );
  }
  for (const m of outsideCdata.matchAll(/&#(x[0-9A-Fa-f]{1,6}|\d{1,7});/g)) {
    const ref = m[1]!;
    const cp = ref[0] === 'x' ? parseInt(ref.slice(1), 16) : parseInt(ref, 10);
    const allowed =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff);
    if (!allowed) throw new XmlShapeError(`character reference ${m[0]} is not a character XML allows`, lineAt(text, m.index));
  }
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Parses an XML document (already decoded to a string, see decode.ts) into the JSON shape. */
export function shapeXml(text: string, opts: XmlShapeOptions = {}): ShapedXml {
  refuseHostile(text);
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    throw new XmlShapeError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`, valid.err.line);
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(text) as OrderedNode[];
  } catch (e) {
    // The parser refuses some names itself (__proto__, constructor as a tag): the document's fault, so a refusal.
    throw new XmlShapeError(
      `the document cannot be read: ${String((e as Error).message)
        .replace(/^\[SECURITY\]\s*/, '')
        .slice(0, 200)}`,
    );
  }
  const elements = nodes.filter((n) => elementName(n) !== undefined);
  if (elements.length !== 1) throw new XmlShapeError(`a document has exactly one root element, this one has ${elements.length}`);
  const names = new NameWriter(opts.namespaces ?? {});
  const listed = opts.arrays ?? [];
  const arrays = new Set(listed.filter((p) => !p.startsWith('//')).map(normalizePath));
  const suffixes = listed.filter((p) => p.startsWith('//')).map((p) => '/' + normalizePath(p));
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;

  const rootNode = elements[0]!;
  const scope = declare(new Map([['xml', XML_NS]]), rootNode[':@']);
  const root = resolve(elementName(rootNode)!, scope, true);
  const rootKey = names.key(root);
  const value = shapeElement(rootNode, scope, rootKey, 1, { names, arrays, suffixes, maxDepth });
  return { root, value: Object.fromEntries([[rootKey, value]]), pathOf: (nodePath) => locate(nodePath, rootNode, scope, names) };
}

function isListed(path: string, w: Walk): boolean {
  return w.arrays.has(path) || w.suffixes.some((s) => path.endsWith(s));
}

/**
 * Follows libxml2's node path (xmlGetNodePath): `name[k]` is the k-th sibling with that qualified name, `*[k]`
 * (an element in a default namespace) the k-th element child; a step without `[k]` is the only one.
 */
function locate(nodePath: string, rootNode: OrderedNode, rootScope: ReadonlyMap<string, string>, names: NameWriter): string | undefined {
  const steps = nodePath.split('/').slice(1);
  if (steps.length === 0 || steps.some((s) => !/^(\*|[^[\]/]+)(\[\d+\])?$/.test(s))) return undefined;
  const [first, ...rest] = steps.map((s) => {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(s)!;
    return { name: m[1]!, index: m[2] ? Number(m[2]) : 1 };
  });
  const rootTag = elementName(rootNode)!;
  if (first!.index !== 1 || (first!.name !== '*' && first!.name !== rootTag)) return undefined;
  let node = rootNode;
  let scope = rootScope;
  let out = '/' + names.key(resolve(rootTag, scope, true));
  for (const step of rest) {
    const children = ((node[elementName(node)!] as OrderedNode[] | undefined) ?? []).filter((c) => elementName(c) !== undefined);
    const matching = step.name === '*' ? children : children.filter((c) => elementName(c) === step.name);
    const next = matching[step.index - 1];
    if (!next) return undefined;
    const nextScope = declare(scope, next[':@']);
    const key = names.key(resolve(elementName(next)!, nextScope, true));
    // The position among the siblings that share the key, as the JSON array holds them.
    const sameKey = children.filter((c) => names.key(resolve(elementName(c)!, declare(scope, c[':@']), true)) === key);
    out += `/${key}` + (sameKey.length > 1 ? `[${sameKey.indexOf(next) + 1}]` : '');
    node = next;
    scope = nextScope;
  }
  return out;
}

/** `/a/b/` and `a/b` are the same path. */
function normalizePath(p: string): string {
  return p.replace(/^\/+|\/+$/g, '');
}

interface Walk {
  names: NameWriter;
  arrays: ReadonlySet<string>;
  /** `//a/b` entries as `/a/b`: a path ending so is an array. */
  suffixes: readonly string[];
  maxDepth: number;
}

function elementName(node: OrderedNode): string | undefined {
  for (const k of Object.keys(node)) if (k !== ':@' && k !== '#text' && !k.startsWith('?') && !k.startsWith('!')) return k;
  return undefined;
}

/** The namespace scope of an element: its parent's, plus its own xmlns declarations. */
function declare(parent: ReadonlyMap<string, string>, attrs: Record<string, string> | undefined): ReadonlyMap<string, string> {
  // Most elements declare nothing: they share their parent's scope.
  if (!attrs || !Object.keys(attrs).some((a) => a === 'xmlns' || a.startsWith('xmlns:'))) return parent;
  const scope = new Map(parent);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'xmlns') scope.set('', value);
    else if (name.startsWith('xmlns:')) {
      const prefix = name.slice(6);
      if (prefix === 'xml' || prefix === 'xmlns') {
        if (prefix === 'xml' && value === XML_NS) continue;
        throw new XmlShapeError(`the prefix ${prefix} cannot be declared`);
      }
      if (value === XML_NS || value === XMLNS_NS) throw new XmlShapeError(`the prefix ${prefix} cannot be bound to ${value}`);
      // Namespaces in XML 1.0 does not allow undeclaring a prefix (xmlns:p="").
      if (value === '') throw new XmlShapeError(`the prefix ${prefix} is declared with an empty namespace`);
      scope.set(prefix, value);
    }
  }
  return scope;
}

/** A qualified name in the document → namespace URI + local name. Unprefixed attributes have no namespace. */
function resolve(qname: string, scope: ReadonlyMap<string, string>, isElement: boolean): XmlName {
  const colon = qname.indexOf(':');
  if (colon < 0) return { namespace: isElement ? (scope.get('') ?? '') : '', local: qname };
  const prefix = qname.slice(0, colon);
  const local = qname.slice(colon + 1);
  const namespace = scope.get(prefix);
  if (namespace === undefined) throw new XmlShapeError(`the prefix ${prefix} of <${qname}> is not declared`);
  if (local === '' || local.includes(':')) throw new XmlShapeError(`${qname} is not a valid qualified name`);
  return { namespace, local };
}

/** How shapeXml keys an element with these prefixes: for paths computed elsewhere (from an XSD). */
export function elementKey(namespaces: Readonly<Record<string, string>>): (name: XmlName) => string {
  const writer = new NameWriter(namespaces);
  return (name) => writer.key(name);
}

/** Writes resolved names with the configured prefixes: `p:local`, `local` (prefix ''), else `{uri}local`. */
class NameWriter {
  readonly #prefixOf = new Map<string, string>();
  /** Whether some namespace has the prefix '': then elements in no namespace are `{}local`. */
  readonly #bareTaken: boolean;

  constructor(namespaces: Readonly<Record<string, string>>) {
    for (const [prefix, uri] of Object.entries(namespaces)) {
      if (this.#prefixOf.has(uri)) throw new XmlShapeError(`namespace ${uri} has two prefixes`);
      this.#prefixOf.set(uri, prefix);
    }
    // The two namespaces every XML document may use get their usual prefixes unless the channel names them.
    const taken = new Set(this.#prefixOf.values());
    if (!this.#prefixOf.has(XML_NS) && !taken.has('xml')) this.#prefixOf.set(XML_NS, 'xml');
    if (!this.#prefixOf.has(XSI_NS) && !taken.has('xsi')) this.#prefixOf.set(XSI_NS, 'xsi');
    this.#bareTaken = taken.has('');
  }

  key({ namespace, local }: XmlName): string {
    const prefix = this.#prefixOf.get(namespace);
    if (prefix !== undefined) return prefix === '' ? local : `${prefix}:${local}`;
    if (namespace === '') return this.#bareTaken ? `{}${local}` : local;
    return `{${namespace}}${local}`;
  }

  /** Attributes without a prefix have no namespace and are always `@local`. */
  attributeKey(name: XmlName): string {
    return '@' + (name.namespace === '' ? name.local : this.key(name));
  }
}

function shapeElement(node: OrderedNode, scope: ReadonlyMap<string, string>, path: string, depth: number, w: Walk): unknown {
  if (depth > w.maxDepth) throw new XmlShapeError(`elements nest deeper than ${w.maxDepth} levels`);
  const tag = elementName(node)!;
  const children = (node[tag] as OrderedNode[] | undefined) ?? [];
  // Built as entries and turned into an object with fromEntries: an element named __proto__ stays a key.
  const attributes: [string, string][] = [];
  for (const [name, value] of Object.entries(node[':@'] ?? {})) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    const key = w.names.attributeKey(resolve(name, scope, false));
    if (attributes.some(([k]) => k === key)) throw new XmlShapeError(`<${tag}> has the attribute ${key.slice(1)} twice`);
    attributes.push([key, value]);
  }
  const fields = new Map<string, unknown[]>();
  const texts: string[] = [];
  for (const child of children) {
    if ('#text' in child) {
      texts.push(String(child['#text']));
      continue;
    }
    const childTag = elementName(child);
    if (childTag === undefined) continue; // comments and processing instructions carry no data
    const childScope = declare(scope, child[':@']);
    const key = w.names.key(resolve(childTag, childScope, true));
    const childPath = `${path}/${key}`;
    const value = shapeElement(child, childScope, childPath, depth + 1, w);
    const list = fields.get(key);
    if (list) list.push(value);
    else fields.set(key, [value]);
  }
  const text = texts.join('');
  if (attributes.length === 0 && fields.size === 0) return text;
  const entries: [string, unknown][] = [...attributes];
  for (const [key, values] of fields) {
    entries.push([key, values.length > 1 || isListed(`${path}/${key}`, w) ? values : values[0]]);
  }
  if (text.trim() !== '') entries.push(['#text', fields.size === 0 ? text : texts.filter((t) => t.trim() !== '').join('')]);
  return Object.fromEntries(entries);
}
