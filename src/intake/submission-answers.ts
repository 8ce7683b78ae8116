/**
 * The answers of the submission API as zod schemas: submission-view.ts and http.ts build them with these types,
 * and the OpenAPI description is generated from the same schemas (src/intake/openapi.ts), so neither can say
 * more or less than the other.
 */
import { z } from 'zod';
import { caseStatusAnswer, statusHistoryEntryAnswer } from '../status/answers.ts';

const nullableString = (description: string) => z.string().nullable().meta({ description });
const time = () => z.iso.datetime();
const nullableTime = (description: string) => z.iso.datetime().nullable().meta({ description });
const submissionId = () => z.guid().meta({ description: "The submission's id on the hub (UUIDv7)." });

export const submissionStatusAnswer = z.enum(['received', 'delivering', 'delivered', 'failed']).meta({
  description: [
    '`received`: no delivery tried yet; `delivering`: at least one delivery is under way or waiting for a retry;',
    '`delivered`: every back office has it; `failed`: a delivery failed for good and none is still open.',
  ].join(' '),
});

export const submissionAcceptedAnswer = z
  .strictObject({ id: submissionId(), status: submissionStatusAnswer })
  .meta({ description: 'The answer to a submission: its id on the hub and its status.' });

export const deliveryStateAnswer = z.enum(['queued', 'sending', 'waiting', 'acknowledging', 'delivered', 'failed']).meta({
  description:
    '`queued`: due to be sent; `sending`: an attempt is under way; `waiting`: a retry is scheduled; `acknowledging`: handed over, the back office confirms later (e.g. a file drop with `.ok` files); `delivered`; `failed`: given up.',
});

export const attemptOutcomeAnswer = z.enum(['delivered', 'retry', 'failed', 'interrupted', 'handed-over']).nullable().meta({
  description:
    '`delivered`; `retry`: failed, will be tried again; `failed`: failed for good; `interrupted`: the hub stopped mid-attempt; null while the attempt runs.',
});

export const attemptAnswer = z
  .strictObject({
    number: z.int().min(1).meta({ description: "The attempt's number, from 1." }),
    startedAt: time(),
    finishedAt: nullableTime('Null while the attempt runs.'),
    durationMs: z.int().min(0).nullable().meta({ description: 'Null while the attempt runs.' }),
    outcome: attemptOutcomeAnswer,
    error: nullableString('What went wrong, if anything.'),
    errorKind: nullableString('The kind of error, e.g. `http-400`, `timeout`.'),
    httpStatus: z.int().min(100).max(599).nullable().meta({ description: "The back office's HTTP status, where there was one." }),
    reference: nullableString("The back office's reference, if this attempt delivered."),
  })
  .meta({ description: 'One attempt to deliver.' });

export const deliveryAnswer = z
  .strictObject({
    id: z.guid().meta({ description: "The delivery's id; also the idempotency key sent to the back office." }),
    target: z.string().meta({ description: "The back office (target id in the hub's configuration)." }),
    route: z.string().meta({ description: 'The route that chose this target.' }),
    state: deliveryStateAnswer,
    attempts: z.int().min(0).meta({ description: 'Attempts so far.' }),
    nextAttemptAt: nullableTime('When the next attempt is due; only while `queued` or `waiting`, else null.'),
    reference: nullableString("The back office's reference for the case (e.g. Aktenzeichen), once it gave one."),
    lastError: nullableString("The last attempt's error, if it failed."),
    lastErrorKind: nullableString('The kind of the last error, e.g. `http-503`, `timeout`, `network`, `mapping`.'),
    deliveredAt: nullableTime('When the back office accepted it.'),
    attemptLog: z.array(attemptAnswer).meta({ description: 'Every attempt, first first.' }),
  })
  .meta({ description: 'The delivery of the submission to one back office.' });

export const submissionAnswer = z
  .strictObject({
    id: submissionId(),
    externalId: z.string().meta({ description: "The portal's id of the application, as sent." }),
    tenant: z
      .string()
      .regex(/^\d{5}(\d{3})?$/)
      .meta({ description: "The tenant's official key (AGS or district key)." }),
    service: z.string().meta({ description: "The service's slug (also when it was sent as a LeiKa key)." }),
    submittedAt: z.iso.datetime({ offset: true }).meta({ description: 'As the portal sent it.' }),
    receivedAt: time().meta({ description: 'When the hub stored it (UTC).' }),
    status: submissionStatusAnswer,
    formData: z.enum(['held', 'purged']).meta({
      description:
        '`held`: the hub still holds the form data and attachments; `purged`: retention deleted them (the timeline, deliveries and status stay).',
    }),
    purgedAt: nullableTime('When retention deleted the form data and attachments; null while they are held.'),
    caseStatus: caseStatusAnswer,
    statusHistory: z
      .array(statusHistoryEntryAnswer)
      .meta({ description: 'Every status the back offices reported for this submission, oldest first (by their time).' }),
    deliveries: z
      .array(deliveryAnswer)
      .meta({ description: 'One delivery per back office (target) the routes name, in the order they were created.' }),
  })
  .meta({ description: 'A submission as the hub tracks it: ids, states, attempts and references; never form data.' });

export type SubmissionStatus = z.output<typeof submissionStatusAnswer>;
export type SubmissionAnswer = z.output<typeof submissionAnswer>;
export type SubmissionAccepted = z.output<typeof submissionAcceptedAnswer>;

/** The components these stand for, by name. */
export const submissionAnswers = {
  SubmissionStatus: submissionStatusAnswer,
  SubmissionAccepted: submissionAcceptedAnswer,
  Submission: submissionAnswer,
  DeliveryState: deliveryStateAnswer,
  Delivery: deliveryAnswer,
  AttemptOutcome: attemptOutcomeAnswer,
  Attempt: attemptAnswer,
};
