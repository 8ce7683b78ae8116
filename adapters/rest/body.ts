// What goes on the wire for one message: the text as is, a form, or multipart with the attachments.
// Every encoding is deterministic: the same message gives the same bytes, so a retry or a replay sends
// exactly what the first attempt sent, and the conformance suite's byte comparison holds for all three.

import { createHash } from 'node:crypto';
import type { OutboundAttachment, OutboundMessage } from '../../src/sdk/index.ts';
import type { Multipart, RestOptions } from './options.ts';
import { oneLine } from '../_http/response.ts';

export type EncodedBody = { ok: true; data: Buffer; contentType: string } | { ok: false; error: string };

export function encodeBody(message: OutboundMessage, options: Pick<RestOptions, 'body' | 'multipart'>): EncodedBody {
  switch (options.body ?? 'raw') {
    case 'raw':
      // A Buffer is sent as is: the mapping's text (or a pass-through's original bytes), never a re-serialisation of message.body.
      return { ok: true, data: message.bytes ?? Buffer.from(message.text, 'utf8'), contentType: message.contentType };
    case 'form':
      return formBody(message);
    case 'multipart':
      return multipartBody(message, options.multipart ?? { messageField: 'message', attachmentField: 'attachments' });
  }
}

/**
 * application/x-www-form-urlencoded from the message's JSON object, field by field in the mapping's order.
 * Strings, numbers and booleans are sent as text, null as an empty field. Anything nested is refused:
 * a form has no way to say it, and guessing (`a[b]=`, `a.b=`, JSON in a field) would be a silent contract.
 */
function formBody(message: OutboundMessage): EncodedBody {
  const body = message.body;
  if (message.format !== 'json' || body === null || typeof body !== 'object' || Array.isArray(body)) {
    const got =
      message.format !== 'json' ? 'an XML message' : body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    return { ok: false, error: `body: form needs a JSON message that is an object of fields; the mapping produced ${got}` };
  }
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (value === null) form.append(name, '');
    else if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))
      form.append(name, String(value));
    else {
      // The field's name only, never its value: values are citizens' data.
      const kind = Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
      return {
        ok: false,
        error: `body: form sends flat fields only; field "${oneLine(name, 60)}" holds ${kind}: flatten it in the mapping`,
      };
    }
  }
  return { ok: true, data: Buffer.from(form.toString(), 'utf8'), contentType: 'application/x-www-form-urlencoded' };
}

/**
 * multipart/form-data (RFC 7578), built here rather than with FormData: FormData would give the message
 * part a filename ("blob") and a random boundary. The boundary is derived from the content, so the same
 * message gives the same bytes; it is checked against every part, as RFC 2046 requires.
 */
function multipartBody(message: OutboundMessage, m: Multipart): EncodedBody {
  const text = message.bytes ?? Buffer.from(message.text, 'utf8');
  const parts: { headers: string; content: Buffer }[] = [
    {
      headers:
        disposition(m.messageField, m.messageFilename) +
        `Content-Type: ${safeMediaType(message.contentType, 'text/plain; charset=utf-8')}\r\n`,
      content: text,
    },
    ...message.attachments.map((a: OutboundAttachment) => ({
      headers: disposition(m.attachmentField, a.filename) + `Content-Type: ${safeMediaType(a.mediaType, 'application/octet-stream')}\r\n`,
      content: a.content,
    })),
  ];

  const hash = createHash('sha256');
  for (const p of parts) hash.update(p.headers).update(p.content);
  const seed = hash.digest();
  let boundary = '';
  for (let n = 0; ; n++) {
    boundary = `----AmtsboteBoundary${createHash('sha256').update(seed).update(String(n)).digest('hex').slice(0, 32)}`;
    const marker = Buffer.from(`--${boundary}`, 'latin1');
    if (!parts.some((p) => p.content.includes(marker))) break;
  }

  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${p.headers}\r\n`, 'utf8'), p.content, Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return { ok: true, data: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

function disposition(name: string, filename: string | undefined): string {
  const file = filename === undefined ? '' : `; filename="${escapeQuoted(filename)}"`;
  return `Content-Disposition: form-data; name="${escapeQuoted(name)}"${file}\r\n`;
}

/** What browsers do (WHATWG HTML, multipart/form-data encoding): UTF-8 as is, `"` CR LF percent-encoded. */
function escapeQuoted(value: string): string {
  return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A media type from the submission goes into a part header: only a plain `type/subtype; params` is used. */
function safeMediaType(value: string, fallback: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;[\x20-\x7e]*)?$/.test(value) ? value : fallback;
}
