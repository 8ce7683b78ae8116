import { parseUntrustedXml, UntrustedXmlError, type UntrustedXmlShape } from '../http/untrusted-xml.ts';
import { readJsonNumber } from '../http/strict-json.ts';

/**
 * The XML form of a submission: `<submission xmlns="urn:amtsbote:submission:1">` with the envelope's fields as
 * child elements. Leaves are text; `type="number"` or `type="boolean"` on a leaf gives that type; an element whose
 * children are all `<item>` is a list (one item or many). Attachments are `<attachments><item>…</item></attachments>`.
 */
export const SUBMISSION_NS = 'urn:amtsbote:submission:1';

export class XmlInputError extends Error {}

const MAX_DEPTH = 32;

const SHAPE: UntrustedXmlShape = {
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  isArray: () => false,
  // &nbsp; and friends are not XML: refused, not passed on as text.
  onlyPredefinedEntities: true,
  validate: true,
  // A body may be 25 MB, much of it escaped text.
  maxEntityExpansions: 1_000_000,
  maxExpandedLength: 100_000_000,
  // convert() holds the envelope to MAX_DEPTH; the parser stops what is far deeper before building it.
  maxDepth: 2 * MAX_DEPTH,
};

export function parseSubmissionXml(text: string): unknown {
  let doc: Record<string, unknown>;
  try {
    doc = parseUntrustedXml(text, SHAPE) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof UntrustedXmlError)) throw e;
    throw new XmlInputError(inputMessage(e));
  }
  const rootName = Object.keys(doc).find((k) => !k.startsWith('?'));
  if (rootName !== 'submission') throw new XmlInputError('the root element must be <submission>');
  // The parser drops namespace declarations with the prefixes, so read the root's own from its start tag.
  const ns = rootNamespace(text);
  if (ns !== undefined && ns !== SUBMISSION_NS) throw new XmlInputError(`unknown namespace ${ns}; expected ${SUBMISSION_NS}`);
  const root = doc[rootName];
  if (!root || typeof root !== 'object') return {};
  return convert(root, 0);
}

/** The namespace of the root element (default or prefixed), from its start tag; undefined when none is declared. */
function rootNamespace(text: string): string | undefined {
  const tag = /<(?:([A-Za-z_][\w.-]*):)?submission\b([^>]*)>/.exec(text);
  if (!tag) return undefined;
  const attr = tag[1] ? `xmlns:${tag[1]}` : 'xmlns';
  const m = new RegExp(`\\s${attr.replace(/\./g, '\\.')}\\s*=\\s*(["'])(.*?)\\1`).exec(tag[2] ?? '');
  return m?.[2];
}

/** The problem's detail, in the words of the portal API. */
function inputMessage(e: UntrustedXmlError): string {
  switch (e.fault) {
    case 'doctype':
      return 'DOCTYPE and entity declarations are not allowed';
    case 'malformed':
      return e.at ? `the body is not well-formed XML (line ${e.at.line}, column ${e.at.column})` : 'the body is not well-formed XML';
    case 'too-deep':
    case 'forbidden-character':
    case 'forbidden-name':
      return e.message;
    case 'too-many-entities':
      return 'the body expands more entities than allowed';
    case 'undefined-entity':
      return e.message;
  }
}

function convert(node: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new XmlInputError(`elements nest deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(node)) throw new XmlInputError('an element is repeated; wrap repeated elements in a list of <item>');
  if (node === null || typeof node !== 'object') return typeof node === 'string' ? decodeCharRefs(node) : (node ?? '');
  const obj = node as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => !k.startsWith('@'));
  const type = obj['@type'];
  if (keys.length === 1 && keys[0] === 'item') {
    const items = obj.item;
    return (Array.isArray(items) ? items : [items]).map((i) => convert(i, depth + 1));
  }
  if (keys.length === 1 && keys[0] === '#text') return typed(decodeCharRefs(String(obj['#text'])), type);
  if (keys.length === 0) return typed('', type);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (k === '#text') continue;
    const v = obj[k];
    if (Array.isArray(v)) {
      if (k === 'item') throw new XmlInputError('<item> elements mixed with other elements');
      throw new XmlInputError(`<${k}> is repeated; wrap repeated elements in a list of <item>`);
    }
    out[k] = convert(v, depth + 1);
  }
  return out;
}

/** `&#228;` and `&#xE4;` → "ä" (the parser decodes only the named entities). */
function decodeCharRefs(text: string): string {
  if (!text.includes('&#')) return text;
  return text.replace(/&#(x[0-9A-Fa-f]{1,6}|\d{1,7});/g, (m, ref: string) => {
    const cp = ref[0] === 'x' ? parseInt(ref.slice(1), 16) : parseInt(ref, 10);
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new XmlInputError(`invalid character reference ${m}`);
    return String.fromCodePoint(cp);
  });
}

function typed(text: string, type: unknown): unknown {
  if (type === undefined || type === 'string') return text;
  if (type === 'number') {
    // JSON's number grammar, not JavaScript's Number(): "0x10", " 1" and "1e999" are not numbers here.
    const n = readJsonNumber(text);
    // The value is form data: the message says what is wrong, not what was sent.
    if (!n.ok) throw new XmlInputError('an element marked type="number" does not hold a number as JSON writes one');
    return n.value;
  }
  if (type === 'boolean') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw new XmlInputError('an element marked type="boolean" holds neither true nor false');
  }
  throw new XmlInputError(`unknown type="${String(type)}"; use number or boolean`);
}
