import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from './dialect.ts';
import { insertEvent } from './events.ts';
import { requeue } from './replay.ts';
import type { Database, DeliveryState } from './tables.ts';
import type { ReconcileDiscrepanciesTable, ReconcileRunState } from './reconcile-tables.ts';
import type { Discrepancy, DiscrepancyAction, DiscrepancyClass } from '../core/reconcile/types.ts';
import { OPEN_STATES_SQL } from '../core/states.ts';

export interface NewRun {
  id: string;
  job: string;
  scheduleId: string;
  /** The cron slot the run is for; null on demand. */
  scheduledFor: number | null;
  filters: Record<string, unknown>;
  instance: string;
  startedAt: number;
}

export interface RunRecord extends Omit<NewRun, 'filters'> {
  filters: Record<string, unknown>;
  finishedAt: number | null;
  state: ReconcileRunState;
  counts: Partial<Record<DiscrepancyClass, number>>;
  matched: number;
  discrepancies: number;
  error: string | null;
}

export interface StoredDiscrepancy extends Discrepancy {
  id: number;
  runId: string;
  resolvedAt: number | null;
  resolvedBy: string | null;
}

/** One delivered case of the hub, as reconciliation compares it; no form data. */
export interface HubCase {
  deliveryId: string;
  submissionId: string;
  idempotencyKey: string;
  reference: string | null;
  backofficeStatus: string | null;
  tenant: string;
  externalId: string;
  portalId: string;
  state: DeliveryState;
  deliveredAt: number | null;
  targetId: string;
}

export interface DeliveredQuery {
  targetId: string;
  /** delivered_at at or after. */
  since: number;
  /** delivered_at before. */
  until: number;
  /** Tenant keys; a 5-digit district key includes its municipalities. */
  tenants?: readonly string[] | undefined;
  /** Keyset: the last idempotency key of the previous page. */
  afterKey?: string | undefined;
  limit: number;
}

export type StuckKind = 'lease-expired' | 'holder-gone' | 'never-claimed' | 'overdue';

export interface StuckDelivery {
  id: string;
  submissionId: string;
  targetId: string;
  tenant: string;
  state: DeliveryState;
  attempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  nextAttemptAt: number;
  createdAt: number;
}

export interface RedeliverResult {
  id: string;
  outcome: 'redelivered' | 'not-delivered' | 'not-found';
  state?: DeliveryState;
}

const HUB_CASE_COLUMNS = [
  'd.id',
  'd.submission_id',
  'd.idempotency_key',
  'd.reference',
  'd.backoffice_status',
  'd.state',
  'd.delivered_at',
  'd.target_id',
  's.tenant',
  's.external_id',
  's.portal_id',
] as const;

