import { sql, type Selectable, type Updateable } from 'kysely';
import type { Dialect } from './dialect.ts';
import type { Db, DeliveryState, TargetStateTable, Trx } from './tables.ts';
import { OPEN_STATES_SQL } from '../core/states.ts';
import { breakerAfter, breakerGate, CLOSED, probing, type BreakerStatus } from '../core/policy/breaker.ts';
import { nextTokenAt, tokensAt } from '../core/policy/rate-limit.ts';
import type { AttemptResult, BreakerChange, ClaimedDelivery, TargetGate } from './types.ts';

// The per-target half of claiming and of recording attempts: circuit breakers and rate buckets live in
// `target_state`, one row per target, read and written inside the claim's or the completion's transaction.

export interface DueRow {
  id: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
}

export type TargetStateRow = Selectable<TargetStateTable>;

export function breakerStatus(row: TargetStateRow | undefined): BreakerStatus {
  if (!row) return CLOSED;
  return {
    state: row.breaker,
    consecutiveFailures: row.consecutive_failures,
    openedAt: row.opened_at,
    retryAt: row.retry_at,
    probeDeliveryId: row.probe_delivery_id,
    lastError: row.last_error,
  };
}

function breakerColumns(b: BreakerStatus, now: number) {
  return {
    breaker: b.state,
    consecutive_failures: b.consecutiveFailures,
    opened_at: b.openedAt,
    retry_at: b.retryAt,
    probe_delivery_id: b.probeDeliveryId,
    last_error: b.lastError,
    updated_at: now,
  };
}

async function readStates(trx: Db, dialect: Dialect, targetIds: string[], lock: boolean): Promise<Map<string, TargetStateRow>> {
  if (targetIds.length === 0) return new Map();
  // One lock order (by id) for every transaction that takes these rows, so two instances never deadlock.
  let q = trx
    .selectFrom('target_state')
    .selectAll()
    .where('target_id', 'in', [...targetIds].sort())
    .orderBy('target_id');
  if (lock) q = dialect.lockRows(q);
  return new Map((await q.execute()).map((r) => [r.target_id, r]));
}

export type PickDue = (targetId: string, n: number, exclude: readonly string[]) => Promise<DueRow[]>;

/** A target's oldest due deliveries, locked for the claim (passing over those another instance holds). */
function selectDue(trx: Db, dialect: Dialect, targetId: string, now: number, n: number, exclude: readonly string[]): Promise<DueRow[]> {
  let q = trx
    .selectFrom('deliveries')
    .select(['id', 'state', 'attempts', 'next_attempt_at'])
    .where('target_id', '=', targetId)
    .where(sql<boolean>`${sql.raw(OPEN_STATES_SQL)}`)
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(n);
  if (exclude.length) q = q.where('id', 'not in', exclude);
  return dialect.claimRows(q).execute();
}

