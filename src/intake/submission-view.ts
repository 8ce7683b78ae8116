import type { SubmissionView } from '../store/index.ts';
import type { SubmissionStatusView } from '../store/status-store.ts';
import type { StatusSource } from '../core/status/types.ts';

import type { SubmissionAnswer, SubmissionStatus } from './submission-answers.ts';

export type { SubmissionStatus };

/**
 * A submission's status follows from its deliveries: delivered when all are, failed when one failed and none is
 * still open, received while nothing was tried yet, delivering otherwise.
 */
export function submissionStatus(s: SubmissionView): SubmissionStatus {
  const states = s.deliveries.map((d) => d.state);
  if (states.every((st) => st === 'delivered')) return 'delivered';
  const open = states.some((st) => st === 'queued' || st === 'sending' || st === 'waiting' || st === 'acknowledging');
  if (!open) return 'failed';
  return s.deliveries.every((d) => d.state === 'queued' && d.attempts === 0) ? 'received' : 'delivering';
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * The public form of a submission: ids, states, attempts and references; never form data. `caseStatus` and
 * `statusHistory` are where the case stands in the back offices, in the portal's vocabulary (docs/status.md).
 */
export function submissionResource(s: SubmissionView, status: SubmissionStatusView = { current: null, history: [] }): SubmissionAnswer {
  return {
    id: s.id,
    externalId: s.externalId,
    tenant: s.tenant,
    service: s.service,
    submittedAt: s.submittedAt,
    receivedAt: iso(s.receivedAt)!,
    status: submissionStatus(s),
    formData: s.purgedAt === null ? 'held' : 'purged',
    purgedAt: iso(s.purgedAt),
    caseStatus: status.current
      ? { status: status.current.status, reason: status.current.reason, at: iso(status.current.at)!, sequence: status.current.sequence }
      : null,
    statusHistory: status.history.map((h) => ({
      at: iso(h.at)!,
      recordedAt: iso(h.recordedAt)!,
      // The column holds what the recorder wrote, a StatusSource; the store reads it back as text.
      source: h.source as StatusSource,
      target: h.targetId,
      deliveryId: h.deliveryId,
      backofficeStatus: h.backofficeStatus,
      status: h.portalStatus,
      reason: h.reason,
      effect: h.effect,
    })),
    deliveries: s.deliveries.map((d) => ({
      id: d.id,
      target: d.targetId,
      route: d.routeId,
      state: d.state,
      attempts: d.attempts,
      nextAttemptAt: d.state === 'queued' || d.state === 'waiting' || d.state === 'acknowledging' ? iso(d.nextAttemptAt) : null,
      reference: d.reference,
      lastError: d.lastError,
      lastErrorKind: d.lastErrorKind,
      deliveredAt: iso(d.deliveredAt),
      attemptLog: d.attemptLog.map((a) => ({
        number: a.number,
        startedAt: iso(a.startedAt)!,
        finishedAt: iso(a.finishedAt),
        durationMs: a.durationMs,
        outcome: a.outcome,
        error: a.error,
        errorKind: a.errorKind,
        httpStatus: a.httpStatus,
        reference: a.reference,
      })),
    })),
  };
}
