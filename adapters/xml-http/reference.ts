// Reading the back office's reference (Aktenzeichen) from its answer, XML or JSON. The answer is the back
// office's, not ours: it is parsed without DTDs or entity declarations, and nothing of it reaches a log line or
// an error except the reference itself.

import { AnswerXmlError, isXmlMediaType, parseAnswerXml } from '../../src/sdk/index.ts';
import { resolveJsonPointer } from '../_http/json-pointer.ts';
import { isJsonMediaType, mediaType, parseJsonBody } from '../_http/response.ts';
import type { ReferenceOption } from './options.ts';

export { isXmlMediaType };

export type ReferenceRead =
  | { found: true; reference: string }
  /** `why` says what was wrong, never quoting the answer. */
  | { found: false; why: string };

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
  let doc: unknown;
  try {
    doc = parseAnswerXml(xml);
  } catch (e) {
    return { found: false, why: e instanceof AnswerXmlError ? e.message : 'the answer is not well-formed XML' };
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
