import { sql } from 'kysely';
import type { Db, DeliveryState } from './tables.ts';
import type { ClaimedDelivery } from './types.ts';
import type { DueRow } from './target-state.ts';
import { OPEN_STATES_SQL } from '../core/states.ts';
import type { SourceRow } from './submissions.ts';

// The claim of one target's due deliveries as ONE statement (PostgreSQL, data-modifying WITH): pick them with
// FOR UPDATE SKIP LOCKED, move them to `sending` under the lease, mark the open attempt of an expired lease
// interrupted, start the new attempt and write the sync-log line, and return what the worker needs. It does
// what claims.ts's takeClaims does in six statements, each a round trip; the targets' policies are applied
// around it as before (target-state.ts decides how many each target may take).

interface Row extends Omit<SourceRow, 'id' | 'tenant' | 'service'> {
  id: string;
  submission_id: string;
  route_id: string;
  target_id: string;
  mapping_id: string;
  idempotency_key: string;
  attempts: number;
  ack_token: string | null;
  ack_deadline: number | null;
  attempt_base: number;
  created_at: number;
  prior: DeliveryState;
  due_at: number;
  tenant: string;
  service: string;
}

export interface TakenRows {
  due: DueRow[];
  claimed: ClaimedDelivery[];
  /** The claimed sends' submissions, as a mapping reads them (still sealed): no second read for the attempt. */
  sources: SourceRow[];
}

/** Claims up to `n` of a target's due deliveries, oldest first, passing over `exclude` and rows other instances hold. */
export async function claimInOneStatement(
  trx: Db,
  o: { targetId: string; n: number; exclude: readonly string[]; owner: string; now: number; leaseMs: number },
): Promise<TakenRows> {
  const { now, owner } = o;
  const lease = now + o.leaseMs;
  const { rows } = await sql<Row>`
    with picked as (
      select id, state as prior, next_attempt_at as due_at from deliveries
      where target_id = ${o.targetId} and ${sql.raw(OPEN_STATES_SQL)} and next_attempt_at <= ${now}
        and not (id = any(${o.exclude}::text[]))
      order by next_attempt_at, id limit ${o.n}
      for update skip locked
    ), taken as (
      update deliveries d set
        -- Asking for an acknowledgement is no new attempt: the delivery keeps its state and its attempt count.
        state = case when p.prior = 'acknowledging' then d.state else 'sending' end,
        attempts = case when p.prior = 'acknowledging' then d.attempts else d.attempts + 1 end,
        lease_owner = ${owner}, lease_expires_at = ${lease}, next_attempt_at = ${lease}, updated_at = ${now}
      from picked p where d.id = p.id
      returning d.id, d.submission_id, d.route_id, d.target_id, d.mapping_id, d.idempotency_key, d.attempts,
        d.ack_token, d.ack_deadline, d.attempt_base, d.created_at, p.prior, p.due_at
    ), claimed as (
      select t.*, s.tenant, s.service, s.portal_id, s.external_id, s.submitted_at, s.received_at, s.content, s.original,
        s.original_media_type, s.data_kid, s.purged_at,
        exists (select 1 from attachments a where a.submission_id = s.id) as has_attachments
      from taken t join submissions s on s.id = t.submission_id
    ), interrupted as (
      update attempts a set outcome = 'interrupted', finished_at = ${now},
        error = 'the lease ran out before the attempt finished (hub stopped or crashed)', error_kind = 'lease-expired'
      from taken t where a.delivery_id = t.id and t.prior = 'sending' and a.outcome is null
    ), started as (
      insert into attempts (delivery_id, number, owner, started_at)
      select id, attempts, ${owner}, ${now} from taken where prior <> 'acknowledging'
    ), logged as (
      insert into events (at, submission_id, delivery_id, tenant, service, target, type, detail)
      select ${now}, submission_id, id, tenant, service, target_id, 'delivery.sending',
        case when prior = 'sending'
          then json_build_object('attempt', attempts, 'owner', ${owner}::text, 'resumed', true)
          else json_build_object('attempt', attempts, 'owner', ${owner}::text) end::text
      from claimed where prior <> 'acknowledging' order by due_at, id
    )
    select * from claimed order by due_at, id`.execute(trx);
  const sources = new Map<string, SourceRow>();
  for (const r of rows)
    if (r.prior !== 'acknowledging')
      sources.set(r.submission_id, {
        id: r.submission_id,
        tenant: r.tenant,
        service: r.service,
        portal_id: r.portal_id,
        external_id: r.external_id,
        submitted_at: r.submitted_at,
        received_at: r.received_at,
        content: r.content,
        original: r.original,
        original_media_type: r.original_media_type,
        data_kid: r.data_kid,
        purged_at: r.purged_at,
        has_attachments: r.has_attachments,
      });
  return {
    sources: [...sources.values()],
    due: rows.map((r) => ({ id: r.id, state: r.prior, attempts: r.attempts, next_attempt_at: r.due_at })),
    claimed: rows.map(
      (r): ClaimedDelivery => ({
        id: r.id,
        submissionId: r.submission_id,
        routeId: r.route_id,
        targetId: r.target_id,
        mappingId: r.mapping_id,
        idempotencyKey: r.idempotency_key,
        tenant: r.tenant,
        service: r.service,
        attempt: r.attempts,
        attemptBase: r.attempt_base,
        leaseExpiresAt: lease,
        resumed: r.prior === 'sending',
        createdAt: r.created_at,
        dueAt: r.due_at,
        ...(r.prior === 'acknowledging' && r.ack_token !== null ? { ack: { token: r.ack_token, deadline: r.ack_deadline ?? now } } : {}),
      }),
    ),
  };
}
