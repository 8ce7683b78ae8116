import { hostname } from 'node:os';
import type { Logger } from 'winston';
import type { Metrics } from '../operator/metrics.ts';
import { warmXdomeaValidator } from '../mapping/xdomea/render.ts';
import { XDOMEA_XSD_DIR_ENV } from '../mapping/xdomea/schema.ts';
import type { Router } from '../routing/router.ts';
import type { AdapterInstance } from '../sdk/types.ts';
import type { AttemptResult, ClaimedDelivery, MessageSource, Store, TargetGate } from '../store/index.ts';
import type { TargetConfig } from '../config/schema.ts';
import { DeliveryWindows } from '../core/policy/window.ts';
import type { BackOfficeSignal } from '../core/policy/breaker.ts';
import { uuidv7 } from '../store/ids.ts';
import { afterFailure, budgetAttempt, budgetSpent } from '../core/policy/retry.ts';
import { ClaimLoop, type ClaimRound } from './claim-loop.ts';
import type { Clock } from '../clock.ts';
import { InProcessRunner } from './runner/in-process.ts';
import { type AttemptRunner, isMappingFailure } from './runner/types.ts';

export { HARD_STOP_GRACE_MS } from './runner/in-process.ts';

export interface WorkerOptions {
  store: Store;
  router: Router;
  /** One adapter instance per target id, created at start-up. */
  adapters: ReadonlyMap<string, AdapterInstance>;
  /**
   * What renders and sends each message (src/delivery/runner/): default on this event loop with `adapters`; the
   * hub passes its delivery threads when `worker.threads` > 0. The hub opens and closes it, as it does the adapters.
   */
  runner?: AttemptRunner;
  logger: Logger;
  metrics: Metrics;
  concurrency: number;
  /**
   * Deliveries claimed ahead of free slots (the local queue); default none. Each waits there under its lease, so
   * the lease must cover the wait as well as the attempt: with short leases and slow back offices a queued one
   * can run out and be taken over (and sent twice), which the multi-instance test showed at a 4 s lease.
   */
  prefetch?: number;
  pollIntervalMs: number;
  leaseMs: number;
  shutdownGraceMs: number;
  /** How often to ask a back office whether it has confirmed a hand-over. */
  ackPollMs?: number;
  /** Identifies this process in leases and attempts. */
  owner?: string;
  /** The hub's clock: claims, leases, attempts, windows, breakers and back-off all read it. */
  now: Clock;
  random?: () => number;
}

/**
 * Claims due deliveries with a lease, maps them, sends them through their target's adapter and records the
 * outcome. Retry policy is applied here, around any adapter (its rule is src/core/policy/retry.ts); adapters
 * only say whether an error is retryable.
 */
export class DeliveryWorker {
  readonly owner: string;
  /** Renders and sends the messages: on this event loop, or on the delivery threads. */
  readonly runner: AttemptRunner;
  private readonly loop: ClaimLoop<ClaimedDelivery>;
  private readonly now: Clock;
  private readonly random: () => number;
  /** Each target's policy, as the worker applies it around the adapter. */
  private readonly policies = new Map<string, TargetPolicy>();
  /** Targets the claim visits, in turn; more join at start-up when deliveries name a target no longer configured. */
  private targetIds: string[];
  private turn = 0;
  /** Targets that had work at the last claim: the worker's slots are shared among these. */
  private active = new Set<string>();
  /**
   * Targets the last claims found held back by their breaker or rate limit, and until when. They get no room
   * until then, and when every target is held back (a back office down, its breaker open) the worker does not
   * ask the database at all: each new submission would otherwise cost a claim that finds nothing to take.
   * Another instance's probe may close a breaker sooner; this instance then follows at its cool-down's end.
   */
  private readonly heldUntil = new Map<string, number>();
  /** Results being written: their slots are free already, and stop() waits for them. */
  private readonly recording = new Set<Promise<void>>();
  /**
   * The mapping data of claimed deliveries, as the claim brought it (one read per delivery was a round trip each on
   * PostgreSQL); the attempt reads its own should it be missing, and drops it when it ends.
   */
  private readonly sources = new Map<string, MessageSource>();
  /** When the last claim was made (or skipped for batching): a free slot idles at most one poll interval. */
  private lastClaimAt = -Infinity;

