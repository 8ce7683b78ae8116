import { sql, type Kysely, type RawBuilder, type Transaction, type Updateable } from 'kysely';
import type { Dialect } from './connect.ts';
import type { AttemptOutcome, Database, DeliveriesTable, DeliveryState } from './tables.ts';
import type { AttemptResult, ClaimedDelivery } from './store.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** One attempt's end (or one acknowledgement asked) as the worker reports it. */
export interface Completion {
  d: ClaimedDelivery;
  owner: string;
  r: AttemptResult;
}

const STATE_AFTER: Record<AttemptResult['outcome'], DeliveryState> = {
  delivered: 'delivered',
  retry: 'waiting',
  failed: 'failed',
  'handed-over': 'acknowledging',
  'ack-pending': 'acknowledging',
};

/** The delivery's columns an attempt's end sets; columns it leaves alone are absent. */
type DeliveryPatch = Pick<Updateable<DeliveriesTable>, (typeof TIME_COLUMNS)[number] | 'state' | 'lease_owner' | 'reference' | 'last_error' | 'last_error_kind' | 'ack_token'>;
const TIME_COLUMNS = ['lease_expires_at', 'next_attempt_at', 'updated_at', 'delivered_at', 'ack_deadline'] as const;

function deliveryPatch(r: AttemptResult): DeliveryPatch {
  const waitsAgain = r.outcome === 'retry' || r.outcome === 'handed-over' || r.outcome === 'ack-pending';
  const clearAck = { ack_token: null, ack_deadline: null };
  return {
    state: STATE_AFTER[r.outcome],
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
  };
}

/** The state the delivery must still be in, held by this owner: otherwise its lease ran out and another took it. */
const heldState = (d: ClaimedDelivery) => (d.ack ? 'acknowledging' : 'sending');

/** Asking again for an acknowledgement changes nothing worth a line in the attempts or the sync log. */
const logged = (c: Completion) => c.r.outcome !== 'ack-pending';

function eventRow(c: Completion) {
  const { d, r } = c;
  const detail = {
    attempt: d.attempt,
    ...(d.ack ? { acknowledgement: true } : {}),
    ...(r.reference ? { reference: r.reference } : {}),
    ...(r.error ? { error: r.error, errorKind: r.errorKind } : {}),
    ...(r.httpStatus ? { httpStatus: r.httpStatus } : {}),
    ...(r.nextAttemptAt && r.outcome === 'retry' ? { nextAttemptAt: new Date(r.nextAttemptAt).toISOString() } : {}),
    ...(r.ack ? { acknowledgementDeadline: new Date(r.ack.deadline).toISOString() } : {}),
    ...r.detail,
  };
  return { at: r.finishedAt, submission_id: d.submissionId, delivery_id: d.id, tenant: d.tenant, service: d.service, target: d.targetId, type: `delivery.${STATE_AFTER[r.outcome]}`, detail: JSON.stringify(detail) };
}

/**
 * Records a batch of attempt ends inside the caller's transaction and moves each delivery on. Only the lease
 * holder may: a delivery whose lease ran out and was taken over is left alone and answers false.
 *
 * On PostgreSQL the batch is written set-wise, a few statements for the whole batch, since each statement is a
 * round trip; SQLite runs in-process, where a cached statement per row is as quick.
 */
export async function writeCompletions(trx: Db, dialect: Dialect, batch: readonly Completion[]): Promise<boolean[]> {
  const recorded = dialect === 'postgres' ? await updateDeliveriesSetwise(trx, batch) : await updateDeliveriesRowwise(trx, batch);
  const done = batch.filter((_, i) => recorded[i]);
  // A failed probe only learnt that the back office is still down: it costs the delivery no attempt of its budget.
  const freeProbes = done.filter((c) => c.d.probe && c.r.outcome === 'retry').map((c) => c.d.id);
  if (freeProbes.length) await trx.updateTable('deliveries').set((eb) => ({ attempt_base: eb('attempt_base', '+', 1) })).where('id', 'in', freeProbes).execute();
  const attempts = done.filter((c) => logged(c) && !c.d.ack);
  if (attempts.length) await (dialect === 'postgres' ? finishAttemptsSetwise(trx, attempts) : finishAttemptsRowwise(trx, attempts));
  const events = done.filter(logged);
  if (events.length) await trx.insertInto('events').values(events.map(eventRow)).execute();
  return recorded;
}

