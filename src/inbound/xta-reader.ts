// The hub as the reader of its XTA 2 message box: getStatusList → getMessage → store → close. A message counts as
// fetched at the XTA server only after close, so close comes only after the submission is committed. A crash
// between the two leaves the message in the box: the next reading fetches it again and stores nothing new, since
// the submission's external id is the XTA message id (unique per portal in the store) and the same bytes give the
// same body: the accept path answers "duplicate", and the message is closed then.

import path from 'node:path';
import type { Logger } from 'winston';
import { createXtaClient, text, type XtaAnswer, type XtaClient } from '../../adapters/xta2/client.ts';
import { escapeXml } from '../../adapters/xta2/envelope.ts';
import type { Clock } from '../clock.ts';
import type { PortalConfig } from '../config/schema.ts';
import { acceptSubmission, admit } from '../intake/accept.ts';
import type { Router } from '../routing/router.ts';
import type { Store } from '../store/index.ts';
import { envelopeOf, receiveInbound, type InboundChannel } from './channel.ts';
import type { XtaMailboxConfig } from './xta-mailbox-schema.ts';
import { validateServiceData, type ServiceDataSchemas } from './service-data.ts';

type Obj = Record<string, unknown>;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null || v === '' ? [] : [v]);

export interface XtaReadResult {
  listed: number;
  stored: number;
  duplicates: number;
  /** Messages the channel or the configuration refused: left in the box (not closed) for an operator. */
  refused: number;
  closed: number;
  failed: number;
}

export interface XtaReaderDeps {
  store: Store;
  router: Router;
  channel: InboundChannel;
  portal: PortalConfig;
  serviceSchemas: ServiceDataSchemas;
  logger: Logger;
  now: Clock;
  onAccepted?: () => void;
}

/** One message box: its client (sockets and certificate read once) and one reading at a time. */
export class XtaMailboxReader {
  private readonly client: XtaClient;
  /** Messages refused in this process: not fetched again until a restart (an operator fixes the channel or the box). */
  private readonly refusedIds = new Set<string>();

  constructor(
    readonly config: XtaMailboxConfig,
    private readonly deps: XtaReaderDeps,
    configDir: string,
  ) {
    const tls = config.tls && {
      ...config.tls,
      ...(config.tls.cert ? { cert: path.resolve(configDir, config.tls.cert) } : {}),
      ...(config.tls.key ? { key: path.resolve(configDir, config.tls.key) } : {}),
      ...(config.tls.ca ? { ca: path.resolve(configDir, config.tls.ca) } : {}),
    };
    this.client = createXtaClient({
      // The reader speaks only to the MsgBoxPort.
      endpoints: { management: config.endpoints.msgBox, send: config.endpoints.msgBox, msgBox: config.endpoints.msgBox },
      tls,
      account: config.account,
      userAgent: 'Amtsbote-xta-reader',
      maxResponseBytes: 64 * 1024 * 1024,
    });
  }

  close(): void {
    this.client.close();
  }

  /** Reads the box once. Throws only when the list itself cannot be read. */
  async read(): Promise<XtaReadResult> {
    const { logger } = this.deps;
    const result: XtaReadResult = { listed: 0, stored: 0, duplicates: 0, refused: 0, closed: 0, failed: 0 };
    const listing = await this.call('getStatusList', `<osci:MsgBoxStatusListRequest maxListItems="${this.config.maxPerPoll}"/>`);
    if (!listing.ok) throw new Error(`XTA getStatusList: ${listing.fault.exception ?? listing.fault.code} ${listing.fault.reason}`.trim());
    const ids = list((listing.body.MsgStatusList as Obj | undefined)?.MessageMetaData)
      .map((m) => text(((m as Obj).MsgIdentification as Obj | undefined)?.MessageID))
      .filter((id): id is string => Boolean(id));
    result.listed = ids.length;
    for (const id of ids) {
      if (this.refusedIds.has(id)) {
        result.refused += 1;
        continue;
      }
      try {
        const outcome = await this.take(id);
        if (outcome === 'refused') this.refusedIds.add(id);
        result[outcome] += 1;
        if (outcome === 'stored' || outcome === 'duplicates') result.closed += 1;
      } catch (e) {
        result.failed += 1;
        logger.warn('xta message not taken; it stays in the box for the next reading', {
          mailbox: this.config.name,
          messageId: id,
          error: (e as Error).message,
        });
      }
    }
    return result;
  }

