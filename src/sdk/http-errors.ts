import type { DeliveryResult } from './types.ts';

/**
 * The design's rule for HTTP answers: 5xx, 408 and 429 are retryable, every other 4xx is permanent.
 * Shared by every adapter that speaks HTTP, so they classify alike.
 */
export function classifyHttpStatus(status: number, statusText: string, retryAfter?: { header: string | null | undefined; now: number }): DeliveryResult {
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

/** Network failures (refused, reset, DNS, timeouts) are always retryable. */
export function classifyNetworkError(err: { code?: string; message?: string }): DeliveryResult {
  const code = err.code ?? 'ENETWORK';
  const timeout = TIMEOUT_CODES.has(code);
  return {
    ok: false,
    retryable: true,
    error: timeout ? 'back office did not answer in time' : `network error ${code}`,
    errorKind: timeout ? 'timeout' : 'network',
  };
}
