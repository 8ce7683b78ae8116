// Bytes as they arrived → text, as XML and JSON define it. The bytes themselves are kept unchanged elsewhere;
// this is only for parsing, schema validation and mapping.

export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** The `charset` parameter of a Content-Type, lower case; undefined when there is none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m?.[1]?.toLowerCase();
}

/**
 * An XML document's text. The encoding is, in this order: the Content-Type's charset (RFC 7303 lets it win),
 * a byte order mark, the XML declaration's `encoding`, else UTF-8. Bytes that are not valid in it are refused.
 */
export function decodeXml(bytes: Uint8Array, charset?: string): string {
  const label = charset ?? bomEncoding(bytes) ?? declaredEncoding(bytes) ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    // ignoreBOM: false drops the BOM from the text (it is not part of the document), the bytes keep it.
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw new DecodeError(`unknown character encoding ${label.slice(0, 40)}`);
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new DecodeError(`the document is not valid ${decoder.encoding}`);
  }
}

/** A JSON document's text: UTF-8 (RFC 8259, section 8.1), a leading BOM ignored. */
export function decodeJson(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DecodeError('the document is not valid UTF-8');
  }
}

function bomEncoding(b: Uint8Array): string | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** `<?xml version="1.0" encoding="ISO-8859-1"?>` → "iso-8859-1". The declaration is ASCII in every encoding we read. */
function declaredEncoding(b: Uint8Array): string | undefined {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 200)).toString('latin1');
  const m = /^<\?xml\s[^?]*?\bencoding\s*=\s*(["'])([A-Za-z][\w.:-]*)\1/.exec(head);
  return m?.[2]?.toLowerCase();
}
