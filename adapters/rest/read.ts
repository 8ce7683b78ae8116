// Reading cases from the back office (status lookup and listing): one GET of a JSON document with the target's
// credentials, and the fields of a case picked out of it by JSON pointers. Errors name the URL (no query string),
// the status and a problem+json title; never a body, a reference in a query or a credential.
import type { HttpAnswer } from '../_http/exchange.ts';
import type { Logger } from 'winston';
import { classifyHttpStatus, classifyNetworkError, type CaseStatus } from '../../src/sdk/index.ts';
import { resolveJsonPointer } from '../_http/json-pointer.ts';
import { TokenError } from '../_http/oauth2.ts';
import { oneLine, parseJsonBody, problemTitle } from '../_http/response.ts';
import type { TargetHttp } from '../_http/target-http.ts';

/**
 * What `status()` and `list()` throw: a clean message, whether asking again may help, and how long the back
 * office asked to wait (Retry-After); the hub's reconciliation retries by these.
 */
export class BackOfficeReadError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly httpStatus?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** What `status()` throws. */
export class StatusLookupError extends BackOfficeReadError {}

/** What `list()` throws (from the iterator, at the page that failed). */
export class ListingError extends BackOfficeReadError {}

export interface ReadSpec {
  /** `status lookup` or `listing`: the start of every message. */
  what: string;
  /** `GET https://fv.example/auftraege/{reference}`: safe to show. */
  shown: string;
  error: new (message: string, retryable: boolean, httpStatus?: number, retryAfterMs?: number) => BackOfficeReadError;
  /** The hub's clock: a Retry-After date is reckoned against it. */
  clock: () => number;
}

/**
 * GETs `url` and returns its parsed JSON body, or `null` for a 404. Anything else that is not a 2xx JSON answer
 * throws `spec.error` with a clean message.
 */
export async function getJson(
  target: TargetHttp,
  url: string,
  timeoutMs: number,
  spec: ReadSpec,
  meta: Record<string, unknown>,
): Promise<unknown> {
  const { what, shown } = spec;
  let res: HttpAnswer;
  try {
    res = await target.send({ method: 'GET', url }, AbortSignal.timeout(timeoutMs), meta);
  } catch (err) {
    if (err instanceof TokenError) throw new spec.error(`${what}: OAuth2 ${err.message}`, err.retryable);
    const r = classifyNetworkError(err, url);
    throw new spec.error(`${what} ${shown} failed: ${r.ok ? 'unknown error' : r.error}`, true);
  }
  if (res.status === 404) return null;
  if (res.status < 200 || res.status >= 300) {
    const r = classifyHttpStatus(res.status, oneLine(res.statusText ?? '', 100), {
      header: res.headers['retry-after'] as string | undefined,
      now: spec.clock(),
    });
    const title = problemTitle(res.headers['content-type'], res.data);
    const cred = res.status === 401 || res.status === 403 ? 'credentials rejected: ' : '';
    const hint = res.status >= 300 && res.status < 400 ? ' (redirects are not followed: configure the final URL)' : '';
    throw new spec.error(
      `${what} ${cred}${shown} answered HTTP ${res.status}${res.statusText ? ' ' + oneLine(res.statusText, 100) : ''}${title ? ': ' + title : ''}${hint}`,
      !r.ok && r.retryable,
      res.status,
      r.ok ? undefined : r.retryAfterMs,
    );
  }
  const body = parseJsonBody(res.headers['content-type'], res.data);
  if (body === undefined) throw new spec.error(`${what} ${shown} answered HTTP ${res.status} without a JSON body`, false, res.status);
  return body;
}

/** A string or a number at the pointer; anything else (absent, empty, object) is none. */
export function stringAt(body: unknown, pointer: string): string | null {
  const value = resolveJsonPointer(body, pointer);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value;
  return null;
}

export interface CaseFields {
  statusPointer: string;
  reasonPointer?: string | undefined;
  updatedAtPointer?: string | undefined;
  idempotencyKeyPointer?: string | undefined;
  map?: Record<string, string> | undefined;
}

/**
 * The case in `doc` with the state mapped (when `map` is set: the back office's own word in
 * `detail.backOfficeStatus`), or `null` when it has no state. Optional fields are left out when absent.
 */
export function caseAt(
  doc: unknown,
  reference: string,
  f: CaseFields,
  logger: Logger,
  option: 'statusLookup' | 'listing',
): CaseStatus | null {
  const raw = stringAt(doc, f.statusPointer);
  if (raw === null) return null;
  const c: CaseStatus = { reference, status: raw };
  if (f.map) {
    const mapped = Object.hasOwn(f.map, raw) ? f.map[raw] : undefined;
    if (mapped === undefined) {
      // Not the state itself: it is the back office's text. The caller has it in detail.backOfficeStatus.
      logger.warn(
        `rest ${option === 'listing' ? 'listing' : 'status lookup'}: the back office state is not in ${option}.map; passed through unchanged`,
        { statusPointer: f.statusPointer },
      );
    }
    c.status = mapped ?? raw;
    c.detail = { backOfficeStatus: raw };
  }
  const key = f.idempotencyKeyPointer ? stringAt(doc, f.idempotencyKeyPointer) : null;
  if (key !== null) c.idempotencyKey = key;
  const updatedAt = f.updatedAtPointer ? isoTime(resolveJsonPointer(doc, f.updatedAtPointer)) : null;
  if (updatedAt !== null) c.updatedAt = updatedAt;
  const reason = f.reasonPointer ? stringAt(doc, f.reasonPointer) : null;
  if (reason !== null) c.reason = oneLine(reason, 500);
  return c;
}

/** An ISO 8601 string as given (when it parses) or epoch milliseconds as ISO; anything else is none. */
function isoTime(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v).toISOString();
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Date.parse(v))) return v;
  return null;
}
