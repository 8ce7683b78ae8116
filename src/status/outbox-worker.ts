import { hostname } from 'node:os';
import { Gauge } from 'prom-client';
import type { Logger } from 'winston';
import type { PortalConfig, StatusCallbackConfig } from '../config/schema.ts';
import type { Metrics } from '../operator/metrics.ts';
import { retryDelay } from '../core/policy/retry.ts';
import { parseRetryAfter } from '../sdk/http-errors.ts';
import { uuidv7 } from '../store/ids.ts';
import { ClaimLoop } from '../delivery/claim-loop.ts';
import type { ClaimedStatusUpdate, StatusStore, StatusUpdateResult } from '../store/status-store.ts';
import type { Clock } from '../clock.ts';

export interface OutboxWorkerOptions {
  statusStore: StatusStore;
  portals: readonly PortalConfig[];
  logger: Logger;
  metrics?: Pick<Metrics, 'registry' | 'statusForwarded' | 'statusForwardSeconds'>;
  concurrency?: number;
  pollIntervalMs: number;
  leaseMs: number;
  shutdownGraceMs: number;
  owner?: string;
  /** The hub's clock. */
  now: Clock;
  random?: () => number;
}

/** The body a portal's status callback receives (docs/status.md#the-portals-status-callback). */
export interface StatusUpdateBody {
  submissionId: string;
  externalId: string;
  tenant: string;
  service: string;
  status: string;
  reason?: string;
  at: string;
  sequence: number;
}

/**
 * Sends queued status updates to the portals' callbacks: claimed with a lease (several instances share the outbox),
 * one at a time per submission in sequence order, retried with back-off, with the outbox row's id as Idempotency-Key.
 */
export class StatusOutboxWorker {
  readonly owner: string;
  private readonly loop: ClaimLoop<ClaimedStatusUpdate>;
  private readonly callbacks: Map<string, StatusCallbackConfig>;
  private readonly now: Clock;
  private readonly concurrency: number;

  constructor(private readonly o: OutboxWorkerOptions) {
    this.now = o.now;
    this.owner = o.owner ?? `${hostname()}:${process.pid}:status:${uuidv7(this.now()).slice(-8)}`;
    this.concurrency = o.concurrency ?? 4;
    this.callbacks = new Map(o.portals.flatMap((p) => (p.statusCallback ? [[p.id, p.statusCallback] as const] : [])));
    this.loop = new ClaimLoop({
      concurrency: this.concurrency,
      pollIntervalMs: o.pollIntervalMs,
      shutdownGraceMs: o.shutdownGraceMs,
      now: this.now,
      claim: async (free) => {
        try {
          return { claimed: await o.statusStore.claimUpdates(this.owner, this.now(), o.leaseMs, free) };
        } catch (e) {
          o.logger.error('could not claim status updates', { error: (e as Error).message });
          return { claimed: [] };
        }
      },
      process: (u) => this.process(u),
    });
    if (o.metrics) {
      const store = o.statusStore;
      new Gauge({
        name: 'amtsbote_status_outbox',
        help: 'Status updates in the portal outbox by state (all instances)',
        labelNames: ['state'],
        registers: [o.metrics.registry],
        async collect() {
          for (const [state, n] of Object.entries(await store.outboxCounts())) this.set({ state }, n);
        },
      });
    }
  }

  start(): void {
    this.loop.start();
  }

  /** An update was queued: claim now rather than at the next poll. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops claiming, waits for tries under way within the grace period, and gives back the rest. */
  async stop(): Promise<void> {
    const unfinished = await this.loop.stop();
    if (unfinished.length === 0) return;
    await this.o.statusStore
      .releaseUpdates(
        this.owner,
        unfinished.map((u) => u.id),
        this.now(),
      )
      .catch((e: Error) => this.o.logger.error('could not release status updates', { error: e.message }));
  }

