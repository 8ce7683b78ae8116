import { sql, type Kysely } from 'kysely';
import type { Dialect, JsonColumn } from './dialect.ts';
import type { AttemptOutcome, Database, Db, DeliveryState } from './tables.ts';
import type { AttemptResult, ClaimedDelivery } from './types.ts';
import { insertEvent, insertEvents, type EventSubject } from './events.ts';

// The end of an attempt (or of an acknowledgement check), and leases given back at shutdown. Only the lease
// holder may record: a lease taken over by another instance makes the write a no-op.

const STATE_AFTER: Record<AttemptResult['outcome'], DeliveryState> = {
  delivered: 'delivered',
  retry: 'waiting',
  failed: 'failed',
  'handed-over': 'acknowledging',
  'ack-pending': 'acknowledging',
};

/** One attempt's end (or one acknowledgement asked), with the lease holder that claimed it. */
export interface Completion {
  d: ClaimedDelivery;
  owner: string;
  r: AttemptResult;
}

const DELIVERY_COLUMNS: readonly JsonColumn[] = [
  ['id', 'text'],
  ['expect', 'text'],
  ['owner', 'text'],
  ['attempt', 'integer'],
  ['state', 'text'],
  ['next_at', 'bigint'],
  ['at', 'bigint'],
  ['ref_mode', 'integer'],
  ['reference', 'text'],
  ['err_mode', 'integer'],
  ['error', 'text'],
  ['error_kind', 'text'],
  ['ack_mode', 'integer'],
  ['ack_token', 'text'],
  ['ack_deadline', 'bigint'],
  ['base_inc', 'integer'],
];

const ATTEMPT_COLUMNS: readonly JsonColumn[] = [
  ['id', 'text'],
  ['number', 'integer'],
  ['at', 'bigint'],
  ['outcome', 'text'],
  ['error', 'text'],
  ['error_kind', 'text'],
  ['http_status', 'integer'],
  ['reference', 'text'],
];

/** A delivery's columns after its attempt, from a row `v` of DELIVERY_COLUMNS (which the outcome sets, deliveryRow says). */
const MOVE_ON = sql.raw(`
  state = v.state, lease_owner = null, lease_expires_at = null, next_attempt_at = v.next_at, updated_at = v.at,
  reference = case when v.ref_mode = 1 then v.reference else deliveries.reference end,
  delivered_at = case when v.ref_mode = 1 then v.at else deliveries.delivered_at end,
  last_error = case when v.err_mode = 1 then v.error else deliveries.last_error end,
  last_error_kind = case when v.err_mode = 1 then v.error_kind else deliveries.last_error_kind end,
  ack_token = case when v.ack_mode = 1 then v.ack_token else deliveries.ack_token end,
  ack_deadline = case when v.ack_mode = 1 then v.ack_deadline else deliveries.ack_deadline end,
  attempt_base = deliveries.attempt_base + v.base_inc`);

/**
 * Only the lease holder's attempt moves the delivery on: the state it claimed, its owner, and its attempt (one of
 * the same owner whose lease ran out and was claimed again records nothing).
 */
const LEASE_STILL_OURS = sql.raw(
  'deliveries.id = v.id and deliveries.state = v.expect and deliveries.lease_owner = v.owner and deliveries.attempts = v.attempt',
);

/**
 * A batch of attempt ends inside the caller's transaction, set-wise: one update of the deliveries, one of their
 * attempts and one insert into the sync log, whatever the batch size (a statement per result was a round trip
 * each on PostgreSQL). Returns per item whether it was recorded: false when the lease is no longer ours.
 */
export async function writeCompletions(trx: Db, dialect: Dialect, batch: readonly Completion[]): Promise<boolean[]> {
  if (batch.length === 0) return [];
  if (dialect.writesInOneStatement) return writeCompletionsInOneStatement(trx, dialect, batch);
  const rows = batch.map(deliveryRow);
  const updated = await sql<{ id: string }>`
    update deliveries set ${MOVE_ON}
    from ${dialect.jsonRows(rows, DELIVERY_COLUMNS)} as v
    where ${LEASE_STILL_OURS}
    returning deliveries.id`.execute(trx);
  const ours = new Set(updated.rows.map((u) => u.id));
  const recorded = batch.map((c) => ours.has(c.d.id));
  // Asking again changes nothing worth a line in the sync log.
  const logged = batch.filter((c) => ours.has(c.d.id) && c.r.outcome !== 'ack-pending');
  const attempts = logged.filter((c) => !c.d.ack);
  if (attempts.length) {
    const rows = attempts.map(({ d, r }) => ({
      id: d.id,
      number: d.attempt,
      at: r.finishedAt,
      outcome: r.outcome as AttemptOutcome,
      error: r.error ?? null,
      error_kind: r.errorKind ?? null,
      http_status: r.httpStatus ?? null,
      reference: r.reference ?? null,
    }));
    await sql`
      update attempts set
        finished_at = v.at, duration_ms = v.at - attempts.started_at, outcome = v.outcome, error = v.error,
        error_kind = v.error_kind, http_status = v.http_status, reference = v.reference
      from ${dialect.jsonRows(rows, ATTEMPT_COLUMNS)} as v
      where attempts.delivery_id = v.id and attempts.number = v.number`.execute(trx);
  }
  if (logged.length)
    await insertEvents(
      trx,
      logged.map(({ d, r }) => ({
        subject: subject(d),
        at: r.finishedAt,
        type: `delivery.${STATE_AFTER[r.outcome]}`,
        detail: eventDetail(d, r),
      })),
    );
  return recorded;
}

