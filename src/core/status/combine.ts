import type { PortalStatus } from './types.ts';

export interface CaseStatus {
  status: PortalStatus;
  reason: string | null;
  /** When the back office changed it (epoch ms). */
  at: number;
}

/** How far a case has come; ACTION_REQUIRED and REJECTED are decided before the rank is asked. */
const RANK: Record<PortalStatus, number> = { RECEIVED: 0, PROCESSING: 1, ACTION_REQUIRED: 1, COMPLETED: 2, REJECTED: 2 };

/**
 * The one status the portal sees for a submission sent to several back offices (docs/status.md#several-back-offices):
 * - no delivery has a status yet: none;
 * - any REJECTED: REJECTED (one office's refusal decides the application);
 * - else any ACTION_REQUIRED: ACTION_REQUIRED (the citizen has to act, whatever the others say);
 * - else the least advanced of RECEIVED < PROCESSING < COMPLETED, a delivery without a status counting as RECEIVED:
 *   COMPLETED only once every office completed.
 * Among several deliveries at the deciding status, the latest change gives the reason and the time.
 * `deliveries` lists every delivery of the submission, null for one without a status.
 */
export function combineStatuses(deliveries: readonly (CaseStatus | null)[]): CaseStatus | null {
  const known = deliveries.filter((d): d is CaseStatus => d !== null);
  if (known.length === 0) return null;
  const latestOf = (status: PortalStatus) => latest(known.filter((d) => d.status === status));
  const decided = latestOf('REJECTED') ?? latestOf('ACTION_REQUIRED');
  if (decided) return decided;
  if (known.length < deliveries.length) {
    // Some office has no status yet: the submission stands at RECEIVED, as of the latest news from the others.
    return { status: 'RECEIVED', reason: null, at: Math.max(...known.map((d) => d.at)) };
  }
  const lowest = Math.min(...known.map((d) => RANK[d.status]));
  return latest(known.filter((d) => RANK[d.status] === lowest))!;
}

function latest(list: CaseStatus[]): CaseStatus | undefined {
  return list.reduce<CaseStatus | undefined>((best, d) => (!best || d.at > best.at ? d : best), undefined);
}
