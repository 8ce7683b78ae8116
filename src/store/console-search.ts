import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Db, DeliveryState } from './tables.ts';

// The console's search over submissions and its grouped counts (the operator console, docs/console.md).
// Every query takes the caller's tenant restriction: an operator scoped to one town never sees or counts another's.

export interface SubmissionSearch {
  /** The tenants the asker may see (Principal's tenantRestriction); undefined: all; empty: none. */
  tenants: readonly string[] | undefined;
  id?: string | undefined;
  externalId?: string | undefined;
  /** A back-office reference of any of its deliveries. */
  reference?: string | undefined;
  tenant?: string | undefined;
  service?: string | undefined;
  target?: string | undefined;
  /** A state one of its deliveries is in. */
  state?: DeliveryState | undefined;
  /** The last error kind of one of its deliveries. */
  errorKind?: string | undefined;
  /** Received at or after (epoch ms). */
  from?: number | undefined;
  /** Received before (epoch ms). */
  to?: number | undefined;
}

/** Where the next page starts: the last row's received time and id (newest first). */
export interface SearchCursor {
  receivedAt: number;
  id: string;
}

export interface SearchDelivery {
  id: string;
  target: string;
  state: DeliveryState;
  attempts: number;
  reference: string | null;
  errorKind: string | null;
}

export interface SearchRow {
  id: string;
  portalId: string;
  externalId: string;
  tenant: string;
  service: string;
  receivedAt: number;
  deliveries: SearchDelivery[];
}

export interface SearchPage {
  rows: SearchRow[];
  /** Present when there are more rows. */
  next: SearchCursor | undefined;
}

export interface GroupCount {
  target: string;
  errorKind: string | null;
  count: number;
}

// Conditions built on `submissions as s` (and `deliveries as d` in the subquery); typed loosely because they
// serve two queries of different shape, and every column name here is checked by the tests on both databases.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyEb = ExpressionBuilder<any, any>;

/** The submission conditions of a search; with `viaDelivery`, also the delivery ones through one matching delivery. */
function submissionConditions(f: SubmissionSearch, viaDelivery: boolean) {
  return (eb: AnyEb): Expression<SqlBool> => {
    const c: Expression<SqlBool>[] = [];
    if (f.tenants !== undefined) c.push(f.tenants.length ? eb('s.tenant', 'in', [...f.tenants]) : sql<boolean>`1 = 0`);
    if (f.id !== undefined) c.push(eb('s.id', '=', f.id));
    if (f.externalId !== undefined) c.push(eb('s.external_id', '=', f.externalId));
    if (f.tenant !== undefined) c.push(eb('s.tenant', '=', f.tenant));
    if (f.service !== undefined) c.push(eb('s.service', '=', f.service));
    if (f.from !== undefined) c.push(eb('s.received_at', '>=', f.from));
    if (f.to !== undefined) c.push(eb('s.received_at', '<', f.to));
    if (viaDelivery && f.reference !== undefined) {
      // A reference is selective: start from its index (IN), whatever else is asked.
      c.push(eb('s.id', 'in', eb.selectFrom('deliveries as r').select('r.submission_id').where('r.reference', '=', f.reference)));
    }
    if (viaDelivery && [f.target, f.state, f.errorKind].some((v) => v !== undefined)) {
      // State, target and error kind are not: walk the submissions newest first and probe each one's deliveries
      // (EXISTS on deliveries_submission), so a page stops after its rows instead of reading every failed delivery.
      const d = deliveryConditions({ ...f, reference: undefined });
      c.push(eb.exists(eb.selectFrom('deliveries as d').select('d.id').whereRef('d.submission_id', '=', 's.id').where(d)));
    }
    return eb.and(c);
  };
}

function deliveryConditions(f: SubmissionSearch, defaultState?: DeliveryState) {
  return (eb: AnyEb): Expression<SqlBool> => {
    const c: Expression<SqlBool>[] = [];
    if (f.reference !== undefined) c.push(eb('d.reference', '=', f.reference));
    if (f.target !== undefined) c.push(eb('d.target_id', '=', f.target));
    const state = f.state ?? defaultState;
    if (state !== undefined) c.push(eb('d.state', '=', state));
    if (f.errorKind !== undefined) c.push(eb('d.last_error_kind', '=', f.errorKind));
    return eb.and(c);
  };
}

/** One page of submissions matching the search, newest first, with their deliveries in brief. */
export async function searchSubmissions(db: Db, f: SubmissionSearch, limit: number, after?: SearchCursor): Promise<SearchPage> {
  let q = db
    .selectFrom('submissions as s')
    .select(['s.id', 's.portal_id', 's.external_id', 's.tenant', 's.service', 's.received_at'])
    .where(submissionConditions(f, true));
  if (after)
    q = q.where((eb) =>
      eb.or([eb('s.received_at', '<', after.receivedAt), eb.and([eb('s.received_at', '=', after.receivedAt), eb('s.id', '<', after.id)])]),
    );
  const rows = await q
    .orderBy('s.received_at', 'desc')
    .orderBy('s.id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const deliveries = page.length
    ? await db
        .selectFrom('deliveries')
        .select(['id', 'submission_id', 'target_id', 'state', 'attempts', 'reference', 'last_error_kind'])
        .where(
          'submission_id',
          'in',
          page.map((r) => r.id),
        )
        .orderBy('created_at')
        .orderBy('id')
        .execute()
    : [];
  const last = page[page.length - 1];
  return {
    rows: page.map((r) => ({
      id: r.id,
      portalId: r.portal_id,
      externalId: r.external_id,
      tenant: r.tenant,
      service: r.service,
      receivedAt: Number(r.received_at),
      deliveries: deliveries
        .filter((d) => d.submission_id === r.id)
        .map((d) => ({
          id: d.id,
          target: d.target_id,
          state: d.state,
          attempts: d.attempts,
          reference: d.reference,
          errorKind: d.last_error_kind,
        })),
    })),
    next: rows.length > limit && last ? { receivedAt: Number(last.received_at), id: last.id } : undefined,
  };
}

/**
 * Deliveries of the matching submissions counted by target × error kind, as BizTalk groups suspended instances:
 * the failed ones unless the search names a state. Largest groups first.
 */
export async function groupedCounts(db: Db, f: SubmissionSearch): Promise<GroupCount[]> {
  const bySubmission = f.tenants !== undefined || [f.id, f.externalId, f.tenant, f.service, f.from, f.to].some((v) => v !== undefined);
  const base = db.selectFrom('deliveries as d');
  // The join only when a submission condition needs it: without, the count is an index-only scan.
  const rows = await (bySubmission ? base.innerJoin('submissions as s', 's.id', 'd.submission_id') : base)
    .select((eb) => ['d.target_id', 'd.last_error_kind', eb.fn.countAll<number>().as('n')])
    // The delivery conditions on the counted delivery itself, the submission ones on its submission.
    .where(deliveryConditions(f, 'failed'))
    .$if(bySubmission, (q) => q.where(submissionConditions(f, false)))
    .groupBy(['d.target_id', 'd.last_error_kind'])
    .execute();
  return rows
    .map((r) => ({ target: r.target_id, errorKind: r.last_error_kind, count: Number(r.n) }))
    .sort((a, b) => b.count - a.count || a.target.localeCompare(b.target) || String(a.errorKind).localeCompare(String(b.errorKind)));
}
