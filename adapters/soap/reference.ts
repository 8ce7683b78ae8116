// Reading the back office's reference (Aktenzeichen) from its SOAP answer by a dot path of local element
// names. The answer is parsed here as text, without node-soap's schema typing, so "007" stays "007".

import { parseUntrustedXml, type UntrustedXmlShape } from '../../src/sdk/index.ts';

// The answer is the back office's, not ours: parsed hardened, without DOCTYPE or entities beyond the XML built-ins.
const ANSWER_SHAPE: UntrustedXmlShape = { removeNSPrefix: true };

/**
 * The string at `path` below the answer's soap:Body, e.g. `Quittung.Aktenzeichen`; `null` when the path
 * leads nowhere, to an empty value, or to more than one value. A number segment picks one of repeated
 * elements (`Akten.Akte.0.Zeichen`); index 0 also matches an element that occurs once.
 */
export function referenceAt(answerXml: string, path: string): string | null {
  let doc: unknown;
  try {
    doc = parseUntrustedXml(answerXml, ANSWER_SHAPE);
  } catch {
    return null;
  }
  let current = step(step(doc, 'Envelope'), 'Body');
  for (const segment of path.split('.')) {
    current = /^\d+$/.test(segment) ? index(current, Number(segment)) : step(current, segment);
    if (current === undefined) return null;
  }
  if (typeof current === 'string') return current.trim() === '' ? null : current.trim();
  if (typeof current === 'number' && Number.isFinite(current)) return String(current);
  return null;
}

function step(node: unknown, name: string): unknown {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  // Own properties only, so `constructor` or `__proto__` never reach Object.prototype.
  return Object.hasOwn(node, name) ? (node as Record<string, unknown>)[name] : undefined;
}

function index(node: unknown, i: number): unknown {
  if (Array.isArray(node)) return node[i];
  return i === 0 ? node : undefined;
}