  constructor(private readonly o: WorkerOptions) {
    this.now = o.now;
    this.owner = o.owner ?? `${hostname()}:${process.pid}:${uuidv7(this.now()).slice(-8)}`;
    this.random = o.random ?? Math.random;
    this.runner = o.runner ?? new InProcessRunner({ router: o.router, adapters: o.adapters });
    for (const t of o.router.config.targets.values()) this.policies.set(t.id, targetPolicy(t.config));
    this.targetIds = [...this.policies.keys()];
    o.store.onBreakerChange((c) => {
      // A breaker this instance closed is known here at once: no need to wait out what was held.
      if (c.transition === 'closed') this.heldUntil.delete(c.targetId);
      const meta = {
        target: c.targetId,
        consecutiveFailures: c.status.consecutiveFailures,
        ...(c.status.lastError ? { lastError: c.status.lastError } : {}),
      };
      if (c.transition === 'closed') o.logger.info('circuit breaker closed: the back office answers again', meta);
      else
        o.logger.warn(`circuit breaker ${c.transition}: deliveries to the target wait without spending attempts`, {
          ...meta,
          probeAt: new Date(c.status.retryAt!).toISOString(),
        });
    });
    this.loop = new ClaimLoop({
      concurrency: o.concurrency,
      prefetch: o.prefetch ?? 0,
      group: (d) => d.targetId,
      pollIntervalMs: o.pollIntervalMs,
      shutdownGraceMs: o.shutdownGraceMs,
      now: this.now,
      claim: (free) => this.claim(free),
      process: (d) => this.process(d),
    });
  }

  start(): void {
    this.loop.start(this.prepare());
  }

  /** Policy rows for every target, and the targets of open deliveries that the configuration no longer names. */
  private async prepare(): Promise<void> {
    try {
      // The threads report ready (the hub opened them before HTTP; here after a restart of the worker).
      await this.runner.open();
    } catch (e) {
      this.o.logger.error('the delivery threads could not start; attempts fail as internal errors', { error: (e as Error).message });
    }
    try {
      await this.o.store.ensureTargetStates(this.targetIds, this.now());
      const orphans = (await this.o.store.targetsWithOpenDeliveries()).filter((id) => !this.policies.has(id));
      if (orphans.length) {
        this.o.logger.warn('open deliveries for targets that are not configured; they will fail with a config error', { targets: orphans });
        this.targetIds = [...this.targetIds, ...orphans];
      }
    } catch (e) {
      this.o.logger.error('could not prepare the target policies', { error: (e as Error).message });
    }
    // The xdomea XSD set takes a moment to compile: before the first claim, not inside the first delivery.
    if ([...this.o.router.config.targets.values()].some((t) => t.format === 'xdomea')) {
      try {
        if (!(await warmXdomeaValidator()))
          this.o.logger.warn(
            `xdomea messages go out without XSD validation: set ${XDOMEA_XSD_DIR_ENV} to the xdomea 3.0.0 schema folder (XRepository)`,
          );
      } catch (e) {
        this.o.logger.error('could not compile the xdomea schema; xdomea deliveries will fail', { error: (e as Error).message });
      }
    }
  }

