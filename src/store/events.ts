import type { Db } from './tables.ts';
import type { EventView } from './types.ts';
import { fields, type Sealing } from './sealing.ts';

/** The row an event is about: a delivery (id) or a whole submission (id null). */
export interface EventSubject {
  submission_id: string;
  id: string | null;
  target_id: string | null;
  tenant: string;
  service: string;
}

/** One line of the sync log, in the caller's transaction. `detail` holds ids, states and errors, never form data. */
export function insertEvent(trx: Db, c: EventSubject, at: number, type: string, detail: Record<string, unknown>): Promise<void> {
  return insertEvents(trx, [{ subject: c, at, type, detail }]);
}

/** Several lines of the sync log in one statement, in the given order. */
export async function insertEvents(
  trx: Db,
  events: readonly { subject: EventSubject; at: number; type: string; detail: Record<string, unknown> }[],
): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('events')
    .values(
      events.map(({ subject: c, at, type, detail }) => ({
        at,
        submission_id: c.submission_id,
        delivery_id: c.id,
        tenant: c.tenant,
        service: c.service,
        target: c.target_id,
        type,
        detail: JSON.stringify(detail),
      })),
    )
    .execute();
}

/** The sync log of one submission, oldest first; a status event's sealed reason opened. */
export async function readEvents(db: Db, sealing: Sealing, submissionId: string): Promise<EventView[]> {
  const rows = await db.selectFrom('events').selectAll().where('submission_id', '=', submissionId).orderBy('id').execute();
  const open = (e: (typeof rows)[number]): Record<string, unknown> | null => {
    if (!e.detail) return null;
    const d = JSON.parse(e.detail) as Record<string, unknown>;
    if (typeof d.reason === 'string' && typeof d.at === 'string' && e.type === 'status.recorded')
      d.reason = sealing.openText(d.reason, { tenant: e.tenant, submissionId, field: fields.eventReason(e.delivery_id, d.at) });
    return d;
  };
  return rows.map((e) => ({
    id: Number(e.id),
    at: e.at,
    submissionId: e.submission_id,
    deliveryId: e.delivery_id,
    type: e.type,
    tenant: e.tenant,
    service: e.service,
    target: e.target,
    detail: open(e),
  }));
}
