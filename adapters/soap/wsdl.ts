// What node-soap does not keep of a WSDL: whether a port's binding is SOAP 1.1 or 1.2. Read from the WSDL file itself with fast-xml-parser (the mapping engine's XML library).

import { XMLParser } from 'fast-xml-parser';

export const SOAP11_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
export const SOAP12_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';

export interface WsdlPort {
  service: string;
  port: string;
  /** From the namespace of the binding's `binding` child (the prefix may be anything, XTA calls 1.2 `soap:`). */
  soapVersion: '1.1' | '1.2';
}

type Node = Record<string, unknown>;

const localName = (qname: string) => qname.slice(qname.indexOf(':') + 1);
const prefixOf = (qname: string) => (qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : '');

/** Child elements with the given local name, in document order within that name. */
function children(node: Node, local: string): Node[] {
  const out: Node[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('@_') || key === '#text' || localName(key) !== local || !Array.isArray(value)) continue;
    for (const v of value) if (v && typeof v === 'object') out.push(v as Node);
  }
  return out;
}

/** The qualified names of child elements with the given local name (to read their prefix). */
function childEntries(node: Node, local: string): [string, Node][] {
  const out: [string, Node][] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('@_') || localName(key) !== local || !Array.isArray(value)) continue;
    for (const v of value) if (v && typeof v === 'object') out.push([key, v as Node]);
  }
  return out;
}

function attr(node: Node, name: string): string | undefined {
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

/** Resolves a prefix against the xmlns declarations of the given elements, innermost first. */
function namespaceOf(prefix: string, scopes: Node[]): string | undefined {
  const key = prefix ? `xmlns:${prefix}` : 'xmlns';
  for (const scope of scopes) {
    const ns = attr(scope, key);
    if (ns !== undefined) return ns;
  }
  return undefined;
}

/**
 * The SOAP ports of the WSDL's own services, in document order. Ports whose service or binding sits in an
 * imported WSDL are not seen here (node-soap still knows them; `soapVersion` must then be set).
 */
export function inspectWsdl(xml: string): WsdlPort[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    removeNSPrefix: false,
    parseTagValue: false,
    parseAttributeValue: false,
    // Every element as an array (one or many alike); attributes stay plain strings.
    isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  });
  const doc = parser.parse(xml) as Node;
  const definitions = children(doc, 'definitions')[0];
  if (!definitions) return [];
  const bindings = new Map<string, Node>();
  for (const b of children(definitions, 'binding')) {
    const name = attr(b, 'name');
    if (name) bindings.set(name, b);
  }
  const ports: WsdlPort[] = [];
  for (const service of children(definitions, 'service')) {
    const serviceName = attr(service, 'name');
    if (!serviceName) continue;
    for (const port of children(service, 'port')) {
      const portName = attr(port, 'name');
      const bindingRef = attr(port, 'binding');
      if (!portName || !bindingRef) continue;
      const binding = bindings.get(localName(bindingRef));
      if (!binding) continue;
      const [qname, soapBinding] = childEntries(binding, 'binding')[0] ?? [];
      if (!qname || !soapBinding) continue;
      // An HTTP GET/POST binding (http:binding) or anything else is not a SOAP port.
      const ns = namespaceOf(prefixOf(qname), [soapBinding, binding, definitions]);
      const soapVersion = ns === SOAP11_BINDING_NS ? '1.1' : ns === SOAP12_BINDING_NS ? '1.2' : undefined;
      if (soapVersion) ports.push({ service: serviceName, port: portName, soapVersion });
    }
  }
  return ports;
}
