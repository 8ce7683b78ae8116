import type { Db } from './tables.ts';
import type { SubmissionView } from './types.ts';
import { getSubmission } from './submissions.ts';
import { readEvents } from './events.ts';
import { fields, type Sealing } from './sealing.ts';

// One submission as the console and `amtsbote submissions show` tell it: what happened, in order — its sync log
// events, every attempt with error and duration, the status history heard from back offices, and the status
// updates sent to the portal. No form data (see `formData`).

export type TimelineEntry =
  | { at: number; kind: 'received'; portalId: string; externalId: string }
  | { at: number; kind: 'event'; type: string; deliveryId: string | null; target: string | null; detail: Record<string, unknown> | null }
  | {
      at: number;
      kind: 'attempt';
      deliveryId: string;
      target: string;
      number: number;
      outcome: string | null;
      durationMs: number | null;
      error: string | null;
      errorKind: string | null;
      httpStatus: number | null;
      reference: string | null;
    }
  | {
      at: number;
      kind: 'status';
      deliveryId: string;
      target: string;
      source: string;
      backofficeStatus: string | null;
      portalStatus: string | null;
      effect: string;
    }
  | {
      at: number;
      kind: 'portal';
      sequence: number;
      status: string;
      state: string;
      attempts: number;
      deliveredAt: number | null;
      lastError: string | null;
    };

export interface Timeline {
  submission: SubmissionView;
  portalStatus: { status: string; reason: string | null; at: number } | null;
  entries: TimelineEntry[];
}

/** The submission's timeline, oldest first; undefined when it does not exist or lies outside `tenants`. */
export async function timeline(
  db: Db,
  sealing: Sealing,
  id: string,
  tenants: readonly string[] | undefined,
): Promise<Timeline | undefined> {
  const s = await getSubmission(db, id);
  if (!s || (tenants && !tenants.includes(s.tenant))) return undefined;
  const targetOf = new Map(s.deliveries.map((d) => [d.id, d.targetId]));
  const [events, history, outbox, current] = await Promise.all([
    readEvents(db, sealing, id),
    db.selectFrom('status_history').selectAll().where('submission_id', '=', id).orderBy('at').orderBy('id').execute(),
    db.selectFrom('status_outbox').selectAll().where('submission_id', '=', id).orderBy('sequence').execute(),
    db.selectFrom('submission_status').selectAll().where('submission_id', '=', id).executeTakeFirst(),
  ]);
  const entries: TimelineEntry[] = [{ at: s.receivedAt, kind: 'received', portalId: s.portalId, externalId: s.externalId }];
  for (const e of events)
    entries.push({ at: e.at, kind: 'event', type: e.type, deliveryId: e.deliveryId, target: e.target, detail: e.detail });
  for (const d of s.deliveries)
    for (const a of d.attemptLog)
      entries.push({
        at: a.startedAt,
        kind: 'attempt',
        deliveryId: d.id,
        target: d.targetId,
        number: a.number,
        outcome: a.outcome,
        durationMs: a.durationMs,
        error: a.error,
        errorKind: a.errorKind,
        httpStatus: a.httpStatus,
        reference: a.reference,
      });
  for (const h of history)
    entries.push({
      at: Number(h.at),
      kind: 'status',
      deliveryId: h.delivery_id,
      target: targetOf.get(h.delivery_id) ?? h.target_id,
      source: h.source,
      backofficeStatus: h.backoffice_status,
      portalStatus: h.portal_status,
      effect: h.effect,
    });
  for (const o of outbox)
    entries.push({
      at: Number(o.at),
      kind: 'portal',
      sequence: o.sequence,
      status: o.status,
      state: o.state,
      attempts: o.attempts,
      deliveredAt: o.delivered_at === null ? null : Number(o.delivered_at),
      lastError: o.last_error,
    });
  // Stable: same-time entries keep the order above (received, events, attempts, statuses, portal).
  entries.sort((a, b) => a.at - b.at);
  return {
    submission: s,
    portalStatus: current
      ? {
          status: current.status,
          reason: sealing.openTextOrNull(current.reason, { tenant: s.tenant, submissionId: id, field: fields.submissionReason }),
          at: Number(current.at),
        }
      : null,
    entries,
  };
}

/** The hub ids a console lookup names: the id itself, or every submission with that external id (portals differ). */
export async function resolveSubmissionIds(db: Db, idOrExternal: string, tenants: readonly string[] | undefined): Promise<string[]> {
  if (tenants && tenants.length === 0) return [];
  let q = db
    .selectFrom('submissions')
    .select('id')
    .where((eb) => eb.or([eb('id', '=', idOrExternal), eb('external_id', '=', idOrExternal)]));
  if (tenants) q = q.where('tenant', 'in', [...tenants]);
  const rows = await q.orderBy('received_at', 'desc').limit(20).execute();
  return rows.map((r) => r.id);
}

/** The form data (applicant and data) of a submission, for a principal allowed to see it; the caller audits the view. */
export async function formData(db: Db, sealing: Sealing, id: string, tenants: readonly string[] | undefined): Promise<unknown | undefined> {
  let q = db.selectFrom('submissions').select(['content', 'data_kid', 'tenant']).where('id', '=', id);
  if (tenants) q = tenants.length ? q.where('tenant', 'in', [...tenants]) : q.where('tenant', '=', '\u0000');
  const r = await q.executeTakeFirst();
  if (!r) return undefined;
  return JSON.parse(sealing.openRowText(r.content, r.data_kid, { tenant: r.tenant, submissionId: id, field: fields.content })) as unknown;
}

/** State and tenant of each given delivery that exists within `tenants` (what a console replay may touch). */
export async function deliveriesInScope(
  db: Db,
  ids: readonly string[],
  tenants: readonly string[] | undefined,
): Promise<Map<string, { state: string; tenant: string }>> {
  const out = new Map<string, { state: string; tenant: string }>();
  if (!ids.length || (tenants && !tenants.length)) return out;
  for (let i = 0; i < ids.length; i += 500) {
    let q = db
      .selectFrom('deliveries as d')
      .innerJoin('submissions as s', 's.id', 'd.submission_id')
      .select(['d.id', 'd.state', 's.tenant'])
      .where('d.id', 'in', ids.slice(i, i + 500));
    if (tenants) q = q.where('s.tenant', 'in', [...tenants]);
    for (const r of await q.execute()) out.set(r.id, { state: r.state, tenant: r.tenant });
  }
  return out;
}
