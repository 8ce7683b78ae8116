import { MappingError, renderMessage } from '../../mapping/engine.ts';
import type { Router } from '../../routing/router.ts';
import type { AckResult, AdapterInstance, DeliveryMemo, DeliveryResult, OutboundMessage } from '../../sdk/types.ts';
import type { ClaimedDelivery, MessageSource } from '../../store/index.ts';
import { mappingInput } from '../message-input.ts';
import type { AttemptRunner, MappingFailure, RunOutcome } from './types.ts';

/** How long past its timeout an adapter may run before the worker stops waiting for it. */
export const HARD_STOP_GRACE_MS = 1_000;

export interface InProcessRunnerOptions {
  router: Router;
  /** One adapter instance per target id. */
  adapters: ReadonlyMap<string, AdapterInstance>;
}

/** Renders and sends on the calling event loop: the hub's default, and what each delivery thread runs inside. */
export class InProcessRunner implements AttemptRunner {
  constructor(private readonly o: InProcessRunnerOptions) {}

  async open(): Promise<void> {}

  async run(d: ClaimedDelivery, src: MessageSource, memo: DeliveryMemo): Promise<RunOutcome> {
    const { step, adapter } = this.target(d);
    let message: OutboundMessage;
    try {
      const rendered = await renderMessage(
        step.mapping,
        mappingInput(this.o.router, d, d.submissionId, src),
        step.target.format,
        step.target.config.xml,
        // For format original: the inbound document as it was stored, sent unchanged.
        src.original,
      );
      // An xdomea container carries the attachments itself (as primary documents).
      message = { ...rendered, attachments: rendered.container ? [] : src.attachments };
    } catch (e) {
      if (e instanceof MappingError) return mappingFailure(e);
      throw e;
    }
    return send(adapter, step.target.config.timeoutMs, message, d, memo);
  }

  acknowledgement(d: ClaimedDelivery): Promise<AckResult> {
    const { adapter } = this.target(d);
    if (!adapter.acknowledgement) throw new Error(`the adapter of target ${d.targetId} cannot check acknowledgements`);
    return adapter.acknowledgement(d.ack!.token);
  }

  async close(): Promise<void> {}

  private target(d: ClaimedDelivery) {
    const step = this.o.router.step(d.routeId, d.targetId);
    const adapter = this.o.adapters.get(d.targetId);
    // The worker checked both against the same configuration; here only if a thread's copy differs.
    if (!step || !adapter) throw new Error(`route ${d.routeId} or target ${d.targetId} is not configured`);
    return { step, adapter };
  }
}

function mappingFailure(e: MappingError): MappingFailure {
  return {
    mappingFailed: true,
    error: e.describe(),
    errorKind: e.errorKind,
    detail: {
      mapping: e.mapping,
      ...(e.position !== undefined ? { position: e.position } : {}),
      ...(e.at ? { line: e.at.line, column: e.at.column } : {}),
      ...(e.code ? { code: e.code } : {}),
    },
  };
}

/**
 * `work`, or a retryable timeout at `timeoutMs` + HARD_STOP_GRACE_MS, whichever comes first: the hard stop an
 * attempt has wherever it runs, in case an adapter (or a thread) does not honour its timeout. A late answer is
 * dropped.
 */
export async function withHardStop<T>(work: Promise<T>, timeoutMs: number): Promise<T | DeliveryResult> {
  const limit = timeoutMs + HARD_STOP_GRACE_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DeliveryResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, retryable: true, error: `the adapter did not return within ${limit} ms`, errorKind: 'timeout' }),
      limit,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls the adapter under its hard stop; an adapter that throws is a retryable adapter error. */
async function send(
  adapter: AdapterInstance,
  timeoutMs: number,
  message: OutboundMessage,
  d: ClaimedDelivery,
  memo: DeliveryMemo,
): Promise<DeliveryResult> {
  try {
    return await withHardStop(
      adapter.deliver(message, {
        deliveryId: d.id,
        idempotencyKey: d.idempotencyKey,
        submissionId: d.submissionId,
        tenant: d.tenant,
        service: d.service,
        attempt: d.attempt,
        memo,
      }),
      timeoutMs,
    );
  } catch (e) {
    return { ok: false, retryable: true, error: `adapter error: ${(e as Error).message}`, errorKind: 'adapter-error' };
  }
}
