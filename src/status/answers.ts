/**
 * Where a case stands, as the submission view and the push endpoint answer it: zod schemas the code builds its
 * answers with and the OpenAPI description is generated from (src/status/openapi.ts, src/intake/openapi.ts).
 */
import { z } from 'zod';
import { PORTAL_STATUSES } from '../core/status/types.ts';

export const portalStatusAnswer = z.enum(PORTAL_STATUSES).meta({
  description:
    "Where the case stands, in the vocabulary of the citizen's mailbox: `RECEIVED` (the authority has it), `PROCESSING`, `ACTION_REQUIRED` (the citizen has to act), `COMPLETED`, `REJECTED` (with a reason).",
});

export const caseStatusAnswer = z
  .strictObject({
    status: portalStatusAnswer,
    reason: z.string().nullable().meta({ description: "The back office's reason, where it gave one." }),
    at: z.iso.datetime().meta({ description: 'When the back office changed it.' }),
    sequence: z.int().min(1).meta({ description: "Counts the changes; the portal's status callback receives the same number." }),
  })
  .nullable()
  .meta({
    description:
      "Where the case stands for the portal: its deliveries' back-office statuses combined (docs/status.md); null until a back office has it.",
  });

export const statusHistoryEntryAnswer = z.strictObject({
  at: z.iso.datetime().meta({ description: 'When the back office changed it.' }),
  recordedAt: z.iso.datetime().meta({ description: 'When the hub heard it.' }),
  source: z.enum(['delivery', 'acknowledgement', 'push', 'poll', 'reconciliation']).meta({ description: 'How it reached the hub.' }),
  target: z.string(),
  deliveryId: z.guid(),
  backofficeStatus: z
    .string()
    .nullable()
    .meta({ description: "The back office's word; null when the hub's own delivery stands for RECEIVED." }),
  status: portalStatusAnswer.nullable().meta({ description: "The word mapped; null when the target's map does not know it." }),
  reason: z.string().nullable(),
  effect: z
    .enum(['applied', 'older', 'unmapped'])
    .meta({ description: '`older`: came after newer news and did not move the status back.' }),
});

export const eventResultsAnswer = z.strictObject({
  results: z.array(
    z.strictObject({
      outcome: z.enum(['applied', 'older', 'unmapped', 'unchanged', 'duplicate', 'unknown-case']).meta({
        description:
          "`applied`: the case moved; `older`: older than its current status, kept in the history only; `unmapped`: the target's map does not know the word (kept, not forwarded); `unchanged`: the case stands there already; `duplicate`: this event was recorded before; `unknown-case`: no such case.",
      }),
      submissionId: z.guid().optional(),
      portalStatus: portalStatusAnswer.optional(),
    }),
  ),
});

export type EventResultsAnswer = z.output<typeof eventResultsAnswer>;

export const statusAnswers = {
  PortalStatus: portalStatusAnswer,
  CaseStatus: caseStatusAnswer,
  StatusHistoryEntry: statusHistoryEntryAnswer,
  BackofficeEventResults: eventResultsAnswer,
};
