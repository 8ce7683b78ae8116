import path from 'node:path';
import type { HttpAnswer } from '../_http/exchange.ts';
import { classifyHttpStatus, defineAdapter, parseAnswer, refusal } from '../../src/sdk/index.ts';
import type { AdapterInstance, CheckResult, DeliveryResult, OutboundMessage } from '../../src/sdk/index.ts';
import type { CompiledSchema } from '../../src/sdk/xsd.ts';
import { oneLine, problemTitle } from '../_http/response.ts';
import { xmlHttpOptionsSchema, type ReferenceOption } from './options.ts';
import { readReference } from './reference.ts';
import { acceptanceRule } from '../_http/acceptance.ts';
import { createTargetHttp, failedExchange, headerString, withDeadline } from '../_http/target-http.ts';

export { xmlHttpOptionsSchema, type XmlHttpOptions } from './options.ts';

const VERSION = '1.0.0';

/** Back offices answer with a small receipt; buffering an unbounded answer would let one target exhaust memory. */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** Schema errors shown in a delivery's error; the rest are counted. */
const ERRORS_SHOWN = 3;

export default defineAdapter({
  type: 'xml-http',
  version: VERSION,
  description:
    'POSTs (or PUTs) the mapped XML document to a back-office URL, optionally validated against an XSD first, and reads the reference from the XML or JSON answer.',
  defaultFormat: 'xml',
  options: xmlHttpOptionsSchema,

  async create(options, ctx): Promise<AdapterInstance> {
    const { logger, timeoutMs, clock } = ctx;
    // Compiled once; without a rule of its own the target still recognises the common refusal shapes (acceptance.ts).
    const rule = acceptanceRule(options.acceptance);

    // Compiled once per schema set and shared by every target that names it. Imported only when a target has a
    // schema, so a hub without one never loads the libxml2 WebAssembly module. A schema that cannot be compiled
    // stops start-up here, with the file and the reason, instead of failing every delivery.
    let schema: CompiledSchema | undefined;
    if (options.schema) {
      const { loadSchema } = await import('../../src/sdk/xsd.ts');
      try {
        schema = loadSchema(options.schema);
      } catch (err) {
        throw new Error(`xml-http schema: ${err instanceof Error ? err.message : String(err)}`);
      }
      logger.debug('xml-http schema compiled', { schema: schema.path, files: schema.files.length });
    }

    const target = createTargetHttp({
      adapter: 'xml-http',
      version: VERSION,
      accept: 'application/xml, text/xml;q=0.9, application/json;q=0.8, application/problem+json;q=0.8, */*;q=0.5',
      auth: options.auth,
      headers: options.headers,
      timeoutMs,
      logger,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      clock,
    });
    const send = target.send;

    return {
      async deliver(message, dctx): Promise<DeliveryResult> {
        // Durations and the deadline on the monotonic clock: a wall-clock step mid-attempt must not shift them.
        const started = performance.now();
        const meta = { deliveryId: dctx.deliveryId, attempt: dctx.attempt };

        if (message.format !== 'xml') {
          logger.warn('xml-http got a JSON message; set format: xml on the target', meta);
          return {
            ok: false,
            retryable: false,
            error: 'xml-http sends XML documents, but the mapping produced JSON (set format: xml on the target)',
            errorKind: 'format',
          };
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

        let res: HttpAnswer;
        try {
          res = await withDeadline(Math.max(1, Math.round(timeoutMs - (performance.now() - started))), (deadline) =>
            send(
              {
                method: options.method,
                url: options.url,
                // A Buffer is sent as is: the mapping's text, byte for byte; a pass-through (format original) sends the
                // portal's bytes and their own media type, so a document in ISO-8859-1 arrives as it was written.
                data: message.bytes ?? Buffer.from(message.text, 'utf8'),
                headers: {
                  'Content-Type': message.bytes ? message.contentType : options.contentType,
                  [options.idempotencyHeader]: dctx.idempotencyKey,
                  'X-Amtsbote-Delivery': dctx.deliveryId,
                },
              },
              deadline,
              meta,
            ),
          );
        } catch (err) {
          return failedExchange(err, 'xml-http', logger, meta, started);
        }

        const durationMs = Math.round(performance.now() - started);
        if (res.status >= 200 && res.status < 300) return accepted(res, message, meta, durationMs);

        const result = classifyHttpStatus(res.status, oneLine(res.statusText ?? '', 100), {
          header: headerString(res.headers['retry-after']),
          now: clock(),
        });
        if (!result.ok) {
          const title = problemTitle(res.headers['content-type'], res.data);
          if (title) result.error += `: ${title}`;
          if (res.status >= 300 && res.status < 400) {
            result.error += ' (redirects are not followed: configure the final URL)';
            logger.warn('xml-http back office answered with a redirect; set url to the final address', { ...meta, httpStatus: res.status });
          }
        }
        logger.debug('xml-http delivery attempt refused', {
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
        schema?.dispose();
        schema = undefined;
      },
    };

    /** A 2xx: judged by the acceptance rule, then the reference read. */
    async function accepted(
      res: HttpAnswer,
      message: OutboundMessage,
      meta: Record<string, unknown>,
      durationMs: number,
    ): Promise<DeliveryResult> {
      const verdict = await rule.judge(parseAnswer(res.headers['content-type'], res.data, res.status), message);
      if (!verdict.accepted) {
        logger.warn('xml-http back office refused the case inside a 2xx answer', {
          ...meta,
          httpStatus: res.status,
          errorKind: verdict.errorKind,
          retryable: verdict.retryable,
          durationMs,
        });
        return refusal(verdict, res.status);
      }
      if (verdict.reference !== undefined) {
        if (verdict.reference !== null) return { ok: true, reference: verdict.reference, httpStatus: res.status };
        return noReference('acceptance.reference', 'not in the answer', res.status, meta);
      }
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
      return noReference(where.from === 'xml' ? where.path : where.pointer, read.why, res.status, meta);
    }

    function noReference(at: string, why: string, httpStatus: number, meta: Record<string, unknown>): DeliveryResult {
      // As in the rest adapter: an accepted answer without the reference is still a success. The back office has
      // filed the case; failing would dead-letter it and a replay would file it twice. Reconciliation finds it later.
      const warning = `back office accepted but gave no reference at ${at} (${why})`;
      logger.warn(`xml-http ${warning}`, { ...meta, httpStatus });
      return { ok: true, reference: null, httpStatus, warning };
    }
  },
});

/** Origin and path only: a query string may carry a key. */
