import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';

/**
 * One HTTP exchange on node:http, for a target reached without a proxy: what the delivery path used axios for,
 * and nothing more. Measured with bench/per-delivery.ts, axios' request path cost 2-4x a bare node:http
 * request per delivery (config merging, header normalising, the proxy lookup, a setsockopt per request);
 * this keeps what a target relies on and drops the rest:
 * - no redirects (a 3xx is an answer; node:http never follows one);
 * - the answer read to the end under `maxResponseBytes` (counted after decompression as well), text in
 *   UTF-8 without a BOM, every status an answer;
 * - gzip, deflate and br answers decompressed, with the Accept-Encoding axios sent;
 * - TLS (CA, client certificate, rejectUnauthorized) and keep-alive come with the target's agent;
 * - the deadline is the caller's AbortSignal, which bounds connect, headers and a trickled body alike.
 * Proxies are not handled here: a target that HTTP_PROXY/HTTPS_PROXY/ALL_PROXY may apply to keeps axios
 * (see createTargetHttp).
 */

export interface HttpRequest {
  method: string;
  url: string;
  /** Sent byte for byte; a string as UTF-8. */
  data?: Buffer | string | undefined;
  headers?: Record<string, string> | undefined;
}

/** An answer, whatever its status. Header names in lower case. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  data: string;
}

/** What axios 1.x offers on Node 20 (zstd only on request), so a back office sees the same request. */
export const ACCEPT_ENCODING = 'gzip, compress, deflate, br';

/** A failed exchange: only a code and the URL, which classifyNetworkError turns into words. */
export class ExchangeError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}

/**
 * A socket's or TLS error with the request's URL, so the message names the host as configured (axios' errors
 * carried it in their config); a connect error alone has only the address it resolved to.
 */
function networkError(err: unknown, url: string): ExchangeError {
  const e = err as { code?: unknown; message?: unknown };
  const wrapped = new ExchangeError(String(e?.message ?? 'network error'), typeof e?.code === 'string' ? e.code : 'ENETWORK', url);
  wrapped.cause = err;
  return wrapped;
}

// Tolerant of a truncated stream, as axios was: what arrived is what the answer says.
const ZLIB = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI = { flush: zlib.constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };

export interface ExchangeOptions {
  agent: http.Agent | https.Agent;
  signal: AbortSignal;
  maxResponseBytes: number;
}

export function exchange(request: HttpRequest, o: ExchangeOptions): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const body = typeof request.data === 'string' ? Buffer.from(request.data, 'utf8') : request.data;
    const headers: Record<string, string> = { ...request.headers, 'Accept-Encoding': ACCEPT_ENCODING };
    if (body) headers['Content-Length'] = String(body.length);
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(err instanceof ExchangeError ? err : networkError(err, request.url));
    };
    const tooLarge = () => new ExchangeError(`the answer exceeds ${o.maxResponseBytes} bytes`, 'ERR_BAD_RESPONSE', request.url);
    const send = request.url.startsWith('https:') ? https.request : http.request;
    const req = send(request.url, { method: request.method, headers, agent: o.agent, signal: o.signal }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // A compressed answer is counted again once inflated; one that is larger packed is larger unpacked.
        if (bytes > o.maxResponseBytes) fail(tooLarge());
        else chunks.push(chunk);
      });
      res.on('aborted', () => fail(new ExchangeError('the answer was cut off', 'ECONNRESET', request.url)));
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        let raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        try {
          raw = decoded(res, raw, o.maxResponseBytes);
        } catch (e) {
          fail(
            (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
              ? tooLarge()
              : new ExchangeError('the answer does not decompress', 'ERR_BAD_RESPONSE', request.url),
          );
          return;
        }
        settled = true;
        let data = raw.toString('utf8');
        if (data.charCodeAt(0) === 0xfeff) data = data.slice(1);
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, data });
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * The body decompressed when the answer says how it is encoded (the header is then removed, as axios did);
 * other encodings pass as they are. In one step, as receipts are small; `maxOutputLength` bounds a zip bomb.
 */
function decoded(res: http.IncomingMessage, raw: Buffer, max: number): Buffer {
  const encoding = (res.headers['content-encoding'] ?? '').toLowerCase();
  if (!raw.length || !['gzip', 'x-gzip', 'compress', 'x-compress', 'deflate', 'br'].includes(encoding)) return raw;
  delete res.headers['content-encoding'];
  const opts = { ...ZLIB, maxOutputLength: max };
  if (encoding === 'br') return zlib.brotliDecompressSync(raw, { ...BROTLI, maxOutputLength: max });
  // deflate is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but servers send it raw too: the first byte tells.
  if (encoding === 'deflate' && (raw[0]! & 0x0f) !== 0x08) return zlib.inflateRawSync(raw, opts);
  return zlib.unzipSync(raw, opts);
}