  /**
   * This claim's gates, starting one target further each time so no target is always first, and those with fewer
   * slots here before those with more. The worker's slots are shared among the targets with work, so a slow or
   * dead back office never holds them all.
   */
  private gates(now: number): { gates: TargetGate[]; windowWake: number | undefined; heldWake: number | undefined } {
    const here = new Map<string, number>();
    for (const delivery of this.loop.busy) here.set(delivery.targetId, (here.get(delivery.targetId) ?? 0) + 1);
    const busy = new Set([...this.active, ...here.keys()]);
    const share = Math.max(1, Math.floor(this.loop.capacity / Math.max(1, busy.size)));
    const n = this.targetIds.length;
    const start = n ? this.turn++ % n : 0;
    const gates: TargetGate[] = [];
    let windowWake: number | undefined;
    let heldWake: number | undefined;
    for (let i = 0; i < n; i++) {
      const id = this.targetIds[(start + i) % n]!;
      const p = this.policies.get(id);
      let room = Math.max(0, share - (here.get(id) ?? 0));
      const held = this.heldUntil.get(id);
      if (held !== undefined && held > now) {
        room = 0;
        heldWake = Math.min(heldWake ?? Infinity, held);
      } else if (held !== undefined) this.heldUntil.delete(id);
      if (p && !p.windows.isOpen(now)) {
        room = 0;
        const opens = p.windows.nextOpening(now);
        if (opens !== undefined) windowWake = Math.min(windowWake ?? Infinity, opens);
      }
      gates.push({ targetId: id, room, maxInFlight: p?.maxInFlight, rate: p?.rate, breaker: Boolean(p?.breaker) });
    }
    // Targets holding fewer of this worker's slots go first (the turn breaks ties): when a single slot frees up
    // under a slow back office's backlog, it goes to a target that has none rather than back to the slow one.
    gates.sort((a, b) => (here.get(a.targetId) ?? 0) - (here.get(b.targetId) ?? 0));
    return { gates, windowWake, heldWake };
  }

  /** Something became due (a new submission): claim now rather than at the next poll. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops claiming, lets in-flight attempts finish within the grace period, and gives back the rest. */
  async stop(): Promise<void> {
    const unfinished = await this.loop.stop();
    this.sources.clear();
    await Promise.all([...this.recording]);
    if (unfinished.length) {
      this.o.logger.warn('shutting down with attempts still open; their leases are released', { count: unfinished.length });
      await this.o.store.releaseLeases(this.owner, unfinished, this.now());
    }
  }

  /**
   * One round of claiming. In batches: while more than half the slots are busy, it waits for more to free up,
   * since every claim is a commit of its own, but no longer than one poll interval, so a free slot is not left
   * idle while slow back offices hold the others. A rate limit, a breaker's cool-down or a window may free a
   * target before the next poll: `wakeAt` says when.
   */
  private async claim(free: number): Promise<ClaimRound<ClaimedDelivery>> {
    const now = this.now();
    if (this.loop.size > 0 && free < Math.ceil(this.loop.capacity / 2) && now - this.lastClaimAt < this.o.pollIntervalMs)
      return { claimed: [], wakeAt: this.lastClaimAt + this.o.pollIntervalMs };
    this.lastClaimAt = now;
    const { gates, windowWake, heldWake } = this.gates(now);
    if (gates.every((g) => g.room === 0)) return { claimed: [], wakeAt: Math.min(windowWake ?? Infinity, heldWake ?? Infinity) };
    try {
      const batch = await this.o.store.claimForTargets(this.owner, now, this.o.leaseMs, free, gates);
      for (const [id, until] of batch.blocked ?? []) this.heldUntil.set(id, until);
      this.active = new Set(batch.claimed.map((c) => c.targetId));
      this.observeWaits(batch.claimed, now);
      await this.readSources(batch.claimed, batch.sources);
      return { claimed: batch.claimed, wakeAt: Math.min(batch.wakeAt ?? Infinity, windowWake ?? Infinity) };
    } catch (e) {
      this.o.logger.error('could not claim deliveries', { error: (e as Error).message });
      return { claimed: [] };
    }
  }

  /**
   * The claimed sends' mapping data, as the claim brought it or else read at once. A failure only costs each
   * attempt a read of its own.
   */
  private async readSources(claimed: readonly ClaimedDelivery[], withClaim?: ReadonlyMap<string, MessageSource>): Promise<void> {
    const sends = claimed.filter((d) => !d.ack);
    if (sends.length === 0) return;
    try {
      const read = withClaim ?? (await this.o.store.messageSources(sends.map((d) => d.submissionId)));
      for (const d of sends) {
        const src = read.get(d.submissionId);
        if (src) this.sources.set(d.id, src);
      }
    } catch (e) {
      this.o.logger.warn("could not read the claimed deliveries' data in one go; each attempt reads its own", {
        error: (e as Error).message,
      });
    }
  }

