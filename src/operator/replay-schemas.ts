/**
 * The bodies and answers of the replay routes (operator-api.ts) as zod schemas: the routes take their field list
 * and type rules from here and type their answers with them, and the OpenAPI description is generated from them
 * (replay-openapi.ts). The filter's own rules (times, at least one field) stay in parseReplayFilter, shared with
 * `amtsbote replay`.
 */
import { z } from 'zod';
import { REPLAY_MAX } from '../delivery/replay.ts';

/** At most this long, for the sync log. */
export const REPLAY_REASON_MAX = 500;

export const replayReasonField = z.string().max(REPLAY_REASON_MAX).meta({ description: 'Why, for the sync log.' });

// Not blank: what parseReplayFilter asks of a text field.
const text = (description: string, examples?: string[]) =>
  z
    .string()
    .regex(/\S/)
    .optional()
    .meta({ description, ...(examples ? { examples } : {}) });

export const replayFilterBody = z
  .strictObject({
    target: text('The target id.'),
    tenant: text('The tenant key (AGS).', ['05513000']),
    errorKind: text('The kind of the last error, e.g. `http-400`, `http-503`, `timeout`, `mapping`.'),
    since: z
      .string()
      .optional()
      .meta({ description: 'Failed at or after (ISO 8601).', examples: ['2026-11-24T00:00:00Z'] }),
    until: z.string().optional().meta({ description: 'Failed before (ISO 8601).' }),
    dryRun: z.boolean().default(false).meta({ description: 'Only list what would be replayed.' }),
    reason: replayReasonField.optional(),
  })
  .meta({
    description:
      'Which failed deliveries to replay; every given field must match, and at least one of target, tenant, errorKind, since, until is needed.',
  });

/** The single replay's body: other fields are ignored. */
export const replayOneBody = z.looseObject({ reason: replayReasonField.optional() });

/** The fields the filter route knows; any other is refused. */
export const REPLAY_FILTER_FIELDS = Object.keys(replayFilterBody.shape);

export const replayReportAnswer = z.strictObject({
  dryRun: z.boolean(),
  matched: z.int().min(0).meta({ description: 'Failed deliveries that matched.' }),
  replayed: z.int().min(0).meta({ description: 'Of those, put back in the queue (0 on a dry run).' }),
  truncated: z
    .boolean()
    .meta({ description: `More than ${REPLAY_MAX.toLocaleString('en').replace(',', ' ')} matched; call again for the rest.` }),
  deliveries: z.array(
    z.strictObject({
      id: z.guid(),
      submissionId: z.guid(),
      target: z.string(),
      tenant: z.string(),
      errorKind: z.string().nullable(),
      failedAt: z.iso.datetime(),
      outcome: z
        .enum(['replayed', 'not-failed', 'not-found'])
        .optional()
        .meta({ description: 'Absent on a dry run. `not-failed`: it changed state between finding and replaying.' }),
    }),
  ),
});

export const replayedDeliveryAnswer = z.strictObject({
  id: z.guid(),
  state: z.literal('queued'),
  attempts: z.int().min(0).meta({ description: 'Attempts so far; the next one is numbered one higher.' }),
  previousError: z.string().nullable().meta({ description: 'The error it had failed with.' }),
});

export type ReplayReportAnswer = z.output<typeof replayReportAnswer>;
export type ReplayedDeliveryAnswer = z.output<typeof replayedDeliveryAnswer>;