/** The SQL of reconciliation: runs and their findings, the hub's side of a comparison, stuck deliveries, re-delivery. */
export class ReconcileStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
  ) {}

  /**
   * Runs `fn` only if no other instance holds the lock named `name` (PostgreSQL: an advisory lock held until `fn`
   * ends; SQLite serves one process, so there is nothing to take).
   */
  exclusively<T>(name: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    return this.dialect.exclusively(this.db, name, fn);
  }

  /** Records a run as running. False when a run for the same schedule slot exists already (another instance ran it). */
  async startRun(r: NewRun): Promise<boolean> {
    const res = await this.db
      .insertInto('reconcile_runs')
      .values({
        id: r.id,
        job: r.job,
        schedule_id: r.scheduleId,
        scheduled_for: r.scheduledFor,
        filters: JSON.stringify(r.filters),
        instance: r.instance,
        started_at: r.startedAt,
        state: 'running',
        counts: '{}',
        matched: 0,
        discrepancies: 0,
      })
      .onConflict((oc) => oc.columns(['schedule_id', 'scheduled_for']).where('scheduled_for', 'is not', null).doNothing())
      .returning('id')
      .executeTakeFirst();
    return res !== undefined;
  }

  async finishRun(
    id: string,
    r: {
      state: ReconcileRunState;
      finishedAt: number;
      counts: Partial<Record<DiscrepancyClass, number>>;
      matched: number;
      discrepancies: number;
      error?: string | null;
    },
  ): Promise<void> {
    await this.db
      .updateTable('reconcile_runs')
      .set({
        state: r.state,
        finished_at: r.finishedAt,
        counts: JSON.stringify(r.counts),
        matched: r.matched,
        discrepancies: r.discrepancies,
        error: r.error ?? null,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Runs still `running` (under way, or left so by an instance that died). */
  async runningRuns(): Promise<{ id: string; instance: string }[]> {
    return this.db.selectFrom('reconcile_runs').select(['id', 'instance']).where('state', '=', 'running').execute();
  }

  /** Ends a run its instance left behind: `failed`, with why; its findings so far stay. */
  async abandonRun(id: string, error: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('reconcile_runs')
      .set({ state: 'failed', finished_at: now, error })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async addDiscrepancies(runId: string, ds: readonly Discrepancy[]): Promise<void> {
    for (let i = 0; i < ds.length; i += 500) {
      await this.db
        .insertInto('reconcile_discrepancies')
        .values(
          ds.slice(i, i + 500).map((d) => ({
            run_id: runId,
            class: d.class,
            action: d.action,
            submission_id: d.submissionId ?? null,
            delivery_id: d.deliveryId ?? null,
            target_id: d.targetId ?? null,
            portal_id: d.portalId ?? null,
            tenant: d.tenant ?? null,
            reference: d.reference ?? null,
            idempotency_key: d.idempotencyKey ?? null,
            external_id: d.externalId ?? null,
            detail: d.detail ? JSON.stringify(d.detail) : null,
            resolved_at: null,
            resolved_by: null,
          })),
        )
        .execute();
    }
  }

  /** Runs, newest first; pass the last one's `{ startedAt, id }` as `before` for the next page. */
  async listRuns(o: {
    limit: number;
    before?: { startedAt: number; id: string } | undefined;
    scheduleId?: string | undefined;
  }): Promise<RunRecord[]> {
    let q = this.db.selectFrom('reconcile_runs').selectAll();
    if (o.scheduleId) q = q.where('schedule_id', '=', o.scheduleId);
    const b = o.before;
    if (b)
      q = q.where((eb) => eb.or([eb('started_at', '<', b.startedAt), eb.and([eb('started_at', '=', b.startedAt), eb('id', '<', b.id)])]));
    const rows = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(o.limit).execute();
    return rows.map(toRun);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const r = await this.db.selectFrom('reconcile_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRun(r);
  }

  /** A run's findings in the order found, page by page (keyset on id): a large report never sits in memory whole. */
  async *discrepancies(runId: string, o: { pageSize?: number; action?: DiscrepancyAction } = {}): AsyncGenerator<StoredDiscrepancy> {
    const pageSize = o.pageSize ?? 1000;
    for (let after = -1; ; ) {
      let q = this.db.selectFrom('reconcile_discrepancies').selectAll().where('run_id', '=', runId).where('id', '>', after);
      if (o.action) q = q.where('action', '=', o.action);
      const rows = await q.orderBy('id').limit(pageSize).execute();
      for (const r of rows) yield toDiscrepancy(r);
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1]!.id);
    }
  }

  async getDiscrepancy(id: number): Promise<StoredDiscrepancy | undefined> {
    const r = await this.db.selectFrom('reconcile_discrepancies').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toDiscrepancy(r);
  }

  /** Marks a finding acted on; only one still in `from` (so two operators cannot both act). */
  async resolveDiscrepancy(id: number, from: DiscrepancyAction, to: DiscrepancyAction, by: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('reconcile_discrepancies')
      .set({ action: to, resolved_at: now, resolved_by: by })
      .where('id', '=', id)
      .where('action', '=', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * One page of a target's delivered cases in idempotency-key order (keyset pagination on the partial index
   * `deliveries_target_key`, whose condition is repeated literally so SQLite uses it).
   */
  async deliveredPage(q: DeliveredQuery): Promise<HubCase[]> {
    let query = this.db
      .selectFrom('deliveries as d')
      .innerJoin('submissions as s', 's.id', 'd.submission_id')
      .select(HUB_CASE_COLUMNS)
      .where('d.target_id', '=', q.targetId)
      .where(sql<boolean>`d.state = 'delivered'`)
      .where('d.delivered_at', '>=', q.since)
      .where('d.delivered_at', '<', q.until);
    if (q.afterKey !== undefined) query = query.where('d.idempotency_key', '>', q.afterKey);
    const tenants = q.tenants;
    if (tenants?.length)
      query = query.where((eb) => eb.or(tenants.map((t) => (t.length === 5 ? eb('s.tenant', 'like', `${t}%`) : eb('s.tenant', '=', t)))));
    const rows = await query.orderBy('d.idempotency_key').limit(q.limit).execute();
    return rows.map(toHubCase);
  }

  /** The hub's deliveries (any state) with one of these idempotency keys, or to this target with one of these references. */
  async findCases(targetId: string, keys: readonly string[], references: readonly string[]): Promise<HubCase[]> {
    if (!keys.length && !references.length) return [];
    const rows = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('submissions as s', 's.id', 'd.submission_id')
      .select(HUB_CASE_COLUMNS)
      .where((eb) =>
        eb.or([
          ...(keys.length ? [eb('d.idempotency_key', 'in', keys)] : []),
          ...(references.length ? [eb.and([eb('d.target_id', '=', targetId), eb('d.reference', 'in', references)])] : []),
        ]),
      )
      .execute();
    return rows.map(toHubCase);
  }

  /**
   * Puts delivered deliveries back in the queue for the back office that lost them: the same idempotency key, a
   * new retry budget (attempt_base = attempts), due now, and a `delivery.redelivered` event saying who and why.
   * Only deliveries still `delivered` are touched.
   */
  async redeliver(
    ids: readonly string[],
    by: string,
    reason: string,
    now: number,
    detail: Record<string, unknown> = {},
  ): Promise<RedeliverResult[]> {
    const found = new Map<string, RedeliverResult>();
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await trx
          .selectFrom('deliveries as d')
          .innerJoin('submissions as s', 's.id', 'd.submission_id')
          .select([
            'd.id',
            'd.submission_id',
            'd.target_id',
            'd.state',
            'd.attempts',
            'd.reference',
            'd.delivered_at',
            's.tenant',
            's.service',
          ])
          .where('d.id', 'in', ids.slice(i, i + 500))
          .execute();
        for (const r of rows) {
          if (r.state !== 'delivered' || !(await requeue(trx, r.id, 'delivered', r.attempts, now))) {
            found.set(r.id, { id: r.id, outcome: 'not-delivered', state: r.state });
            continue;
          }
          await insertEvent(trx, r, now, 'delivery.redelivered', {
            by,
            reason,
            previousReference: r.reference,
            deliveredAt: r.delivered_at,
            attempts: r.attempts,
            ...detail,
          });
          found.set(r.id, { id: r.id, outcome: 'redelivered' });
        }
      }
    });
    return ids.map((id) => found.get(id) ?? { id, outcome: 'not-found' });
  }

  /**
   * Open deliveries that look stuck: due more than `olderThanMs` ago, or `sending` with an expired lease, or
   * `sending` at all (the caller checks whether the lease holder still lives). Oldest due first, at most `limit`.
   */
  async stuckCandidates(
    now: number,
    o: { olderThanMs: number; targets?: readonly string[] | undefined; tenants?: readonly string[] | undefined; limit: number },
  ): Promise<StuckDelivery[]> {
    let q = this.db
      .selectFrom('deliveries as d')
      .innerJoin('submissions as s', 's.id', 'd.submission_id')
      .select([
        'd.id',
        'd.submission_id',
        'd.target_id',
        's.tenant',
        'd.state',
        'd.attempts',
        'd.lease_owner',
        'd.lease_expires_at',
        'd.next_attempt_at',
        'd.created_at',
      ])
      .where(sql<boolean>`d.${sql.raw(OPEN_STATES_SQL)}`)
      .where((eb) => eb.or([eb('d.next_attempt_at', '<=', now - o.olderThanMs), eb('d.state', '=', 'sending')]));
    if (o.targets?.length) q = q.where('d.target_id', 'in', o.targets);
    const tenants = o.tenants;
    if (tenants?.length)
      q = q.where((eb) => eb.or(tenants.map((t) => (t.length === 5 ? eb('s.tenant', 'like', `${t}%`) : eb('s.tenant', '=', t)))));
    const rows = await q.orderBy('d.next_attempt_at').limit(o.limit).execute();
    return rows.map((r) => ({
      id: r.id,
      submissionId: r.submission_id,
      targetId: r.target_id,
      tenant: r.tenant,
      state: r.state,
      attempts: r.attempts,
      leaseOwner: r.lease_owner,
      leaseExpiresAt: r.lease_expires_at,
      nextAttemptAt: r.next_attempt_at,
      createdAt: r.created_at,
    }));
  }

  /**
   * Makes a `sending` delivery whose lease holder is gone due now, instead of at its lease's end: the next claim
   * marks the attempt interrupted and sends again with the same idempotency key. Only while the same holder has it.
   */
  async releaseOrphaned(d: { id: string; leaseOwner: string }, by: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('deliveries')
        .set({ next_attempt_at: now, lease_expires_at: now, updated_at: now })
        .where('id', '=', d.id)
        .where('state', '=', 'sending')
        .where('lease_owner', '=', d.leaseOwner)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      const r = await trx
        .selectFrom('deliveries as x')
        .innerJoin('submissions as s', 's.id', 'x.submission_id')
        .select(['x.submission_id', 'x.target_id', 's.tenant', 's.service'])
        .where('x.id', '=', d.id)
        .executeTakeFirstOrThrow();
      await insertEvent(trx, { ...r, id: d.id }, now, 'delivery.released', { by, reason: 'the lease holder is gone', owner: d.leaseOwner });
      return true;
    });
  }
}