  /**
   * How long each claimed delivery waited since it fell due. One that fell due while its target's window was closed
   * counts from the opening: the first attempt after a window opens is not late.
   */
  private observeWaits(claimed: ClaimedDelivery[], now: number): void {
    for (const d of claimed) {
      if (d.ack || d.dueAt === undefined) continue;
      const since = this.policies.get(d.targetId)?.windows.dueSince(d.dueAt, now) ?? d.dueAt;
      this.o.metrics.waitSeconds.observe({ target: d.targetId }, Math.max(0, now - since) / 1000);
    }
  }

  /** One attempt of one delivery, start to end. Never throws. */
  private async process(d: ClaimedDelivery): Promise<void> {
    const log = this.o.logger.child({
      submissionId: d.submissionId,
      deliveryId: d.id,
      tenant: d.tenant,
      service: d.service,
      target: d.targetId,
      attempt: d.attempt,
    });
    const started = this.now();
    let result: AttemptResult;
    try {
      result = await this.attempt(d, log).finally(() => this.sources.delete(d.id));
    } catch (e) {
      // A bug or a store error, not the back office's answer: try again later rather than lose the delivery.
      log.error('attempt failed unexpectedly', { error: (e as Error).message });
      result = {
        outcome: 'retry',
        finishedAt: this.now(),
        error: 'internal error in the hub',
        errorKind: 'internal',
        nextAttemptAt: this.now() + this.o.pollIntervalMs * 10,
      };
    }
    const durationS = (result.finishedAt - started) / 1000;
    if (!d.ack) {
      this.o.metrics.attempts.inc({ target: d.targetId, outcome: result.outcome });
      this.o.metrics.attemptSeconds.observe({ target: d.targetId }, durationS);
    }
    const recording = this.record(d, result, started, log);
    // A plain success frees its slot once the back office has answered: the result joins the next group commit
    // while the slot sends the next delivery (the lease covers the delivery until the commit; stop() waits for it).
    // Anything else may move the target's breaker, which the next claim must see: it holds the slot until recorded.
    if (result.outcome !== 'delivered' || d.probe || d.ack) return recording;
    this.recording.add(recording);
    void recording.finally(() => this.recording.delete(recording));
  }

  /** Records an attempt's end and logs it. Never throws. */
  private async record(d: ClaimedDelivery, result: AttemptResult, started: number, log: Logger): Promise<void> {
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
    if (result.outcome === 'delivered' || result.outcome === 'failed')
      this.o.metrics.finished.inc({ target: d.targetId, outcome: result.outcome });
    const meta = {
      outcome: result.outcome,
      durationMs: result.finishedAt - started,
      ...(result.httpStatus ? { httpStatus: result.httpStatus } : {}),
      ...(result.reference ? { reference: result.reference } : {}),
      ...(result.error ? { error: result.error, errorKind: result.errorKind } : {}),
      ...(result.detail?.warning ? { warning: result.detail.warning } : {}),
    };
    if (result.outcome === 'ack-pending') return;
    if (result.outcome === 'handed-over')
      log.info('handed over; waiting for the back office to acknowledge', {
        ...meta,
        acknowledgementDeadline: new Date(result.ack!.deadline).toISOString(),
      });
    else if (result.outcome === 'delivered') log.log(meta.warning ? 'warn' : 'info', 'delivered', meta);
    else if (result.outcome === 'retry')
      log.warn('attempt failed, will retry', { ...meta, nextAttemptAt: new Date(result.nextAttemptAt!).toISOString() });
    else log.error('delivery failed', meta);
  }

