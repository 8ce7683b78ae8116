import type { Kysely, Transaction } from 'kysely';
import type { Database } from './tables.ts';

/** The row an event is about: a delivery (id) or a whole submission (id null). */
export interface EventSubject {
  submission_id: string;
  id: string | null;
  target_id: string | null;
  tenant: string;
  service: string;
}

/** One line of the sync log, in the caller's transaction. `detail` holds ids, states and errors, never form data. */
export async function insertEvent(trx: Kysely<Database> | Transaction<Database>, c: EventSubject, at: number, type: string, detail: Record<string, unknown>): Promise<void> {
  await trx
    .insertInto('events')
    .values({ at, submission_id: c.submission_id, delivery_id: c.id, tenant: c.tenant, service: c.service, target: c.target_id, type, detail: JSON.stringify(detail) })
    .execute();
}
