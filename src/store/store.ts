import { sql, type Kysely, type Transaction } from 'kysely';
import type { Connection, Dialect } from './connect.ts';
import type { AttemptOutcome, Database, DeliveryState } from './tables.ts';
import { GroupCommit } from './group-commit.ts';
import { OPEN_STATES_SQL } from './migrations.ts';

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
      (batch) =>
        this.db.transaction().execute(async (trx) => {
          const out: boolean[] = [];
          for (const c of batch) out.push(await writeCompletion(trx, c.d, c.owner, c.r));
          return out;
        }),
      100,
      writers,
    );
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
   * Claims up to `limit` due deliveries for `owner` with a lease. A `sending` delivery is due again when its
   * lease has run out (its `next_attempt_at` is the lease's expiry), so one index serves every case.
   * On PostgreSQL, SKIP LOCKED lets several instances claim side by side without waiting on each other.
   */
  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('deliveries')
        .select(['id', 'state', 'attempts'])
        .where(sql<boolean>`${sql.raw(OPEN_STATES_SQL)}`)
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit);
      if (this.dialect === 'postgres') q = q.forUpdate().skipLocked();
      const due = await q.execute();
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
      const returning = ['id', 'submission_id', 'route_id', 'target_id', 'mapping_id', 'idempotency_key', 'attempts', 'ack_token', 'ack_deadline', 'attempt_base'] as const;
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
    });
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
        await insertEvent(trx, d, now, 'delivery.released', { attempt: d.attempt, owner });
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
          await trx
            .insertInto('events')
            .values({
              at: now,
              submission_id: r.submission_id,
              delivery_id: r.id,
              tenant: r.tenant,
              service: r.service,
              target: r.target_id,
              type: 'delivery.replayed',
              detail: JSON.stringify({ by, ...(reason ? { reason } : {}), previousError: r.last_error, previousErrorKind: r.last_error_kind, attempts: r.attempts }),
            })
            .execute();
          found.set(r.id, { id: r.id, outcome: 'replayed', previousError: r.last_error, attempts: r.attempts });
        }
      }
    });
    return unique.map((id) => found.get(id) ?? { id, outcome: 'not-found' });
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
  await insertEvent(trx, d, r.finishedAt, `delivery.${state}`, {
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

async function insertEvent(trx: Db, d: ClaimedDelivery, at: number, type: string, detail: Record<string, unknown>): Promise<void> {
  await trx
    .insertInto('events')
    .values({ at, submission_id: d.submissionId, delivery_id: d.id, tenant: d.tenant, service: d.service, target: d.targetId, type, detail: JSON.stringify(detail) })
    .execute();
}
