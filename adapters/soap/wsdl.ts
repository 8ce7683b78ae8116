// What node-soap does not keep of a WSDL: whether a port's binding is SOAP 1.1 or 1.2. Read from the WSDL file itself with the SDK's hardened parseUntrustedXml.

import { parseUntrustedXml, type UntrustedXmlShape } from '../../src/sdk/index.ts';

export const SOAP11_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
export const SOAP12_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';

export interface WsdlPort {
  service: string;
  port: string;
  /** From the namespace of the binding's SOAP `binding` element (the prefix may be anything, XTA calls 1.2 `soap:`). */
  soapVersion: '1.1' | '1.2';
}

/** A port of the file that is not a SOAP port, and why: shown when no SOAP port fits the configuration. */
export interface OtherPort {
  service: string;
  port: string;
  reason: string;
}

export interface WsdlPorts {
  soap: WsdlPort[];
  other: OtherPort[];
}

/** Namespaces of binding extensions that are not SOAP, named in errors so the reader sees what the port is. */
const KNOWN_BINDINGS: Record<string, string> = {
  'http://schemas.xmlsoap.org/wsdl/http/': 'an HTTP GET/POST binding',
  'http://schemas.xmlsoap.org/wsdl/mime/': 'a MIME binding',
  'http://schemas.microsoft.com/soap-toolkit/wsdl-extension': 'a SOAP Toolkit extension',
};

type Node = Record<string, unknown>;

const localName = (qname: string) => qname.slice(qname.indexOf(':') + 1);
const prefixOf = (qname: string) => (qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : '');

/** Child elements with the given local name, in document order within that name. */
function children(node: Node, local: string): Node[] {
  return childEntries(node, local).map(([, element]) => element);
}

/** The qualified names of child elements with the given local name (to read their prefix). */
function childEntries(node: Node, local: string): [string, Node][] {
  const out: [string, Node][] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('@_') || localName(key) !== local || !Array.isArray(value)) continue;
    // An element without attributes or content parses to '' (`<soap12:binding/>`): an element all the same.
    for (const v of value) if (v === '' || (v && typeof v === 'object')) out.push([key, v === '' ? {} : (v as Node)]);
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
  return readWsdlPorts(xml).soap;
}

const WSDL_SHAPE: UntrustedXmlShape = {
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Every element as an array (one or many alike); attributes stay plain strings.
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
};

/**
 * Every port of the WSDL's own services: the SOAP ones with their version, the others with the reason they
 * are not SOAP. A binding's SOAP element is found by its namespace wherever it stands among the binding's
 * extensions: Microsoft's tools put others first (the SOAP Toolkit's `<stk:binding>`, WCF's
 * `<wsp:PolicyReference>`), and any prefix or a default namespace may name it.
 */
export function readWsdlPorts(xml: string): WsdlPorts {
  const doc = parseUntrustedXml(xml, WSDL_SHAPE) as Node;
  const out: WsdlPorts = { soap: [], other: [] };
  const definitions = children(doc, 'definitions')[0];
  if (!definitions) return out;
  const bindings = new Map<string, Node>();
  for (const b of children(definitions, 'binding')) {
    const name = attr(b, 'name');
    if (name) bindings.set(name, b);
  }
  for (const service of children(definitions, 'service')) {
    const serviceName = attr(service, 'name');
    if (!serviceName) continue;
    for (const port of children(service, 'port')) {
      const portName = attr(port, 'name');
      const bindingRef = attr(port, 'binding');
      if (!portName) continue;
      const other = (reason: string) => out.other.push({ service: serviceName, port: portName, reason });
      if (!bindingRef) {
        other('the port names no binding');
        continue;
      }
      const binding = bindings.get(localName(bindingRef));
      if (!binding) {
        other(`binding ${bindingRef} is not in this file (imported?)`);
        continue;
      }
      const found = bindingExtensions(binding, definitions);
      const soap = found.find((f) => f.version);
      if (soap?.version) {
        out.soap.push({ service: serviceName, port: portName, soapVersion: soap.version });
        continue;
      }
      const seen = found.map((f) => `<${f.qname}>${f.ns ? ` (${KNOWN_BINDINGS[f.ns] ?? f.ns})` : ' (undeclared prefix)'}`);
      other(`binding ${bindingRef} has ${seen.length ? seen.join(', ') : 'no binding element'}, no SOAP 1.1 or 1.2 binding`);
    }
  }
  return out;
}

interface BindingExtension {
  qname: string;
  ns: string | undefined;
  version: '1.1' | '1.2' | undefined;
}

/** The `binding` elements inside a WSDL binding, each with its namespace and the SOAP version it declares. */
function bindingExtensions(binding: Node, definitions: Node): BindingExtension[] {
  return childEntries(binding, 'binding').map(([qname, element]) => {
    const ns = namespaceOf(prefixOf(qname), [element, binding, definitions]);
    const version = ns === SOAP11_BINDING_NS ? '1.1' : ns === SOAP12_BINDING_NS ? '1.2' : undefined;
    return { qname, ns, version };
  });
}