/** Picks the due deliveries a claim may take, target by target within each gate, and updates the targets' state. */
export async function claimTargetDeliveries(
  trx: Db,
  dialect: Dialect,
  gates: readonly TargetGate[],
  now: number,
  leaseMs: number,
  limit: number,
  /** Takes up to `n` of a target's due deliveries, oldest first, passing over `exclude`; by default it only selects (and locks) them. */
  pick: PickDue = (targetId, n, exclude) => selectDue(trx, dialect, targetId, now, n, exclude),
  /**
   * The statements run on their own, outside a transaction (`pick` is then each target's whole claim in one
   * statement): the claim gives up, having only read, as soon as it would need a row lock or a write of a
   * target's state, and answers undefined for the caller to claim in a transaction instead.
   */
  standalone = false,
): Promise<{ due: DueRow[]; probes: Set<string>; wakeAt: number | undefined; blocked: Map<string, number> } | undefined> {
  // Shared limits need the row locked for the claim. A breaker alone only when it is not closed (a probe is a
  // change of state); while it is closed, reading is enough, so claims of healthy targets never wait on each other.
  const open = gates.filter((g) => g.room > 0);
  const limited = new Set(open.filter((g) => g.maxInFlight || g.rate).map((g) => g.targetId));
  const seen = await readStates(
    trx,
    dialect,
    open.filter((g) => g.breaker && !limited.has(g.targetId)).map((g) => g.targetId),
    false,
  );
  for (const [id, row] of seen) if (row.breaker !== 'closed') limited.add(id);
  if (standalone && limited.size) return undefined;
  const states = new Map([...seen, ...(await readStates(trx, dialect, [...limited], true))]);
  const capped = open.filter((g) => g.maxInFlight).map((g) => g.targetId);
  const inFlight = new Map<string, number>();
  if (capped.length) {
    const rows = await trx
      .selectFrom('deliveries')
      .select((eb) => ['target_id', eb.fn.countAll<number>().as('n')])
      .where(sql<boolean>`state = 'sending'`)
      .where('target_id', 'in', capped)
      .where('lease_expires_at', '>', now)
      .groupBy('target_id')
      .execute();
    for (const r of rows) inFlight.set(r.target_id, Number(r.n));
  }

  const probes = new Set<string>();
  let wakeAt: number | undefined;
  /**
   * Targets held back until a known time: a breaker's cool-down, the next token. Not a breaker waiting on its
   * probe: that may end any moment (the wake time is only the probe's lease running out).
   */
  const blocked = new Map<string, number>();
  const wake = (t: number, targetId?: string) => {
    wakeAt = Math.min(wakeAt ?? Infinity, t);
    if (targetId !== undefined) blocked.set(targetId, t);
  };

  // First what each target may take at most: its room, its breaker, its in-flight limit, its tokens.
  const plans: { g: TargetGate; allow: number; probe: boolean; breaker: BreakerStatus; tokens: number; rows: DueRow[] }[] = [];
  for (const g of gates) {
    let allow = Math.min(g.room, limit);
    if (allow <= 0) continue;
    const row = states.get(g.targetId);
    const breaker = breakerStatus(row);
    let probe = false;
    if (g.breaker) {
      const gate = breakerGate(breaker, now);
      if (gate.allow === 'none') {
        wake(gate.wakeAt, breaker.state === 'open' ? g.targetId : undefined);
        continue;
      }
      if (gate.allow === 'probe') {
        probe = true;
        allow = 1;
      }
    }
    if (g.maxInFlight) allow = Math.min(allow, g.maxInFlight - (inFlight.get(g.targetId) ?? 0));
    let tokens = 0;
    if (g.rate) {
      tokens = tokensAt(row?.tokens ?? 0, row?.tokens_at ?? null, now, g.rate);
      if (tokens < 1) {
        // Stamped by a clock ahead of ours (another instance's, or ours before it was set back): refill from our
        // now, or the bucket would stay empty until our clock caught up with the stamp.
        if (row?.tokens_at != null && row.tokens_at > now)
          await trx.updateTable('target_state').set({ tokens, tokens_at: now }).where('target_id', '=', g.targetId).execute();
        wake(nextTokenAt(tokens, now, g.rate), g.targetId);
        continue;
      }
      allow = Math.min(allow, Math.floor(tokens));
    }
    if (allow > 0) plans.push({ g, allow, probe, breaker, tokens, rows: [] });
  }

  // Then take them in two rounds: an even slice each, then what is left to those that had more, so a target with
  // a backlog cannot take the whole claim while others have work.
  const take = async (p: (typeof plans)[number], n: number) => {
    if (p.probe) {
      // The breaker's cool-down replaces the back-off of what failed during the outage: those deliveries are due
      // in the order they came, so the probe is the target's oldest and the order per target is kept.
      await trx
        .updateTable('deliveries')
        .set((eb) => ({ next_attempt_at: eb.ref('created_at') }))
        .where('target_id', '=', p.g.targetId)
        .where(sql<boolean>`state = 'waiting'`)
        .whereRef('next_attempt_at', '>', 'created_at')
        .execute();
    }
    const rows = await pick(
      p.g.targetId,
      n,
      p.rows.map((r) => r.id),
    );
    p.rows.push(...rows);
    return rows.length;
  };
  let remaining = limit;
  const slice = Math.max(1, Math.ceil(limit / Math.max(1, plans.length)));
  const more: typeof plans = [];
  for (const p of plans) {
    if (remaining <= 0) break;
    const want = Math.min(p.allow, slice, remaining);
    const got = await take(p, want);
    remaining -= got;
    if (got === want && p.allow > want) more.push(p);
  }
  for (const p of more) {
    if (remaining <= 0) break;
    remaining -= await take(p, Math.min(p.allow - p.rows.length, remaining));
  }

  const due: DueRow[] = [];
  for (const p of plans) {
    if (p.rows.length === 0) continue;
    due.push(...p.rows);
    const sends = p.rows.filter((r) => r.state !== 'acknowledging');
    const patch: Updateable<TargetStateTable> = {};
    if (p.g.rate && sends.length) Object.assign(patch, { tokens: p.tokens - sends.length, tokens_at: now });
    if (p.probe && sends[0]) {
      probes.add(sends[0].id);
      Object.assign(patch, breakerColumns(probing(p.breaker, sends[0].id, now + leaseMs), now));
    }
    if (Object.keys(patch).length)
      await trx
        .updateTable('target_state')
        .set({ ...patch, updated_at: now })
        .where('target_id', '=', p.g.targetId)
        .execute();
  }
  return { due, probes, wakeAt, blocked };
}

