import { defineAdapter, classifyNetworkError, oneLine } from '../../src/sdk/index.ts';
import type {
  AckResult,
  AdapterInstance,
  CaseStatus,
  CheckResult,
  DeliveryContext,
  DeliveryMemo,
  DeliveryResult,
  OutboundMessage,
} from '../../src/sdk/index.ts';
import { createXtaClient, XtaTransportError, type XtaAnswer, type XtaFault } from './client.ts';
import { contentContainerXml, escapeXml, IDEMPOTENCY_PROPERTY, messageMetaDataXml, type ContentItem } from './envelope.ts';
import type { MimePart } from './mtom.ts';
import { xta2OptionsSchema, type Xta2Options } from './options.ts';
import { readTransportReport, STATUS_WORDS } from './report.ts';

export { xta2OptionsSchema, type Xta2Options } from './options.ts';
export { createXtaClient, type XtaClient, type XtaEndpoints } from './client.ts';

const VERSION = '1.0.0';
/** The memo key under which the message id from createMessageID waits for its sendMessage. */
export const MESSAGE_ID_MEMO = 'xta2.messageId';
/** The key of the delivery's n-th message: a new one only after the server reported the previous one red. */
const memoKey = (n: number): string => (n === 1 ? MESSAGE_ID_MEMO : `${MESSAGE_ID_MEMO}#${n}`);
/** A transport report or an empty answer is small; an answer beyond this is a fault. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Faults that say the request itself is wrong: sending it again cannot help. */
const PERMANENT_EXCEPTIONS = new Set([
  'PermissionDeniedException',
  'ParameterIsNotValidException',
  'MessageSchemaViolationException',
  'MessageVirusDetectionException',
  'SyncAsyncException',
]);

