// One HTTP exchange with the FIT-Connect platform, for the token endpoint and the Submission API alike.
// axios, as everywhere else in the hub: the same error codes (ECONNREFUSED, ETIMEDOUT …) the delivery side
// classifies, a hard timeout per request, no redirects followed, and every status returned as an answer.
// An axios error carries the request (and with it the client secret or the bearer token): only its code is read.

import axios, { type AxiosInstance } from 'axios';
import { parseStrictJsonText } from '../../http/strict-json.ts';

/** A failed exchange. `retryable` follows the design: network, timeout, 5xx, 408, 429 yes; other 4xx no. */
export interface FitConnectFailure {
  ok: false;
  retryable: boolean;
  error: string;
  /** `network`, `timeout`, `http-404`, `token-http-401`, `invalid-answer`, … */
  errorKind: string;
  httpStatus?: number;
}

export type Result<T> = { ok: true; value: T } | FitConnectFailure;

export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

export interface Exchange {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  data?: string;
}

/** Answers bigger than this are a fault: attachments are capped by the platform well below it. */
const MAX_ANSWER_BYTES = 200 * 1024 * 1024;

export function createHttp(): AxiosInstance {
  return axios.create({
    validateStatus: () => true,
    maxRedirects: 0,
    responseType: 'text',
    // Kept as text: a JWE compact or JSON we parse ourselves, so nothing is reshaped on the way.
    transformResponse: [(data: unknown) => data],
    maxContentLength: MAX_ANSWER_BYTES,
  });
}

export async function exchange(http: AxiosInstance, x: Exchange, timeoutMs: number): Promise<Result<Answer>> {
  try {
    const res = await http.request<string>({
      method: x.method,
      url: x.url,
      headers: x.headers,
      data: x.data,
      timeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const contentType = typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : '';
    return { ok: true, value: { status: res.status, contentType, body: typeof res.data === 'string' ? res.data : String(res.data ?? '') } };
  } catch (err) {
    return networkFailure(err, x.url);
  }
}

/** The failure for an exchange that threw, naming host and port (never the query, the secret or the token). */
export function networkFailure(err: unknown, url: string): FitConnectFailure {
  const code = errorCode(err) ?? 'ENETWORK';
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const where = `${u.hostname}:${port}`;
  if (code === 'ETIMEDOUT' || code === 'ECONNABORTED' || code === 'ERR_CANCELED') {
    return { ok: false, retryable: true, error: `${where} did not answer in time`, errorKind: 'timeout' };
  }
  return { ok: false, retryable: true, error: `cannot reach ${where}: network error ${code}`, errorKind: 'network' };
}

/** A non-2xx answer as a failure. */
export function httpFailure(what: string, answer: Answer, kindPrefix = 'http'): FitConnectFailure {
  const retryable = answer.status >= 500 || answer.status === 408 || answer.status === 429;
  const title = problemTitle(answer);
  return {
    ok: false,
    retryable,
    error: `${what} answered HTTP ${answer.status}${title ? `: ${title}` : ''}`,
    errorKind: `${kindPrefix}-${answer.status}`,
    httpStatus: answer.status,
  };
}

export function invalidAnswer(what: string, why: string, status?: number): FitConnectFailure {
  return {
    ok: false,
    retryable: false,
    error: `${what}: ${why}`,
    errorKind: 'invalid-answer',
    ...(status !== undefined ? { httpStatus: status } : {}),
  };
}

/** The `title` of an RFC 9457 problem answer, short and on one line; '' otherwise. */
function problemTitle(answer: Answer): string {
  if (!/json/i.test(answer.contentType)) return '';
  const read = parseStrictJsonText(answer.body);
  if (!read.ok) return '';
  const body = read.value;
  const title = body && typeof body === 'object' ? (body as Record<string, unknown>).title : undefined;
  return typeof title === 'string' ? title.replace(/\s+/g, ' ').slice(0, 120) : '';
}

function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
