/**
 * A back office's text (a fault reason, a problem title, a status line) made safe for one log line or
 * error: control characters and line breaks become spaces, so nobody can forge a log line, and it is cut to
 * `max` characters.
 */
export function oneLine(text: string, max: number): string {
  const flat = text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
