import { sql, type Kysely, type Transaction } from 'kysely';
import type { Connection, Dialect } from './connect.ts';
import type { AttemptOutcome, Database, DeliveryState } from './tables.ts';
import { GroupCommit } from './group-commit.ts';
import { insertEvent, type EventSubject } from './events.ts';
import { OPEN_STATES_SQL } from '../core/states.ts';
import type { BackOfficeSignal, BreakerSettings, BreakerStatus, BreakerTransition } from '../core/policy/breaker.ts';
import type { RateSettings } from '../core/policy/rate-limit.ts';
import { applyBreakerSignals, breakerStatus, claimTargetDeliveries, type DueRow } from './target-state.ts';

export interface StoredAttachment {
  filename: string;
  mediaType: string;
  size: number;
  sha256: string;
  content: Buffer;
}

export interface NewSubmission {
  id: string;
  portalId: string;
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  receivedAt: number;
  bodyHash: string;
  /** JSON of applicant and data. */
  content: string;
  attachments: StoredAttachment[];
  deliveries: { id: string; routeId: string; targetId: string; mappingId: string }[];
}

export type CreateResult =
  | { outcome: 'created'; id: string }
  | { outcome: 'duplicate'; id: string; sameBody: boolean };

export interface ClaimedDelivery {
  id: string;
  submissionId: string;
  routeId: string;
  targetId: string;
  mappingId: string;
  idempotencyKey: string;
  tenant: string;
  service: string;
  /** The number of this attempt (1 for the first). */
  attempt: number;
  /** The attempt count at the last replay (0 if never replayed): the retry budget counts the attempts after it. */
  attemptBase?: number;
  leaseExpiresAt: number;
  /** The previous holder's lease ran out mid-attempt (crash, kill): this is a re-send. */
  resumed: boolean;
  /** Set when the message was handed over and the claim is to ask for the back office's acknowledgement. */
  ack?: { token: string; deadline: number };
  /** When the delivery was created (its submission received): retry.maxAgeMs counts from here. */
  createdAt?: number;
  /** When it fell due (before this claim). */
  dueAt?: number;
  /** This attempt probes a target whose circuit breaker was open. */
  probe?: boolean;
}

export interface AttemptResult {
  /** `handed-over`: awaiting the back office's acknowledgement; `ack-pending`: asked, not confirmed yet. */
  outcome: Exclude<AttemptOutcome, 'interrupted'> | 'ack-pending';
  finishedAt: number;
  error?: string | undefined;
  errorKind?: string | undefined;
  httpStatus?: number | undefined;
  reference?: string | null | undefined;
  /** For `retry`: when the next attempt is due; for `handed-over` and `ack-pending`: when to ask again. */
  nextAttemptAt?: number | undefined;
  /** For `handed-over`: how to ask, and until when. */
  ack?: { token: string; deadline: number } | undefined;
  /** Extra detail for the sync-log event (never form data). */
  detail?: Record<string, unknown>;
  /** What the attempt says about the back office, for its target's circuit breaker (absent: nothing). */
  breaker?: { signal: BackOfficeSignal; settings: BreakerSettings } | undefined;
}

/** One target's share of a claim, decided by the worker from the target's policy. */
export interface TargetGate {
  targetId: string;
  /** At most this many for the target in this claim (this worker's fair share; 0 while its window is closed). */
  room: number;
  /** Shared across instances: at most this many `sending` at once. */
  maxInFlight?: number | undefined;
  /** Shared across instances: a token bucket. */
  rate?: RateSettings | undefined;
  /** The target has a circuit breaker. */
  breaker?: boolean;
}

export interface ClaimBatch {
  claimed: ClaimedDelivery[];
  /** The earliest time a target held back by its breaker or rate limit may be claimed again. */
  wakeAt?: number;
  /** Each target held back by its breaker or rate limit, and until when (as this claim saw it). */
  blocked?: Map<string, number>;
}

export interface TargetOverview {
  targetId: string;
  breaker: BreakerStatus;
  /** The rate bucket as last written (null: never used). */
  tokens: { tokens: number; at: number } | null;
  queue: { queued: number; waiting: number; sending: number; acknowledging: number; failed: number; due: number; oldestDueAt: number | null };
}

