import type { Kysely } from 'kysely';
import type { Connection } from './connect.ts';
import type { Dialect } from './dialect.ts';
import type { Database, DeliveryState } from './tables.ts';
import type {
  AttemptResult,
  BreakerChange,
  ClaimBatch,
  ClaimedDelivery,
  CreateResult,
  EventView,
  FailedDelivery,
  FailedFilter,
  MessageSource,
  NewSubmission,
  OverdueDelivery,
  ReplayResult,
  SubmissionView,
  TargetGate,
  TargetOverview,
} from './types.ts';
import { GroupCommit } from './group-commit.ts';
import { getSubmission, messageSource, messageSources, openSources, writeSubmissions } from './submissions.ts';
import { claimForTargets, ensureTargetStates, targetsWithOpenDeliveries } from './claims.ts';
import { releaseLeases, writeCompletions, type Completion } from './completions.ts';
import { applyBreakerSignals } from './target-state.ts';
import { readEvents } from './events.ts';
import { deliveryCounts, overdue, targetOverview } from './queue.ts';
import { deliveryStates, findFailed, replay } from './replay.ts';
import { StatusStore, type DeliveredHook } from './status-store.ts';
import type { DeliveredCase, StatusRecordResult } from './status-types.ts';
import { ReconcileStore } from './reconcile-store.ts';
import { PortalReconcileStore } from './portal-reconcile-store.ts';
import { PruneStore } from './prune-store.ts';
import { AuditStore } from './audit-store.ts';
import { AccessStore } from './access-store.ts';
import { ConsoleStore } from './console-store.ts';
import { recallMemo, rememberMemo } from './memos.ts';
import { FitConnectStore } from './fit-connect-store.ts';
import { Sealing } from './sealing.ts';
import { KeyRotation } from './rotation.ts';

/**
 * The one place that speaks SQL, built once (openStore) and handed to whoever needs it. It is the delivery
 * queue itself (submissions, claims, attempts, the sync log; every state change and its event commit together)
 * and holds the stores of the other features, which share its connection.
 */
