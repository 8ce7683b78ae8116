import { parseUntrustedXml, type UntrustedXmlShape } from '../../src/sdk/index.ts';
import { oneLine } from './errors.ts';

// Reading what the back office writes into `<name>.ok` and `<name>.err`.

/** The longest reference kept; Aktenzeichen are short, anything longer is cut. */
const MAX_REFERENCE = 200;
/** An ack file younger than this and not ending in a line break may still be being written. */
export const SETTLE_MS = 2000;
/** Ack files are a line or a small document; a bigger one is not read. */
export const MAX_ACK_BYTES = 1024 * 1024;

/**
 * Whether an ack file is complete enough to read. Back offices often write them in place, not
 * atomically: a file that ends with a line break is done; otherwise it must have been left alone
 * for SETTLE_MS (which also covers an empty marker file). `now` is the hub's clock; the file system's clock
 * stamped the mtime, and in production the two agree.
 */
export function isSettled(content: Buffer, mtimeMs: number, now: number): boolean {
  if (content.length > 0 && content[content.length - 1] === 0x0a) return true;
  return now - mtimeMs >= SETTLE_MS;
}

/** The first non-empty line, one line, at most 200 characters; '' when there is none. */
export function firstLine(content: Buffer): string {
  const text = content.toString('utf8').replace(/^\uFEFF/, '');
  const line = text.split(/\r?\n|\r/).find((l) => l.trim() !== '') ?? '';
  return oneLine(line, MAX_REFERENCE);
}

/**
 * The reference in an `.ok` file: without `referencePath` its first line; with it, the value at that
 * path in a JSON (RFC 6901 pointer) or XML (element names, `@attr` last) document. Null when absent.
 */
export function referenceFrom(content: Buffer, referencePath?: string): string | null {
  const text = content
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trim();
  if (text === '') return null;
  if (!referencePath || !/^[<{[]/.test(text)) {
    const line = firstLine(content);
    return line === '' ? null : line;
  }
  let value: unknown;
  try {
    value = text.startsWith('<') ? atXmlPath(text, referencePath) : atJsonPointer(JSON.parse(text), referencePath);
  } catch {
    return null;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return oneLine(value, MAX_REFERENCE);
  return null;
}

function atJsonPointer(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = /^(0|[1-9]\d*)$/.test(token) ? cur[Number(token)] : undefined;
    // Own properties only: `/__proto__` must not reach Object.prototype.
    else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, token)) cur = (cur as Record<string, unknown>)[token];
    else return undefined;
  }
  return cur;
}

const ACK_SHAPE: UntrustedXmlShape = { ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true };

function atXmlPath(text: string, path: string): unknown {
  let cur: unknown = parseUntrustedXml(text, ACK_SHAPE);
  for (const name of path.slice(1).split('/')) {
    if (Array.isArray(cur)) cur = cur[0];
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, name)) return undefined;
    cur = (cur as Record<string, unknown>)[name];
  }
  if (Array.isArray(cur)) cur = cur[0];
  // An element with attributes keeps its text under #text.
  if (cur !== null && typeof cur === 'object') cur = (cur as Record<string, unknown>)['#text'];
  return cur;
}
