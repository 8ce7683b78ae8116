import type { Kysely } from 'kysely';
import type { Dialect } from './dialect.ts';
import type { Database } from './tables.ts';

/** One submission of a portal as portal-vs-hub compares it; no form data. */
export interface PortalSubmissionRow {
  id: string;
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  receivedAt: number;
}

export interface ReceivedQuery {
  portalId: string;
  /** received_at at or after. */
  since: number;
  /** received_at before. */
  until: number;
  /** Tenant keys; a 5-digit district key includes its municipalities. */
  tenants?: readonly string[] | undefined;
  /** Keyset: the last row of the previous page. */
  after?: { receivedAt: number; id: string } | undefined;
  limit: number;
}

/** SQLite allows 999 bound parameters in older builds; PostgreSQL more. One chunk fits both. */
const LOOKUP_CHUNK = 500;

/** The SQL of portal vs hub: which external ids the hub holds, and the portal's submissions by receipt time. */
export class PortalReconcileStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
  ) {}

  /** Of `externalIds`, those the hub holds from `portalId`, each with its submission id (unique index lookups). */
  async known(portalId: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const unique = [...new Set(externalIds)];
    for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
      const rows = await this.db
        .selectFrom('submissions')
        .select(['id', 'external_id'])
        .where('portal_id', '=', portalId)
        .where('external_id', 'in', unique.slice(i, i + LOOKUP_CHUNK))
        .execute();
      for (const r of rows) found.set(r.external_id, r.id);
    }
    return found;
  }

  /** One page of the portal's submissions received in [since, until), oldest first, after the keyset `after`. */
  async receivedPage(q: ReceivedQuery): Promise<PortalSubmissionRow[]> {
    let query = this.db
      .selectFrom('submissions')
      .select(['id', 'external_id', 'tenant', 'service', 'submitted_at', 'received_at'])
      .where('portal_id', '=', q.portalId)
      .where('received_at', '>=', q.since)
      .where('received_at', '<', q.until);
    if (q.after) {
      const { receivedAt, id } = q.after;
      query = query.where((eb) =>
        eb.or([eb('received_at', '>', receivedAt), eb.and([eb('received_at', '=', receivedAt), eb('id', '>', id)])]),
      );
    }
    if (q.tenants?.length) {
      const tenants = q.tenants;
      query = query.where((eb) => eb.or(tenants.map((t) => (t.length === 5 ? eb('tenant', 'like', `${t}%`) : eb('tenant', '=', t)))));
    }
    const rows = await query.orderBy('received_at').orderBy('id').limit(q.limit).execute();
    return rows.map((r) => ({
      id: r.id,
      externalId: r.external_id,
      tenant: r.tenant,
      service: r.service,
      submittedAt: r.submitted_at,
      receivedAt: Number(r.received_at),
    }));
  }
}
