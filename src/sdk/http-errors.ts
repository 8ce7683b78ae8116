import type { DeliveryResult } from './types.ts';

/**
 * The design's rule for HTTP answers: 5xx, 408 and 429 are retryable, every other 4xx is permanent.
 * Shared by every adapter that speaks HTTP, so they classify alike.
 */
export function classifyHttpStatus(
  status: number,
  statusText: string,
  retryAfter?: { header: string | null | undefined; now: number },
): DeliveryResult {
  const retryable = status >= 500 || status === 408 || status === 429;
  const result: DeliveryResult = {
    ok: false,
    retryable,
    error: `back office answered HTTP ${status}${statusText ? ' ' + statusText : ''}`,
    errorKind: `http-${status}`,
    httpStatus: status,
  };
  if (retryable) {
    const retryAfterMs = retryAfter ? parseRetryAfter(retryAfter.header, retryAfter.now) : undefined;
    if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  }
  return result;
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3), the latter counted from the hub's `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ftp:': '21', 'sftp:': '22', 'ssh:': '22' };

/** What a thrown network failure may carry: Node's system errors, axios' wrapper (config, cause), or our own `{ code, url }`. */
export interface NetworkErrorLike {
  code?: unknown;
  url?: unknown;
  config?: { url?: unknown } | undefined;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  cause?: unknown;
}

/**
 * `host:port` of a URL, the part of it a network error may show: never the path or query (tokens travel
 * there) nor user and password.
 */
export function hostAndPort(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (!u.hostname) return undefined;
  const port = u.port || DEFAULT_PORTS[u.protocol];
  return port ? `${u.hostname}:${port}` : u.hostname;
}

function field(err: unknown, name: string): unknown {
  return err !== null && typeof err === 'object' ? (err as Record<string, unknown>)[name] : undefined;
}

/** The error's code, or its cause's (fetch and axios put the system error there). */
export function networkCode(err: unknown): string | undefined {
  const code = field(err, 'code');
  if (typeof code === 'string') return code;
  const cause = field(err, 'cause');
  return cause !== undefined && cause !== err ? networkCode(cause) : undefined;
}

/**
 * Where the failed connection went, from the error itself: the request's URL (axios' config, reduced to
 * host:port), a system error's address and port, or the host name a DNS lookup failed for.
 */
export function networkEndpoint(err: unknown): string | undefined {
  for (const url of [field(err, 'url'), field(field(err, 'config'), 'url')]) {
    if (typeof url === 'string') {
      const shown = hostAndPort(url);
      if (shown) return shown;
    }
  }
  const host = field(err, 'address') ?? field(err, 'hostname');
  const port = field(err, 'port');
  if (typeof host === 'string' && host) return typeof port === 'number' || typeof port === 'string' ? `${host}:${port}` : host;
  const cause = field(err, 'cause');
  return cause !== undefined && cause !== err ? networkEndpoint(cause) : undefined;
}

/** What happened, in words that name the other end. */
function describeNetworkError(code: string, endpoint: string | undefined): string {
  if (!endpoint) return `network error ${code}`;
  switch (code) {
    case 'ECONNREFUSED':
      return `network error ECONNREFUSED: ${endpoint} refused the connection (nothing listens there)`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `network error ${code}: ${endpoint} closed the connection`;
    case 'ENOTFOUND':
      return `network error ENOTFOUND: the host name of ${endpoint} is not known to DNS`;
    case 'EAI_AGAIN':
      return `network error EAI_AGAIN: DNS could not look up ${endpoint} just now`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `network error ${code}: no route to ${endpoint}`;
    default:
      return `network error ${code} talking to ${endpoint}`;
  }
}

/**
 * Network failures (refused, reset, DNS, timeouts) are always retryable. The message names host and port
 * (from `url` when given, else from the error), so an operator sees which back office is down.
 */
export function classifyNetworkError(err: unknown, url?: string): DeliveryResult {
  const code = networkCode(err) ?? 'ENETWORK';
  const endpoint = (url !== undefined ? hostAndPort(url) : undefined) ?? networkEndpoint(err);
  const timeout = TIMEOUT_CODES.has(code);
  return {
    ok: false,
    retryable: true,
    error: timeout ? `back office${endpoint ? ' ' + endpoint : ''} did not answer in time` : describeNetworkError(code, endpoint),
    errorKind: timeout ? 'timeout' : 'network',
  };
}
