/**
 * The status back-channel's part of the OpenAPI description: the push endpoint for back offices and the schemas of
 * a submission's case status, generated from the zod schemas of push-schema.ts and answers.ts.
 * test/openapi.test.ts and test/status-push.test.ts check real responses against it.
 */
import type { OpenApiFragment } from '../http/openapi/assemble.ts';
import { problemResponse, unauthorizedResponse } from '../http/openapi/problems.ts';
import { requires } from '../http/openapi/security.ts';
import { ref } from '../http/openapi/types.ts';
import { statusAnswers } from './answers.ts';
import { MAX_EVENTS, pushedBatchSchema, pushedEventSchema } from './push-schema.ts';

const EXAMPLE_SUBMISSION = '019a9f3c-6b2e-7d41-9c1a-4f2b8e0d7a13';
const INSTANCE = '/api/v1/backoffice-events';

export const statusFragment: OpenApiFragment = {
  tags: [
    {
      name: 'status',
      description: "Back offices report where a case stands; the hub maps it for the portal and sends it to the portal's status callback.",
    },
  ],
  requests: { BackofficeEvent: pushedEventSchema, BackofficeEventBatch: pushedBatchSchema },
  answers: statusAnswers,
  paths: {
    [INSTANCE]: {
      post: {
        operationId: 'pushBackofficeEvents',
        summary: 'Report the status of cases (for back offices)',
        description: [
          'One event, or a batch `{ "events": [...] }` of up to ' + MAX_EVENTS + ". Each names its case by the back office's `reference`",
          "(Aktenzeichen) or by the `idempotencyKey` the hub sent with the delivery, and gives the back office's own `status` word;",
          "the target's `status.map` turns it into the portal's vocabulary. The whole request is checked first and written in one",
          'transaction: a 422 writes nothing. Repeating an event (same case, status and `at`) is safe: its result is `duplicate`.',
          'An event naming a case the hub does not know is answered `unknown-case` in its result and the others are recorded;',
          "a single event answers 404 instead. Without `at` the hub's clock is used; an `at` more than five minutes ahead is refused.",
        ].join(' '),
        tags: ['status'],
        security: requires('backofficeToken'),
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { oneOf: [ref('BackofficeEvent'), ref('BackofficeEventBatch')] },
              example: {
                events: [
                  { reference: 'AZ-2026-4711', status: 'in Bearbeitung', at: '2026-11-25T08:00:00+01:00' },
                  { reference: 'AZ-2026-4712', status: 'abgelehnt', reason: 'Rasse nach § 3 LHundG NRW nicht zulässig' },
                ],
              },
            },
          },
        },
        responses: {
          '200': {
            description: "Every event's result, in the order sent.",
            content: {
              'application/json': {
                schema: ref('BackofficeEventResults'),
                example: {
                  results: [
                    { outcome: 'applied', submissionId: EXAMPLE_SUBMISSION, portalStatus: 'PROCESSING' },
                    { outcome: 'unknown-case' },
                  ],
                },
              },
            },
          },
          '400': problemResponse('malformed-body', 'The body is not JSON.', { detail: 'the body is not valid JSON', instance: INSTANCE }),
          '401': unauthorizedResponse(
            'backoffice-unauthorized',
            'amtsbote-backoffice',
            'No bearer token, or one no target is configured with.',
            { detail: 'send Authorization: Bearer <back-office token>', instance: INSTANCE },
          ),
          '404': problemResponse(
            'unknown-case',
            "A single event named a case the hub does not know (for this token's targets). Nothing was written.",
            { detail: 'no case with reference AZ-2026-4711', instance: INSTANCE },
          ),
          '413': problemResponse('body-too-large', 'The body is larger than 1 MB.', {
            detail: 'the limit is 1048576 bytes',
            instance: INSTANCE,
          }),
          '415': problemResponse('unsupported-media-type', 'Content-Type is not application/json.', {
            detail: 'text/plain is not accepted; send application/json',
            instance: INSTANCE,
          }),
          '422': problemResponse('invalid-status-event', 'Fields are missing or invalid; `errors` names each. Nothing was written.', {
            detail: '2 fields are not valid',
            instance: INSTANCE,
            errors: [
              { pointer: '#/events/0/status', detail: 'required' },
              { pointer: '#/events/1/reference', detail: 'give reference or idempotencyKey' },
            ],
          }),
          '500': problemResponse('internal-error', 'An unexpected error in the hub; nothing was written. Try again later.', {
            instance: INSTANCE,
          }),
        },
      },
    },
  },
};
