// Reading the back office's reference (Aktenzeichen) from its answer, XML or JSON. The answer is the back
// office's, not ours: it is parsed without DTDs or entity declarations, and nothing of it reaches a log line or
// an error except the reference itself.

import { XMLParser } from 'fast-xml-parser';
import { resolveJsonPointer } from '../rest/json-pointer.ts';
import { isJsonMediaType, mediaType, parseJsonBody } from '../rest/response.ts';
import type { ReferenceOption } from './options.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  // Values stay the text they are: "007" stays "007", "1e3" is no number.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // DOCTYPEs are refused before parsing; what remains are XML's five predefined entities, bounded.
  processEntities: { enabled: true, maxEntityCount: 0, maxEntitySize: 0, maxTotalExpansions: 10_000, maxExpandedLength: 1_000_000 },
  htmlEntities: false,
  maxNestedTags: 64,
});

export type ReferenceRead =
  | { found: true; reference: string }
  /** `why` says what was wrong, never quoting the answer. */
  | { found: false; why: string };

export function isXmlMediaType(type: string): boolean {
  return type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
}

/** The reference at `where` in an answer of `contentType`. */
export function readReference(where: ReferenceOption, contentType: unknown, body: unknown): ReferenceRead {
  const text = typeof body === 'string' ? body : '';
  if (where.from === 'json') {
    const json = parseJsonBody(contentType, text);
    if (json === undefined) return { found: false, why: 'the answer is not JSON' };
    return scalar(resolveJsonPointer(json, where.pointer));
  }
  const type = mediaType(contentType);
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  // Back offices label XML loosely (text/plain, none at all); anything that starts like XML is read as XML.
  if (!isXmlMediaType(type) && (isJsonMediaType(type) || !trimmed.startsWith('<'))) return { found: false, why: 'the answer is not XML' };
  return xmlReference(trimmed, where.path);
}

/** The text at `path` (`Quittung/Aktenzeichen`, `Quittung/@az`), or why there is none. */
export function xmlReference(xml: string, path: string): ReferenceRead {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return { found: false, why: 'the answer carries a DOCTYPE, which is not read' };
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return { found: false, why: 'the answer is not well-formed XML' };
  }
  let current: unknown = doc;
  for (const raw of path.replace(/^\//, '').split('/')) {
    const attribute = raw.startsWith('@');
    const local = raw.replace(/^@/, '').replace(/^[^:]*:/, '');
    if (Array.isArray(current)) return { found: false, why: 'more than one element on the way there' };
    if (!current || typeof current !== 'object') return { found: false, why: 'not in the answer' };
    const key = attribute ? `@${local}` : local;
    // Own properties only, so `constructor` or `__proto__` never reach Object.prototype.
    if (!Object.hasOwn(current, key)) return { found: false, why: 'not in the answer' };
    current = (current as Record<string, unknown>)[key];
  }
  if (Array.isArray(current)) return { found: false, why: 'more than one value there' };
  // An element with attributes has its text under #text.
  if (current && typeof current === 'object' && Object.hasOwn(current, '#text')) current = (current as Record<string, unknown>)['#text'];
  return scalar(current);
}

/** A string or a number is a reference; anything else (absent, empty, an object, a list) is none. */
function scalar(value: unknown): ReferenceRead {
  if (typeof value === 'number' && Number.isFinite(value)) return { found: true, reference: String(value) };
  if (typeof value === 'string' && value.trim() !== '') return { found: true, reference: value.trim() };
  if (value === undefined) return { found: false, why: 'not in the answer' };
  if (typeof value === 'string') return { found: false, why: 'empty there' };
  return { found: false, why: 'not a single value there' };
}