  /** One message: fetched, stored (or found stored), then closed. */
  private async take(messageId: string): Promise<'stored' | 'duplicates' | 'refused'> {
    const { store, router, channel, portal, logger, now } = this.deps;
    const fetched = await this.call(
      'getMessage',
      `<osci:MsgBoxFetchRequest><osci:MsgSelector><wsa:MessageID>${escapeXml(messageId)}</wsa:MessageID></osci:MsgSelector></osci:MsgBoxFetchRequest>`,
    );
    if (!fetched.ok) throw new Error(`getMessage: ${fetched.fault.exception ?? fetched.fault.code}`);
    const requestId = text((fetched.header.MsgBoxResponse as Obj | undefined)?.['@MsgBoxRequestID']);
    const container = (fetched.body.GenericContentContainer as Obj | undefined)?.ContentContainer as Obj | undefined;
    if (!container?.Message) throw new Error('getMessage answered without a ContentContainer (encrypted content is not supported)');
    const message = content(container.Message);
    const meta = { mailbox: this.config.name, messageId };

    // The message's payload is the standards document: read through the channel, kept byte for byte.
    const received = await receiveInbound(channel, message.bytes, message.mediaType, now);
    if (!received.ok) {
      logger.warn('xta message refused by its inbound channel; left in the box', {
        ...meta,
        channel: channel.config.name,
        status: received.status,
        detail: received.detail,
      });
      return 'refused';
    }
    const doc = received.submission;
    const v = envelopeOf(doc, {
      // The transport's id: unique per message, the same when a message is fetched again after a crash.
      externalId: messageId,
      attachments: list(container.Attachment).map((a, i) => {
        const c = content(a);
        return {
          filename: c.filename ?? `anlage-${i + 1}`,
          mediaType: c.mediaType.split(';')[0]!.trim(),
          content: c.bytes.toString('base64'),
        };
      }),
    });
    if (!v.ok) {
      logger.warn('xta message gave no valid submission; left in the box', { ...meta, errors: v.errors.map((e) => e.pointer).slice(0, 5) });
      return 'refused';
    }
    const admitted = admit(router, portal, v.envelope);
    if (!admitted.ok) {
      logger.warn('xta message refused by the configuration; left in the box', { ...meta, kind: admitted.kind, detail: admitted.detail });
      return 'refused';
    }
    const data = validateServiceData(this.deps.serviceSchemas, admitted.service.slug, v.envelope.data);
    if (!data.ok) {
      logger.warn('xta message does not fit the service data schema; left in the box', { ...meta, path: data.path, detail: data.detail });
      return 'refused';
    }
    const accepted = await acceptSubmission(store, router, portal, v.envelope, doc.receivedAt, doc.content);
    if (!accepted.ok) {
      logger.warn('xta message not stored; left in the box', { ...meta, kind: accepted.kind, detail: accepted.detail });
      return 'refused';
    }
    // Committed: now the box may forget it.
    const closed = await this.call(
      'close',
      `<osci:MsgBoxCloseRequest MsgBoxRequestID="${escapeXml(requestId ?? messageId)}"><osci:LastMsgReceived>${escapeXml(messageId)}</osci:LastMsgReceived></osci:MsgBoxCloseRequest>`,
    );
    if (!closed.ok)
      throw new Error(`close: ${closed.fault.exception ?? closed.fault.code} (stored as ${accepted.id}; the next reading closes it)`);
    logger.info(accepted.status === 'created' ? 'xta message stored' : 'xta message was stored before; closed now', {
      ...meta,
      submissionId: accepted.id,
      tenant: admitted.tenant.key,
      service: admitted.service.slug,
      channel: channel.config.name,
    });
    if (accepted.status === 'created') this.deps.onAccepted?.();
    return accepted.status === 'created' ? 'stored' : 'duplicates';
  }

  private call(op: 'getStatusList' | 'getMessage' | 'close', body: string): Promise<XtaAnswer> {
    return this.client.call(op, body, { signal: AbortSignal.timeout(this.config.timeoutMs) });
  }
}

function content(v: unknown): { bytes: Buffer; mediaType: string; filename?: string } {
  const o = (typeof v === 'object' && v !== null ? v : { '#text': v }) as Obj;
  const filename = text(o['@filename']);
  return {
    bytes: Buffer.from(text(o['#text']) ?? '', 'base64'),
    mediaType: text(o['@contentType']) ?? 'application/octet-stream',
    ...(filename ? { filename } : {}),
  };
}