async function updateDeliveriesRowwise(trx: Db, batch: readonly Completion[]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const { d, owner, r } of batch) {
    const updated = await trx.updateTable('deliveries').set(deliveryPatch(r)).where('id', '=', d.id).where('state', '=', heldState(d)).where('lease_owner', '=', owner).executeTakeFirst();
    out.push(Number(updated.numUpdatedRows) > 0);
  }
  return out;
}

/** One UPDATE … FROM (VALUES …) per shape of change (delivered, retry, …), usually one for the whole batch. */
async function updateDeliveriesSetwise(trx: Db, batch: readonly Completion[]): Promise<boolean[]> {
  const shapes = new Map<string, { columns: (keyof DeliveryPatch)[]; rows: { c: Completion; patch: DeliveryPatch }[] }>();
  for (const c of batch) {
    const patch = deliveryPatch(c.r);
    const columns = (Object.keys(patch) as (keyof DeliveryPatch)[]).sort();
    const key = columns.join(',');
    if (!shapes.has(key)) shapes.set(key, { columns, rows: [] });
    shapes.get(key)!.rows.push({ c, patch });
  }
  const done = new Set<string>();
  for (const { columns, rows } of shapes.values()) {
    const values = rows.map(({ c, patch }) => sql`(${sql.join([sql`${c.d.id}::text`, sql`${heldState(c.d)}::text`, sql`${c.owner}::text`, ...columns.map((col) => typed(col, (patch[col] ?? null) as string | number | null))])})`);
    const result = await sql<{ id: string }>`
      update deliveries as d set ${sql.join(columns.map((col) => sql`${sql.ref(col)} = v.${sql.ref(col)}`))}
      from (values ${sql.join(values)}) as v(id, held_state, owner, ${sql.join(columns.map((col) => sql.ref(col)))})
      where d.id = v.id and d.state = v.held_state and d.lease_owner = v.owner
      returning d.id`.execute(trx);
    for (const r of result.rows) done.add(r.id);
  }
  return batch.map((c) => done.has(c.d.id));
}

/** A value of a VALUES list with its column's type: PostgreSQL takes untyped parameters as text. */
function typed(column: string, value: string | number | null): RawBuilder<unknown> {
  return (TIME_COLUMNS as readonly string[]).includes(column) ? sql`${value}::bigint` : sql`${value}::text`;
}

function attemptEnd(c: Completion) {
  const { r } = c;
  return { outcome: r.outcome as AttemptOutcome, error: r.error ?? null, error_kind: r.errorKind ?? null, http_status: r.httpStatus ?? null, reference: r.reference ?? null };
}

async function finishAttemptsRowwise(trx: Db, items: readonly Completion[]): Promise<void> {
  for (const c of items) {
    await trx
      .updateTable('attempts')
      .set((eb) => ({ finished_at: c.r.finishedAt, duration_ms: eb(eb.val(c.r.finishedAt), '-', eb.ref('started_at')), ...attemptEnd(c) }))
      .where('delivery_id', '=', c.d.id)
      .where('number', '=', c.d.attempt)
      .execute();
  }
}

async function finishAttemptsSetwise(trx: Db, items: readonly Completion[]): Promise<void> {
  const values = items.map((c) => {
    const e = attemptEnd(c);
    return sql`(${c.d.id}::text, ${c.d.attempt}::integer, ${c.r.finishedAt}::bigint, ${e.outcome}::text, ${e.error}::text, ${e.error_kind}::text, ${e.http_status}::integer, ${e.reference}::text)`;
  });
  await sql`
    update attempts as a set finished_at = v.finished_at, duration_ms = v.finished_at - a.started_at, outcome = v.outcome,
      error = v.error, error_kind = v.error_kind, http_status = v.http_status, reference = v.reference
    from (values ${sql.join(values)}) as v(delivery_id, number, finished_at, outcome, error, error_kind, http_status, reference)
    where a.delivery_id = v.delivery_id and a.number = v.number`.execute(trx);
}
