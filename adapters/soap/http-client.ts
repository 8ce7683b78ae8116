// The HTTP client node-soap sends through (its `httpClient` option). node-soap's own client would do,
// but this one gives the adapter what a delivery needs:
// - one deadline for the whole exchange (an AbortSignal): axios' `timeout` only bounds a silent socket,
//   so a back office that trickles its answer would outlast it (the REST adapter's lesson);
// - per-target keep-alive agents (the TLS client certificate lives in the https one), no redirects,
//   a cap on the answer's size, and the answer decoded by its declared charset (legacy back offices
//   answer in ISO-8859-1);
// - no `debug('node-soap')` output: node-soap's client prints whole requests (passwords in PasswordText
//   tokens, citizens' data) when DEBUG=node-soap is set;
// - no network fetches of WSDLs or schemas: node-soap GETs only for those, and this client refuses.

import type http from 'node:http';
import type https from 'node:https';
import axios, { type AxiosInstance, type AxiosPromise, type AxiosResponse } from 'axios';
import type { IHttpClient } from 'soap';
import type { Answer } from './faults.ts';

/** Back offices answer with a small receipt; buffering an unbounded answer would let one target exhaust memory. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/**
 * The per-call options object. node-soap hands the `options` of an operation call to the http client as
 * they are (after a security's `addOptions`, which WSSecurity does not have), so this one object carries
 * the deadline in and the answer's status out.
 */
export interface Exchange {
  signal: AbortSignal;
  timeout: number;
  /** Filled when an HTTP answer arrived, whatever its status. */
  answer?: Answer;
  /** Called if node-soap's response handling throws, so the call still settles. */
  crash?: (err: unknown) => void;
}

export interface SoapResponse {
  status: number;
  statusText: string;
  headers: Record<string, unknown>;
  data: string;
}

export class SoapHttpClient implements IHttpClient {
  private readonly http: AxiosInstance;

  constructor(agents: { httpAgent: http.Agent; httpsAgent: https.Agent }, userAgent: string) {
    this.http = axios.create({
      ...agents,
      // Every status is an answer for node-soap to parse (a fault comes with 500), not an exception.
      validateStatus: () => true,
      // A redirect would re-send the case (and a PasswordText token) to an address nobody configured.
      maxRedirects: 0,
      responseType: 'arraybuffer',
      maxContentLength: MAX_RESPONSE_BYTES,
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      transitional: { clarifyTimeoutError: true },
      headers: { 'User-Agent': userAgent, Accept: 'application/soap+xml, text/xml;q=0.9, */*;q=0.5' },
    });
  }

  request(
    rurl: string,
    data: unknown,
    callback: (error: unknown, res?: SoapResponse, body?: string) => unknown,
    exheaders?: Record<string, unknown>,
    exoptions?: Record<string, unknown>,
  ): AxiosPromise {
    const exchange = exoptions as Partial<Exchange> | undefined;
    if (typeof data !== 'string') {
      // node-soap sends a GET (no data) only to fetch a WSDL or schema over http(s).
      const refused = Object.assign(
        new Error(`refusing to fetch ${safeUrl(rurl)} over the network: keep the WSDL and everything it imports local`),
        {
          code: 'EREMOTEWSDL',
        },
      );
      queueMicrotask(() => callback(refused));
      const p = Promise.reject(refused) as AxiosPromise;
      p.catch(() => undefined);
      return p;
    }
    const p = this.http.request<ArrayBuffer>({
      url: rurl,
      method: 'POST',
      // A Buffer is sent as is, with its exact length.
      data: Buffer.from(data, 'utf8'),
      headers: { ...(exheaders as Record<string, string> | undefined) },
      ...(exchange?.signal ? { signal: exchange.signal } : {}),
      ...(exchange?.timeout ? { timeout: exchange.timeout } : {}),
    });
    p.then(
      (res: AxiosResponse<ArrayBuffer>) => {
        const response: SoapResponse = {
          status: res.status,
          statusText: res.statusText ?? '',
          headers: { ...(res.headers as Record<string, unknown>) },
          data: decodeBody(res.data, res.headers['content-type']),
        };
        if (exchange) exchange.answer = { status: response.status, statusText: response.statusText, headers: response.headers };
        settle(() => callback(null, response, response.data));
      },
      // The error goes to node-soap and on to the adapter, which reads only its code: axios errors carry
      // the request config (headers, body).
      (err: unknown) => settle(() => callback(err)),
    );
    return p;

    function settle(fn: () => unknown): void {
      try {
        fn();
      } catch (err) {
        // node-soap parses inside this callback; a throw here would otherwise be an unhandled rejection.
        exchange?.crash?.(err);
      }
    }
  }
}

/** The answer as text, by the charset of its Content-Type, else its XML declaration, else UTF-8. */
export function decodeBody(data: unknown, contentType: unknown): string {
  const buf = Buffer.isBuffer(data) ? data : data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(String(data ?? ''), 'utf8');
  let charset = typeof contentType === 'string' ? /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType)?.[1] : undefined;
  if (!charset) charset = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/.exec(buf.subarray(0, 200).toString('latin1'))?.[1];
  try {
    // TextDecoder drops a byte-order mark, which node-soap's XML parser would trip over.
    return new TextDecoder(charset ?? 'utf-8').decode(buf);
  } catch {
    return new TextDecoder('utf-8').decode(buf);
  }
}

/** Origin and path only: a query string may carry a key. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.origin + u.pathname;
  } catch {
    return '(invalid URL)';
  }
}
