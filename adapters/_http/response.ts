// Reading the back office's answer without ever copying its body into an error or a log line:
// bodies carry citizens' data. Only a problem+json `title` (a short, generic phrase) may be shown.
import { isJsonMediaType, mediaType, oneLine } from '../../src/sdk/index.ts';

// Re-exported for this adapter's modules, which import them from here.
export { isJsonMediaType, mediaType, oneLine };

const TITLE_MAX = 200;

/** The parsed body when the answer says it is JSON and parses; otherwise `undefined`. */
export function parseJsonBody(contentType: unknown, text: unknown): unknown {
  if (typeof text !== 'string' || !isJsonMediaType(mediaType(contentType))) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The RFC 9457 `title` of a problem+json answer, flattened and truncated; `undefined` for anything else. */
export function problemTitle(contentType: unknown, text: unknown): string | undefined {
  if (mediaType(contentType) !== 'application/problem+json') return undefined;
  const body = parseJsonBody(contentType, text);
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const title = (body as { title?: unknown }).title;
  if (typeof title !== 'string') return undefined;
  const line = oneLine(title, TITLE_MAX);
  return line || undefined;
}