  private async attempt(d: ClaimedDelivery, log: Logger): Promise<AttemptResult> {
    const step = this.o.router.step(d.routeId, d.targetId);
    const adapter = this.o.adapters.get(d.targetId);
    if (!step || !adapter) {
      return this.failed(`route ${d.routeId} or target ${d.targetId} is no longer configured`, 'config');
    }
    if (d.ack) return this.askAcknowledgement(d, log);
    const policy = step.target.config.policy.retry;
    const runAttempt = budgetAttempt(d.attempt, d.attemptBase);
    const spent = budgetSpent(policy, runAttempt);
    if (spent) return this.failed(spent, 'attempts-exhausted');
    if (d.resumed) log.warn('resuming a delivery whose lease ran out; re-sending with the same idempotency key');

    const src = this.sources.get(d.id) ?? (await this.o.store.messageSource(d.submissionId));
    if (!src) return this.failed('the submission is gone', 'internal');
    // Retention deleted the form data: sending the empty rest would file a blank case.
    if (src.purgedAt !== null) return this.failed("the submission's form data was deleted by retention", 'purged');
    // Rendering and sending run in the runner (perhaps on a delivery thread); the memo stays with the store here.
    const res = await this.runner.run(d, src, {
      recall: (key) => this.o.store.recallMemo(d.id, key),
      remember: (key, value) => this.o.store.rememberMemo(d.id, key, value, this.now()),
    });
    if (isMappingFailure(res)) return this.failed(res.error, res.errorKind, res.detail);
    const finishedAt = this.now();
    if (res.ok && res.awaitingAck) {
      if (!adapter.acknowledgement)
        return this.failed(`adapter ${step.target.adapter.type} asked for an acknowledgement it cannot check`, 'internal');
      return {
        outcome: 'handed-over',
        finishedAt,
        httpStatus: res.httpStatus,
        breaker: this.signal(step.target.config, 'up'),
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
        breaker: this.signal(step.target.config, 'up'),
        ...(res.warning || res.detail ? { detail: { ...res.detail, ...(res.warning ? { warning: res.warning } : {}) } } : {}),
      };
    }
    // A permanent error is still an answer: the back office is up, as far as its breaker is concerned.
    const base = {
      finishedAt,
      error: res.error,
      errorKind: res.errorKind,
      httpStatus: res.httpStatus,
      breaker: this.signal(step.target.config, res.retryable ? 'down' : 'up'),
    };
    const next = afterFailure(
      res,
      { attempt: runAttempt, replayed: Boolean(d.attemptBase), probe: Boolean(d.probe), createdAt: d.createdAt },
      policy,
      finishedAt,
      this.random,
    );
    if (next.next === 'fail') return { outcome: 'failed', ...base, error: next.error };
    return { outcome: 'retry', ...base, nextAttemptAt: next.at };
  }

  /** What the attempt tells the target's circuit breaker, if it has one. */
  private signal(target: TargetConfig, signal: BackOfficeSignal): AttemptResult['breaker'] {
    const b = target.policy.breaker;
    return b.enabled ? { signal, settings: { failureThreshold: b.failureThreshold, cooldownMs: b.cooldownMs } } : undefined;
  }

  private get ackPollMs(): number {
    return this.o.ackPollMs ?? 5_000;
  }

  /**
   * A handed-over message: has the back office confirmed it? Pending until the deadline, then failed.
   * A rejection is the back office's verdict on the message, so it is permanent.
   */
  private async askAcknowledgement(d: ClaimedDelivery, log: Logger): Promise<AttemptResult> {
    const now = this.now();
    const again = (): AttemptResult => ({ outcome: 'ack-pending', finishedAt: this.now(), nextAttemptAt: this.now() + this.ackPollMs });
    try {
      const ack = await this.runner.acknowledgement(d);
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

  private failed(error: string, errorKind: string, detail?: Record<string, unknown>): AttemptResult {
    return { outcome: 'failed', finishedAt: this.now(), error, errorKind, ...(detail ? { detail } : {}) };
  }
}

/** A target's policies as the worker applies them: windows, shared limits, breaker. */
interface TargetPolicy {
  windows: DeliveryWindows;
  maxInFlight: number | undefined;
  rate: { perMinute: number; burst: number } | undefined;
  breaker: boolean;
}

function targetPolicy(t: TargetConfig): TargetPolicy {
  const r = t.policy.rateLimit;
  return {
    windows: new DeliveryWindows(t.policy.windows),
    maxInFlight: r.maxInFlight,
    rate: r.perMinute !== undefined ? { perMinute: r.perMinute, burst: r.burst } : undefined,
    breaker: t.policy.breaker.enabled,
  };
}