export default defineAdapter({
  type: 'xta2',
  version: VERSION,
  description:
    'Sends each case as an XTA 2 (2.1.1) message through an XTA server: checkAccountActive, createMessageID, sendMessage (SOAP 1.2, WS-Addressing, MTOM, TLS client certificate); the transport report is the final state.',
  defaultFormat: 'xml',
  options: xta2OptionsSchema,

  create(options: Xta2Options, ctx): AdapterInstance {
    const { logger, timeoutMs } = ctx;
    const client = createXtaClient({
      endpoints: { ...options.endpoints, msgBox: options.endpoints.msgBox ?? options.endpoints.management },
      tls: options.tls,
      account: options.author,
      userAgent: `Amtsbote-xta2/${VERSION}`,
      maxResponseBytes: MAX_RESPONSE_BYTES,
    });
    if (options.tls?.rejectUnauthorized === false)
      logger.warn('xta2 tls.rejectUnauthorized is false: the XTA server certificate is not verified');
    // Without the hub's store (the conformance suite, a tool) the message ids live as long as the process.
    const fallback = new Map<string, string>();
    const memoFor = (d: DeliveryContext): DeliveryMemo =>
      d.memo ?? {
        recall: async (key) => fallback.get(`${d.idempotencyKey}\u0000${key}`),
        remember: async (key, value) => void fallback.set(`${d.idempotencyKey}\u0000${key}`, value),
      };

    async function deliver(message: OutboundMessage, d: DeliveryContext): Promise<DeliveryResult> {
      const started = performance.now();
      const signal = AbortSignal.timeout(timeoutMs);
      const meta = { deliveryId: d.deliveryId, attempt: d.attempt };
      const memo = memoFor(d);
      try {
        const active = await client.call('checkAccountActive', '', { signal });
        if (!active.ok) return faultResult('checkAccountActive', active, meta);

        // The delivery's messages so far, one memo key each: a message the server reported red is dead, and a
        // replay after it sends a new one under the next key.
        let stored = 0;
        let messageId: string | undefined;
        for (let id = await memo.recall(memoKey(1)); id; id = await memo.recall(memoKey(stored + 1))) {
          stored += 1;
          messageId = id;
        }
        if (messageId) {
          // An earlier attempt got this id and may have sent it (its answer lost to a timeout): ask the server
          // first, so a retry never hands over a second message.
          const answer = await client.call('getTransportReport', `<wsa:MessageID>${escapeXml(messageId)}</wsa:MessageID>`, { signal });
          const report = answer.ok ? readTransportReport(answer.body) : undefined;
          if (report && report.status !== 3) {
            logger.debug('xta2 message already with the XTA server; not sent again', { ...meta, messageId });
            return handedOver(messageId);
          }
          if (!answer.ok && answer.fault.exception !== 'InvalidMessageIDException') return faultResult('getTransportReport', answer, meta);
          if (answer.ok && !report)
            return {
              ok: false,
              retryable: true,
              error: 'XTA getTransportReport answered without a TransportReport',
              errorKind: 'xta-answer',
            };
          // Red: that message failed for good. This attempt (a replay) sends the case again as a new message.
          if (report) messageId = undefined;
        }
        if (!messageId) {
          const created = await client.call('createMessageId', '', { signal });
          if (!created.ok) return faultResult('createMessageId', created, meta);
          messageId = readMessageId(created.body);
          if (!messageId)
            return { ok: false, retryable: true, error: 'XTA createMessageID answered without a MessageID', errorKind: 'xta-answer' };
          // Durable before sendMessage: a retry after a lost answer reuses it (see above).
          await memo.remember(memoKey(stored + 1), messageId);
        }

        const { body, parts, size } = container(message);
        const metadata = messageMetaDataXml({
          messageId,
          author: options.author,
          reader: options.reader,
          qualifier: {
            subject: options.subject,
            service: options.service,
            businessScenario: options.businessScenario,
            messageType: options.messageType,
          },
          size,
          properties: [{ key: IDEMPOTENCY_PROPERTY, value: d.idempotencyKey }],
          test: options.testMessage,
        });
        // The SOAP message's own wsa:MessageID is the XTA message id: one id for one message, however often sent.
        const sent = await client.call('sendMessage', body, { signal, parts, messageId, headers: [metadata] });
        if (!sent.ok) return faultResult('sendMessage', sent, meta);
        logger.debug('xta2 message handed over', { ...meta, messageId, durationMs: Math.round(performance.now() - started) });
        return { ...handedOver(messageId), httpStatus: sent.httpStatus };
      } catch (e) {
        return transportFailure(e, meta, started);
      }
    }

    function handedOver(messageId: string): DeliveryResult {
      return { ok: true, reference: messageId, awaitingAck: { token: messageId, timeoutMs: options.reportTimeoutMs } };
    }

    /** The message as the ContentContainer: the mapping's bytes as Message, the submission's files as Attachments. */
    function container(message: OutboundMessage): { body: string; parts: MimePart[]; size: number } {
      const payload = message.bytes ?? Buffer.from(message.text, 'utf8');
      const parts: MimePart[] = [{ contentId: 'message@amtsbote', mediaType: message.contentType, content: payload }];
      const main: ContentItem = {
        contentId: 'message@amtsbote',
        mediaType: message.contentType,
        filename: options.messageFilename,
        size: payload.length,
      };
      const attachments = message.attachments.map((a, i): ContentItem => {
        const contentId = `attachment-${i + 1}@amtsbote`;
        parts.push({ contentId, mediaType: a.mediaType, content: a.content });
        return { contentId, mediaType: a.mediaType, filename: a.filename, size: a.content.length };
      });
      const size = parts.reduce((n, p) => n + p.content.length, 0);
      return { body: contentContainerXml(main, attachments), parts, size };
    }

    function faultResult(op: string, answer: Extract<XtaAnswer, { ok: false }>, meta: Record<string, unknown>): DeliveryResult {
      const f = answer.fault;
      const retryable = !isPermanent(f);
      logger.debug('xta2 fault', { ...meta, operation: op, exception: f.exception, errorCode: f.errorCode, retryable });
      return {
        ok: false,
        retryable,
        error: faultText(op, f),
        errorKind: retryable ? 'soap-server-fault' : 'soap-client-fault',
        httpStatus: answer.httpStatus,
      };
    }

    function transportFailure(e: unknown, meta: Record<string, unknown>, started: number): DeliveryResult {
      const durationMs = Math.round(performance.now() - started);
      if (e instanceof XtaTransportError && e.code.startsWith('http-')) {
        logger.debug('xta2 answer without SOAP envelope', { ...meta, httpStatus: e.httpStatus, durationMs });
        return { ok: false, retryable: true, error: e.message, errorKind: e.code, ...(e.httpStatus ? { httpStatus: e.httpStatus } : {}) };
      }
      const code = e instanceof XtaTransportError ? e.code : undefined;
      logger.debug('xta2 delivery attempt failed', { ...meta, code, durationMs });
      if (code) return classifyNetworkError({ code });
      // The memo could not be written: nothing was sent yet, so trying again is safe.
      return { ok: false, retryable: true, error: `xta2: ${oneLine((e as Error).message ?? String(e), 200)}`, errorKind: 'adapter-error' };
    }

    async function report(messageId: string): Promise<XtaAnswer> {
      return client.call('getTransportReport', `<wsa:MessageID>${escapeXml(messageId)}</wsa:MessageID>`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
    }

    return {
      deliver,

      async acknowledgement(token: string): Promise<AckResult> {
        const answer = await report(token);
        if (!answer.ok) {
          if (answer.fault.exception === 'InvalidMessageIDException')
            return { state: 'rejected', error: 'the XTA server does not know the message id' };
          throw new Error(faultText('getTransportReport', answer.fault));
        }
        const r = readTransportReport(answer.body);
        if (!r) throw new Error('XTA getTransportReport answered without a TransportReport');
        if (r.status === 0) return { state: 'pending' };
        if (r.status === 3)
          return { state: 'rejected', error: `transport report red${r.reasons.length ? `: ${r.reasons.join('; ')}` : ''}` };
        return { state: 'accepted', reference: token };
      },

      async status(reference: string): Promise<CaseStatus | null> {
        const answer = await report(reference);
        if (!answer.ok) {
          if (answer.fault.exception === 'InvalidMessageIDException') return null;
          throw Object.assign(new Error(faultText('getTransportReport', answer.fault)), { retryable: !isPermanent(answer.fault) });
        }
        const r = readTransportReport(answer.body);
        if (!r) throw new Error('XTA getTransportReport answered without a TransportReport');
        return {
          reference,
          status: STATUS_WORDS[r.status],
          ...(r.reportTime ? { updatedAt: r.reportTime } : {}),
          ...(r.reasons.length ? { reason: r.reasons.join('; ') } : {}),
        };
      },

      async check(): Promise<CheckResult> {
        const where = new URL(options.endpoints.management);
        const shown = where.origin + where.pathname;
        try {
          const a = await client.call('checkAccountActive', '', { signal: AbortSignal.timeout(timeoutMs) });
          if (a.ok) return { ok: true, message: `XTA account ${options.author.identifier} active at ${shown}` };
          if (a.fault.exception === 'PermissionDeniedException')
            return { ok: false, refused: true, message: `XTA server ${shown} refused account ${options.author.identifier}` };
          return { ok: false, message: `XTA server ${shown}: ${faultText('checkAccountActive', a.fault)}` };
        } catch (e) {
          const code = e instanceof XtaTransportError ? e.code : 'error';
          // A TLS handshake the server ends for a missing or unknown certificate is a refusal of the credentials.
          const refused = /ALERT/i.test(code);
          return { ok: false, ...(refused ? { refused } : {}), message: `XTA server ${shown} unavailable (${code})` };
        }
      },

      async close(): Promise<void> {
        client.close();
      },
    };
  },
});

function isPermanent(f: XtaFault): boolean {
  if (f.exception) return PERMANENT_EXCEPTIONS.has(f.exception);
  return f.code === 'Sender';
}

function faultText(op: string, f: XtaFault): string {
  const what = f.exception ?? `${f.code} fault`;
  return `XTA ${op}: ${what}${f.errorCode ? ` ${f.errorCode}` : ''}${f.reason ? ` (${oneLine(f.reason, 160)})` : ''}`;
}

/** The wsa:MessageID a createMessageID answer carries in its body. */
function readMessageId(body: Record<string, unknown>): string | undefined {
  const v = body.MessageID;
  const t = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['#text'] : v;
  return typeof t === 'string' && t.length ? t : undefined;
}
