import { XMLBuilder } from 'fast-xml-parser';
import { MappingError } from './errors.ts';

export interface XmlOptions {
  declaration: boolean;
  indent: boolean;
}

const XML_NAME = /^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?$/;

/** One builder per layout, made once: build() keeps no state between documents. */
const builders = new Map<boolean, XMLBuilder>();
function builder(indent: boolean): XMLBuilder {
  let b = builders.get(indent);
  if (!b) {
    b = new XMLBuilder({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      textNodeName: '#text',
      format: indent,
      suppressBooleanAttributes: false,
      suppressEmptyNode: true,
      processEntities: true,
    });
    builders.set(indent, b);
  }
  return b;
}

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
  const xml = builder(opts.indent).build(body) as string;
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
