import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { unifiedDiff } from './diff.ts';

export interface Comparison {
  equal: boolean;
  /** Unified-style diff lines (expected → actual); empty when equal. */
  diff: string[];
}

// --- JSON ----------------------------------------------------------------------------------------------

/** JSON with object keys sorted, so key order (which no back office may rely on) neither fails nor clutters a diff. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) ?? 'undefined';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Deep equality of two JSON values: object keys in any order, arrays in order. */
export function compareJson(expected: unknown, actual: unknown, labels?: { expected: string; actual: string }): Comparison {
  const e = canonicalJson(expected);
  const a = canonicalJson(actual);
  return { equal: e === a, diff: unifiedDiff(e, a, labels) };
}

// --- XML -----------------------------------------------------------------------------------------------

export class XmlCompareError extends Error {}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

interface Element {
  ns: string;
  local: string;
  attrs: { ns: string; local: string; value: string }[];
  children: (Element | string)[];
}

// Entities are decoded here in one pass (the parser's own decoding would turn "&amp;#228;" into "ä" in two).
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
});

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9A-Fa-f]+|#\d+|[A-Za-z]+);/g, (m, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    const e = ENTITIES[ref];
    if (e === undefined) throw new XmlCompareError(`unknown entity ${m}`);
    return e;
  });
}

type Scope = Record<string, string>;

function split(qname: string): [string | undefined, string] {
  const i = qname.indexOf(':');
  return i < 0 ? [undefined, qname] : [qname.slice(0, i), qname.slice(i + 1)];
}

/** One parsed node (preserveOrder form) into a namespace-resolved element, in the scope of its parent. */
function toElement(qname: string, node: Record<string, unknown>, parentScope: Scope): Element {
  const rawAttrs = (node[':@'] ?? {}) as Record<string, string>;
  const scope: Scope = { ...parentScope };
  for (const [name, value] of Object.entries(rawAttrs)) {
    if (name === 'xmlns') scope[''] = decode(value);
    else if (name.startsWith('xmlns:')) scope[name.slice(6)] = decode(value);
  }
  const [prefix, local] = split(qname);
  const ns = prefix === undefined ? (scope[''] ?? '') : prefix === 'xml' ? XML_NS : scope[prefix];
  if (ns === undefined) throw new XmlCompareError(`<${qname}>: the prefix "${prefix}" is not declared`);
  const attrs: Element['attrs'] = [];
  for (const [name, value] of Object.entries(rawAttrs)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    const [ap, al] = split(name);
    // Unprefixed attributes are in no namespace, whatever the default namespace is.
    const ans = ap === undefined ? '' : ap === 'xml' ? XML_NS : scope[ap];
    if (ans === undefined) throw new XmlCompareError(`<${qname} ${name}>: the prefix "${ap}" is not declared`);
    attrs.push({ ns: ans, local: al, value: decode(String(value)) });
  }
  attrs.sort((x, y) => (x.ns === y.ns ? cmp(x.local, y.local) : cmp(x.ns, y.ns)));

  const children: Element['children'] = [];
  let text = '';
  const flush = () => {
    // Whitespace around text is layout (indentation), not content.
    const t = text.trim();
    if (t) children.push(t);
    text = '';
  };
  for (const child of (node[qname] ?? []) as Record<string, unknown>[]) {
    if ('#text' in child) text += decode(String(child['#text']));
    else if ('#cdata' in child) text += ((child['#cdata'] as { '#text'?: unknown }[]) ?? []).map((c) => String(c['#text'] ?? '')).join('');
    else if ('#comment' in child) continue;
    else {
      const name = Object.keys(child).find((k) => k !== ':@');
      if (!name || name.startsWith('?')) continue;
      flush();
      children.push(toElement(name, child, scope));
    }
  }
  flush();
  return { ns, local, attrs, children };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parses an XML document into its namespace-resolved root element. */
export function parseXmlTree(text: string): Element {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlCompareError(`not well-formed XML (line ${valid.err.line}, column ${valid.err.col}): ${valid.err.msg}`);
  const doc = parser.parse(text) as Record<string, unknown>[];
  const roots = doc.filter((n) => !('#comment' in n) && !('#text' in n && String(n['#text']).trim() === '') && !Object.keys(n).some((k) => k.startsWith('?')));
  if (roots.length !== 1) throw new XmlCompareError(`expected one root element, found ${roots.length}`);
  const root = roots[0]!;
  const name = Object.keys(root).find((k) => k !== ':@');
  if (!name || name === '#text') throw new XmlCompareError('text outside the root element');
  return toElement(name, root, {});
}

const escText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;');
const escAttr = (s: string) => escText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;');

/**
 * One line per element or text. Prefixes are gone: an element names its namespace with `xmlns="…"` where
 * it differs from its parent's, a namespaced attribute is written `{uri}name`; attributes are sorted.
 * Two documents are equal for the golden tests exactly when these lines are.
 */
export function canonicalXmlLines(root: Element): string[] {
  const lines: string[] = [];
  const walk = (el: Element, parentNs: string, depth: number) => {
    const pad = '  '.repeat(depth);
    const nsDecl = el.ns !== parentNs ? ` xmlns="${escAttr(el.ns)}"` : '';
    const attrs = el.attrs.map((a) => ` ${a.ns ? `{${a.ns}}` : ''}${a.local}="${escAttr(a.value)}"`).join('');
    const open = `<${el.local}${nsDecl}${attrs}`;
    if (el.children.length === 0) lines.push(`${pad}${open}/>`);
    else if (el.children.length === 1 && typeof el.children[0] === 'string') lines.push(`${pad}${open}>${escText(el.children[0])}</${el.local}>`);
    else {
      lines.push(`${pad}${open}>`);
      for (const c of el.children) {
        if (typeof c === 'string') lines.push(`${pad}  ${escText(c)}`);
        else walk(c, el.ns, depth + 1);
      }
      lines.push(`${pad}</${el.local}>`);
    }
  };
  walk(root, '', 0);
  return lines;
}

export function canonicalXml(text: string): string {
  return canonicalXmlLines(parseXmlTree(text)).join('\n');
}

/**
 * Namespace-aware, whitespace-insensitive XML equality: namespace URI and local name count, prefixes do
 * not; attribute order and indentation do not; comments, processing instructions and the declaration do not.
 */
export function compareXml(expected: string, actual: string, labels?: { expected: string; actual: string }): Comparison {
  let e: string;
  try {
    e = canonicalXml(expected);
  } catch (err) {
    throw new XmlCompareError(`the expected XML: ${(err as Error).message}`);
  }
  let a: string;
  try {
    a = canonicalXml(actual);
  } catch (err) {
    throw new XmlCompareError(`the mapped XML: ${(err as Error).message}`);
  }
  return { equal: e === a, diff: unifiedDiff(e, a, labels) };
}
