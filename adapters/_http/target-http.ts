import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import type { Logger } from 'winston';
import { authHeaders, isStaticAuth } from './auth.ts';
import { classifyNetworkError, type CheckResult, type Clock, type DeliveryResult } from '../../src/sdk/index.ts';
import { OAuth2TokenSource, TokenError } from './oauth2.ts';
import type { HttpAuth, HttpTls } from './options.ts';
import { tlsAgentOptions } from '../../src/sdk/index.ts';
import { exchange as directExchange, type HttpAnswer, type HttpRequest } from './exchange.ts';

export type { HttpAnswer } from './exchange.ts';
export type RequestConfig = HttpRequest;

/**
 * The variables axios (proxy-from-env) reads for a proxy, in either case; NO_PROXY matters only beside one.
 * Read once, when the target is created: a hub's environment does not change while it runs.
 */
const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'all_proxy'];

/** Whether the environment names a proxy that a request of this target could go through. */
export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARIABLES.some((name) => Boolean(env[name] || env[name.toUpperCase()]));
}

/** The HTTP side of one target, shared by the adapters that speak HTTP (rest, xml-http). */
export interface TargetHttp {
  /**
   * One request with the target's credentials, bounded by `deadline`. With oauth2, a 401 means the token was
   * revoked or expired early: it is replaced once and the request sent once more, with the same idempotency
   * key. Throws TokenError, or a network error whose code the caller classifies.
   */
  send(config: RequestConfig, deadline: AbortSignal, meta: Record<string, unknown>): Promise<HttpAnswer>;
  /**
   * Reachability and credentials: a GET of `url` with the target's credentials. Reachable unless the network
   * fails, the credentials are refused (401/403) or the server is down (5xx).
   */
  check(url: string): Promise<CheckResult>;
  /** Releases the target's sockets. */
  close(): void;
}

/**
 * `fn` under a deadline of `ms` that is cleared when `fn` settles. Per delivery, in place of
 * AbortSignal.timeout(), whose timer and signal live on for the whole timeout after the answer came
 * (thousands of them at a few hundred deliveries a second, for the garbage collector to track).
 */
