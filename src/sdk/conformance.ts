import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import winston from 'winston';
import { z } from 'zod';
import { maskSecrets } from './define-adapter.ts';
import type { AdapterDefinition, AdapterInstance, DeliveryContext, OutboundMessage } from './types.ts';
import { systemClock } from '../clock.ts';

/**
 * What an adapter's own test supplies so the standard suite can run against a real back office on 127.0.0.1.
 * Every built-in adapter runs the suite in one call; `amtsbote adapter new` writes a test that does too.
 */
export interface ConformanceHarness {
  /** Starts the back office (a real server or folder) and resets what it recorded. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Options as written in config (before parsing), pointing at the back office, with working credentials. */
  options(): Record<string, unknown>;
  /** The same with credentials the back office refuses; `check()` must then fail cleanly. Omit if the back office has none. */
  badCredentialOptions?(): Record<string, unknown>;
  /** Secret values contained in `options()`: they must never appear in logs, errors or masked options. */
  secrets: string[];
  /**
   * How the back office answers the next deliveries. `refuse`: a success on the wire (HTTP 200, no fault) that
   * says inside it the case was not filed, in the shape this back office uses, with `refusal.text` as its reason.
   */
  behave(b: 'accept' | 'retryable' | 'permanent' | 'refuse'): void;
  /**
   * The reason text the back office gives when it refuses inside a success (it must reach the attempt's error);
   * or, for a back office that gives no answer to read (a folder), why the case does not apply.
   */
  refusal: { text: string } | { notApplicable: string };
  /** Cases the back office has filed; it deduplicates by idempotency key, as a careful back office would. */
  filed(): { idempotencyKey: string }[];
  /** Every request body the back office received, in order (the bytes, for the determinism check). */
  received(): Buffer[];
  /** A message of the kind this adapter sends (`json` or `xml`). */
  message: OutboundMessage;
  /** Per-attempt timeout for `create`; default 5000. */
  timeoutMs?: number;
}

export function jsonMessage(body: unknown): OutboundMessage {
  const text = JSON.stringify(body);
  return { format: 'json', body, text, contentType: 'application/json', attachments: [] };
}

export function xmlMessage(text: string): OutboundMessage {
  return { format: 'xml', body: undefined, text, contentType: 'application/xml; charset=utf-8', attachments: [] };
}

/** A logger whose every line is kept, to look for secrets and form data. */
export function capturingLogger(): { logger: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk, _enc, cb) {
            lines.push(String(chunk));
            cb();
          },
        }),
      }),
    ],
  });
  return { logger, lines };
}

let counter = 0;
function deliveryContext(key?: string): DeliveryContext {
  counter++;
  const id = key ?? `0190c0de-0000-7000-8000-${String(counter).padStart(12, '0')}`;
  return {
    deliveryId: id,
    idempotencyKey: id,
    submissionId: '0190c0de-0000-7000-8000-000000000000',
    tenant: '05513000',
    service: 'conformance',
    attempt: 1,
  };
}

/**
 * The standard tests every adapter passes (mocha `describe`): a valid options schema that masks its secrets,
 * deterministic bytes on the wire, retryable and permanent errors told apart, a refusal inside a success never
 * taken for delivered, `check()` failing cleanly, no secrets in logs, and one case for one idempotency key
 * however often it is sent.
 */
