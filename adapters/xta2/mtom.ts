// MTOM (SOAP Message Transmission Optimization, W3C) with XOP packaging: the SOAP envelope as the root part of a
// multipart/related body, each binary as a part of its own that the envelope points at with <xop:Include>.
//
// Decision: built here, not taken from node-soap. node-soap 1.13 can read MTOM answers, but it cannot send an
// envelope whose base64Binary elements are replaced by xop:Include (its `attachments` option appends parts the
// envelope never names), and its server does not read multipart requests at all. XTA 2's policy demands
// OptimizedMimeSerialization, so both directions live in this one module, for the adapter and the simulator.

import { createHash } from 'node:crypto';

export const XOP_NS = 'http://www.w3.org/2004/08/xop/include';
const XOP_TYPE = 'application/xop+xml';

/** One binary carried beside the envelope. */
export interface MimePart {
  /** The Content-ID without angle brackets; the envelope names it as `cid:` + contentId. */
  contentId: string;
  mediaType: string;
  content: Buffer;
}

export interface MtomBody {
  /** The HTTP Content-Type: multipart/related with type, start, start-info and the SOAP action. */
  contentType: string;
  body: Buffer;
}

/**
 * The XOP package: `envelope` (which already holds `<xop:Include href="cid:…"/>` where each part belongs) as the
 * root part, then the parts. The boundary is derived from the content, so the same message gives the same bytes.
 */
export function encodeMtom(envelope: string, parts: readonly MimePart[], action: string): MtomBody {
  const hash = createHash('sha256').update(envelope);
  for (const p of parts) hash.update(p.content);
  const boundary = `MIMEBoundary_${hash.digest('hex').slice(0, 32)}`;
  const start = 'root.message@amtsbote';
  const chunks: Buffer[] = [];
  const head = (lines: string[]) => chunks.push(Buffer.from(`--${boundary}\r\n${lines.join('\r\n')}\r\n\r\n`, 'utf8'));
  head([
    `Content-Type: ${XOP_TYPE}; charset=UTF-8; type="application/soap+xml"; action="${action}"`,
    'Content-Transfer-Encoding: binary',
    `Content-ID: <${start}>`,
  ]);
  chunks.push(Buffer.from(envelope, 'utf8'), Buffer.from('\r\n'));
  for (const p of parts) {
    head([`Content-Type: ${p.mediaType}`, 'Content-Transfer-Encoding: binary', `Content-ID: <${p.contentId}>`]);
    chunks.push(p.content, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    contentType: `multipart/related; type="${XOP_TYPE}"; boundary="${boundary}"; start="<${start}>"; start-info="application/soap+xml"; action="${action}"`,
    body: Buffer.concat(chunks),
  };
}

export class MtomError extends Error {
  override name = 'MtomError';
}

/** A received body: the envelope text and the parts by Content-ID (XOP not yet resolved). */
export interface DecodedMessage {
  envelope: string;
  parts: Map<string, MimePart>;
  /** The SOAP 1.2 action from the Content-Type (the root part's for MTOM), if given. */
  action: string | undefined;
}

/** Reads a plain SOAP 1.2 body or an MTOM package. Throws MtomError when the multipart is broken. */
export function decodeBody(contentType: string | undefined, body: Buffer): DecodedMessage {
  const type = contentType ?? '';
  const essence = type.split(';')[0]!.trim().toLowerCase();
  if (essence !== 'multipart/related') return { envelope: body.toString('utf8'), parts: new Map(), action: param(type, 'action') };
  const boundary = param(type, 'boundary');
  if (!boundary) throw new MtomError('multipart/related without a boundary');
  const start = param(type, 'start')?.replace(/^<|>$/g, '');
  const sections = splitMultipart(body, boundary);
  if (sections.length === 0) throw new MtomError('multipart/related without parts');
  const parts = new Map<string, MimePart>();
  let root: { headers: Map<string, string>; content: Buffer } | undefined;
  for (const s of sections) {
    const id = s.headers.get('content-id')?.replace(/^<|>$/g, '');
    if (!root && (start === undefined || id === start)) {
      root = s;
      continue;
    }
    if (!id) throw new MtomError('a MIME part without Content-ID');
    parts.set(id, { contentId: id, mediaType: s.headers.get('content-type') ?? 'application/octet-stream', content: s.content });
  }
  if (!root) throw new MtomError('the start part is missing');
  return {
    envelope: root.content.toString('utf8'),
    parts,
    action: param(type, 'action') ?? param(root.headers.get('content-type') ?? '', 'action'),
  };
}

/**
 * The envelope with every `<xop:Include href="cid:…"/>` replaced by the part's base64: the infoset XOP stands for,
 * which the schemas describe. Throws MtomError for a reference to a part that is not there.
 */
export function resolveXop(envelope: string, parts: ReadonlyMap<string, MimePart>): string {
  return envelope.replace(/<([\w.-]+:)?Include\b[^>]*?href\s*=\s*"cid:([^"]+)"[^>]*?(\/>|>\s*<\/\1?Include>)/g, (_m, _p, cid: string) => {
    const part = parts.get(decodeURIComponent(cid));
    if (!part) throw new MtomError('an xop:Include names a MIME part that is not in the message');
    return part.content.toString('base64');
  });
}

function param(header: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(header);
  return m ? (m[1] ?? m[2]) : undefined;
}

function splitMultipart(body: Buffer, boundary: string): { headers: Map<string, string>; content: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const out: { headers: Map<string, string>; content: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    let from = at + delimiter.length;
    if (body.subarray(from, from + 2).toString() === '--') break;
    if (body.subarray(from, from + 2).toString() === '\r\n') from += 2;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), from);
    if (next === -1) throw new MtomError('multipart/related without its closing boundary');
    const section = body.subarray(from, next);
    const split = section.indexOf('\r\n\r\n');
    if (split === -1) throw new MtomError('a MIME part without headers');
    const headers = new Map<string, string>();
    for (const line of section.subarray(0, split).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    out.push({ headers, content: Buffer.from(section.subarray(split + 4)) });
    at = next + 2;
  }
  return out;
}
