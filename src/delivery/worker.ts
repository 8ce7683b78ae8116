import { hostname } from 'node:os';
import type { Logger } from 'winston';
import type { Metrics } from '../console/metrics.ts';
import { MappingError, renderMessage } from '../mapping/engine.ts';
import type { RouteStep, Router } from '../routing/router.ts';
import type { AdapterInstance, DeliveryResult, OutboundMessage } from '../sdk/types.ts';
import type { AttemptResult, ClaimedDelivery, Store } from '../store/store.ts';
import { uuidv7 } from '../store/ids.ts';
import { retryDelay } from './backoff.ts';
import { mappingInput } from './message-input.ts';

/** How long past its timeout an adapter may run before the worker stops waiting for it. */
export const HARD_STOP_GRACE_MS = 1_000;

export interface WorkerOptions {
  store: Store;
  router: Router;
  /** One adapter instance per target id, created at start-up. */
  adapters: ReadonlyMap<string, AdapterInstance>;
  logger: Logger;
  metrics: Metrics;
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
  shutdownGraceMs: number;
  /** How often to ask a back office whether it has confirmed a hand-over. */
  ackPollMs?: number;
  /** Identifies this process in leases and attempts. */
  owner?: string;
  now?: () => number;
  random?: () => number;
}

/**
 * Claims due deliveries with a lease, maps them, sends them through their target's adapter and records the
 * outcome. Retry policy lives here, around any adapter; adapters only say whether an error is retryable.
 */