/** The row of `DELIVERY_COLUMNS` for one completion: which columns the outcome sets, and to what. */
function deliveryRow({ d, owner, r }: Completion) {
  const waitsAgain = r.outcome === 'retry' || r.outcome === 'handed-over' || r.outcome === 'ack-pending';
  // Which columns the outcome sets (1) or leaves as they are (0), as writeCompletion did one by one.
  const delivered = r.outcome === 'delivered';
  const erred = r.outcome === 'retry' || r.outcome === 'failed';
  return {
    id: d.id,
    expect: d.ack ? 'acknowledging' : 'sending',
    owner,
    attempt: d.attempt,
    state: STATE_AFTER[r.outcome],
    next_at: waitsAgain ? (r.nextAttemptAt ?? r.finishedAt) : r.finishedAt,
    at: r.finishedAt,
    ref_mode: delivered ? 1 : 0,
    reference: delivered ? (r.reference ?? null) : null,
    err_mode: delivered || erred ? 1 : 0,
    error: erred ? (r.error ?? null) : null,
    error_kind: erred ? (r.errorKind ?? null) : null,
    ack_mode: delivered || r.outcome === 'failed' || r.outcome === 'handed-over' ? 1 : 0,
    ack_token: r.outcome === 'handed-over' ? r.ack!.token : null,
    ack_deadline: r.outcome === 'handed-over' ? r.ack!.deadline : null,
    // A failed probe only learnt that the back office is still down: it costs the delivery no attempt of its budget.
    base_inc: d.probe && r.outcome === 'retry' ? 1 : 0,
  };
}

/** The sync-log line's detail of an attempt's end. */
function eventDetail(d: ClaimedDelivery, r: AttemptResult): Record<string, unknown> {
  return {
    attempt: d.attempt,
    ...(d.ack ? { acknowledgement: true } : {}),
    ...(r.reference ? { reference: r.reference } : {}),
    ...(r.error ? { error: r.error, errorKind: r.errorKind } : {}),
    ...(r.httpStatus ? { httpStatus: r.httpStatus } : {}),
    ...(r.nextAttemptAt && r.outcome === 'retry' ? { nextAttemptAt: new Date(r.nextAttemptAt).toISOString() } : {}),
    ...(r.ack ? { acknowledgementDeadline: new Date(r.ack.deadline).toISOString() } : {}),
    ...r.detail,
  };
}

const ONE_STATEMENT_COLUMNS: readonly JsonColumn[] = [
  ...DELIVERY_COLUMNS,
  ['ord', 'integer'],
  ['log', 'integer'],
  ['attempt_row', 'integer'],
  ['number', 'integer'],
  ['outcome', 'text'],
  ['a_error', 'text'],
  ['a_error_kind', 'text'],
  ['http_status', 'integer'],
  ['a_reference', 'text'],
  ['submission_id', 'text'],
  ['tenant', 'text'],
  ['service', 'text'],
  ['target', 'text'],
  ['type', 'text'],
  ['detail', 'text'],
];

/**
 * What writeCompletions does in three statements, as one (PostgreSQL's data-modifying WITH): the deliveries
 * whose lease is still ours move on, and only theirs get the attempt's end and the sync-log line. One round trip
 * per batch instead of three.
 */
async function writeCompletionsInOneStatement(trx: Db, dialect: Dialect, batch: readonly Completion[]): Promise<boolean[]> {
  const rows = batch.map((c, ord) => {
    const { d, r } = c;
    return {
      ...deliveryRow(c),
      ord,
      // Asking again changes nothing worth a line in the sync log.
      log: r.outcome === 'ack-pending' ? 0 : 1,
      attempt_row: d.ack ? 0 : 1,
      number: d.attempt,
      outcome: r.outcome,
      a_error: r.error ?? null,
      a_error_kind: r.errorKind ?? null,
      http_status: r.httpStatus ?? null,
      a_reference: r.reference ?? null,
      submission_id: d.submissionId,
      tenant: d.tenant,
      service: d.service,
      target: d.targetId,
      type: `delivery.${STATE_AFTER[r.outcome]}`,
      detail: JSON.stringify(eventDetail(d, r)),
    };
  });
  const updated = await sql<{ id: string }>`
    with v as ${dialect.jsonRows(rows, ONE_STATEMENT_COLUMNS)},
    moved as (
      update deliveries set ${MOVE_ON}
      from v
      where ${LEASE_STILL_OURS}
      returning deliveries.id
    ), ended as (
      update attempts set
        finished_at = v.at, duration_ms = v.at - attempts.started_at, outcome = v.outcome, error = v.a_error,
        error_kind = v.a_error_kind, http_status = v.http_status, reference = v.a_reference
      from v join moved on moved.id = v.id
      where attempts.delivery_id = v.id and attempts.number = v.number and v.log = 1 and v.attempt_row = 1
    ), logged as (
      insert into events (at, submission_id, delivery_id, tenant, service, target, type, detail)
      select v.at, v.submission_id, v.id, v.tenant, v.service, v.target, v.type, v.detail
      from v join moved on moved.id = v.id where v.log = 1 order by v.ord
    )
    select id from moved`.execute(trx);
  const ours = new Set(updated.rows.map((u) => u.id));
  return batch.map((c) => ours.has(c.d.id));
}

/** Gives claimed deliveries back (graceful shutdown): due at once, the open attempt marked interrupted. */
export async function releaseLeases(db: Kysely<Database>, owner: string, deliveries: ClaimedDelivery[], now: number): Promise<void> {
  if (deliveries.length === 0) return;
  await db.transaction().execute(async (trx) => {
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

/** The sync-log subject of a claimed delivery. */
function subject(d: ClaimedDelivery): EventSubject {
  return { submission_id: d.submissionId, id: d.id, target_id: d.targetId, tenant: d.tenant, service: d.service };
}