export function describeAdapterConformance(adapter: AdapterDefinition, harness: ConformanceHarness): void {
  describe(`adapter conformance: ${adapter.type}`, function () {
    this.timeout(20_000);
    const { logger, lines } = capturingLogger();
    let instance: AdapterInstance;

    // The kit's back offices are real servers: the adapter runs on the machine's clock, as they do.
    const create = async (options: Record<string, unknown>) =>
      adapter.create(adapter.options.parse(options) as never, {
        targetId: `conformance-${adapter.type}`,
        logger,
        timeoutMs: harness.timeoutMs ?? 5000,
        clock: systemClock,
      });

    before(async () => {
      await harness.start();
      instance = await create(harness.options());
    });
    after(async () => {
      await instance?.close?.();
      await harness.stop();
    });

    it('declares a type, a semantic version and a default format', () => {
      expect(adapter.type).to.match(/^[a-z][a-z0-9-]*$/);
      expect(adapter.version).to.match(/^\d+\.\d+\.\d+$/);
      expect(['json', 'xml']).to.include(adapter.defaultFormat);
      expect(adapter.description).to.be.a('string').and.not.equal('');
    });

    it('has an options schema that accepts the harness options, rejects unknown keys and converts to JSON Schema', () => {
      expect(adapter.options.safeParse(harness.options()).success, 'harness options must be valid').to.equal(true);
      expect(adapter.options.safeParse({ ...harness.options(), surelyNotAnOption: 1 }).success, 'unknown keys must be refused').to.equal(
        false,
      );
      expect(() => z.toJSONSchema(adapter.options, { io: 'input', unrepresentable: 'any' })).not.to.throw();
    });

    it('masks every secret where options are shown', () => {
      const shown = JSON.stringify(maskSecrets(adapter.options, adapter.options.parse(harness.options())));
      for (const s of harness.secrets) expect(shown, 'a secret shows in masked options').not.to.include(s);
    });

    it('delivers and gets the back office reference or null', async () => {
      harness.behave('accept');
      const r = await instance.deliver(harness.message, deliveryContext());
      expect(r.ok, JSON.stringify(r)).to.equal(true);
    });

    it('puts the same bytes on the wire for the same message', async () => {
      harness.behave('accept');
      const before = harness.received().length;
      await instance.deliver(harness.message, deliveryContext());
      await instance.deliver(harness.message, deliveryContext());
      const bodies = harness.received().slice(before);
      expect(bodies.length).to.be.at.least(2);
      // Adapters may embed the delivery's own id or key; strip those before comparing.
      const norm = (b: Buffer) =>
        createHash('sha256')
          .update(b.toString('utf8').replace(/0190c0de-0000-7000-8000-\d{12}/g, 'ID'))
          .digest('hex');
      expect(norm(bodies[bodies.length - 1]!)).to.equal(norm(bodies[bodies.length - 2]!));
    });

    it('calls a temporary failure retryable', async () => {
      harness.behave('retryable');
      const r = await instance.deliver(harness.message, deliveryContext());
      expect(r).to.deep.include({ ok: false, retryable: true });
    });

    it('calls a rejection of the message permanent', async () => {
      harness.behave('permanent');
      const r = await instance.deliver(harness.message, deliveryContext());
      expect(r).to.deep.include({ ok: false, retryable: false });
    });

    const refusal = harness.refusal;
    if ('notApplicable' in refusal) {
      it.skip(`never calls a refusal inside a successful answer delivered: not applicable, ${refusal.notApplicable}`);
    } else {
      it('never calls a refusal inside a successful answer delivered, and names the reason without the message', async () => {
        harness.behave('refuse');
        const r = await instance.deliver(harness.message, deliveryContext());
        expect(r.ok, JSON.stringify(r)).to.equal(false);
        if (r.ok) return;
        expect(r.error).to.include(refusal.text);
        // The back office's text is cut; the request never echoes into the error.
        expect(r.error.length).to.be.at.most(400);
        expect(r.error).not.to.include(harness.message.text);
      });
    }

    it('files one case for one idempotency key, however often it is sent', async () => {
      harness.behave('accept');
      const ctx = deliveryContext();
      const first = await instance.deliver(harness.message, ctx);
      const second = await instance.deliver(harness.message, { ...ctx, attempt: 2 });
      expect(first.ok && second.ok).to.equal(true);
      expect(harness.filed().filter((c) => c.idempotencyKey === ctx.idempotencyKey)).to.have.length(1);
      if (first.ok && second.ok) expect(second.reference).to.equal(first.reference);
    });

    it('passes check() against the working back office', async () => {
      const r = await instance.check();
      expect(r.ok, r.message).to.equal(true);
    });

    it('fails check() cleanly on bad credentials', async function () {
      if (!harness.badCredentialOptions) return this.skip();
      const bad = await create(harness.badCredentialOptions());
      try {
        const r = await bad.check();
        expect(r.ok).to.equal(false);
        expect(r.message).to.be.a('string');
        // So that `config check --connect` tells refused credentials from a back office it cannot reach.
        expect(r.refused, `check() on refused credentials must say refused: true (${r.message})`).to.equal(true);
      } finally {
        await bad.close?.();
      }
    });

    it('never writes a secret into the log', () => {
      const log = lines.join('\n');
      for (const s of harness.secrets) expect(log, 'a secret appears in the log').not.to.include(s);
    });
  });
}