export class DeliveryWorker {
  readonly owner: string;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly inFlight = new Map<string, { delivery: ClaimedDelivery; done: Promise<void> }>();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly o: WorkerOptions) {
    this.owner = o.owner ?? `${hostname()}:${process.pid}:${uuidv7().slice(-8)}`;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something became due (a new submission): claim now rather than at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops claiming, lets in-flight attempts finish within the grace period, and gives back the rest. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    const pending = [...this.inFlight.values()];
    if (pending.length) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => (timer = setTimeout(r, this.o.shutdownGraceMs)));
      await Promise.race([Promise.all(pending.map((p) => p.done)), grace]);
      clearTimeout(timer);
    }
    const unfinished = [...this.inFlight.values()].map((p) => p.delivery);
    if (unfinished.length) {
      this.o.logger.warn('shutting down with attempts still open; their leases are released', { count: unfinished.length });
      await this.o.store.releaseLeases(this.owner, unfinished, this.now());
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.o.concurrency - this.inFlight.size;
      let claimed: ClaimedDelivery[] = [];
      // Claim in batches: while more than half the slots are busy, wait for more to free up, since every claim
      // is a commit of its own.
      if (free > 0 && (this.inFlight.size === 0 || free >= Math.ceil(this.o.concurrency / 2))) {
        try {
          claimed = await this.o.store.claimDue(this.owner, this.now(), this.o.leaseMs, free);
        } catch (e) {
          this.o.logger.error('could not claim deliveries', { error: (e as Error).message });
        }
      }
      for (const d of claimed) {
        const done = this.process(d).finally(() => {
          this.inFlight.delete(d.id);
          this.wake();
        });
        this.inFlight.set(d.id, { delivery: d, done });
      }
      // A full batch means more may be due: go again at once. Otherwise sleep until woken or the next poll.
      if (claimed.length > 0 && claimed.length === free) continue;
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.o.pollIntervalMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wakeUp = done;
      });
      this.wakeUp = undefined;
    }
  }

  /** One attempt of one delivery, start to end. Never throws. */
  private async process(d: ClaimedDelivery): Promise<void> {
    const log = this.o.logger.child({ submissionId: d.submissionId, deliveryId: d.id, tenant: d.tenant, service: d.service, target: d.targetId, attempt: d.attempt });
    const started = this.now();
    let result: AttemptResult;
    try {
      result = await this.attempt(d, log);
    } catch (e) {
      // A bug or a store error, not the back office's answer: try again later rather than lose the delivery.
      log.error('attempt failed unexpectedly', { error: (e as Error).message });
      result = { outcome: 'retry', finishedAt: this.now(), error: 'internal error in the hub', errorKind: 'internal', nextAttemptAt: this.now() + this.o.pollIntervalMs * 10 };
    }
    const durationS = (result.finishedAt - started) / 1000;
    if (!d.ack) {
      this.o.metrics.attempts.inc({ target: d.targetId, outcome: result.outcome });
      this.o.metrics.attemptSeconds.observe({ target: d.targetId }, durationS);
    }
    try {
      const recorded = await this.o.store.completeAttempt(d, this.owner, result);
      if (!recorded) {
        log.warn('lease lost before the attempt was recorded; another instance owns the delivery now', { outcome: result.outcome });
        return;
      }
    } catch (e) {
      // The lease will run out and the delivery be retried with the same idempotency key.
      log.error('could not record the attempt', { error: (e as Error).message, outcome: result.outcome });
      return;
    }
    if (result.outcome === 'delivered' || result.outcome === 'failed') this.o.metrics.finished.inc({ target: d.targetId, outcome: result.outcome });
    const meta = {
      outcome: result.outcome,
      durationMs: result.finishedAt - started,
      ...(result.httpStatus ? { httpStatus: result.httpStatus } : {}),
      ...(result.reference ? { reference: result.reference } : {}),
      ...(result.error ? { error: result.error, errorKind: result.errorKind } : {}),
      ...(result.detail?.warning ? { warning: result.detail.warning } : {}),
    };
    if (result.outcome === 'ack-pending') return;
    if (result.outcome === 'handed-over') log.info('handed over; waiting for the back office to acknowledge', { ...meta, acknowledgementDeadline: new Date(result.ack!.deadline).toISOString() });
    else if (result.outcome === 'delivered') log.log(meta.warning ? 'warn' : 'info', 'delivered', meta);
    else if (result.outcome === 'retry') log.warn('attempt failed, will retry', { ...meta, nextAttemptAt: new Date(result.nextAttemptAt!).toISOString() });
    else log.error('delivery failed', meta);
  }

  private async attempt(d: ClaimedDelivery, log: Logger): Promise<AttemptResult> {
    const step = this.o.router.step(d.routeId, d.targetId);
    const adapter = this.o.adapters.get(d.targetId);
    if (!step || !adapter) {
      return this.failed(`route ${d.routeId} or target ${d.targetId} is no longer configured`, 'config');
    }
    if (d.ack) return this.askAcknowledgement(d, adapter, log);
    const policy = step.target.config.policy.retry;
    // After a replay the budget starts afresh; the attempt numbers go on.
    const runAttempt = d.attempt - (d.attemptBase ?? 0);
    if (runAttempt > policy.maxAttempts) {
      return this.failed(`all ${policy.maxAttempts} attempts are used up; the last one was interrupted before it finished`, 'attempts-exhausted');
    }
    if (d.resumed) log.warn('resuming a delivery whose lease ran out; re-sending with the same idempotency key');

    const src = await this.o.store.messageSource(d.submissionId);
    if (!src) return this.failed('the submission is gone', 'internal');
    let message: OutboundMessage;
    try {
      const rendered = await renderMessage(step.mapping, mappingInput(this.o.router, d, d.submissionId, src), step.target.format, step.target.config.xml);
      message = { ...rendered, attachments: src.attachments };
    } catch (e) {
      if (e instanceof MappingError) return this.failed(e.describe(), 'mapping', { mapping: e.mapping, ...(e.position !== undefined ? { position: e.position } : {}), ...(e.code ? { code: e.code } : {}) });
      throw e;
    }

    const res = await this.send(adapter, step, message, d);
    const finishedAt = this.now();
    if (res.ok && res.awaitingAck) {
      if (!adapter.acknowledgement) return this.failed(`adapter ${step.target.adapter.type} asked for an acknowledgement it cannot check`, 'internal');
      return {
        outcome: 'handed-over',
        finishedAt,
        httpStatus: res.httpStatus,
        nextAttemptAt: finishedAt + this.ackPollMs,
        ack: { token: res.awaitingAck.token, deadline: finishedAt + res.awaitingAck.timeoutMs },
        ...(res.warning || res.detail ? { detail: { ...res.detail, ...(res.warning ? { warning: res.warning } : {}) } } : {}),
      };
    }
    if (res.ok) {
      return {
        outcome: 'delivered',
        finishedAt,
        reference: res.reference,
        httpStatus: res.httpStatus,
        ...(res.warning || res.detail ? { detail: { ...res.detail, ...(res.warning ? { warning: res.warning } : {}) } } : {}),
      };
    }
    const base = { finishedAt, error: res.error, errorKind: res.errorKind, httpStatus: res.httpStatus };
    if (!res.retryable) return { outcome: 'failed', ...base };
    if (runAttempt >= policy.maxAttempts) return { outcome: 'failed', ...base, error: `${res.error} (gave up after ${runAttempt} attempts${d.attemptBase ? ' since the replay' : ''})` };
    return { outcome: 'retry', ...base, nextAttemptAt: finishedAt + retryDelay(policy, runAttempt, res.retryAfterMs, this.random) };
  }

  private get ackPollMs(): number {
    return this.o.ackPollMs ?? 5_000;
  }

  /**
   * A handed-over message: has the back office confirmed it? Pending until the deadline, then failed.
   * A rejection is the back office's verdict on the message, so it is permanent.
   */
  private async askAcknowledgement(d: ClaimedDelivery, adapter: AdapterInstance, log: Logger): Promise<AttemptResult> {
    const now = this.now();
    const again = (): AttemptResult => ({ outcome: 'ack-pending', finishedAt: this.now(), nextAttemptAt: this.now() + this.ackPollMs });
    try {
      const ack = await adapter.acknowledgement!(d.ack!.token);
      if (ack.state === 'accepted') return { outcome: 'delivered', finishedAt: this.now(), reference: ack.reference };
      if (ack.state === 'rejected') return this.failed(`the back office rejected the message: ${ack.error}`, 'rejected');
    } catch (e) {
      // Could not ask (share gone, connection refused): the hand-over stands, ask again later.
      log.warn('could not check the acknowledgement', { error: (e as Error).message });
    }
    if (now >= d.ack!.deadline) {
      return this.failed(`no acknowledgement from the back office by ${new Date(d.ack!.deadline).toISOString()}`, 'ack-timeout');
    }
    return again();
  }

  /** Calls the adapter with a hard stop a little after its timeout, in case an adapter does not honour it. */
  private async send(adapter: AdapterInstance, step: RouteStep, message: OutboundMessage, d: ClaimedDelivery): Promise<DeliveryResult> {
    const limit = step.target.config.timeoutMs + HARD_STOP_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<DeliveryResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, retryable: true, error: `the adapter did not return within ${limit} ms`, errorKind: 'timeout' }), limit);
    });
    try {
      return await Promise.race([
        adapter.deliver(message, { deliveryId: d.id, idempotencyKey: d.idempotencyKey, submissionId: d.submissionId, tenant: d.tenant, service: d.service, attempt: d.attempt }),
        timeout,
      ]);
    } catch (e) {
      return { ok: false, retryable: true, error: `adapter error: ${(e as Error).message}`, errorKind: 'adapter-error' };
    } finally {
      clearTimeout(timer);
    }
  }

  private failed(error: string, errorKind: string, detail?: Record<string, unknown>): AttemptResult {
    return { outcome: 'failed', finishedAt: this.now(), error, errorKind, ...(detail ? { detail } : {}) };
  }
}
