// One XTA 2 server as the hub talks to it: SOAP 1.2 over HTTPS with the client certificate, WS-Addressing on every
// request, MTOM where binaries travel, and the answer read as a result or a fault. No classification here: the
// adapter and the inbound reader decide what a fault means for them.

import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { parseUntrustedXml, tlsAgentOptions, type TlsOptions } from '../../src/sdk/index.ts';
import { buildEnvelope, OPERATIONS, partyXml, type PartyIdentifier, type XtaOperation } from './envelope.ts';
import { decodeBody, encodeMtom, resolveXop, type MimePart } from './mtom.ts';

export interface XtaEndpoints {
  management: string;
  send: string;
  msgBox: string;
}

export interface XtaClientOptions {
  endpoints: XtaEndpoints;
  tls?: TlsOptions | undefined;
  /** The account the hub acts as: XTA's Author header on every management and message-box request. */
  account: PartyIdentifier;
  userAgent: string;
  /** Cap on an answer; a message fetched from the box may carry attachments, so it is generous. */
  maxResponseBytes: number;
}

export interface XtaFault {
  /** SOAP 1.2 fault code: `Sender` (the request is at fault) or `Receiver` (the server is). */
  code: string;
  reason: string;
  /** The XTA exception's element name in the fault detail (`PermissionDeniedException`, …), if any. */
  exception?: string;
  /** Its errorCode/code from XTA's Fehlernummer code list (9000 …). */
  errorCode?: string;
}

export type XtaAnswer =
  | { ok: true; httpStatus: number; header: Record<string, unknown>; body: Record<string, unknown> }
  | { ok: false; httpStatus: number; fault: XtaFault };

/** No usable answer: a network failure (code), a timeout (ETIMEDOUT), or an answer that is not SOAP. */
export class XtaTransportError extends Error {
  override name = 'XtaTransportError';
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export interface CallOptions {
  /** Header blocks besides the addressing ones; default: the account's Author. */
  headers?: readonly string[];
  /** Binaries the body names with xop:Include: sent as MTOM. */
  parts?: readonly MimePart[];
  /** The wsa:MessageID; default a fresh urn:uuid. */
  messageId?: string;
  signal: AbortSignal;
}

export interface XtaClient {
  call(op: XtaOperation, body: string, o: CallOptions): Promise<XtaAnswer>;
  close(): void;
}

const SHAPE = { removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '@', trimValues: true } as const;

export function createXtaClient(o: XtaClientOptions): XtaClient {
  // One agent per server: connections are reused, the certificate files are read once (a broken one stops start-up).
  const httpsAgent = new https.Agent({ keepAlive: true, ...tlsAgentOptions(o.tls) });
  const httpAgent = new http.Agent({ keepAlive: true });

  async function call(op: XtaOperation, body: string, c: CallOptions): Promise<XtaAnswer> {
    const { port, action } = OPERATIONS[op];
    const to = o.endpoints[port];
    const envelope = buildEnvelope({
      action,
      to,
      messageId: c.messageId ?? `urn:uuid:${randomUUID()}`,
      headers: c.headers ?? [partyXml('Author', o.account)],
      body,
    });
    // Decision: MTOM whenever binaries travel (the WSDL's OptimizedMimeSerialization); requests without any go
    // as plain application/soap+xml, which MTOM allows and every XTA server reads.
    const encoded = c.parts?.length
      ? encodeMtom(envelope, c.parts, action)
      : { contentType: `application/soap+xml; charset=utf-8; action="${action}"`, body: Buffer.from(envelope, 'utf8') };
    const res = await post(to, encoded.contentType, encoded.body, c.signal);
    return readAnswer(res);
  }

  function post(
    url: string,
    contentType: string,
    payload: Buffer,
    signal: AbortSignal,
  ): Promise<{ status: number; type: string | undefined; body: Buffer }> {
    const u = new URL(url);
    const isHttps = u.protocol === 'https:';
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new XtaTransportError('ETIMEDOUT', `no answer from ${u.host}`));
      const req = (isHttps ? https : http).request(
        u,
        {
          method: 'POST',
          agent: isHttps ? httpsAgent : httpAgent,
          headers: {
            'Content-Type': contentType,
            'Content-Length': payload.length,
            'User-Agent': o.userAgent,
            Accept: 'application/soap+xml, multipart/related',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > o.maxResponseBytes) {
              req.destroy();
              reject(new XtaTransportError('ETOOLARGE', `the answer from ${u.host} exceeds ${o.maxResponseBytes} bytes`));
            } else chunks.push(chunk);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
          res.on('error', (e) => reject(networkError(e, u.host)));
        },
      );
      const abort = () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
      signal.addEventListener('abort', abort, { once: true });
      req.on('close', () => signal.removeEventListener('abort', abort));
      // Only the code goes on: the request (headers, body) is never part of an error.
      req.on('error', (e) => reject(networkError(e, u.host)));
      req.end(payload);
    });
  }

  return {
    call,
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}

function networkError(e: unknown, host: string): XtaTransportError {
  const code = e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : 'ECONNRESET';
  return new XtaTransportError(code, `${code} talking to ${host}`);
}

/** The SOAP answer: the body's first element and the header blocks, or the fault. */
export function readAnswer(res: { status: number; type: string | undefined; body: Buffer }): XtaAnswer {
  let envelope: Record<string, unknown> | undefined;
  try {
    const decoded = decodeBody(res.type, res.body);
    const text = decoded.parts.size ? resolveXop(decoded.envelope, decoded.parts) : decoded.envelope;
    envelope = (parseUntrustedXml(text, SHAPE) as Record<string, Record<string, unknown>>).Envelope;
  } catch {
    envelope = undefined;
  }
  if (!envelope || typeof envelope !== 'object') {
    throw new XtaTransportError(`http-${res.status}`, `the XTA server answered HTTP ${res.status} without a SOAP envelope`, res.status);
  }
  const body = (envelope.Body ?? {}) as Record<string, unknown>;
  const header = (envelope.Header ?? {}) as Record<string, unknown>;
  const fault = body.Fault as Record<string, unknown> | undefined;
  if (fault) return { ok: false, httpStatus: res.status, fault: readFault(fault) };
  return { ok: true, httpStatus: res.status, header: typeof header === 'object' ? header : {}, body: typeof body === 'object' ? body : {} };
}

function readFault(f: Record<string, unknown>): XtaFault {
  const code = String(text((f.Code as Record<string, unknown> | undefined)?.Value) ?? 'Receiver').replace(/^.*:/, '');
  const reasonText = (f.Reason as Record<string, unknown> | undefined)?.Text;
  const reason = text(Array.isArray(reasonText) ? reasonText[0] : reasonText) ?? '';
  const out: XtaFault = { code, reason };
  const detail = f.Detail as Record<string, unknown> | undefined;
  if (detail && typeof detail === 'object') {
    const name = Object.keys(detail).find((k) => k.endsWith('Exception'));
    if (name) {
      out.exception = name;
      const ec = (detail[name] as Record<string, unknown> | undefined)?.errorCode as Record<string, unknown> | undefined;
      const c = text(ec?.code);
      if (c) out.errorCode = c;
    }
  }
  return out;
}

/** An element's text, whether the parser gave a string or an object with #text (it had attributes). */
export function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') return text((v as Record<string, unknown>)['#text']);
  return String(v);
}
