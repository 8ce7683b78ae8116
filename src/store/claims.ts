import { sql } from 'kysely';
import type { Dialect } from './dialect.ts';
import type { Db, Trx } from './tables.ts';
import type { ClaimBatch, ClaimedDelivery, TargetGate } from './types.ts';
import { OPEN_STATES_SQL } from '../core/states.ts';
import { claimTargetDeliveries, type DueRow, type PickDue } from './target-state.ts';
import { claimInOneStatement } from './claim-statement.ts';
import { SOURCE_COLUMNS, type SourceRow } from './submissions.ts';

// Claiming: due deliveries move to `sending` (or to an acknowledgement check) under a worker's lease, each with an
// attempt row and a sync-log line, in one transaction with the targets' policy state (target-state.ts).

/**
 * Claims target by target, in the order given, within each target's gate: its share, its breaker, its
 * in-flight limit and its rate bucket, the last three shared by every instance through `target_state` (rows
 * locked for the claim on PostgreSQL). Within a target the oldest due deliveries go first.
 */
export async function claimForTargets(
  transact: <T>(fn: (trx: Trx) => Promise<T>) => Promise<T>,
  dialect: Dialect,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
  gates: readonly TargetGate[],
  /**
   * Where one statement is a target's whole claim (PostgreSQL), the connections to run it on without a
   * transaction: while no target needs a row lock (no in-flight limit, no rate, no breaker but a closed one),
   * the claim is a read of the breakers and one statement per target, two round trips fewer than begin and
   * commit around them. Anything else is claimed in a transaction, as before.
   */
  standalone?: Db,
): Promise<ClaimBatch & { sourceRows: SourceRow[] }> {
  const claim: Claim = { dialect, owner, now, leaseMs, limit, gates };
  if (standalone && dialect.writesInOneStatement && gates.every((g) => g.room <= 0 || !(g.maxInFlight || g.rate))) {
    const batch = await claimWith(standalone, claim, true);
    if (batch) return batch;
  }
  return transact(async (trx) => (await claimWith(trx, claim, false))!);
}

interface Claim {
  dialect: Dialect;
  owner: string;
  now: number;
  leaseMs: number;
  limit: number;
  gates: readonly TargetGate[];
}

/** The claim on `trx`; standalone (no transaction), undefined when it needs one after all. */
async function claimWith(
  trx: Db,
  { dialect, owner, now, leaseMs, limit, gates }: Claim,
  standalone: boolean,
): Promise<(ClaimBatch & { sourceRows: SourceRow[] }) | undefined> {
  // Where one statement can write several tables, each target's pick is its whole claim.
  const taken: ClaimedDelivery[] = [];
  const sourceRows: SourceRow[] = [];
  const pick: PickDue | undefined = dialect.writesInOneStatement
    ? async (targetId, n, exclude) => {
        const r = await claimInOneStatement(trx, { targetId, n, exclude, owner, now, leaseMs });
        taken.push(...r.claimed);
        sourceRows.push(...r.sources);
        return r.due;
      }
    : undefined;
  const picked = await claimTargetDeliveries(trx, dialect, gates, now, leaseMs, limit, pick, standalone);
  if (!picked) return undefined;
  const { due, probes, wakeAt, blocked } = picked;
  const claimed = pick ? orderAs(due, taken) : due.length ? await takeClaims(trx, due, owner, now, leaseMs, sourceRows) : [];
  for (const c of claimed) if (probes.has(c.id)) c.probe = true;
  return { claimed, sourceRows, ...(wakeAt !== undefined ? { wakeAt } : {}), ...(blocked.size ? { blocked } : {}) };
}

/** The claimed deliveries in the order the claim picked them (oldest first within each target). */
function orderAs(due: readonly DueRow[], claimed: readonly ClaimedDelivery[]): ClaimedDelivery[] {
  const order = new Map(due.map((d, i) => [d.id, i]));
  return [...claimed].sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

/** Makes sure every target has its policy-state row, so claims can lock it. */
export async function ensureTargetStates(db: Db, targetIds: readonly string[], now: number): Promise<void> {
  if (targetIds.length === 0) return;
  await db
    .insertInto('target_state')
    .values(targetIds.map((target_id) => ({ target_id, updated_at: now })))
    .onConflict((oc) => oc.column('target_id').doNothing())
    .execute();
}

/** Targets with open deliveries, configured or not (a removed target's deliveries must still end). */
export async function targetsWithOpenDeliveries(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select('target_id')
    .distinct()
    .where(sql<boolean>`${sql.raw(OPEN_STATES_SQL)}`)
    .execute();
  return rows.map((r) => r.target_id);
}

/**
 * Moves due deliveries to `sending` (or claims an acknowledgement check) under `owner`'s lease; the sends'
 * submissions, as a mapping reads them, go to `sources`.
 */
async function takeClaims(
  trx: Db,
  due: DueRow[],
  owner: string,
  now: number,
  leaseMs: number,
  sources: SourceRow[],
): Promise<ClaimedDelivery[]> {
  if (due.length === 0) return [];
  const ids = due.map((d) => d.id);
  const leaseExpiresAt = now + leaseMs;
  const ackIds = due.filter((d) => d.state === 'acknowledging').map((d) => d.id);
  const sendIds = due.filter((d) => d.state !== 'acknowledging').map((d) => d.id);
  const expired = due.filter((d) => d.state === 'sending');
  if (expired.length) {
    await trx
      .updateTable('attempts')
      .set({
        outcome: 'interrupted',
        finished_at: now,
        error: 'the lease ran out before the attempt finished (hub stopped or crashed)',
        error_kind: 'lease-expired',
      })
      .where(
        'delivery_id',
        'in',
        expired.map((d) => d.id),
      )
      .where('outcome', 'is', null)
      .execute();
  }
  const returning = [
    'id',
    'submission_id',
    'route_id',
    'target_id',
    'mapping_id',
    'idempotency_key',
    'attempts',
    'ack_token',
    'ack_deadline',
    'attempt_base',
    'created_at',
  ] as const;
  const sendRows = sendIds.length
    ? await trx
        .updateTable('deliveries')
        .set((eb) => ({
          state: 'sending',
          lease_owner: owner,
          lease_expires_at: leaseExpiresAt,
          next_attempt_at: leaseExpiresAt,
          attempts: eb('attempts', '+', 1),
          updated_at: now,
        }))
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
    .select(SOURCE_COLUMNS)
    .select((eb) =>
      eb
        .exists(eb.selectFrom('attachments').select('attachments.position').whereRef('attachments.submission_id', '=', 'submissions.id'))
        .as('has_attachments'),
    )
    .where('id', 'in', [...new Set(rows.map((r) => r.submission_id))])
    .execute();
  const subById = new Map(subs.map((s) => [s.id, s]));
  const sends = new Set(sendRows.map((r) => r.submission_id));
  for (const s of subs) if (sends.has(s.id)) sources.push(s);
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