/** Work that belongs in the commit that records deliveries as delivered. */
export interface DeliveredHook {
  /** Inside the transaction; returns what to do once it committed. */
  within(trx: Transaction<Database>, delivered: { deliveryId: string; at: number; source: 'delivery' | 'acknowledgement' }[]): Promise<() => void>;
}

/** A breaker changed state (reported after the commit). */
export interface BreakerChange {
  targetId: string;
  transition: BreakerTransition;
  status: BreakerStatus;
}

export interface SubmissionView {
  id: string;
  portalId: string;
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  receivedAt: number;
  deliveries: DeliveryView[];
}

export interface DeliveryView {
  id: string;
  routeId: string;
  targetId: string;
  mappingId: string;
  idempotencyKey: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number;
  reference: string | null;
  lastError: string | null;
  lastErrorKind: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  attemptLog: AttemptView[];
}

export interface AttemptView {
  number: number;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  outcome: AttemptOutcome | null;
  error: string | null;
  errorKind: string | null;
  httpStatus: number | null;
  reference: string | null;
}

export interface EventView {
  id: number;
  at: number;
  submissionId: string;
  deliveryId: string | null;
  type: string;
  tenant: string;
  service: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}

export interface MessageSource {
  portalId: string;
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  receivedAt: number;
  content: string;
  attachments: StoredAttachment[];
}

/** Which failed deliveries to find; every given field must match. Times are epoch ms of the failure. */
export interface FailedFilter {
  targetId?: string | undefined;
  tenant?: string | undefined;
  errorKind?: string | undefined;
  /** Failed at or after. */
  since?: number | undefined;
  /** Failed before. */
  until?: number | undefined;
}

export interface FailedDelivery {
  id: string;
  submissionId: string;
  targetId: string;
  tenant: string;
  service: string;
  attempts: number;
  error: string | null;
  errorKind: string | null;
  /** When it failed (its last change). */
  failedAt: number;
}

export type ReplayOutcome = 'replayed' | 'not-failed' | 'not-found';

export interface ReplayResult {
  id: string;
  outcome: ReplayOutcome;
  /** The state found, for `not-failed`. */
  state?: DeliveryState;
  /** For `replayed`: the error it failed with. */
  previousError?: string | null;
  attempts?: number;
}

type Db = Kysely<Database> | Transaction<Database>;

