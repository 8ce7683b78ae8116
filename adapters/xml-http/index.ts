import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import axios, { type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { classifyHttpStatus, classifyNetworkError, defineAdapter } from '../../src/sdk/index.ts';
import type { AdapterInstance, CheckResult, DeliveryResult } from '../../src/sdk/index.ts';
import type { CompiledSchema } from '../../src/mapping/xsd/index.ts';
import { authHeaders, isStaticAuth } from '../rest/auth.ts';
import { errorCode, OAuth2TokenSource, TokenError } from '../rest/oauth2.ts';
import { oneLine, problemTitle } from '../rest/response.ts';
import { xmlHttpOptionsSchema, type ReferenceOption } from './options.ts';
import { readReference } from './reference.ts';

export { xmlHttpOptionsSchema, type XmlHttpOptions } from './options.ts';

const VERSION = '1.0.0';

/** Back offices answer with a small receipt; buffering an unbounded answer would let one target exhaust memory. */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** Schema errors shown in a delivery's error; the rest are counted. */
const ERRORS_SHOWN = 3;

type RequestConfig = Omit<AxiosRequestConfig<Buffer | string>, 'headers'> & { headers?: Record<string, string> };

export default defineAdapter({
  type: 'xml-http',
  version: VERSION,
  description:
    'POSTs (or PUTs) the mapped XML document to a back-office URL, optionally validated against an XSD first, and reads the reference from the XML or JSON answer.',
  defaultFormat: 'xml',
  options: xmlHttpOptionsSchema,

  async create(options, ctx): Promise<AdapterInstance> {
    const { logger, timeoutMs } = ctx;

    // Compiled once per schema set and shared by every target that names it. Imported only when a target has a
    // schema, so a hub without one never loads the libxml2 WebAssembly module. A schema that cannot be compiled
    // stops start-up here, with the file and the reason, instead of failing every delivery.
    let schema: CompiledSchema | undefined;
    if (options.schema) {
      const { loadSchema } = await import('../../src/mapping/xsd/index.ts');
      try {
        schema = loadSchema(options.schema);
      } catch (err) {
        throw new Error(`xml-http schema: ${err instanceof Error ? err.message : String(err)}`);
      }
      logger.debug('xml-http schema compiled', { schema: schema.path, files: schema.files.length });
    }

    // Per-target agents: connections are reused between deliveries to the same back office, one slow target
    // cannot take sockets from another, and close() can release them.
    const httpAgent = new http.Agent({ keepAlive: true });
    const httpsAgent = new https.Agent({ keepAlive: true });
    const auth = options.auth;
    const tokenHttpsAgent = auth.type === 'oauth2' && auth.tokenTls === 'system' ? new https.Agent({ keepAlive: true }) : httpsAgent;

    const client: AxiosInstance = axios.create({
      timeout: timeoutMs,
      // Every status is an answer to classify, not an exception.
      validateStatus: () => true,
      // A redirect would re-send the case (and the credentials) to an address nobody configured.
      maxRedirects: 0,
      responseType: 'text',
      responseEncoding: 'utf8',
      // Identity transforms: the document goes out byte for byte, the answer is parsed here.
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      maxContentLength: MAX_RESPONSE_BYTES,
      httpAgent,
      httpsAgent,
      headers: {
        'User-Agent': `Amtsbote-xml-http/${VERSION}`,
        Accept: 'application/xml, text/xml;q=0.9, application/json;q=0.8, application/problem+json;q=0.8, */*;q=0.5',
      },
    });

    /**
     * The request and its answer under one deadline: axios' `timeout` ends when the headers arrive, the signal
     * also bounds a back office that trickles its body (the rest adapter's lesson).
     */
    async function exchange(config: RequestConfig, deadline: AbortSignal): Promise<AxiosResponse<string>> {
      try {
        return await client.request<string>({ ...config, signal: deadline });
      } catch (err) {
        throw deadline.aborted ? { code: 'ETIMEDOUT' } : err;
      }
    }

    // OAuth2 as in the rest adapter: its token source, fed by this adapter's transport.
    const tokens =
      auth.type === 'oauth2'
        ? new OAuth2TokenSource({
            auth,
            logger,
            transport: (config) => exchange({ ...config, httpsAgent: tokenHttpsAgent }, AbortSignal.timeout(timeoutMs)),
          })
        : undefined;

    // Config headers first, so nothing below can override what the adapter sets (the schema forbids it anyway).
    const staticHeaders: Record<string, string> = { ...options.headers, ...(isStaticAuth(auth) ? authHeaders(auth) : {}) };

    /** A token, or TokenError('did not answer in time') once the attempt's deadline passes first. */
    function tokenBefore(deadline: AbortSignal): Promise<string> {
      const source = tokens!;
      const late = () => new TokenError(`token endpoint ${source.shownUrl} did not answer in time`, true, 'token-timeout');
      if (deadline.aborted) return Promise.reject(late());
      return new Promise<string>((resolve, reject) => {
        const onAbort = () => reject(late());
        deadline.addEventListener('abort', onAbort, { once: true });
        source.get().then(
          (t) => (deadline.removeEventListener('abort', onAbort), resolve(t)),
          (e: unknown) => (deadline.removeEventListener('abort', onAbort), reject(e)),
        );
      });
    }

    /** One request with the target's credentials; with oauth2 a 401 replaces the token once and sends again. */
    async function send(config: RequestConfig, deadline: AbortSignal, meta: Record<string, unknown>): Promise<AxiosResponse<string>> {
      if (!tokens) return exchange({ ...config, headers: { ...staticHeaders, ...config.headers } }, deadline);
      const withToken = (token: string): RequestConfig => ({
        ...config,
        headers: { ...staticHeaders, ...config.headers, Authorization: `Bearer ${token}` },
      });
      const token = await tokenBefore(deadline);
      const res = await exchange(withToken(token), deadline);
      if (res.status !== 401) return res;
      tokens.invalidate(token);
      logger.info('xml-http back office refused the oauth2 token (HTTP 401); retrying once with a new token', meta);
      return exchange(withToken(await tokenBefore(deadline)), deadline);
    }

    return {
      async deliver(message, dctx): Promise<DeliveryResult> {
        const started = Date.now();
        const meta = { deliveryId: dctx.deliveryId, attempt: dctx.attempt };

        if (message.format !== 'xml') {
          logger.warn('xml-http got a JSON message; set format: xml on the target', meta);
          return { ok: false, retryable: false, error: 'xml-http sends XML documents, but the mapping produced JSON (set format: xml on the target)', errorKind: 'format' };
        }

        if (schema) {
          const v = schema.validate(message.text);
          if (!v.ok) {
            // Sending again cannot make the document valid: permanent, and the back office never sees it.
            // The errors name elements and rules, never values, so they may go into the log.
            const shown = v.errors.slice(0, ERRORS_SHOWN).map((e) => `line ${e.line}: ${e.message}`);
            const more = v.total > shown.length ? ` (and ${v.total - shown.length} more)` : '';
            const name = path.basename(schema.path);
            logger.warn('xml-http message violates the schema; nothing was sent', {
              ...meta,
              schema: name,
              errors: v.errors.map((e) => ({ line: e.line, element: e.element, message: e.message })),
              total: v.total,
            });
            return {
              ok: false,
              retryable: false,
              error: `the message violates the schema ${name}, nothing was sent: ${shown.join('; ')}${more}`,
              errorKind: 'schema',
            };
          }
        }

        let res: AxiosResponse<string>;
        try {
          res = await send(
            {
              method: options.method,
              url: options.url,
              // A Buffer is sent as is: the mapping's text, byte for byte.
              data: Buffer.from(message.text, 'utf8'),
              headers: {
                'Content-Type': options.contentType,
                [options.idempotencyHeader]: dctx.idempotencyKey,
                'X-Amtsbote-Delivery': dctx.deliveryId,
              },
            },
            AbortSignal.timeout(Math.max(1, timeoutMs - (Date.now() - started))),
            meta,
          );
        } catch (err) {
          if (err instanceof TokenError) {
            logger.debug('xml-http delivery attempt failed at the token endpoint', { ...meta, errorKind: err.errorKind, durationMs: Date.now() - started });
            return {
              ok: false,
              retryable: err.retryable,
              error: `OAuth2 ${err.message}`,
              errorKind: err.errorKind,
              ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
            };
          }
          // Only the code is read: axios errors carry the request config (credentials) and the body.
          const result = classifyNetworkError({ code: errorCode(err) });
          logger.debug('xml-http delivery attempt failed', { ...meta, errorKind: result.ok ? undefined : result.errorKind, durationMs: Date.now() - started });
          return result;
        }

        const durationMs = Date.now() - started;
        if (res.status >= 200 && res.status < 300) return accepted(res, meta, durationMs);

        const result = classifyHttpStatus(res.status, oneLine(res.statusText ?? '', 100), headerString(res.headers['retry-after']));
        if (!result.ok) {
          const title = problemTitle(res.headers['content-type'], res.data);
          if (title) result.error += `: ${title}`;
          if (res.status >= 300 && res.status < 400) {
            result.error += ' (redirects are not followed: configure the final URL)';
            logger.warn('xml-http back office answered with a redirect; set url to the final address', { ...meta, httpStatus: res.status });
          }
        }
        logger.debug('xml-http delivery attempt refused', { ...meta, httpStatus: res.status, retryable: !result.ok && result.retryable, durationMs });
        return result;
      },

      // The rest adapter's rules: reachable unless the network fails, credentials are refused or the server is down.
      async check(): Promise<CheckResult> {
        const target = options.checkUrl ?? new URL(options.url).origin + '/';
        const shown = shownUrl(target);
        let res: AxiosResponse<string>;
        try {
          res = await send({ method: 'GET', url: target }, AbortSignal.timeout(timeoutMs), { check: true });
        } catch (err) {
          if (err instanceof TokenError) return { ok: false, message: `OAuth2 token request failed: ${err.message}` };
          const result = classifyNetworkError({ code: errorCode(err) });
          return { ok: false, message: `GET ${shown} failed: ${result.ok ? 'unknown error' : result.error}` };
        }
        if (res.status === 401 || res.status === 403) {
          const hint = auth.type === 'none' ? ' (no auth configured)' : auth.type === 'oauth2' ? ' (the OAuth2 token was refused)' : '';
          return { ok: false, message: `credentials rejected: GET ${shown} answered HTTP ${res.status}${hint}` };
        }
        if (res.status >= 500) return { ok: false, message: `back office unavailable: GET ${shown} answered HTTP ${res.status}` };
        // Any other answer (even 404 or 405 on a bare origin) proves the server is there and talking.
        return { ok: true, message: `reachable: GET ${shown} answered HTTP ${res.status}` };
      },

      async close(): Promise<void> {
        httpAgent.destroy();
        httpsAgent.destroy();
        tokenHttpsAgent.destroy();
        schema?.dispose();
        schema = undefined;
      },
    };

    function accepted(res: AxiosResponse<string>, meta: Record<string, unknown>, durationMs: number): DeliveryResult {
      const where: ReferenceOption | undefined = options.reference;
      if (!where) {
        logger.debug('xml-http delivery accepted', { ...meta, httpStatus: res.status, durationMs });
        return { ok: true, reference: null, httpStatus: res.status };
      }
      const read = readReference(where, res.headers['content-type'], res.data);
      if (read.found) {
        logger.debug('xml-http delivery accepted', { ...meta, httpStatus: res.status, durationMs, reference: read.reference });
        return { ok: true, reference: read.reference, httpStatus: res.status };
      }
      // As in the rest adapter: a 2xx without the reference is still a success. The back office has filed the
      // case; failing would dead-letter it and a replay would file it twice. Reconciliation finds it later.
      const at = where.from === 'xml' ? where.path : where.pointer;
      const warning = `back office accepted but gave no reference at ${at} (${read.why})`;
      logger.warn(`xml-http ${warning}`, { ...meta, httpStatus: res.status });
      return { ok: true, reference: null, httpStatus: res.status, warning };
    }
  },
});

/** Origin and path only: a query string may carry a key. */
function shownUrl(url: string): string {
  const u = new URL(url);
  return u.origin + u.pathname;
}

function headerString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
