// A back office's answer body, parsed once the same way for every adapter, for the acceptance rule and the
// reference. The answer is the back office's, not ours: XML is parsed without DTDs or entity declarations, and
// values stay the text they are ("007" stays "007", "1e3" is no number).
import { parseUntrustedXml, UntrustedXmlError, type UntrustedXmlShape } from '../http/untrusted-xml.ts';
import type { ParsedAnswer } from './acceptance.ts';

const ANSWER_SHAPE: UntrustedXmlShape = {
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  maxEntityExpansions: 10_000,
  maxExpandedLength: 1_000_000,
};

/** Why an XML answer was not read; never quotes it. */
export class AnswerXmlError extends Error {}

/**
 * An XML answer as an object: element names without prefixes, attributes as `@name`, an element with
 * attributes has its text under `#text`, a repeated element is an array. Throws AnswerXmlError.
 */
export function parseAnswerXml(xml: string): Record<string, unknown> {
  try {
    return parseUntrustedXml(xml, ANSWER_SHAPE) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof UntrustedXmlError && e.fault === 'doctype')
      throw new AnswerXmlError('the answer carries a DOCTYPE, which is not read');
    throw new AnswerXmlError('the answer is not well-formed XML');
  }
}

/** The media type without parameters, lower-cased: `application/problem+json`. */
export function mediaType(contentType: unknown): string {
  if (typeof contentType !== 'string') return '';
  return contentType.split(';', 1)[0]!.trim().toLowerCase();
}

export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

export function isXmlMediaType(type: string): boolean {
  return type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
}

/**
 * The body as the acceptance rule sees it: JSON parsed when the answer says JSON, XML parsed when it says XML
 * or looks like it (back offices label XML loosely), the text itself otherwise (an HTML page, a plain line) or
 * when it does not parse.
 */
export function parseAnswer(contentType: unknown, text: unknown, httpStatus?: number): ParsedAnswer {
  const type = mediaType(contentType);
  const raw = typeof text === 'string' ? text : '';
  const body = (): unknown => {
    if (isJsonMediaType(type)) {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    }
    const trimmed = raw.replace(/^\uFEFF/, '').trimStart();
    if (type !== 'text/html' && (isXmlMediaType(type) || trimmed.startsWith('<'))) {
      try {
        return parseAnswerXml(trimmed);
      } catch {
        return raw;
      }
    }
    return raw;
  };
  return { body: body(), httpStatus, mediaType: type };
}