/** The one place that speaks SQL. Every state change and its sync-log event commit together. */
export class Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;

  /** Submissions arriving together share a commit. */
  private readonly intake: GroupCommit<NewSubmission, CreateResult>;
  /** Attempt results arriving together share a commit. */
  private readonly completions: GroupCommit<{ d: ClaimedDelivery; owner: string; r: AttemptResult }, boolean>;

  constructor(private readonly conn: Connection) {
    this.db = conn.db;
    this.dialect = conn.dialect;
    // PostgreSQL commits concurrent transactions together and a batch mostly waits on round trips, so a few
    // batches may be in flight; SQLite has one connection.
    const writers = conn.dialect === 'postgres' ? 4 : 1;
    this.intake = new GroupCommit((batch) => this.writeSubmissions(batch), 200, writers);
    this.completions = new GroupCommit(
      async (batch) => {
        const changes: BreakerChange[] = [];
        let afterCommit: (() => void) | undefined;
        const out = await this.db.transaction().execute(async (trx) => {
          const recorded: boolean[] = [];
          for (const c of batch) recorded.push(await writeCompletion(trx, c.d, c.owner, c.r));
          const delivered = batch.filter((c, i) => recorded[i] && c.r.outcome === 'delivered');
          if (delivered.length && this.deliveredHook) {
            afterCommit = await this.deliveredHook.within(trx, delivered.map((c) => ({ deliveryId: c.d.id, at: c.r.finishedAt, source: c.d.ack ? 'acknowledgement' : 'delivery' })));
          }
          // Breakers last, target by target in id order, so concurrent batches lock their rows in one order.
          const signals = batch.filter((c, i) => recorded[i] && c.r.breaker);
          if (signals.length) changes.push(...(await applyBreakerSignals(trx, this.dialect, signals.map((c) => ({ d: c.d, r: c.r })))));
          return recorded;
        });
        afterCommit?.();
        for (const ch of changes) for (const l of this.breakerListeners) l(ch);
        return out;
      },
      100,
      writers,
    );
  }

  private readonly breakerListeners: ((c: BreakerChange) => void)[] = [];
  private deliveredHook: DeliveredHook | undefined;

  /** Runs inside the transaction that records deliveries as delivered (the status back-channel: RECEIVED). */
  onDelivered(hook: DeliveredHook): void {
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


  /** One transaction for a batch of submissions, written as a few multi-row statements. */
  private writeSubmissions(batch: NewSubmission[]): Promise<CreateResult[]> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = new Set<string>();
      for (const rows of chunks(batch, 500)) {
        const ids = await trx
          .insertInto('submissions')
          .values(
            rows.map((s) => ({
              id: s.id,
              portal_id: s.portalId,
              external_id: s.externalId,
              tenant: s.tenant,
              service: s.service,
              submitted_at: s.submittedAt,
              received_at: s.receivedAt,
              body_hash: s.bodyHash,
              content: s.content,
            })),
          )
          .onConflict((oc) => oc.columns(['portal_id', 'external_id']).doNothing())
          .returning('id')
          .execute();
        for (const r of ids) inserted.add(r.id);
      }
      // Not inserted: the (portal, external id) exists, from earlier or from this very batch.
      const repeats = batch.filter((s) => !inserted.has(s.id));
      const firsts = new Map<string, { id: string; body_hash: string }>();
      for (const rows of chunks(repeats, 200)) {
        const found = await trx
          .selectFrom('submissions')
          .select(['id', 'body_hash', 'portal_id', 'external_id'])
          .where((eb) => eb.or(rows.map((s) => eb.and([eb('portal_id', '=', s.portalId), eb('external_id', '=', s.externalId)]))))
          .execute();
        for (const f of found) firsts.set(`${f.portal_id}\u0000${f.external_id}`, f);
      }
      const created = batch.filter((s) => inserted.has(s.id));
      const attachments = created.flatMap((s) => s.attachments.map((a, position) => ({ submission_id: s.id, position, filename: a.filename, media_type: a.mediaType, size: a.size, sha256: a.sha256, content: a.content })));
      for (const rows of chunks(attachments, 100)) await trx.insertInto('attachments').values(rows).execute();
      const deliveries = created.flatMap((s) =>
        s.deliveries.map((d) => ({
          id: d.id,
          submission_id: s.id,
          route_id: d.routeId,
          target_id: d.targetId,
          mapping_id: d.mappingId,
          idempotency_key: d.id,
          state: 'queued' as const,
          attempts: 0,
          next_attempt_at: s.receivedAt,
          created_at: s.receivedAt,
          updated_at: s.receivedAt,
        })),
      );
      for (const rows of chunks(deliveries, 500)) await trx.insertInto('deliveries').values(rows).execute();
      const events = created.flatMap((s) => {
        const base = { at: s.receivedAt, submission_id: s.id, tenant: s.tenant, service: s.service };
        return [
          { ...base, delivery_id: null, target: null, type: 'submission.received', detail: JSON.stringify({ portal: s.portalId, externalId: s.externalId, attachments: s.attachments.length }) },
          ...s.deliveries.map((d) => ({ ...base, delivery_id: d.id, target: d.targetId, type: 'delivery.queued', detail: JSON.stringify({ route: d.routeId, mapping: d.mappingId }) })),
        ];
      });
      for (const rows of chunks(events, 500)) await trx.insertInto('events').values(rows).execute();
      return batch.map((s): CreateResult => {
        if (inserted.has(s.id)) return { outcome: 'created', id: s.id };
        const first = firsts.get(`${s.portalId}\u0000${s.externalId}`);
        if (!first) throw new Error(`submission ${s.portalId}/${s.externalId} was neither inserted nor found`);
        return { outcome: 'duplicate', id: first.id, sameBody: first.body_hash === s.bodyHash };
      });
    });
  }

  /**
   * Claims up to `limit` due deliveries for `owner` with a lease, whatever their target and without policies
   * (tools and tests; the worker claims with `claimForTargets`). A `sending` delivery is due again when its lease
   * has run out (its `next_attempt_at` is the lease's expiry), so one index serves every case.
   */
  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const targets = await this.targetsWithOpenDeliveries();
    const batch = await this.claimForTargets(owner, now, leaseMs, limit, targets.map((targetId) => ({ targetId, room: limit })));
    return batch.claimed;
  }

  /**
   * Claims target by target, in the order given, within each target's gate: its share, its breaker, its
   * in-flight limit and its rate bucket, the last three shared by every instance through `target_state` (rows
   * locked for the claim on PostgreSQL). Within a target the oldest due deliveries go first.
   */
  async claimForTargets(owner: string, now: number, leaseMs: number, limit: number, gates: readonly TargetGate[]): Promise<ClaimBatch> {
    return this.db.transaction().execute(async (trx) => {
      const { due, probes, wakeAt, blocked } = await claimTargetDeliveries(trx, this.dialect, gates, now, leaseMs, limit);
      const claimed = due.length ? await this.takeClaims(trx, due, owner, now, leaseMs) : [];
      for (const c of claimed) if (probes.has(c.id)) c.probe = true;
      return { claimed, ...(wakeAt !== undefined ? { wakeAt } : {}), ...(blocked.size ? { blocked } : {}) };
    });
  }

  /** Makes sure every target has its policy-state row, so claims can lock it. */
  async ensureTargetStates(targetIds: readonly string[], now: number): Promise<void> {
    if (targetIds.length === 0) return;
    await this.db
      .insertInto('target_state')
      .values(targetIds.map((target_id) => ({ target_id, updated_at: now })))
      .onConflict((oc) => oc.column('target_id').doNothing())
      .execute();
  }

  /** Targets with open deliveries, configured or not (a removed target's deliveries must still end). */
  async targetsWithOpenDeliveries(): Promise<string[]> {
    const rows = await this.db.selectFrom('deliveries').select('target_id').distinct().where(sql<boolean>`${sql.raw(OPEN_STATES_SQL)}`).execute();
    return rows.map((r) => r.target_id);
  }

  /** Each target's breaker, rate bucket and queue, for operators (API and metrics). */
  async targetOverview(now: number): Promise<TargetOverview[]> {
    const states = await this.db.selectFrom('target_state').selectAll().execute();
    const open = await this.db
      .selectFrom('deliveries')
      .select((eb) => [
        'target_id',
        'state',
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>(eb.case().when('next_attempt_at', '<=', now).then(1).else(0).end()).as('due'),
        eb.fn.min<number>('next_attempt_at').as('oldest'),
      ])
      .where(sql<boolean>`${sql.raw(OPEN_STATES_SQL)}`)
      .groupBy(['target_id', 'state'])
      .execute();
    const failed = await this.db.selectFrom('deliveries').select((eb) => ['target_id', eb.fn.countAll<number>().as('n')]).where('state', '=', 'failed').groupBy('target_id').execute();
    const out = new Map<string, TargetOverview>();
    const entry = (id: string): TargetOverview => {
      let e = out.get(id);
      if (!e) out.set(id, (e = { targetId: id, breaker: breakerStatus(undefined), tokens: null, queue: { queued: 0, waiting: 0, sending: 0, acknowledging: 0, failed: 0, due: 0, oldestDueAt: null } }));
      return e;
    };
    for (const r of states) Object.assign(entry(r.target_id), { breaker: breakerStatus(r), tokens: r.tokens_at === null ? null : { tokens: r.tokens, at: r.tokens_at } });
    for (const r of open) {
      const q = entry(r.target_id).queue;
      q[r.state as 'queued' | 'waiting' | 'sending' | 'acknowledging'] = Number(r.n);
      // A `sending` delivery is "due" only once its lease has run out; count what waits to be sent.
      if (r.state !== 'sending' && r.state !== 'acknowledging') {
        q.due += Number(r.due ?? 0);
        if (Number(r.due ?? 0) > 0) q.oldestDueAt = Math.min(q.oldestDueAt ?? Infinity, Number(r.oldest));
      }
    }
    for (const r of failed) entry(r.target_id).queue.failed = Number(r.n);
    return [...out.values()].sort((a, b) => a.targetId.localeCompare(b.targetId));
  }

  /** Moves due deliveries to `sending` (or claims an acknowledgement check) under `owner`'s lease. */
  private async takeClaims(trx: Transaction<Database>, due: DueRow[], owner: string, now: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    if (due.length === 0) return [];
    const ids = due.map((d) => d.id);
    const leaseExpiresAt = now + leaseMs;
    const ackIds = due.filter((d) => d.state === 'acknowledging').map((d) => d.id);
    const sendIds = due.filter((d) => d.state !== 'acknowledging').map((d) => d.id);
    const expired = due.filter((d) => d.state === 'sending');
    if (expired.length) {
      await trx
        .updateTable('attempts')
        .set({ outcome: 'interrupted', finished_at: now, error: 'the lease ran out before the attempt finished (hub stopped or crashed)', error_kind: 'lease-expired' })
        .where('delivery_id', 'in', expired.map((d) => d.id))
        .where('outcome', 'is', null)
        .execute();
    }
    const returning = ['id', 'submission_id', 'route_id', 'target_id', 'mapping_id', 'idempotency_key', 'attempts', 'ack_token', 'ack_deadline', 'attempt_base', 'created_at'] as const;
    const sendRows = sendIds.length
      ? await trx
          .updateTable('deliveries')
          .set((eb) => ({ state: 'sending', lease_owner: owner, lease_expires_at: leaseExpiresAt, next_attempt_at: leaseExpiresAt, attempts: eb('attempts', '+', 1), updated_at: now }))
          .where('id', 'in', sendIds)
          .returning(returning)
          .execute()
      : [];
    // Asking for an acknowledgement is no new attempt: the delivery keeps its state and its attempt count.
    const ackRows = ackIds.length
      ? await trx
          .updateTable('deliveries')
          .set({ lease_owner: owner, lease_expires_at: leaseExpiresAt, next_attempt_at: leaseExpiresAt, updated_at: now })
          .where('id', 'in', ackIds)
          .returning(returning)
          .execute()
      : [];
    const rows = [...sendRows, ...ackRows];
    const subs = await trx
      .selectFrom('submissions')
      .select(['id', 'tenant', 'service'])
      .where('id', 'in', [...new Set(rows.map((r) => r.submission_id))])
      .execute();
    const subById = new Map(subs.map((s) => [s.id, s]));
    const expiredIds = new Set(expired.map((d) => d.id));
    const dueAt = new Map(due.map((d) => [d.id, d.next_attempt_at]));
    const claimed = rows.map((r): ClaimedDelivery => {
      const sub = subById.get(r.submission_id)!;
      return {
        id: r.id,
        submissionId: r.submission_id,
        routeId: r.route_id,
        targetId: r.target_id,
        mappingId: r.mapping_id,
        idempotencyKey: r.idempotency_key,
        tenant: sub.tenant,
        service: sub.service,
        attempt: r.attempts,
        attemptBase: r.attempt_base,
        leaseExpiresAt,
        resumed: expiredIds.has(r.id),
        createdAt: r.created_at,
        dueAt: dueAt.get(r.id)!,
        ...(ackIds.includes(r.id) && r.ack_token !== null ? { ack: { token: r.ack_token, deadline: r.ack_deadline ?? now } } : {}),
      };
    });
    const sending = claimed.filter((c) => !c.ack);
    if (sending.length) {
      await trx
        .insertInto('attempts')
        .values(sending.map((c) => ({ delivery_id: c.id, number: c.attempt, owner, started_at: now })))
        .execute();
      await trx
        .insertInto('events')
        .values(
          sending.map((c) => ({
            at: now,
            submission_id: c.submissionId,
            delivery_id: c.id,
            tenant: c.tenant,
            service: c.service,
            target: c.targetId,
            type: 'delivery.sending',
            detail: JSON.stringify({ attempt: c.attempt, owner, ...(c.resumed ? { resumed: true } : {}) }),
          })),
        )
        .execute();
    }
    // Hand them out oldest first, as selected.
    const order = new Map(ids.map((id, i) => [id, i]));
    return claimed.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
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
  async releaseLeases(owner: string, deliveries: ClaimedDelivery[], now: number): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const d of deliveries) {
        if (d.ack) {
          // Asking for an acknowledgement: just give the claim back.
          await trx
            .updateTable('deliveries')
            .set({ lease_owner: null, lease_expires_at: null, next_attempt_at: now, updated_at: now })
            .where('id', '=', d.id)
            .where('state', '=', 'acknowledging')
            .where('lease_owner', '=', owner)
            .execute();
          continue;
        }
        const res = await trx
          .updateTable('deliveries')
          .set({ state: 'waiting', lease_owner: null, lease_expires_at: null, next_attempt_at: now, updated_at: now })
          .where('id', '=', d.id)
          .where('state', '=', 'sending')
          .where('lease_owner', '=', owner)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) continue;
        await trx
          .updateTable('attempts')
          .set({ outcome: 'interrupted', finished_at: now, error: 'the hub shut down before the attempt finished', error_kind: 'shutdown' })
          .where('delivery_id', '=', d.id)
          .where('number', '=', d.attempt)
          .execute();
        await insertEvent(trx, subject(d), now, 'delivery.released', { attempt: d.attempt, owner });
      }
    });
  }

  /** The submission's data for mapping: content and attachments. */
  async messageSource(submissionId: string): Promise<MessageSource | undefined> {
    const s = await this.db
      .selectFrom('submissions')
      .select(['portal_id', 'external_id', 'tenant', 'service', 'submitted_at', 'received_at', 'content'])
      .where('id', '=', submissionId)
      .executeTakeFirst();
    if (!s) return undefined;
    const attachments = await this.db
      .selectFrom('attachments')
      .select(['filename', 'media_type', 'size', 'sha256', 'content'])
      .where('submission_id', '=', submissionId)
      .orderBy('position')
      .execute();
    return {
      portalId: s.portal_id,
      externalId: s.external_id,
      tenant: s.tenant,
      service: s.service,
      submittedAt: s.submitted_at,
      receivedAt: s.received_at,
      content: s.content,
      attachments: attachments.map((a) => ({ filename: a.filename, mediaType: a.media_type, size: a.size, sha256: a.sha256, content: Buffer.from(a.content) })),
    };
  }

  /** A submission with its deliveries and their attempts; no form data. */
  async getSubmission(id: string): Promise<SubmissionView | undefined> {
    const s = await this.db
      .selectFrom('submissions')
      .select(['id', 'portal_id', 'external_id', 'tenant', 'service', 'submitted_at', 'received_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!s) return undefined;
    const deliveries = await this.db.selectFrom('deliveries').selectAll().where('submission_id', '=', id).orderBy('created_at').orderBy('id').execute();
    const attempts = deliveries.length
      ? await this.db.selectFrom('attempts').selectAll().where('delivery_id', 'in', deliveries.map((d) => d.id)).orderBy('number').execute()
      : [];
    return {
      id: s.id,
      portalId: s.portal_id,
      externalId: s.external_id,
      tenant: s.tenant,
      service: s.service,
      submittedAt: s.submitted_at,
      receivedAt: s.received_at,
      deliveries: deliveries.map((d) => ({
        id: d.id,
        routeId: d.route_id,
        targetId: d.target_id,
        mappingId: d.mapping_id,
        idempotencyKey: d.idempotency_key,
        state: d.state,
        attempts: d.attempts,
        nextAttemptAt: d.next_attempt_at,
        reference: d.reference,
        lastError: d.last_error,
        lastErrorKind: d.last_error_kind,
        createdAt: d.created_at,
        updatedAt: d.updated_at,
        deliveredAt: d.delivered_at,
        attemptLog: attempts
          .filter((a) => a.delivery_id === d.id)
          .map((a) => ({
            number: a.number,
            startedAt: a.started_at,
            finishedAt: a.finished_at,
            durationMs: a.duration_ms,
            outcome: a.outcome,
            error: a.error,
            errorKind: a.error_kind,
            httpStatus: a.http_status,
            reference: a.reference,
          })),
      })),
    };
  }

  /** The sync log of one submission, oldest first. */
  async events(submissionId: string): Promise<EventView[]> {
    const rows = await this.db.selectFrom('events').selectAll().where('submission_id', '=', submissionId).orderBy('id').execute();
    return rows.map((e) => ({
      id: Number(e.id),
      at: e.at,
      submissionId: e.submission_id,
      deliveryId: e.delivery_id,
      type: e.type,
      tenant: e.tenant,
      service: e.service,
      target: e.target,
      detail: e.detail ? (JSON.parse(e.detail) as Record<string, unknown>) : null,
    }));
  }

  /** Counts of deliveries by state, for health, metrics and the stuck-deliveries job. */
  async deliveryCounts(): Promise<Record<DeliveryState, number>> {
    const rows = await this.db.selectFrom('deliveries').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
    const out: Record<DeliveryState, number> = { queued: 0, sending: 0, waiting: 0, acknowledging: 0, delivered: 0, failed: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }

  /** Deliveries still open whose due time lies more than `olderThanMs` in the past: not being worked on. */
  async overdue(now: number, olderThanMs: number, limit = 100): Promise<{ id: string; submissionId: string; state: DeliveryState; targetId: string; nextAttemptAt: number }[]> {
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['id', 'submission_id', 'state', 'target_id', 'next_attempt_at'])
      .where(sql<boolean>`${sql.raw(OPEN_STATES_SQL)}`)
      .where('next_attempt_at', '<=', now - olderThanMs)
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, submissionId: r.submission_id, state: r.state, targetId: r.target_id, nextAttemptAt: r.next_attempt_at }));
  }

  /**
   * Failed deliveries matching the filter, oldest failure first, at most `limit`. Pass the last row's
   * `{ failedAt, id }` as `after` for the next page (keyset pagination).
   */
  async findFailed(filter: FailedFilter, limit = 500, after?: { failedAt: number; id: string }): Promise<FailedDelivery[]> {
    let q = this.db
      .selectFrom('deliveries as d')
      .innerJoin('submissions as s', 's.id', 'd.submission_id')
      .select(['d.id', 'd.submission_id', 'd.target_id', 's.tenant', 's.service', 'd.attempts', 'd.last_error', 'd.last_error_kind', 'd.updated_at'])
      .where('d.state', '=', 'failed');
    if (filter.targetId !== undefined) q = q.where('d.target_id', '=', filter.targetId);
    if (filter.tenant !== undefined) q = q.where('s.tenant', '=', filter.tenant);
    if (filter.errorKind !== undefined) q = q.where('d.last_error_kind', '=', filter.errorKind);
    if (filter.since !== undefined) q = q.where('d.updated_at', '>=', filter.since);
    if (filter.until !== undefined) q = q.where('d.updated_at', '<', filter.until);
    if (after) q = q.where((eb) => eb.or([eb('d.updated_at', '>', after.failedAt), eb.and([eb('d.updated_at', '=', after.failedAt), eb('d.id', '>', after.id)])]));
    const rows = await q.orderBy('d.updated_at').orderBy('d.id').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      submissionId: r.submission_id,
      targetId: r.target_id,
      tenant: r.tenant,
      service: r.service,
      attempts: r.attempts,
      error: r.last_error,
      errorKind: r.last_error_kind,
      failedAt: r.updated_at,
    }));
  }

  /**
   * Puts failed deliveries back in the queue: due now, lease cleared, `last_error` kept until the next attempt,
   * attempts not reset (the retry budget counts from here), the same idempotency key. Each replay writes a
   * `delivery.replayed` event in the same transaction. Deliveries in any other state are left alone.
   */
  async replay(ids: readonly string[], by: string, reason: string | undefined, now: number): Promise<ReplayResult[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const found = new Map<string, ReplayResult>();
    await this.db.transaction().execute(async (trx) => {
      for (const part of chunks(unique, 500)) {
        const rows = await trx
          .selectFrom('deliveries as d')
          .innerJoin('submissions as s', 's.id', 'd.submission_id')
          .select(['d.id', 'd.submission_id', 'd.target_id', 'd.state', 'd.attempts', 'd.last_error', 'd.last_error_kind', 's.tenant', 's.service'])
          .where('d.id', 'in', part)
          .execute();
        for (const r of rows) {
          if (r.state !== 'failed') {
            found.set(r.id, { id: r.id, outcome: 'not-failed', state: r.state });
            continue;
          }
          const res = await trx
            .updateTable('deliveries')
            .set({ state: 'queued', next_attempt_at: now, lease_owner: null, lease_expires_at: null, ack_token: null, ack_deadline: null, attempt_base: r.attempts, updated_at: now })
            .where('id', '=', r.id)
            .where('state', '=', 'failed')
            .executeTakeFirst();
          if (Number(res.numUpdatedRows) === 0) {
            found.set(r.id, { id: r.id, outcome: 'not-failed' });
            continue;
          }
          await insertEvent(trx, r, now, 'delivery.replayed', { by, ...(reason ? { reason } : {}), previousError: r.last_error, previousErrorKind: r.last_error_kind, attempts: r.attempts });
          found.set(r.id, { id: r.id, outcome: 'replayed', previousError: r.last_error, attempts: r.attempts });
        }
      }
    });
    return unique.map((id) => found.get(id) ?? { id, outcome: 'not-found' });
  }

  /** What about the database an operator should know at start-up (PostgreSQL without autovacuum, say). */
  async maintenanceWarnings(): Promise<string[]> {
    if (this.dialect !== 'postgres') return [];
    const { rows } = await sql<{ autovacuum: string }>`show autovacuum`.execute(this.db);
    return rows[0]?.autovacuum === 'off'
      ? ['PostgreSQL runs with autovacuum off: deliveries is a queue table, and without vacuum its claim index fills with dead entries and claims slow down as work drains; turn autovacuum on or VACUUM deliveries regularly']
      : [];
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('deliveries').select('id').limit(1).execute();
  }
}