export class Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** The status back-channel: history, current statuses, the portal outbox. */
  readonly status: StatusStore;
  /** Reconciliation runs, their findings, stuck deliveries. */
  readonly reconcile: ReconcileStore;
  /** Portal vs hub: which submissions the hub holds. */
  readonly portalReconcile: PortalReconcileStore;
  /** The retention job's deletes. */
  readonly prune: PruneStore;
  /** The chained audit trail of operator and admin actions. */
  readonly audit: AuditStore;
  /** Local accounts, browser sessions, the login throttle. */
  readonly access: AccessStore;
  /** The operator console's searches, overview and timelines. */
  readonly console: ConsoleStore;
  /** FIT-Connect pickups: each platform submission once, and what is still owed to the platform. */
  readonly fitConnect: FitConnectStore;
  /** Encryption at rest: seals what is written, opens what is read (docs/keys.md). */
  readonly sealing: Sealing;
  /** `amtsbote keys rotate`: re-seals, batch by batch, what the current key did not seal. */
  readonly rotation: KeyRotation;

  /** Submissions arriving together share a commit. */
  private readonly intake: GroupCommit<NewSubmission, CreateResult>;
  /** Attempt results arriving together share a commit. */
  private readonly completions: GroupCommit<Completion, boolean>;
  private readonly breakerListeners: ((c: BreakerChange) => void)[] = [];
  private deliveredHook: DeliveredHook | undefined;

  constructor(
    private readonly conn: Connection,
    sealing: Sealing = new Sealing(),
  ) {
    this.db = conn.db;
    this.dialect = conn.dialect;
    this.sealing = sealing;
    this.rotation = new KeyRotation(this.db, sealing);
    this.status = new StatusStore(this.db, this.dialect, sealing);
    this.reconcile = new ReconcileStore(this.db, this.dialect);
    this.portalReconcile = new PortalReconcileStore(this.db, this.dialect);
    this.prune = new PruneStore(this.db, this.dialect);
    this.audit = new AuditStore(this.db, this.dialect);
    this.access = new AccessStore(this.db);
    this.console = new ConsoleStore(this.db, this.sealing);
    this.fitConnect = new FitConnectStore(this.db, this.dialect);
    const writers = this.dialect.writers;
    this.intake = new GroupCommit((batch) => writeSubmissions(this.db, this.sealing, batch), 200, writers);
    // Results wait for their batch without holding a worker slot, so one writer at a time makes batches that grow
    // with the load (statements per batch, not per result).
    this.completions = new GroupCommit((batch) => this.writeCompletions(batch), 100, Math.min(2, writers));
  }

  /** Delivered cases become RECEIVED in the transaction that records them as delivered (the status back-channel). */
  onDelivered(hook: DeliveredHook | undefined): void {
    this.deliveredHook = hook;
  }

  /** Called after a commit that opened, re-opened or closed a target's circuit breaker. */
  onBreakerChange(listener: (c: BreakerChange) => void): void {
    this.breakerListeners.push(listener);
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  /**
   * Stores a submission, its attachments and its deliveries, or finds the earlier one with the same
   * (portal, external id). Resolves only after the commit; concurrent calls share one transaction.
   */
  createSubmission(s: NewSubmission): Promise<CreateResult> {
    return this.intake.submit(s);
  }

  /**
   * Claims up to `limit` due deliveries for `owner` with a lease, whatever their target and without policies
   * (tools and tests; the worker claims with `claimForTargets`). A `sending` delivery is due again when its lease
   * has run out (its `next_attempt_at` is the lease's expiry), so one index serves every case.
   */
  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const targets = await this.targetsWithOpenDeliveries();
    const batch = await this.claimForTargets(
      owner,
      now,
      leaseMs,
      limit,
      targets.map((targetId) => ({ targetId, room: limit })),
    );
    return batch.claimed;
  }

  /**
   * Claims target by target, in the order given, within each target's gate: its share, its breaker, its
   * in-flight limit and its rate bucket, the last three shared by every instance through `target_state` (rows
   * locked for the claim on PostgreSQL). Within a target the oldest due deliveries go first.
   */
  async claimForTargets(owner: string, now: number, leaseMs: number, limit: number, gates: readonly TargetGate[]): Promise<ClaimBatch> {
    const { sourceRows, ...batch } = await claimForTargets(
      this.conn.resendable,
      this.dialect,
      owner,
      now,
      leaseMs,
      limit,
      gates,
      this.conn.standalone,
    );
    // The claim read the sends' submissions already; their attachments (if any) and the opening follow here,
    // after its commit. Should that fail, the worker reads them again itself.
    const sources = sourceRows.length ? await openSources(this.db, this.sealing, sourceRows).catch(() => undefined) : undefined;
    return sources ? { ...batch, sources } : batch;
  }

  /** Makes sure every target has its policy-state row, so claims can lock it. */
  ensureTargetStates(targetIds: readonly string[], now: number): Promise<void> {
    return ensureTargetStates(this.db, targetIds, now);
  }

  /** Targets with open deliveries, configured or not (a removed target's deliveries must still end). */
  targetsWithOpenDeliveries(): Promise<string[]> {
    return targetsWithOpenDeliveries(this.db);
  }

  /** Each target's breaker, rate bucket and queue, for operators (API and metrics); queues of `tenants` only, if given. */
  targetOverview(now: number, tenants?: readonly string[]): Promise<TargetOverview[]> {
    return targetOverview(this.db, now, tenants);
  }

  /**
   * Records the end of an attempt and moves the delivery on. Only the lease holder may: if the lease ran out
   * and another instance took the delivery over, this returns false and changes nothing. Completions that
   * arrive together share one commit.
   */
  completeAttempt(d: ClaimedDelivery, owner: string, r: AttemptResult): Promise<boolean> {
    return this.completions.submit({ d, owner, r });
  }

  /** Gives claimed deliveries back (graceful shutdown): due at once, the open attempt marked interrupted. */
  releaseLeases(owner: string, deliveries: ClaimedDelivery[], now: number): Promise<void> {
    return releaseLeases(this.db, owner, deliveries, now);
  }

  /** The submission's data for mapping: content and attachments. */
  messageSource(submissionId: string): Promise<MessageSource | undefined> {
    return messageSource(this.db, this.sealing, submissionId);
  }

  /** The data for mapping of several submissions (a claimed batch's), by submission id. */
  messageSources(submissionIds: readonly string[]): Promise<Map<string, MessageSource>> {
    return messageSources(this.db, this.sealing, submissionIds);
  }

  /** A submission with its deliveries and their attempts; no form data. */
  getSubmission(id: string): Promise<SubmissionView | undefined> {
    return getSubmission(this.db, id);
  }

  /** The sync log of one submission, oldest first. */
  events(submissionId: string): Promise<EventView[]> {
    return readEvents(this.db, this.sealing, submissionId);
  }

  /** Counts of deliveries by state, for health, metrics and the stuck-deliveries job. */
  deliveryCounts(): Promise<Record<DeliveryState, number>> {
    return deliveryCounts(this.db);
  }

  /** Deliveries still open whose due time lies more than `olderThanMs` in the past: not being worked on. */
  overdue(now: number, olderThanMs: number, limit = 100): Promise<OverdueDelivery[]> {
    return overdue(this.db, now, olderThanMs, limit);
  }

  /**
   * Failed deliveries matching the filter, oldest failure first, at most `limit`. Pass the last row's
   * `{ failedAt, id }` as `after` for the next page (keyset pagination).
   */
  findFailed(filter: FailedFilter, limit = 500, after?: { failedAt: number; id: string }): Promise<FailedDelivery[]> {
    return findFailed(this.db, filter, limit, after);
  }

  /** The state of each given delivery that exists, by id (a replay's dry run). */
  deliveryStates(ids: readonly string[]): Promise<Map<string, DeliveryState>> {
    return deliveryStates(this.db, ids);
  }

  /**
   * Puts failed deliveries back in the queue: due now, lease cleared, `last_error` kept until the next attempt,
   * attempts not reset (the retry budget counts from here), the same idempotency key. Each replay writes a
   * `delivery.replayed` event in the same transaction. Deliveries in any other state are left alone; with
   * `tenants`, deliveries of other tenants are `not-found`.
   */
  replay(
    ids: readonly string[],
    by: string,
    reason: string | undefined,
    now: number,
    tenants?: readonly string[],
  ): Promise<ReplayResult[]> {
    return replay(this.db, ids, by, reason, now, tenants);
  }

  /** An adapter's durable note about a delivery (DeliveryContext.memo), or undefined. */
  recallMemo(deliveryId: string, key: string): Promise<string | undefined> {
    return recallMemo(this.db, deliveryId, key);
  }

  /** Commits an adapter's note about a delivery; the first value under a key stays (MemoConflictError otherwise). */
  rememberMemo(deliveryId: string, key: string, value: string, now: number): Promise<void> {
    return rememberMemo(this.db, deliveryId, key, value, now);
  }

  /** What about the database an operator should know at start-up (PostgreSQL without autovacuum, say). */
  maintenanceWarnings(): Promise<string[]> {
    return this.dialect.maintenanceWarnings(this.db);
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('deliveries').select('id').limit(1).execute();
  }

  /**
   * One commit for a batch of attempt results, with the status back-channel's RECEIVED and the breakers' moves.
   * Should recording RECEIVED fail, the batch is written again without it: the deliveries are recorded all the
   * same and the failure is logged (a savepoint around it did the same at two more statements in every batch).
   */
  private async writeCompletions(batch: Completion[]): Promise<boolean[]> {
    try {
      return await this.writeCompletionBatch(batch, true);
    } catch (e) {
      if (!(e instanceof ReceivedFailed)) throw e;
      this.deliveredHook?.failed(e.cases, e.cause);
      return this.writeCompletionBatch(batch, false);
    }
  }

  private async writeCompletionBatch(batch: Completion[], withReceived: boolean): Promise<boolean[]> {
    const changes: BreakerChange[] = [];
    let afterCommit: (() => void) | undefined;
    const out = await this.conn.resendable(async (trx) => {
      const recorded = await writeCompletions(trx, this.dialect, batch);
      const delivered = batch.filter((c, i) => recorded[i] && c.r.outcome === 'delivered');
      const hook = this.deliveredHook;
      if (withReceived && delivered.length && hook) {
        const cases = delivered.map((c) => ({
          deliveryId: c.d.id,
          at: c.r.finishedAt,
          source: c.d.ack ? ('acknowledgement' as const) : ('delivery' as const),
        }));
        let results: StatusRecordResult[];
        try {
          results = await this.status.recordReceived(trx, cases, hook.rules());
        } catch (e) {
          throw new ReceivedFailed(cases, e as Error);
        }
        afterCommit = () => hook.recorded(cases, results);
      }
      // Breakers last, target by target in id order, so concurrent batches lock their rows in one order.
      const signals = batch.filter((c, i) => recorded[i] && c.r.breaker);
      if (signals.length)
        changes.push(
          ...(await applyBreakerSignals(
            trx,
            this.dialect,
            signals.map((c) => ({ d: c.d, r: c.r })),
          )),
        );
      return recorded;
    });
    afterCommit?.();
    for (const ch of changes) for (const l of this.breakerListeners) l(ch);
    return out;
  }
}

/** Recording delivered cases as RECEIVED failed: the batch's transaction is rolled back and written without it. */
class ReceivedFailed extends Error {
  constructor(
    readonly cases: DeliveredCase[],
    override readonly cause: Error,
  ) {
    super(`could not record delivered cases as received: ${cause.message}`);
  }
}
