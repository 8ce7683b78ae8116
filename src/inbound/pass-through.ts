// The pass-through target format: the submission's original document sent on unchanged, to a back office that
// speaks the same standard. No mapping runs; the message is the bytes the portal sent.

import type { OutboundMessage } from '../sdk/types.ts';
import { charsetOf, DecodeError, decodeXml } from './decode.ts';

/** The submission's primary content as it came in on an inbound channel. */
export interface OriginalDocument {
  bytes: Buffer;
  /** As stored with it, e.g. `application/xml; charset=utf-8`. */
  mediaType: string;
}

/** What a pass-through needs but did not get; the renderer turns it into a permanent MappingError. */
export class NoOriginalError extends Error {}

/**
 * The original as a message. `bytes` are what goes on the wire. `text` is the same document as a string for
 * adapters that embed it (a SOAP body): for UTF-8 the exact bytes decoded, byte order mark included, so
 * `Buffer.from(text, 'utf8')` gives the original back; for another encoding its Unicode text.
 */
export function renderOriginal(
  original: OriginalDocument | undefined,
): Pick<OutboundMessage, 'format' | 'body' | 'text' | 'contentType' | 'bytes'> {
  if (!original)
    throw new NoOriginalError('format original needs a submission that came in on an inbound channel; this one has no original document');
  const essence = original.mediaType.split(';')[0]!.trim().toLowerCase();
  const isJson = /^application\/(?:[\w.-]+\+)?json$/.test(essence);
  const bytes = Buffer.from(original.bytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    if (isJson) throw new NoOriginalError('the original JSON document is not UTF-8');
    try {
      text = decodeXml(bytes, charsetOf(original.mediaType));
    } catch (e) {
      // It was read when it came in; a store that changed its media type would land here.
      if (e instanceof DecodeError) throw new NoOriginalError(`the original document cannot be read: ${e.message}`);
      throw e;
    }
  }
  if (isJson)
    return { format: 'json', body: JSON.parse(text.replace(/^\ufeff/, '')) as unknown, text, contentType: original.mediaType, bytes };
  return { format: 'xml', body: undefined, text, contentType: original.mediaType, bytes };
}
