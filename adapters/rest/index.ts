import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { defineAdapter, classifyHttpStatus, classifyNetworkError } from '../../src/sdk/index.ts';
import type { CheckResult, DeliveryResult } from '../../src/sdk/index.ts';
import { authHeaders } from './auth.ts';
import { resolveJsonPointer } from './json-pointer.ts';
import { restOptionsSchema } from './options.ts';
import { oneLine, parseJsonBody, problemTitle } from './response.ts';

export { restOptionsSchema, type RestOptions } from './options.ts';

const VERSION = '1.0.0';

/**
 * Cap on the answer we read. Back offices answer with a small receipt; a larger body is a fault,
 * and buffering it unbounded would let one target exhaust the hub's memory.
 */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export default defineAdapter({
  type: 'rest',
  version: VERSION,
  description: 'Delivers each case as one HTTP POST or PUT of the mapped JSON or XML to a back-office endpoint.',
  defaultFormat: 'json',
  options: restOptionsSchema,

  create(options, ctx) {
    const { logger, timeoutMs } = ctx;

    // Per-target agents: connections are reused between deliveries to the same back office,
    // one slow target cannot take sockets from another, and close() can release them.
    const httpAgent = new http.Agent({ keepAlive: true });
    const httpsAgent = new https.Agent({ keepAlive: true });

    const client: AxiosInstance = axios.create({
      timeout: timeoutMs,
      // Every status is an answer to classify, not an exception.
      validateStatus: () => true,
      // A redirect would re-send the case (and the credentials) to an address nobody configured.
      maxRedirects: 0,
      responseType: 'text',
      responseEncoding: 'utf8',
      // Identity transforms: the mapped text is sent byte for byte and the answer is parsed here,
      // only when it says it is JSON.
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      maxContentLength: MAX_RESPONSE_BYTES,
      httpAgent,
      httpsAgent,
      headers: {
        'User-Agent': `Amtsbote-rest/${VERSION}`,
        Accept: 'application/json, application/problem+json;q=0.9, */*;q=0.5',
      },
    });

    // Config headers first, so nothing below can be overridden (the schema forbids it anyway).
    const baseHeaders: Record<string, string> = { ...options.headers, ...authHeaders(options.auth) };

    /**
     * The request and its answer under one deadline. axios' own `timeout` ends when the response
     * headers arrive; the signal also bounds a back office that trickles its body.
     */
    async function exchange(config: Parameters<AxiosInstance['request']>[0]): Promise<AxiosResponse<string>> {
      const deadline = AbortSignal.timeout(timeoutMs);
      try {
        return await client.request<string>({ ...config, signal: deadline });
      } catch (err) {
        throw deadline.aborted ? { code: 'ETIMEDOUT' } : err;
      }
    }

    return {
      async deliver(message, dctx): Promise<DeliveryResult> {
        const started = Date.now();
        const meta = { deliveryId: dctx.deliveryId, attempt: dctx.attempt };
        let res: AxiosResponse<string>;
        try {
          res = await exchange({
            method: options.method,
            url: options.url,
            // A Buffer is sent as is: the mapping's text, never a re-serialisation of message.body.
            data: Buffer.from(message.text, 'utf8'),
            headers: {
              ...baseHeaders,
              'Content-Type': message.contentType,
              [options.idempotencyHeader]: dctx.idempotencyKey,
              'X-Amtsbote-Delivery': dctx.deliveryId,
            },
          });
        } catch (err) {
          // Only the error code is read: axios errors carry the request config, headers (credentials)
          // and body, so the error object itself is never logged or returned.
          const result = classifyNetworkError({ code: errorCode(err) });
          logger.debug('rest delivery attempt failed', { ...meta, errorKind: result.ok ? undefined : result.errorKind, durationMs: Date.now() - started });
          return result;
        }

        const durationMs = Date.now() - started;
        if (res.status >= 200 && res.status < 300) {
          return accepted(res, meta, durationMs);
        }

        const result = classifyHttpStatus(res.status, oneLine(res.statusText ?? '', 100), headerString(res.headers['retry-after']));
        if (!result.ok) {
          const title = problemTitle(res.headers['content-type'], res.data);
          if (title) result.error += `: ${title}`;
          if (res.status >= 300 && res.status < 400) {
            result.error += ' (redirects are not followed: configure the final URL)';
            logger.warn('rest back office answered with a redirect; set url to the final address', { ...meta, httpStatus: res.status });
          }
        }
        logger.debug('rest delivery attempt refused', {
          ...meta,
          httpStatus: res.status,
          retryable: !result.ok && result.retryable,
          durationMs,
        });
        return result;
      },

      async check(): Promise<CheckResult> {
        const target = options.checkUrl ?? new URL(options.url).origin + '/';
        // Origin and path only: a query string may carry a key.
        const shown = (() => {
          const u = new URL(target);
          return u.origin + u.pathname;
        })();
        let res: AxiosResponse<string>;
        try {
          res = await exchange({ method: 'GET', url: target, headers: baseHeaders });
        } catch (err) {
          const result = classifyNetworkError({ code: errorCode(err) });
          return { ok: false, message: `GET ${shown} failed: ${result.ok ? 'unknown error' : result.error}` };
        }
        if (res.status === 401 || res.status === 403) {
          const hint = options.auth.type === 'none' ? ' (no auth configured)' : '';
          return { ok: false, message: `credentials rejected: GET ${shown} answered HTTP ${res.status}${hint}` };
        }
        if (res.status >= 500) {
          return { ok: false, message: `back office unavailable: GET ${shown} answered HTTP ${res.status}` };
        }
        // Any other answer (even 404 or 405 on a bare origin) proves the server is there and talking.
        return { ok: true, message: `reachable: GET ${shown} answered HTTP ${res.status}` };
      },

      async close(): Promise<void> {
        httpAgent.destroy();
        httpsAgent.destroy();
      },
    };

    function accepted(res: AxiosResponse<string>, meta: Record<string, unknown>, durationMs: number): DeliveryResult {
      const pointer = options.referencePointer;
      if (pointer === undefined) {
        logger.debug('rest delivery accepted', { ...meta, httpStatus: res.status, durationMs });
        return { ok: true, reference: null, httpStatus: res.status };
      }
      const reference = referenceAt(parseJsonBody(res.headers['content-type'], res.data), pointer);
      if (reference !== null) {
        logger.debug('rest delivery accepted', { ...meta, httpStatus: res.status, durationMs, reference });
        return { ok: true, reference, httpStatus: res.status };
      }
      // Decision: a 2xx without the reference is still a success. The back office has filed the case;
      // failing here would dead-letter it, and a retry or an operator's replay would file it a second
      // time. Reconciliation finds the case later; the warning (log and sync-log event) makes the
      // missing reference visible meanwhile.
      const warning = `back office accepted but gave no reference at ${pointer}`;
      logger.warn(`rest ${warning}`, { ...meta, httpStatus: res.status });
      return { ok: true, reference: null, httpStatus: res.status, warning };
    }
  },
});

/** A string or a number at the pointer is a reference; anything else (absent, empty, object) is none. */
function referenceAt(body: unknown, pointer: string): string | null {
  if (body === undefined) return null;
  const value = resolveJsonPointer(body, pointer);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value;
  return null;
}

function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

function headerString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
