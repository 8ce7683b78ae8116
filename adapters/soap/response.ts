// The content of the operation's response element in a SOAP answer, for the acceptance rule. Parsed with the
// sdk's answer parser (attributes as @name, values as text), so a rule reads SOAP, XML and JSON answers alike.
import { parseAnswerXml } from '../../src/sdk/index.ts';

export type ResponseContent = { found: true; value: unknown } | { found: false; why: string };

/**
 * The content of `<element>` directly under soap:Body (local names, prefixes ignored), or why there is none.
 * Without `element` (rpc style) the first element that is not a fault stands for it.
 */
export function responseContent(envelope: string, element: string | undefined): ResponseContent {
  let doc: Record<string, unknown>;
  try {
    doc = parseAnswerXml(envelope.replace(/^\uFEFF/, '').trimStart());
  } catch {
    return { found: false, why: 'with an envelope that cannot be read' };
  }
  const body = child(child(doc, 'Envelope'), 'Body');
  const names =
    body && typeof body === 'object' ? Object.keys(body).filter((k) => !k.startsWith('@') && k !== '#text' && k !== 'Fault') : [];
  const name = element ?? names[0];
  if (name === undefined || !names.includes(name)) {
    const what = element ? `the operation's response element ${element}` : 'a response element';
    return { found: false, why: names.length === 0 ? `with an empty soap:Body, without ${what}` : `without ${what}` };
  }
  const value = (body as Record<string, unknown>)[name];
  // A repeated response element is no answer a WSDL describes; the first one is read.
  return { found: true, value: Array.isArray(value) ? value[0] : value };
}

function child(node: unknown, name: string): unknown {
  // Own properties only, so `constructor` or `__proto__` never reach Object.prototype.
  return node && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, name)
    ? (node as Record<string, unknown>)[name]
    : undefined;
}