function toRun(r: Database['reconcile_runs']): RunRecord {
  return {
    id: r.id,
    job: r.job,
    scheduleId: r.schedule_id,
    scheduledFor: r.scheduled_for,
    filters: JSON.parse(r.filters) as Record<string, unknown>,
    instance: r.instance,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    state: r.state,
    counts: JSON.parse(r.counts) as RunRecord['counts'],
    matched: r.matched,
    discrepancies: r.discrepancies,
    error: r.error,
  };
}

function toDiscrepancy(r: Selectable<ReconcileDiscrepanciesTable>): StoredDiscrepancy {
  const d: StoredDiscrepancy = {
    id: Number(r.id),
    runId: r.run_id,
    class: r.class as DiscrepancyClass,
    action: r.action as DiscrepancyAction,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
  };
  if (r.submission_id !== null) d.submissionId = r.submission_id;
  if (r.delivery_id !== null) d.deliveryId = r.delivery_id;
  if (r.target_id !== null) d.targetId = r.target_id;
  if (r.portal_id !== null) d.portalId = r.portal_id;
  if (r.tenant !== null) d.tenant = r.tenant;
  if (r.reference !== null) d.reference = r.reference;
  if (r.idempotency_key !== null) d.idempotencyKey = r.idempotency_key;
  if (r.external_id !== null) d.externalId = r.external_id;
  if (r.detail !== null) d.detail = JSON.parse(r.detail) as Record<string, unknown>;
  return d;
}

function toHubCase(r: {
  id: string;
  submission_id: string;
  idempotency_key: string;
  reference: string | null;
  backoffice_status: string | null;
  state: DeliveryState;
  delivered_at: number | null;
  target_id: string;
  tenant: string;
  external_id: string;
  portal_id: string;
}): HubCase {
  return {
    deliveryId: r.id,
    submissionId: r.submission_id,
    idempotencyKey: r.idempotency_key,
    reference: r.reference,
    backofficeStatus: r.backoffice_status,
    state: r.state,
    deliveredAt: r.delivered_at,
    targetId: r.target_id,
    tenant: r.tenant,
    externalId: r.external_id,
    portalId: r.portal_id,
  };
}