/** Moves each target's breaker on by the attempts that ended in this batch; returns the changes of state. */
export async function applyBreakerSignals(
  trx: Trx,
  dialect: Dialect,
  items: { d: ClaimedDelivery; r: AttemptResult }[],
): Promise<BreakerChange[]> {
  const byTarget = new Map<string, { d: ClaimedDelivery; r: AttemptResult }[]>();
  for (const it of items) byTarget.set(it.d.targetId, [...(byTarget.get(it.d.targetId) ?? []), it]);
  // Most attempts change nothing (a success on a closed breaker): read first, lock only the rows that change.
  const seen = await readStates(trx, dialect, [...byTarget.keys()], false);
  const changing = [...byTarget.keys()].filter((id) => {
    let status = breakerStatus(seen.get(id));
    for (const { d, r } of byTarget.get(id)!)
      status = breakerAfter(status, r.breaker!.signal, r.breaker!.settings, r.finishedAt, { deliveryId: d.id, error: r.error }).status;
    return !sameBreaker(status, breakerStatus(seen.get(id)));
  });
  const states = await readStates(trx, dialect, changing, true);
  const changes: BreakerChange[] = [];
  for (const targetId of changing.sort()) {
    const before = breakerStatus(states.get(targetId));
    let status = before;
    let at = 0;
    for (const { d, r } of byTarget.get(targetId)!) {
      const next = breakerAfter(status, r.breaker!.signal, r.breaker!.settings, r.finishedAt, { deliveryId: d.id, error: r.error });
      status = next.status;
      at = Math.max(at, r.finishedAt);
      if (next.transition) changes.push({ targetId, transition: next.transition, status });
    }
    if (status === before) continue;
    const cols = breakerColumns(status, at);
    if (states.has(targetId)) await trx.updateTable('target_state').set(cols).where('target_id', '=', targetId).execute();
    else
      await trx
        .insertInto('target_state')
        .values({ target_id: targetId, ...cols })
        .onConflict((oc) => oc.column('target_id').doUpdateSet(cols))
        .execute();
  }
  return changes;
}

function sameBreaker(a: BreakerStatus, b: BreakerStatus): boolean {
  return (
    a.state === b.state &&
    a.consecutiveFailures === b.consecutiveFailures &&
    a.retryAt === b.retryAt &&
    a.probeDeliveryId === b.probeDeliveryId
  );
}
