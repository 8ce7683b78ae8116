import { createHash } from 'node:crypto';

/**
 * Long base64 values (attachments) in a diff line would hide the fields around them. A diff shows them as
 * `JVBERi0x…(12,345 chars, sha256 ab12cd34ef56)`: the head, the length and the sha256 of the decoded bytes
 * (the same digest the mapping input carries as `attachments[].sha256`), so two different values still
 * differ visibly and a value can be traced to its attachment.
 */

/** At least this many base64 characters make a value worth shortening (90 bytes and more). */
export const MIN_BASE64_CHARS = 120;

// Base64 characters, optionally wrapped into lines (MIME's 76): as `\n` escapes in JSON text and as `&#10;`
// (and `&#13;`) in the canonical XML lines, which escape a text's line breaks.
const RUN = /[A-Za-z0-9+/]{16,}(?:(?:\\r\\n|\\n|&#13;&#10;|&#10;)[A-Za-z0-9+/]{4,})*={0,2}/g;
const BREAKS = /\\r|\\n|&#13;|&#10;/g;

export function shortenBase64(text: string): string {
  return text.replace(RUN, (run) => {
    const chars = run.replace(BREAKS, '');
    // A long word or identifier is not base64: base64 of real bytes mixes cases and digits, and its length is a multiple of 4.
    if (chars.length < MIN_BASE64_CHARS || chars.length % 4 !== 0 || !/[a-z]/.test(chars) || !/[A-Z]/.test(chars) || !/\d/.test(chars))
      return run;
    const sha = createHash('sha256').update(Buffer.from(chars, 'base64')).digest('hex').slice(0, 12);
    return `${chars.slice(0, 8)}…(${chars.length.toLocaleString('en-US')} chars, sha256 ${sha})`;
  });
}