const STATE_AFTER: Record<AttemptResult['outcome'], DeliveryState> = {
  delivered: 'delivered',
  retry: 'waiting',
  failed: 'failed',
  'handed-over': 'acknowledging',
  'ack-pending': 'acknowledging',
};

/** One attempt's end (or one acknowledgement asked), inside the caller's transaction; false when the lease is no longer ours. */
async function writeCompletion(trx: Db, d: ClaimedDelivery, owner: string, r: AttemptResult): Promise<boolean> {
  const state = STATE_AFTER[r.outcome];
  const waitsAgain = r.outcome === 'retry' || r.outcome === 'handed-over' || r.outcome === 'ack-pending';
  const clearAck = { ack_token: null, ack_deadline: null };
  const updated = await trx
    .updateTable('deliveries')
    .set({
      state,
      lease_owner: null,
      lease_expires_at: null,
      next_attempt_at: waitsAgain ? (r.nextAttemptAt ?? r.finishedAt) : r.finishedAt,
      updated_at: r.finishedAt,
      ...(r.outcome === 'delivered'
        ? { reference: r.reference ?? null, delivered_at: r.finishedAt, last_error: null, last_error_kind: null, ...clearAck }
        : r.outcome === 'handed-over'
          ? { ack_token: r.ack!.token, ack_deadline: r.ack!.deadline }
          : r.outcome === 'ack-pending'
            ? {}
            : { last_error: r.error ?? null, last_error_kind: r.errorKind ?? null, ...(r.outcome === 'failed' ? clearAck : {}) }),
    })
    .where('id', '=', d.id)
    .where('state', '=', d.ack ? 'acknowledging' : 'sending')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return false;
  if (d.probe && r.outcome === 'retry') {
    // A failed probe only learnt that the back office is still down: it costs the delivery no attempt of its budget.
    await trx.updateTable('deliveries').set((eb) => ({ attempt_base: eb('attempt_base', '+', 1) })).where('id', '=', d.id).execute();
  }
  // Asking again changes nothing worth a line in the sync log.
  if (r.outcome === 'ack-pending') return true;
  if (!d.ack) {
    await trx
      .updateTable('attempts')
      .set((eb) => ({
        finished_at: r.finishedAt,
        duration_ms: eb(eb.val(r.finishedAt), '-', eb.ref('started_at')),
        outcome: r.outcome as AttemptOutcome,
        error: r.error ?? null,
        error_kind: r.errorKind ?? null,
        http_status: r.httpStatus ?? null,
        reference: r.reference ?? null,
      }))
      .where('delivery_id', '=', d.id)
      .where('number', '=', d.attempt)
      .execute();
  }
  await insertEvent(trx, subject(d), r.finishedAt, `delivery.${state}`, {
    attempt: d.attempt,
    ...(d.ack ? { acknowledgement: true } : {}),
    ...(r.reference ? { reference: r.reference } : {}),
    ...(r.error ? { error: r.error, errorKind: r.errorKind } : {}),
    ...(r.httpStatus ? { httpStatus: r.httpStatus } : {}),
    ...(r.nextAttemptAt && r.outcome === 'retry' ? { nextAttemptAt: new Date(r.nextAttemptAt).toISOString() } : {}),
    ...(r.ack ? { acknowledgementDeadline: new Date(r.ack.deadline).toISOString() } : {}),
    ...r.detail,
  });
  return true;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The sync-log subject of a claimed delivery. */
function subject(d: ClaimedDelivery): EventSubject {
  return { submission_id: d.submissionId, id: d.id, target_id: d.targetId, tenant: d.tenant, service: d.service };
}
