import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { defineAdapter } from '../../src/sdk/index.ts';
import type { AckResult, CheckResult, DeliveryContext, DeliveryResult, OutboundMessage } from '../../src/sdk/index.ts';
import { MAX_ACK_BYTES, firstLine, isSettled, referenceFrom } from './ack.ts';
import { ConfigError, DeadlineError, classifyError, errorCode } from './errors.ts';
import { localTransport } from './local.ts';
import {
  NameTooLongError,
  attachmentFileName,
  dependsOnTime,
  isPlainFileName,
  primaryPattern,
  renderFileName,
  sameDeliveryMatcher,
  stemPattern,
  timeOfMatch,
  type NameParts,
} from './naming.ts';
import { fileDropOptionsSchema } from './options.ts';
import { sftpTransport } from './sftp.ts';
import type { DropTransport } from './transport.ts';
import { buildZip } from './zip.ts';

export { fileDropOptionsSchema, type FileDropOptions } from './options.ts';

const VERSION = '1.0.0';

interface PlannedFile {
  name: string;
  content: Buffer;
}

export default defineAdapter({
  type: 'file-drop',
  version: VERSION,
  description:
    'Writes each case as a file (XML or JSON, attachments beside it or zipped) into a folder, local or over SFTP, that a batch job polls.',
  defaultFormat: 'xml',
  options: fileDropOptionsSchema,

  async create(options, ctx) {
    const { logger, timeoutMs, clock } = ctx;
    const tr = options.transport;

    let privateKey: Buffer | undefined;
    if (tr.type === 'sftp' && tr.privateKey) {
      // Read once at start-up: a missing key is a configuration error, shown before the first delivery.
      try {
        privateKey = await readFile(tr.privateKey);
      } catch (err) {
        throw new Error(`privateKey file ${tr.privateKey} cannot be read (${errorCode(err) ?? 'error'})`);
      }
    }
    const transport: DropTransport =
      tr.type === 'local' ? localTransport(tr.directory) : sftpTransport(tr, { logger, timeoutMs, privateKey });
    const ack = options.acknowledgement;
    const ackFolders = ack?.mode === 'folders' ? [ack.done, ack.error] : [];
    // Relative paths below the directory, joined the SFTP way; local paths accept '/' too.
    const inFolder = (folder: string, name: string) => posix.join(folder, name);

    /** The attempt's names, or an earlier attempt's when {date}/{time} make them differ. */
    async function plan(
      message: OutboundMessage,
      dctx: DeliveryContext,
    ): Promise<{ primary: string; files: PlannedFile[]; dropped: number }> {
      const parts: Omit<NameParts, 'at'> = {
        tenant: dctx.tenant,
        service: dctx.service,
        deliveryId: dctx.deliveryId,
        ext: message.container ? 'zip' : message.format,
      };
      let at = new Date(clock());
      if (dependsOnTime(options.fileName)) {
        // A retry on another day or second would otherwise get a new name and write the case twice.
        const found = await earlierAttempt(primaryPattern(options.fileName, options.attachments), parts);
        if (found) at = found;
      }
      const name = renderFileName(options.fileName, { ...parts, at });
      const stem = renderFileName(stemPattern(options.fileName), { ...parts, at });
      // An xdomea container or a pass-through original (format original) is written as its bytes, whatever their encoding.
      const body: PlannedFile = { name, content: message.bytes ?? Buffer.from(message.text, 'utf8') };
      const attachments = message.attachments.map((a, i) => ({ name: attachmentFileName(stem, i, a.filename), content: a.content }));

      switch (options.attachments) {
        case 'none':
          return { primary: name, files: [body], dropped: attachments.length };
        case 'embedded':
          // The mapping writes the attachments into the message itself (base64 in the batch format).
          return { primary: name, files: [body], dropped: 0 };
        case 'beside':
          // Attachments first: when the message appears, everything it refers to is already there.
          return { primary: name, files: [...attachments, body], dropped: 0 };
        case 'zip': {
          const zipName = renderFileName(primaryPattern(options.fileName, 'zip'), { ...parts, at });
          return { primary: zipName, files: [{ name: zipName, content: await buildZip([body, ...attachments]) }], dropped: 0 };
        }
      }
    }

    async function earlierAttempt(pattern: string, parts: Omit<NameParts, 'at'>): Promise<Date | null> {
      const re = sameDeliveryMatcher(pattern, parts);
      const places = [undefined, ...ackFolders];
      for (const place of places) {
        for (const entry of (await transport.list(place)) ?? []) {
          // In files mode the file itself may be gone and only its .ok or .err be left.
          const m = re.exec(ack?.mode === 'files' ? entry.replace(/\.(ok|err)$/, '') : entry);
          if (m) return timeOfMatch(m, new Date(clock()));
        }
      }
      return null;
    }

    /** With acknowledgements: has the back office processed this file already (an earlier attempt's)? */
    async function alreadyProcessed(primary: PlannedFile): Promise<'yes' | 'no' | 'conflict'> {
      if (!ack) return 'no';
      if (ack.mode === 'files') {
        for (const suffix of ['.ok', '.err']) if (await transport.stat(primary.name + suffix)) return 'yes';
        return 'no';
      }
      for (const folder of ackFolders) {
        const path = inFolder(folder, primary.name);
        const info = await transport.stat(path);
        if (!info) continue;
        const bytes = info.size === primary.content.length ? await transport.read(path) : null;
        return bytes?.equals(primary.content) ? 'yes' : 'conflict';
      }
      return 'no';
    }

    async function attempt(message: OutboundMessage, dctx: DeliveryContext): Promise<DeliveryResult> {
      const { primary, files, dropped } = await plan(message, dctx);
      const meta = { deliveryId: dctx.deliveryId, attempt: dctx.attempt, file: primary };
      const conflict = (name: string): DeliveryResult => {
        logger.warn('file-drop found a different file under its name; left it untouched', { ...meta, conflicting: name });
        return {
          ok: false,
          retryable: false,
          error: `${transport.where}: a different file named ${name} is already there; it was not overwritten`,
          errorKind: 'conflict',
        };
      };

      const processed = await alreadyProcessed(files[files.length - 1]!);
      if (processed === 'conflict') return conflict(primary);
      const outcomes: string[] = [];
      if (processed === 'no') {
        for (const f of files) {
          const outcome = await transport.writeNew(f.name, f.content);
          if (outcome === 'conflict') return conflict(f.name);
          outcomes.push(outcome);
        }
      }
      const again = processed === 'yes' || outcomes.every((o) => o === 'identical');
      logger.debug(again ? 'file-drop file was already handed over (earlier attempt)' : 'file-drop file written', {
        ...meta,
        files: files.length,
      });

      const result: Extract<DeliveryResult, { ok: true }> = {
        ok: true,
        reference: null,
        detail: {
          file: primary,
          ...(files.length > 1 ? { files: files.map((f) => f.name) } : {}),
          ...(again ? { alreadyThere: true } : {}),
        },
      };
      if (ack) result.awaitingAck = { token: primary, timeoutMs: ack.timeoutMs };
      if (dropped > 0) {
        result.warning = `${dropped} attachment(s) not delivered: the target is configured with attachments: none`;
        logger.warn(`file-drop ${result.warning}`, meta);
      }
      return result;
    }

    /** Runs `fn` under the target's timeout; on expiry the transport drops what hangs (an SFTP session). */
    async function withDeadline<T>(fn: () => Promise<T>): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          transport.abort();
          reject(new DeadlineError(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([fn(), expired]);
      } finally {
        clearTimeout(timer);
      }
    }

    return {
      async deliver(message, dctx): Promise<DeliveryResult> {
        // A duration, on the monotonic clock: a wall-clock step mid-attempt must not make it negative.
        const started = performance.now();
        try {
          return await withDeadline(() => attempt(message, dctx));
        } catch (err) {
          const result = classifyError(err instanceof NameTooLongError ? new ConfigError(err.message) : err, transport.where);
          logger.debug('file-drop delivery attempt failed', {
            deliveryId: dctx.deliveryId,
            attempt: dctx.attempt,
            errorKind: result.ok ? undefined : result.errorKind,
            retryable: !result.ok && result.retryable,
            durationMs: Math.round(performance.now() - started),
          });
          return result;
        }
      },

      async acknowledgement(token): Promise<AckResult> {
        if (!ack) return { state: 'rejected', error: 'this target has no acknowledgement configured' };
        // The token comes back from the store: never let it name a path outside the folder.
        if (!isPlainFileName(token)) return { state: 'rejected', error: 'not a file name this adapter hands out' };
        try {
          return await withDeadline(() => (ack.mode === 'files' ? ackByFiles(token, ack.referencePath) : ackByFolders(token)));
        } catch (err) {
          // The folder is unreachable right now: no answer yet. The worker logs this and asks again until its
          // deadline, so the error is thrown (classified: a path and a code, never content), not turned into pending.
          const c = classifyError(err, transport.where);
          throw new Error(c.ok ? 'acknowledgement lookup failed' : c.error);
        }
      },

      check(): Promise<CheckResult> {
        return transport.check(ackFolders);
      },

      close(): Promise<void> {
        return transport.close();
      },
    };

    async function readAckFile(name: string): Promise<Buffer | 'unsettled' | 'too-large' | null> {
      const info = await transport.stat(name);
      if (!info) return null;
      if (info.size > MAX_ACK_BYTES) return 'too-large';
      const content = await transport.read(name);
      if (content === null) return null;
      return isSettled(content, info.mtimeMs, clock()) ? content : 'unsettled';
    }

    async function ackByFiles(name: string, referencePath: string | undefined): Promise<AckResult> {
      // .err first: if a confused job wrote both, the rejection is what an operator must see.
      const err = await readAckFile(`${name}.err`);
      if (err === 'unsettled') return { state: 'pending' };
      if (err !== null) {
        const line = err === 'too-large' ? '' : firstLine(err);
        return {
          state: 'rejected',
          error:
            line === ''
              ? `the back office rejected ${name} (${name}.err${err === 'too-large' ? ' too large to read' : ' is empty'})`
              : line,
        };
      }
      const ok = await readAckFile(`${name}.ok`);
      if (ok === 'unsettled' || ok === null) return { state: 'pending' };
      const reference = ok === 'too-large' ? null : referenceFrom(ok, referencePath);
      if (reference === null && referencePath) logger.warn('file-drop .ok file without a reference', { file: name, referencePath });
      return { state: 'accepted', reference };
    }

    async function ackByFolders(name: string): Promise<AckResult> {
      if (ack?.mode !== 'folders') return { state: 'pending' };
      if (await transport.stat(inFolder(ack.done, name))) return { state: 'accepted', reference: null };
      if (await transport.stat(inFolder(ack.error, name))) return { state: 'rejected', error: `${name} was moved to ${ack.error}/` };
      return { state: 'pending' };
    }
  },
});
