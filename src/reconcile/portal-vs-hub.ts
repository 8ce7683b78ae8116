// Portal vs hub (issue 5, item 4): what a portal lists against what the hub received from it.
// - listed by the portal, unknown to the hub → `missing-in-hub`: fetched and taken in through the intake's accept
//   path (fetchMissing: auto, idempotent by external id) or `flagged`;
// - received by the hub from the portal in the time range, not listed → `unknown-to-portal`, reported.
// The portal's listing is streamed page by page and checked in batches; the hub's side is read by keyset pages.
// Only the listed external ids of the range are held in memory (a Set), never envelopes or form data.
import type { Logger } from 'winston';
import type { PortalConfig } from '../config/schema.ts';
import { acceptSubmission, refusalTitles, type AcceptResult } from '../intake/accept.ts';
import { validateEnvelope, type Envelope } from '../intake/envelope.ts';
import type { Router } from '../routing/router.ts';
import type { PortalReconcileStore } from '../store/portal-reconcile-store.ts';
import type { Store } from '../store/index.ts';
import { PortalListingClient, PortalListingError, type ListedSubmission } from './portal-listing.ts';
import type { PortalComparison } from './run.ts';
import type { Discrepancy, ReportSink } from '../core/reconcile/types.ts';
import type { Clock } from '../clock.ts';

export interface PortalReconcileInput {
  reader: PortalReconcileStore;
  portalId: string;
  /** Where the portal's listing is read. */
  client: PortalListingClient;
  fetchMissing: 'auto' | 'flag';
  /** Compare submissions from this time (epoch ms): the portal's submittedAt, the hub's receipt. */
  since: number;
  /** The run's start: the hub's submissions received later are not compared (the listing may predate them). */
  until: number;
  /** Tenant keys; a 5-digit district key includes its municipalities. */
  tenants?: readonly string[] | undefined;
  report: ReportSink;
  /** The intake's accept path for this portal (acceptSubmission); called only with a valid envelope. */
  takeIn: (envelope: Envelope) => Promise<AcceptResult>;
  logger?: Logger | undefined;
  /** Hub rows per keyset page; default 1000. */
  batchSize?: number;
}

export interface PortalReconcileSummary {
  listed: number;
  matched: number;
  takenIn: number;
  flagged: number;
  unknownToPortal: number;
  /** Listing items without an external id, or outside the tenants asked for. */
  skipped: number;
}

export async function reconcilePortal(o: PortalReconcileInput): Promise<PortalReconcileSummary> {
  const summary: PortalReconcileSummary = { listed: 0, matched: 0, takenIn: 0, flagged: 0, unknownToPortal: 0, skipped: 0 };
  const listed = new Set<string>();
  const inScope = (tenant: string | undefined) =>
    !o.tenants?.length || (tenant !== undefined && o.tenants.some((k) => tenant === k || (k.length === 5 && tenant.startsWith(k))));

  for await (const page of o.client.pages(new Date(o.since))) {
    summary.skipped += page.skipped;
    const items = page.items.filter((s) => {
      if (inScope(s.tenant)) return true;
      summary.skipped += 1;
      return false;
    });
    for (const s of items) listed.add(s.externalId);
    summary.listed += items.length;
    const known = await o.reader.known(
      o.portalId,
      items.map((s) => s.externalId),
    );
    let matched = 0;
    for (const s of items) {
      if (known.has(s.externalId)) matched += 1;
      else if ((await missing(o, s)) === 'taken-in') summary.takenIn += 1;
      else summary.flagged += 1;
    }
    summary.matched += matched;
    o.report.matched(matched);
  }

  let after: { receivedAt: number; id: string } | undefined;
  const limit = o.batchSize ?? 1000;
  for (;;) {
    const rows = await o.reader.receivedPage({ portalId: o.portalId, since: o.since, until: o.until, tenants: o.tenants, after, limit });
    for (const r of rows) {
      // The portal lists by submittedAt; a submission made before `since` and received after it is not its to list.
      const submitted = Date.parse(r.submittedAt);
      if (listed.has(r.externalId) || (!Number.isNaN(submitted) && submitted < o.since)) continue;
      summary.unknownToPortal += 1;
      await o.report.add({
        class: 'unknown-to-portal',
        action: 'reported',
        portalId: o.portalId,
        submissionId: r.id,
        externalId: r.externalId,
        tenant: r.tenant,
        detail: { service: r.service, submittedAt: r.submittedAt, receivedAt: new Date(r.receivedAt).toISOString() },
      });
    }
    if (rows.length < limit) break;
    const last = rows.at(-1)!;
    after = { receivedAt: last.receivedAt, id: last.id };
  }
  o.logger?.info('portal reconciled', { portal: o.portalId, ...summary });
  return summary;
}

