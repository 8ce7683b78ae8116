/**
 * What a back office pushes to `POST /api/v1/backoffice-events`: push-routes.ts validates with these schemas and
 * the OpenAPI description is generated from them (openapi.ts).
 */
import { z } from 'zod';
import { MAX_REASON_LENGTH } from './recorder.ts';

/** At most this many events per request. */
export const MAX_EVENTS = 1000;

export const pushedEventSchema = z
  .object({
    reference: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: "The back office's reference for the case, as it answered the delivery." }),
    idempotencyKey: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: "The Idempotency-Key the hub sent with the delivery (the delivery's id)." }),
    target: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'The target id, when the token stands for several targets and the case should be looked for in one only.' }),
    status: z
      .string()
      .min(1)
      .max(100)
      .meta({
        description: "The back office's own status word (mapped case-insensitively by the target's `status.map`).",
        examples: ['in Bearbeitung'],
      }),
    reason: z
      .string()
      .max(MAX_REASON_LENGTH)
      .optional()
      .meta({ description: 'Why (e.g. of a rejection): shown to the citizen. Never form data.' }),
    at: z.iso
      .datetime({ offset: true, message: 'an ISO 8601 date-time with time zone, e.g. 2026-11-24T09:30:00+01:00' })
      .optional()
      .meta({ description: 'When the case changed, ISO 8601 with a time zone; default: when the hub received the event.' }),
  })
  .strict()
  // A rule in code: the description says it in words.
  .refine((e) => e.reference !== undefined || e.idempotencyKey !== undefined, {
    message: 'give reference or idempotencyKey',
    path: ['reference'],
  })
  .meta({ description: "One status change of one case, in the back office's words. Give `reference` or `idempotencyKey`." });

export const pushedBatchSchema = z.object({ events: z.array(pushedEventSchema).min(1).max(MAX_EVENTS) }).strict();

export type PushedEvent = z.output<typeof pushedEventSchema>;
