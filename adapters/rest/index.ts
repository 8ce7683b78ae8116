import type { HttpAnswer } from '../_http/exchange.ts';
import { defineAdapter, classifyHttpStatus, parseAnswer, refusal } from '../../src/sdk/index.ts';
import type { AdapterInstance, CaseStatus, CheckResult, DeliveryResult, OutboundMessage } from '../../src/sdk/index.ts';
import { encodeBody } from './body.ts';
import { listCases } from './listing.ts';
import { StatusLookupError, caseAt, getJson, stringAt } from './read.ts';
import { REFERENCE_PLACEHOLDER, restOptionsSchema, type StatusLookup } from './options.ts';
import { oneLine, parseJsonBody, problemTitle } from '../_http/response.ts';
import { acceptanceRule } from '../_http/acceptance.ts';
import { createTargetHttp, failedExchange, headerString, shownUrl, withDeadline } from '../_http/target-http.ts';

export { restOptionsSchema, type RestOptions } from './options.ts';
export { TokenError } from '../_http/oauth2.ts';
export { BackOfficeReadError, ListingError, StatusLookupError } from './read.ts';

const VERSION = '1.2.0';

/**
 * Cap on the answer we read. Back offices answer with a small receipt; a larger body is a fault,
 * and buffering it unbounded would let one target exhaust the hub's memory.
 */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export default defineAdapter({
  type: 'rest',
  version: VERSION,
  description:
    'Delivers each case as one HTTP POST or PUT of the mapped JSON or XML (raw, as a form, or multipart with attachments) to a back-office endpoint.',
  defaultFormat: 'json',
  options: restOptionsSchema,

  create(options, ctx): AdapterInstance {
    const { logger, timeoutMs, clock } = ctx;
    // Compiled once; without a rule of its own the target still recognises the common refusal shapes (acceptance.ts).
    const rule = acceptanceRule(options.acceptance);

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
      clock,
    });
    const send = target.send;

    const instance: AdapterInstance = {
      async deliver(message, dctx): Promise<DeliveryResult> {
        // Durations on the monotonic clock: a wall-clock step mid-attempt must not make one negative.
        const started = performance.now();
        const meta = { deliveryId: dctx.deliveryId, attempt: dctx.attempt };
        const encoded = encodeBody(message, options);
        if (!encoded.ok) {
          // The mapping's output does not fit the configured body: sending it again cannot help.
          logger.warn('rest message does not fit the configured body', { ...meta, body: options.body });
          return { ok: false, retryable: false, error: encoded.error, errorKind: 'mapping-shape' };
        }
        let res: HttpAnswer;
        try {
          res = await withDeadline(timeoutMs, (deadline) =>
            send(
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
              deadline,
              meta,
            ),
          );
        } catch (err) {
          return failedExchange(err, 'rest', logger, meta, started);
        }

        const durationMs = Math.round(performance.now() - started);
        if (res.status >= 200 && res.status < 300) {
          return accepted(res, message, meta, durationMs);
        }

        const result = classifyHttpStatus(res.status, oneLine(res.statusText ?? '', 100), {
          header: headerString(res.headers['retry-after']),
          now: clock(),
        });
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
    if (options.listing) {
      const listing = options.listing;
      instance.list = (since) => listCases(listing, since, target, timeoutMs, logger, clock);
    }
    return instance;

    async function lookupStatus(lookup: StatusLookup, reference: string): Promise<CaseStatus | null> {
      const url = lookup.url.replaceAll(REFERENCE_PLACEHOLDER, encodeURIComponent(reference));
      // The template, not the filled URL: no query string (it may carry a key), no reference in logs.
      const marker = 'AMTSBOTE-REFERENCE-MARKER';
      const shown = `${lookup.method} ${shownUrl(lookup.url.replaceAll(REFERENCE_PLACEHOLDER, marker)).replaceAll(marker, REFERENCE_PLACEHOLDER)}`;
      const spec = { what: 'status lookup', shown, error: StatusLookupError, clock };
      const body = await getJson(target, url, timeoutMs, spec, { statusLookup: true });
      if (body === null) return null;
      const found = caseAt(body, reference, lookup, logger, 'statusLookup');
      if (!found) throw new StatusLookupError(`status lookup ${shown}: the answer has no state at ${lookup.statusPointer}`, false);
      return found;
    }

    /** A 2xx: judged by the acceptance rule, then the reference read. */
    async function accepted(
      res: HttpAnswer,
      message: OutboundMessage,
      meta: Record<string, unknown>,
      durationMs: number,
    ): Promise<DeliveryResult> {
      const answer = parseAnswer(res.headers['content-type'], res.data, res.status);
      const verdict = await rule.judge(answer, message);
      if (!verdict.accepted) {
        logger.warn('rest back office refused the case inside a 2xx answer', {
          ...meta,
          httpStatus: res.status,
          errorKind: verdict.errorKind,
          retryable: verdict.retryable,
          durationMs,
        });
        return refusal(verdict, res.status);
      }
      if (verdict.reference !== undefined) return withReference(verdict.reference, res.status, meta, durationMs, 'acceptance.reference');
      const pointer = options.referencePointer;
      if (pointer === undefined) {
        logger.debug('rest delivery accepted', { ...meta, httpStatus: res.status, durationMs });
        return { ok: true, reference: null, httpStatus: res.status };
      }
      const body = parseJsonBody(res.headers['content-type'], res.data);
      return withReference(body === undefined ? null : stringAt(body, pointer), res.status, meta, durationMs, pointer);
    }

    function withReference(
      reference: string | null,
      httpStatus: number,
      meta: Record<string, unknown>,
      durationMs: number,
      where: string,
    ): DeliveryResult {
      if (reference !== null) {
        logger.debug('rest delivery accepted', { ...meta, httpStatus, durationMs, reference });
        return { ok: true, reference, httpStatus };
      }
      // Decision: an accepted answer without the reference is still a success. The back office has filed the case;
      // failing here would dead-letter it, and a retry or an operator's replay would file it a second
      // time. Reconciliation finds the case later; the warning (log and sync-log event) makes the
      // missing reference visible meanwhile.
      const warning = `back office accepted but gave no reference at ${where}`;
      logger.warn(`rest ${warning}`, { ...meta, httpStatus });
      return { ok: true, reference: null, httpStatus, warning };
    }
  },
});