/** A submission the portal has and the hub lacks: taken in (fetchMissing auto) or flagged. */
async function missing(o: PortalReconcileInput, s: ListedSubmission): Promise<'taken-in' | 'flagged'> {
  const base: Discrepancy = {
    class: 'missing-in-hub',
    action: 'flagged',
    portalId: o.portalId,
    externalId: s.externalId,
    ...(s.tenant ? { tenant: s.tenant } : {}),
    detail: { ...(s.service ? { service: s.service } : {}), ...(s.submittedAt ? { submittedAt: s.submittedAt } : {}) },
  };
  const flag = async (error?: string) => {
    await o.report.add(error ? { ...base, detail: { ...base.detail, error } } : base);
    return 'flagged' as const;
  };
  if (o.fetchMissing === 'flag') return flag();

  let body: unknown;
  try {
    body = await o.client.submission(s.externalId);
  } catch (e) {
    // One envelope the portal fails to serve does not stop the comparison; the next run tries again.
    if (e instanceof PortalListingError) return flag(`fetching the envelope failed: ${e.message}`);
    throw e;
  }
  if (body === null) return flag('the portal lists the submission but does not serve it (404)');
  const v = validateEnvelope(body);
  if (!v.ok) {
    // Pointers and rules only: the envelope is a citizen's data.
    return flag(
      `the portal's envelope is not valid: ${v.errors
        .slice(0, 5)
        .map((e) => `${e.pointer} ${e.detail}`)
        .join('; ')}`,
    );
  }
  if (v.envelope.externalId !== s.externalId) return flag('the portal served an envelope with another external id');
  const result = await o.takeIn(v.envelope);
  if (!result.ok) return flag(`not taken in: ${refusalTitles[result.kind]} (${result.detail})`);
  await o.report.add({
    ...base,
    action: 'taken-in',
    submissionId: result.id,
    tenant: v.envelope.tenant,
    // `duplicate`: it arrived meanwhile (the portal resent it); taken in all the same, once.
    detail: { ...base.detail, outcome: result.status, deliveries: result.deliveries },
  });
  return 'taken-in';
}

export interface PortalComparisonDeps {
  store: Store;
  router: Router;
  logger: Logger;
  /** The hub's clock: a submission taken in is received at its now. */
  now: Clock;
  /** Called after a submission was taken in, so the worker claims its deliveries at once. */
  onAccepted?: () => void;
}

/** The run's comparison for a portal with a listing API (undefined without one): what runReconciliation calls. */
export function portalComparison(portal: PortalConfig, deps: PortalComparisonDeps): PortalComparison | undefined {
  const listing = portal.listing;
  if (!listing) return undefined;
  const client = new PortalListingClient(portal.id, listing);
  const reader = deps.store.portalReconcile;
  return async (sink, o) =>
    reconcilePortal({
      reader,
      portalId: portal.id,
      client,
      fetchMissing: listing.fetchMissing,
      since: o.since,
      until: o.now,
      tenants: o.tenants,
      report: sink,
      logger: deps.logger.child({ portal: portal.id, run: o.runId }),
      takeIn: async (envelope) => {
        const r = await acceptSubmission(deps.store, deps.router, portal, envelope, deps.now());
        if (r.ok && r.status === 'created') {
          deps.logger.info('submission taken in by reconciliation', {
            submissionId: r.id,
            tenant: envelope.tenant,
            service: envelope.service,
            portal: portal.id,
            run: o.runId,
          });
          deps.onAccepted?.();
        }
        return r;
      },
    });
}
