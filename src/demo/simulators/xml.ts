// What the XML-speaking simulators (dogtax-soap, waste-xml) share: turning libxml2's validation errors into
// "which element, which rule" for problem answers and SOAP faults, never the value (it is a citizen's data).
import type { Response } from 'express';
import { parseUntrustedXml, type UntrustedXmlShape } from '../../http/untrusted-xml.ts';
import type { XsdError } from '../../mapping/xsd/index.ts';
import { sendProblem } from './common.ts';

/** One refused element: a readable path such as `/SperrmuellAuftrag/gegenstaende/gegenstand[2]/menge` and the rule. */
export interface XmlFieldError {
  element: string;
  detail: string;
}

type OrderedNode = Record<string, unknown>;

// preserveOrder keeps siblings in document order, which libxml2's positional paths (`*[3]`) count in.
const ORDERED: UntrustedXmlShape = { preserveOrder: true, entities: 'keep' };

interface El {
  name: string;
  children: unknown[];
}

function elementsOf(nodes: unknown): El[] {
  if (!Array.isArray(nodes)) return [];
  const out: El[] = [];
  for (const n of nodes as OrderedNode[]) {
    const name = Object.keys(n).find((k) => k !== ':@' && !k.startsWith('#') && !k.startsWith('?'));
    if (name) out.push({ name, children: (n[name] as unknown[]) ?? [] });
  }
  return out;
}

const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);

/**
 * libxml2 names an element by a path like `/*\/*[6]/*[2]/kt:ort` (`*` for elements in a default namespace);
 * this turns it into local names, with a position only where a name repeats. Undefined when the path does
 * not lead anywhere in `xml` (then the caller falls back to the element's name).
 */
export function readablePath(xml: string, xpath: string | undefined): string | undefined {
  if (!xpath?.startsWith('/')) return undefined;
  let siblings: El[];
  try {
    siblings = elementsOf(parseUntrustedXml(xml, ORDERED));
  } catch {
    return undefined;
  }
  const out: string[] = [];
  for (const step of xpath.split('/').slice(1)) {
    const m = /^(\*|[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)(?:\[(\d+)\])?$/.exec(step);
    if (!m) return undefined;
    const [, name, index] = m as unknown as [string, string, string | undefined];
    const candidates = name === '*' ? siblings : siblings.filter((s) => s.name === name);
    const node = candidates[(index ? Number(index) : 1) - 1];
    if (!node) return undefined;
    const local = localName(node.name);
    const same = siblings.filter((s) => localName(s.name) === local);
    out.push(same.length > 1 ? `${local}[${same.indexOf(node) + 1}]` : local);
    siblings = elementsOf(node.children);
  }
  return '/' + out.join('/');
}

/**
 * Validation errors of `xml` as element + rule. libxml2's message starts with "Element 'x'(, attribute 'y')": the
 * path says which element, so that prefix goes and the attribute joins the path as `/@y`. `dropPrefix` removes
 * leading steps (the SOAP envelope's `/Envelope/Body`).
 */
export function xmlFieldErrors(xml: string, errors: readonly XsdError[], dropPrefix = ''): XmlFieldError[] {
  return errors.map((e) => {
    const m = /^Element '[^']*'(?:, attribute '([^']*)')?: ([\s\S]*)$/.exec(e.message);
    let element = readablePath(xml, e.path) ?? (e.element ? `…/${e.element}` : e.line ? `(line ${e.line})` : '/');
    if (dropPrefix && element.startsWith(dropPrefix + '/')) element = element.slice(dropPrefix.length);
    const detail = m ? m[2]! : e.message;
    // "The attribute 'x' is required but missing." / "… is not allowed." name the attribute only in the text.
    const attribute = m?.[1] ?? /^The attribute '([^']+)' is (?:required but missing|not allowed)/.exec(detail)?.[1];
    if (attribute) element += `/@${attribute}`;
    return { element, detail };
  });
}

/** 400 problem+json naming the first element in the title, as the JSON simulators name the first field. */
export function sendXmlValidationProblem(res: Response, errors: readonly XmlFieldError[], total = errors.length): void {
  const shown = errors.slice(0, 5).map((e) => `${e.element}: ${e.detail}`);
  if (total > shown.length) shown.push(`… and ${total - shown.length} more`);
  const first = errors[0];
  const more = total > 1 ? ` (+${total - 1} more)` : '';
  const title = first ? `Invalid element ${first.element}: ${first.detail}${more}` : 'The request body is invalid';
  sendProblem(res, 400, 'validation', title, shown.join('; '), { errors });
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
