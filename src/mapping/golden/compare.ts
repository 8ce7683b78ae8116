import { parseUntrustedXml, UntrustedXmlError, type UntrustedXmlShape } from '../../http/untrusted-xml.ts';
import { shortenBase64 } from './base64.ts';
import { unifiedDiff } from './diff.ts';

export interface Comparison {
  equal: boolean;
  /** Unified-style diff lines (expected → actual); empty when equal. */
  diff: string[];
}

/**
 * `exact`: the whole message. `subset`: only what the expected message names (docs/mapping-tests.md): JSON
 * keys absent from the expected object, and XML attributes and elements absent from the expected element,
 * are not compared.
 */
export type CompareMode = 'exact' | 'subset';

type Labels = { expected: string; actual: string };

/** Equality on the full texts; the diff on texts whose long base64 values are shortened, so it stays readable. */
function comparison(expected: string, actual: string, labels?: Labels): Comparison {
  if (expected === actual) return { equal: true, diff: [] };
  const diff = unifiedDiff(shortenBase64(expected), shortenBase64(actual), labels);
  // Two values equal in head, length and digest prefix are all but impossible; should it happen, show them whole.
  return { equal: false, diff: diff.length ? diff : unifiedDiff(expected, actual, labels) };
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

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The actual value cut to the expected value's keys, at every depth: objects keep only the keys the expected
 * object has; arrays keep their length (element i is cut to expected element i). What is missing stays missing,
 * so the diff shows it.
 */
export function projectJson(actual: unknown, expected: unknown): unknown {
  if (isObject(actual) && isObject(expected)) {
    return Object.fromEntries(Object.keys(expected).flatMap((k) => (k in actual ? [[k, projectJson(actual[k], expected[k])]] : [])));
  }
  if (Array.isArray(actual) && Array.isArray(expected))
    return actual.map((a, i) => (i < expected.length ? projectJson(a, expected[i]) : a));
  return actual;
}

/** Deep equality of two JSON values: object keys in any order, arrays in order; `subset` compares only the expected keys. */
export function compareJson(expected: unknown, actual: unknown, labels?: Labels, mode: CompareMode = 'exact'): Comparison {
  return comparison(canonicalJson(expected), canonicalJson(mode === 'subset' ? projectJson(actual, expected) : actual), labels);
}

// --- XML -----------------------------------------------------------------------------------------------

export class XmlCompareError extends Error {}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export interface Element {
  ns: string;
  local: string;
  attrs: { ns: string; local: string; value: string }[];
  children: (Element | string)[];
}

// Entities are decoded here in one pass (the parser's own decoding would turn "&amp;#228;" into "ä" in two).
const TREE: UntrustedXmlShape = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  entities: 'keep',
  commentPropName: '#comment',
  cdataPropName: '#cdata',
  validate: true,
};

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
  let doc: Record<string, unknown>[];
  try {
    doc = parseUntrustedXml(text, TREE) as Record<string, unknown>[];
  } catch (e) {
    if (!(e instanceof UntrustedXmlError)) throw e;
    // The mapping's author reads this: the validator's rule helps, and the text is theirs.
    throw new XmlCompareError(e.at ? `${e.message}: ${e.at.rule}` : e.message);
  }
  const roots = doc.filter(
    (n) => !('#comment' in n) && !('#text' in n && String(n['#text']).trim() === '') && !Object.keys(n).some((k) => k.startsWith('?')),
  );
  if (roots.length !== 1) throw new XmlCompareError(`expected one root element, found ${roots.length}`);
  const root = roots[0]!;
  const name = Object.keys(root).find((k) => k !== ':@');
  if (!name || name === '#text') throw new XmlCompareError('text outside the root element');
  return toElement(name, root, {});
}

const escText = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;');
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
    else if (el.children.length === 1 && typeof el.children[0] === 'string')
      lines.push(`${pad}${open}>${escText(el.children[0])}</${el.local}>`);
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

const sameName = (a: { ns: string; local: string }, b: { ns: string; local: string }) => a.ns === b.ns && a.local === b.local;

/**
 * The actual element cut to the expected one: only the attributes the expected element has; no children when
 * the expected element is empty (`<x/>` only says that x is there); else, for each expected child in order,
 * the next actual child of the same name (or the next text), cut in turn. Actual children that no expected
 * child names are left out, so order still counts among the ones compared.
 */
export function projectXml(actual: Element, expected: Element): Element {
  if (!sameName(actual, expected)) return actual;
  const attrs = actual.attrs.filter((a) => expected.attrs.some((e) => sameName(a, e)));
  if (expected.children.length === 0) return { ...actual, attrs, children: [] };
  const children: Element['children'] = [];
  let cursor = 0;
  for (const want of expected.children) {
    const at = actual.children.findIndex(
      (c, i) => i >= cursor && (typeof want === 'string' ? typeof c === 'string' : typeof c !== 'string' && sameName(c, want)),
    );
    if (at < 0) continue;
    const got = actual.children[at]!;
    children.push(typeof got === 'string' || typeof want === 'string' ? got : projectXml(got, want));
    cursor = at + 1;
  }
  return { ...actual, attrs, children };
}

/**
 * The subset of `actual` that `expected` names, as an XML document (for `--update` of a `compare: subset`
 * case): the canonical lines, with namespaced attributes given generated prefixes so the text parses again.
 */
export function subsetXmlText(expected: string, actual: string): string {
  const tree = projectXml(parseXmlTree(actual), parseXmlTree(expected));
  const prefixes = new Map<string, string>();
  const rename = (el: Element): Element => ({
    ...el,
    attrs: el.attrs.map((a) => {
      if (!a.ns) return a;
      if (!prefixes.has(a.ns)) prefixes.set(a.ns, a.ns === XML_NS ? 'xml' : `a${prefixes.size + 1}`);
      return { ns: '', local: `${prefixes.get(a.ns)}:${a.local}`, value: a.value };
    }),
    children: el.children.map((c) => (typeof c === 'string' ? c : rename(c))),
  });
  const lines = canonicalXmlLines(rename(tree));
  const decls = [...prefixes]
    .filter(([ns]) => ns !== XML_NS)
    .map(([ns, p]) => ` xmlns:${p}="${escAttr(ns)}"`)
    .join('');
  // The root's start tag is the first line: `<name` then its own attributes.
  lines[0] = lines[0]!.replace(/^<([^\s/>]+)/, `<$1${decls}`);
  return lines.join('\n') + '\n';
}

/**
 * Namespace-aware, whitespace-insensitive XML equality: namespace URI and local name count, prefixes do
 * not; attribute order and indentation do not; comments, processing instructions and the declaration do not.
 */
export function compareXml(expected: string, actual: string, labels?: Labels, mode: CompareMode = 'exact'): Comparison {
  let e: Element;
  try {
    e = parseXmlTree(expected);
  } catch (err) {
    throw new XmlCompareError(`the expected XML: ${(err as Error).message}`);
  }
  let a: Element;
  try {
    a = parseXmlTree(actual);
  } catch (err) {
    throw new XmlCompareError(`the mapped XML: ${(err as Error).message}`);
  }
  return comparison(canonicalXmlLines(e).join('\n'), canonicalXmlLines(mode === 'subset' ? projectXml(a, e) : a).join('\n'), labels);
}
