import type { AxiosResponse } from 'axios';
import { defineAdapter, classifyHttpStatus, classifyNetworkError } from '../../src/sdk/index.ts';
import type { AdapterInstance, CaseStatus, CheckResult, DeliveryResult } from '../../src/sdk/index.ts';
import { encodeBody } from './body.ts';
import { resolveJsonPointer } from './json-pointer.ts';
import { TokenError, errorCode } from './oauth2.ts';
import { REFERENCE_PLACEHOLDER, restOptionsSchema, type StatusLookup } from './options.ts';
import { oneLine, parseJsonBody, problemTitle } from './response.ts';
import { createTargetHttp, failedExchange, headerString, shownUrl } from './target-http.ts';

export { restOptionsSchema, type RestOptions } from './options.ts';
export { TokenError } from './oauth2.ts';

const VERSION = '1.1.0';

/**
 * Cap on the answer we read. Back offices answer with a small receipt; a larger body is a fault,
 * and buffering it unbounded would let one target exhaust the hub's memory.
 */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** What `status()` throws: a clean message (never a body or a credential) and whether asking again may help. */
export class StatusLookupError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'StatusLookupError';
  }
}

export default defineAdapter({
  type: 'rest',
  version: VERSION,
  description: 'Delivers each case as one HTTP POST or PUT of the mapped JSON or XML (raw, as a form, or multipart with attachments) to a back-office endpoint.',
  defaultFormat: 'json',
  options: restOptionsSchema,

  create(options, ctx): AdapterInstance {
    const { logger, timeoutMs } = ctx;

    const target = createTargetHttp({
      adapter: 'rest',
      version: VERSION,
      accept: 'application/json, application/problem+json;q=0.9, */*;q=0.5',
      auth: options.auth,
      headers: options.headers,
      tls: options.tls,
      timeoutMs,
      logger,
      maxResponseBytes: MAX_RESPONSE_BYTES,
    });
    const send = target.send;

    const instance: AdapterInstance = {
      async deliver(message, dctx): Promise<DeliveryResult> {
        const started = Date.now();
        const meta = { deliveryId: dctx.deliveryId, attempt: dctx.attempt };
        const encoded = encodeBody(message, options);
        if (!encoded.ok) {
          // The mapping's output does not fit the configured body: sending it again cannot help.
          logger.warn('rest message does not fit the configured body', { ...meta, body: options.body });
          return { ok: false, retryable: false, error: encoded.error, errorKind: 'mapping-shape' };
        }
        let res: AxiosResponse<string>;
        try {
          res = await send(
            {
              method: options.method,
              url: options.url,
              data: encoded.data,
              headers: {
                'Content-Type': encoded.contentType,
                [options.idempotencyHeader]: dctx.idempotencyKey,
                'X-Amtsbote-Delivery': dctx.deliveryId,
              },
            },
            AbortSignal.timeout(timeoutMs),
            meta,
          );
        } catch (err) {
          return failedExchange(err, 'rest', logger, meta, started);
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
        return target.check(options.checkUrl ?? new URL(options.url).origin + '/');
      },

      async close(): Promise<void> {
        target.close();
      },
    };
    // Only offered when configured: the hub treats an adapter without status() as one it cannot ask.
    if (options.statusLookup) {
      const lookup = options.statusLookup;
      instance.status = (reference) => lookupStatus(lookup, reference);
    }
    return instance;

    async function lookupStatus(lookup: StatusLookup, reference: string): Promise<CaseStatus | null> {
      const url = lookup.url.replaceAll(REFERENCE_PLACEHOLDER, encodeURIComponent(reference));
      // The template, not the filled URL: no query string (it may carry a key), no reference in logs.
      const marker = 'AMTSBOTE-REFERENCE-MARKER';
      const shown = `${lookup.method} ${shownUrl(lookup.url.replaceAll(REFERENCE_PLACEHOLDER, marker)).replaceAll(marker, REFERENCE_PLACEHOLDER)}`;
      let res: AxiosResponse<string>;
      try {
        res = await send({ method: lookup.method, url }, AbortSignal.timeout(timeoutMs), { statusLookup: true });
      } catch (err) {
        if (err instanceof TokenError) throw new StatusLookupError(`status lookup: OAuth2 ${err.message}`, err.retryable);
        const r = classifyNetworkError({ code: errorCode(err) });
        throw new StatusLookupError(`status lookup ${shown} failed: ${r.ok ? 'unknown error' : r.error}`, true);
      }
      if (res.status === 404) return null;
      if (res.status < 200 || res.status >= 300) {
        const r = classifyHttpStatus(res.status, oneLine(res.statusText ?? '', 100));
        const title = problemTitle(res.headers['content-type'], res.data);
        const what = res.status === 401 || res.status === 403 ? 'credentials rejected: ' : '';
        const hint = res.status >= 300 && res.status < 400 ? ' (redirects are not followed: configure the final URL)' : '';
        throw new StatusLookupError(
          `status lookup ${what}${shown} answered HTTP ${res.status}${res.statusText ? ' ' + oneLine(res.statusText, 100) : ''}${title ? ': ' + title : ''}${hint}`,
          !r.ok && r.retryable,
          res.status,
        );
      }
      const body = parseJsonBody(res.headers['content-type'], res.data);
      if (body === undefined) {
        throw new StatusLookupError(`status lookup ${shown} answered HTTP ${res.status} without a JSON body`, false, res.status);
      }
      const raw = stringAt(body, lookup.statusPointer);
      if (raw === null) {
        throw new StatusLookupError(`status lookup ${shown}: the answer has no state at ${lookup.statusPointer}`, false, res.status);
      }
      if (!lookup.map) return { reference, status: raw };
      const mapped = Object.hasOwn(lookup.map, raw) ? lookup.map[raw] : undefined;
      if (mapped === undefined) {
        // Not the state itself: it is the back office's text. The caller has it in detail.backOfficeStatus.
        logger.warn('rest status lookup: the back office state is not in statusLookup.map; passed through unchanged', { statusPointer: lookup.statusPointer });
      }
      return { reference, status: mapped ?? raw, detail: { backOfficeStatus: raw } };
    }

    function accepted(res: AxiosResponse<string>, meta: Record<string, unknown>, durationMs: number): DeliveryResult {
      const pointer = options.referencePointer;
      if (pointer === undefined) {
        logger.debug('rest delivery accepted', { ...meta, httpStatus: res.status, durationMs });
        return { ok: true, reference: null, httpStatus: res.status };
      }
      const body = parseJsonBody(res.headers['content-type'], res.data);
      const reference = body === undefined ? null : stringAt(body, pointer);
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

/** A string or a number at the pointer; anything else (absent, empty, object) is none. */
function stringAt(body: unknown, pointer: string): string | null {
  const value = resolveJsonPointer(body, pointer);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value;
  return null;
}

/** Origin and path only: a query string may carry a key. */

