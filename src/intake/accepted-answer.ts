import type { Response } from 'express';
import type { Logger } from 'winston';
import type { PortalConfig } from '../config/schema.ts';
import type { Metrics } from '../operator/metrics.ts';
import type { Store } from '../store/index.ts';
import type { AcceptResult } from './accept.ts';
import type { SubmissionAccepted } from './submission-answers.ts';
import { submissionStatus } from './submission-view.ts';

/**
 * The answer to a stored submission, the same for the envelope intake and the inbound channels: `Location`,
 * the intake metric, 202 for a new one (and the worker woken), 200 with the first one's status for a repeat.
 * `received` names what the log line of a new submission tells besides its id and portal (never form data).
 */
export async function answerAccepted(
  res: Response,
  result: Extract<AcceptResult, { ok: true }>,
  o: { store: Store; metrics: Metrics; logger: Logger; portal: PortalConfig; received: Record<string, unknown>; onAccepted?: () => void },
): Promise<void> {
  res.setHeader('Location', `/api/v1/submissions/${result.id}`);
  o.metrics.intake.inc({ portal: o.portal.id, outcome: result.status });
  if (result.status === 'created') {
    o.logger.info('submission received', { submissionId: result.id, portal: o.portal.id, deliveries: result.deliveries, ...o.received });
    o.onAccepted?.();
    res.status(202).json({ id: result.id, status: 'received' } satisfies SubmissionAccepted);
    return;
  }
  o.logger.info('submission resubmitted; answered with the first', { submissionId: result.id, portal: o.portal.id });
  const current = await o.store.getSubmission(result.id);
  res.status(200).json({ id: result.id, status: current ? submissionStatus(current) : 'received' } satisfies SubmissionAccepted);
}