  /** One try of one update. Never throws. */
  private async process(u: ClaimedStatusUpdate): Promise<void> {
    const log = this.o.logger.child({ submissionId: u.submissionId, portal: u.portalId, sequence: u.sequence, attempt: u.attempt });
    const started = this.now();
    let result: StatusUpdateResult;
    try {
      result = await this.attempt(u);
    } catch (e) {
      log.error('status update failed unexpectedly', { error: (e as Error).message });
      result = {
        outcome: 'retry',
        finishedAt: this.now(),
        error: 'internal error in the hub',
        errorKind: 'internal',
        nextAttemptAt: this.now() + this.o.pollIntervalMs * 10,
      };
    }
    this.o.metrics?.statusForwarded.inc({ portal: u.portalId, outcome: result.outcome });
    this.o.metrics?.statusForwardSeconds.observe({ portal: u.portalId }, (result.finishedAt - started) / 1000);
    try {
      if (!(await this.o.statusStore.completeUpdate(u, this.owner, result))) {
        log.warn('lease lost before the status update was recorded; another instance owns it now');
        return;
      }
    } catch (e) {
      log.error('could not record the status update', { error: (e as Error).message });
      return;
    }
    const meta = {
      status: u.status,
      ...(result.httpStatus ? { httpStatus: result.httpStatus } : {}),
      ...(result.error ? { error: result.error, errorKind: result.errorKind } : {}),
    };
    if (result.outcome === 'delivered') log.info('status forwarded to the portal', meta);
    else if (result.outcome === 'retry')
      log.warn('status update failed, will retry', { ...meta, nextAttemptAt: new Date(result.nextAttemptAt!).toISOString() });
    else log.error('status update given up', meta);
  }

  private async attempt(u: ClaimedStatusUpdate): Promise<StatusUpdateResult> {
    const cb = this.callbacks.get(u.portalId);
    if (!cb)
      return {
        outcome: 'failed',
        finishedAt: this.now(),
        error: `portal ${u.portalId} has no statusCallback any more`,
        errorKind: 'config',
      };
    const body: StatusUpdateBody = {
      submissionId: u.submissionId,
      externalId: u.externalId,
      tenant: u.tenant,
      service: u.service,
      status: u.status,
      ...(u.reason ? { reason: u.reason } : {}),
      at: new Date(u.at).toISOString(),
      sequence: u.sequence,
    };
    const failure = await this.post(cb, u, body);
    const finishedAt = this.now();
    if (!failure) return { outcome: 'delivered', finishedAt };
    const base = { finishedAt, error: failure.error, errorKind: failure.errorKind, httpStatus: failure.httpStatus };
    if (!failure.retryable) return { outcome: 'failed', ...base };
    const policy = cb.retry;
    if (u.attempt >= policy.maxAttempts)
      return { outcome: 'failed', ...base, error: `${failure.error} (gave up after ${u.attempt} attempts)` };
    if (policy.maxAgeMs !== undefined && finishedAt - u.createdAt >= policy.maxAgeMs)
      return { outcome: 'failed', ...base, error: `${failure.error} (gave up: older than ${policy.maxAgeMs} ms)` };
    return { outcome: 'retry', ...base, nextAttemptAt: finishedAt + retryDelay(policy, u.attempt, failure.retryAfterMs, this.o.random) };
  }

  /** POSTs the update; undefined when the portal took it (2xx). */
  private async post(
    cb: StatusCallbackConfig,
    u: ClaimedStatusUpdate,
    body: StatusUpdateBody,
  ): Promise<{ retryable: boolean; error: string; errorKind: string; httpStatus?: number; retryAfterMs?: number } | undefined> {
    let res: Response;
    try {
      res = await fetch(cb.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': u.id,
          ...(cb.token ? { authorization: `Bearer ${cb.token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(cb.timeoutMs),
        redirect: 'manual',
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError')
        return { retryable: true, error: `the portal did not answer within ${cb.timeoutMs} ms`, errorKind: 'timeout' };
      return { retryable: true, error: `network error ${err.cause?.code ?? err.message}`, errorKind: 'network' };
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return undefined;
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    const retryAfterMs = retryable ? parseRetryAfter(res.headers.get('retry-after'), this.now()) : undefined;
    return {
      retryable,
      error: `portal answered HTTP ${res.status}`,
      errorKind: `http-${res.status}`,
      httpStatus: res.status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
}