export async function withDeadline<T>(ms: number, fn: (deadline: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), ms);
  try {
    return await fn(deadline.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** A URL without query string or credentials, safe to show in messages. */
export function shownUrl(url: string): string {
  const u = new URL(url);
  return u.origin + u.pathname;
}

/** A header value as a string, or undefined (a repeated header is not one value). */
export function headerString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The delivery result for an exchange that threw: a token endpoint's failure, or a network error. Only the
 * error code and the request's host and port are read: axios errors carry the request config, headers
 * (credentials) and body, so the error object itself is never logged or returned. `started` is the attempt's
 * performance.now(), for the logged duration.
 */
export function failedExchange(
  err: unknown,
  adapter: string,
  logger: Logger,
  meta: Record<string, unknown>,
  started: number,
): DeliveryResult {
  if (err instanceof TokenError) {
    logger.debug(`${adapter} delivery attempt failed at the token endpoint`, {
      ...meta,
      errorKind: err.errorKind,
      durationMs: Math.round(performance.now() - started),
    });
    return {
      ok: false,
      retryable: err.retryable,
      error: `OAuth2 ${err.message}`,
      errorKind: err.errorKind,
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    };
  }
  const result = classifyNetworkError(err);
  logger.debug(`${adapter} delivery attempt failed`, {
    ...meta,
    errorKind: result.ok ? undefined : result.errorKind,
    durationMs: Math.round(performance.now() - started),
  });
  return result;
}

export interface TargetHttpOptions {
  /** The adapter's type, for the User-Agent and log lines. */
  adapter: string;
  version: string;
  accept: string;
  auth: HttpAuth;
  headers?: Record<string, string> | undefined;
  tls?: HttpTls | undefined;
  timeoutMs: number;
  logger: Logger;
  /** Cap on the answer read: a back office answers with a small receipt; more is a fault. */
  maxResponseBytes: number;
  /** The hub's clock (token expiry, Retry-After dates). */
  clock: Clock;
}

export function createTargetHttp(o: TargetHttpOptions): TargetHttp {
  const { auth, logger, timeoutMs } = o;
  // Per-target agents: connections are reused between deliveries to the same back office, one slow target
  // cannot take sockets from another, and close() can release them. TLS files are read here, once: a broken
  // file stops start-up with the option's name.
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true, ...tlsAgentOptions(o.tls) });
  if (o.tls?.rejectUnauthorized === false) {
    logger.warn(`${o.adapter} tls.rejectUnauthorized is false: the back office certificate is not verified`);
  }
  // A public identity provider is not signed by the data centre's private CA: `tokenTls: system` keeps Node's trust store for it.
  const tokenHttpsAgent = auth.type === 'oauth2' && auth.tokenTls === 'system' ? new https.Agent({ keepAlive: true }) : httpsAgent;

  const defaultHeaders = { 'User-Agent': `Amtsbote-${o.adapter}/${o.version}`, Accept: o.accept };

  /**
   * Decision: the exchange is node:http's (exchange.ts) unless a proxy variable is set. axios' request path was
   * the largest piece of the per-delivery JavaScript (bench/per-delivery.ts: 2-4x a bare node:http request,
   * about 0.1-0.2 ms of CPU per delivery); what the targets rely on of it is short (no redirects, a size cap,
   * decompression, the deadline, TLS by the agent) and lives in exchange.ts. Proxies are what it would take
   * most to re-implement (HTTP_PROXY/HTTPS_PROXY/ALL_PROXY with NO_PROXY, CONNECT tunnels for https with the
   * target's TLS options, proxy credentials): a hub whose environment names one keeps axios for its targets,
   * configured as before, so proxying stays exactly what it was.
   */
  const client: AxiosInstance | undefined = proxyConfigured()
    ? axios.create({
        timeout: timeoutMs,
        // Every status is an answer to classify, not an exception.
        validateStatus: () => true,
        // A redirect would re-send the case (and the credentials) to an address nobody configured.
        maxRedirects: 0,
        responseType: 'text',
        responseEncoding: 'utf8',
        // Identity transforms: the body is sent byte for byte and the answer is parsed by the adapter,
        // only when it says what it is.
        transformRequest: [(data: unknown) => data],
        transformResponse: [(data: unknown) => data],
        maxContentLength: o.maxResponseBytes,
        httpAgent,
        httpsAgent,
        headers: defaultHeaders,
      })
    : undefined;

  /**
   * The request and its answer under one deadline, which also bounds a back office that trickles its body
   * (axios' own `timeout` ends when the response headers arrive). A deliver() passes one deadline to
   * everything it does (token, request, retry), so the attempt stays within timeoutMs.
   */
  async function exchange(
    config: RequestConfig,
    deadline: AbortSignal,
    agents = { http: httpAgent, https: httpsAgent },
  ): Promise<HttpAnswer> {
    try {
      if (!client) {
        const agent = config.url.startsWith('https:') ? agents.https : agents.http;
        return await directExchange(
          { ...config, headers: { ...defaultHeaders, ...config.headers } },
          { agent, signal: deadline, maxResponseBytes: o.maxResponseBytes },
        );
      }
      const res = await client.request<string>({ ...config, httpsAgent: agents.https, signal: deadline });
      return { status: res.status, statusText: res.statusText, headers: res.headers as HttpAnswer['headers'], data: res.data };
    } catch (err) {
      // The URL goes along so the timeout can name host and port; nothing else of the request.
      throw deadline.aborted ? { code: 'ETIMEDOUT', url: config.url } : err;
    }
  }

  const tokens =
    auth.type === 'oauth2'
      ? new OAuth2TokenSource({
          auth,
          logger,
          now: o.clock,
          // The token request has its own deadline: it is shared by every delivery waiting for it.
          transport: (config) => exchange(config, AbortSignal.timeout(timeoutMs), { http: httpAgent, https: tokenHttpsAgent }),
        })
      : undefined;

  // Config headers first, so nothing below can override what the adapter sets (the schema forbids it anyway).
  const staticHeaders: Record<string, string> = { ...o.headers, ...(isStaticAuth(auth) ? authHeaders(auth) : {}) };

  /** A token, or TokenError('did not answer in time') once the caller's deadline passes first. */
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

  const send: TargetHttp['send'] = async (config, deadline, meta) => {
    if (!tokens) return exchange({ ...config, headers: { ...staticHeaders, ...config.headers } }, deadline);
    const withToken = (token: string): RequestConfig => ({
      ...config,
      headers: { ...staticHeaders, ...config.headers, Authorization: `Bearer ${token}` },
    });
    const token = await tokenBefore(deadline);
    const res = await exchange(withToken(token), deadline);
    if (res.status !== 401) return res;
    tokens.invalidate(token);
    logger.info(`${o.adapter} back office refused the oauth2 token (HTTP 401); retrying once with a new token`, meta);
    return exchange(withToken(await tokenBefore(deadline)), deadline);
  };

  return {
    send,
    async check(url) {
      const shown = shownUrl(url);
      let res: HttpAnswer;
      try {
        res = await send({ method: 'GET', url }, AbortSignal.timeout(timeoutMs), { check: true });
      } catch (err) {
        if (err instanceof TokenError) {
          // 400/401/403 from the token endpoint: the client id or secret is refused (RFC 6749 §5.2 invalid_client).
          const refused = err.httpStatus === 400 || err.httpStatus === 401 || err.httpStatus === 403;
          return { ok: false, ...(refused ? { refused } : {}), message: `OAuth2 token request failed: ${err.message}` };
        }
        const result = classifyNetworkError(err, url);
        return { ok: false, message: `GET ${shown} failed: ${result.ok ? 'unknown error' : result.error}` };
      }
      if (res.status === 401 || res.status === 403) {
        const hint = auth.type === 'none' ? ' (no auth configured)' : auth.type === 'oauth2' ? ' (the OAuth2 token was refused)' : '';
        return { ok: false, refused: true, message: `credentials rejected: GET ${shown} answered HTTP ${res.status}${hint}` };
      }
      if (res.status >= 500) return { ok: false, message: `back office unavailable: GET ${shown} answered HTTP ${res.status}` };
      // Any other answer (even 404 or 405 on a bare origin) proves the server is there and talking.
      return { ok: true, message: `reachable: GET ${shown} answered HTTP ${res.status}` };
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
      tokenHttpsAgent.destroy();
    },
  };
}
