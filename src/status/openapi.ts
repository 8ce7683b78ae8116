/**
 * The status back-channel's part of the OpenAPI document (src/http/openapi.ts spreads it in): the push endpoint
 * for back offices and the schemas of a submission's case status. test/openapi.test.ts and test/status-push.test.ts
 * check real responses against it; keep it in step with push-routes.ts and submission-view.ts.
 */
import type { JsonSchema, PathItem, ResponseObject } from '../http/openapi.ts';
import { PORTAL_STATUSES } from '../core/status/types.ts';
import { MAX_EVENTS } from './push-routes.ts';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const EXAMPLE_SUBMISSION = '019a9f3c-6b2e-7d41-9c1a-4f2b8e0d7a13';
const INSTANCE = '/api/v1/backoffice-events';

function problem(type: string, status: number, description: string, example: Record<string, unknown>): ResponseObject {
  return {
    description,
    content: {
      'application/problem+json': {
        schema: { allOf: [ref('Problem')], properties: { type: { const: `urn:amtsbote:problem:${type}` }, status: { const: status } } },
        example: { type: `urn:amtsbote:problem:${type}`, status, instance: INSTANCE, ...example },
      },
    },
  };
}

export const statusTag = { name: 'status', description: 'Back offices report where a case stands; the hub maps it for the portal and sends it to the portal\'s status callback.' };

export const statusSecuritySchemes = {
  backofficeToken: {
    type: 'http' as const,
    scheme: 'bearer',
    description: 'A back office\'s push token: `targets.<id>.status.push.token` (or `tokenHash`) of the hub\'s configuration. The token stands for that target (or every target sharing it).',
  },
};

export const statusProblemTypes = ['urn:amtsbote:problem:backoffice-unauthorized', 'urn:amtsbote:problem:unknown-case', 'urn:amtsbote:problem:invalid-status-event'];

export const statusPaths: Record<string, PathItem> = {
  [INSTANCE]: {
    post: {
      operationId: 'pushBackofficeEvents',
      summary: 'Report the status of cases (for back offices)',
      description: [
        'One event, or a batch `{ "events": [...] }` of up to ' + MAX_EVENTS + '. Each names its case by the back office\'s `reference`',
        '(Aktenzeichen) or by the `idempotencyKey` the hub sent with the delivery, and gives the back office\'s own `status` word;',
        'the target\'s `status.map` turns it into the portal\'s vocabulary. The whole request is checked first and written in one',
        'transaction: a 422 writes nothing. Repeating an event (same case, status and `at`) is safe: its result is `duplicate`.',
        'An event naming a case the hub does not know is answered `unknown-case` in its result and the others are recorded;',
        'a single event answers 404 instead. Without `at` the hub\'s clock is used; an `at` more than five minutes ahead is refused.',
      ].join(' '),
      tags: ['status'],
      security: [{ backofficeToken: [] }],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { oneOf: [ref('BackofficeEvent'), ref('BackofficeEventBatch')] },
            example: { events: [{ reference: 'AZ-2026-4711', status: 'in Bearbeitung', at: '2026-11-25T08:00:00+01:00' }, { reference: 'AZ-2026-4712', status: 'abgelehnt', reason: 'Rasse nach § 3 LHundG NRW nicht zulässig' }] },
          },
        },
      },
      responses: {
        '200': {
          description: 'Every event\'s result, in the order sent.',
          content: { 'application/json': { schema: ref('BackofficeEventResults'), example: { results: [{ outcome: 'applied', submissionId: EXAMPLE_SUBMISSION, portalStatus: 'PROCESSING' }, { outcome: 'unknown-case' }] } } },
        },
        '400': problem('malformed-body', 400, 'The body is not JSON.', { title: 'The request body could not be parsed', detail: 'the body is not valid JSON' }),
        '401': {
          ...problem('backoffice-unauthorized', 401, 'No bearer token, or one no target is configured with.', { title: 'A valid back-office token is required', detail: 'send Authorization: Bearer <back-office token>' }),
          headers: { 'WWW-Authenticate': { description: 'The bearer challenge (RFC 6750) of realm `amtsbote-backoffice`.', required: true, schema: { type: 'string' } } },
        },
        '404': problem('unknown-case', 404, 'A single event named a case the hub does not know (for this token\'s targets). Nothing was written.', { title: 'No case of this back office matches the event', detail: 'no case with reference AZ-2026-4711' }),
        '413': problem('body-too-large', 413, 'The body is larger than 1 MB.', { title: 'The request body is larger than allowed', detail: 'the limit is 1048576 bytes' }),
        '415': problem('unsupported-media-type', 415, 'Content-Type is not application/json.', { title: 'Send application/json, application/xml or text/xml', detail: 'text/plain is not accepted; send application/json' }),
        '422': problem('invalid-status-event', 422, 'Fields are missing or invalid; `errors` names each. Nothing was written.', {
          title: 'The status event is not valid',
          detail: '2 fields are not valid',
          errors: [
            { pointer: '#/events/0/status', detail: 'required' },
            { pointer: '#/events/1/reference', detail: 'give reference or idempotencyKey' },
          ],
        }),
        '500': problem('internal-error', 500, 'An unexpected error in the hub; nothing was written. Try again later.', { title: 'The hub could not process the request' }),
      },
    },
  },
};

const isoTime = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });

export const statusSchemas: Record<string, JsonSchema> = {
  PortalStatus: {
    type: 'string',
    enum: [...PORTAL_STATUSES],
    description: 'Where the case stands, in the vocabulary of the citizen\'s mailbox: `RECEIVED` (the authority has it), `PROCESSING`, `ACTION_REQUIRED` (the citizen has to act), `COMPLETED`, `REJECTED` (with a reason).',
  },
  BackofficeEvent: {
    type: 'object',
    description: 'One status change of one case, in the back office\'s words. Give `reference` or `idempotencyKey`.',
    required: ['status'],
    additionalProperties: false,
    properties: {
      reference: { type: 'string', minLength: 1, maxLength: 200, description: 'The back office\'s reference for the case, as it answered the delivery.' },
      idempotencyKey: { type: 'string', minLength: 1, maxLength: 200, description: 'The Idempotency-Key the hub sent with the delivery (the delivery\'s id).' },
      target: { type: 'string', minLength: 1, maxLength: 100, description: 'The target id, when the token stands for several targets and the case should be looked for in one only.' },
      status: { type: 'string', minLength: 1, maxLength: 100, description: 'The back office\'s own status word (mapped case-insensitively by the target\'s `status.map`).', examples: ['in Bearbeitung'] },
      reason: { type: 'string', maxLength: 500, description: 'Why (e.g. of a rejection): shown to the citizen. Never form data.' },
      at: { type: 'string', format: 'date-time', description: 'When the case changed, ISO 8601 with a time zone; default: when the hub received the event.' },
    },
  },
  BackofficeEventBatch: {
    type: 'object',
    required: ['events'],
    additionalProperties: false,
    properties: { events: { type: 'array', minItems: 1, maxItems: MAX_EVENTS, items: ref('BackofficeEvent') } },
  },
  BackofficeEventResults: {
    type: 'object',
    required: ['results'],
    additionalProperties: false,
    properties: {
      results: {
        type: 'array',
        items: {
          type: 'object',
          required: ['outcome'],
          additionalProperties: false,
          properties: {
            outcome: {
              type: 'string',
              enum: ['applied', 'older', 'unmapped', 'unchanged', 'duplicate', 'unknown-case'],
              description: '`applied`: the case moved; `older`: older than its current status, kept in the history only; `unmapped`: the target\'s map does not know the word (kept, not forwarded); `unchanged`: the case stands there already; `duplicate`: this event was recorded before; `unknown-case`: no such case.',
            },
            submissionId: { type: 'string', format: 'uuid' },
            portalStatus: ref('PortalStatus'),
          },
        },
      },
    },
  },
  CaseStatus: {
    type: ['object', 'null'],
    description: 'Where the case stands for the portal: its deliveries\' back-office statuses combined (docs/status.md); null until a back office has it.',
    required: ['status', 'reason', 'at', 'sequence'],
    additionalProperties: false,
    properties: {
      status: ref('PortalStatus'),
      reason: { type: ['string', 'null'], description: 'The back office\'s reason, where it gave one.' },
      at: isoTime('When the back office changed it.'),
      sequence: { type: 'integer', minimum: 1, description: 'Counts the changes; the portal\'s status callback receives the same number.' },
    },
  },
  StatusHistoryEntry: {
    type: 'object',
    required: ['at', 'recordedAt', 'source', 'target', 'deliveryId', 'backofficeStatus', 'status', 'reason', 'effect'],
    additionalProperties: false,
    properties: {
      at: isoTime('When the back office changed it.'),
      recordedAt: isoTime('When the hub heard it.'),
      source: { type: 'string', enum: ['delivery', 'acknowledgement', 'push', 'poll', 'reconciliation'], description: 'How it reached the hub.' },
      target: { type: 'string' },
      deliveryId: { type: 'string', format: 'uuid' },
      backofficeStatus: { type: ['string', 'null'], description: 'The back office\'s word; null when the hub\'s own delivery stands for RECEIVED.' },
      status: { anyOf: [ref('PortalStatus'), { type: 'null' }], description: 'The word mapped; null when the target\'s map does not know it.' },
      reason: { type: ['string', 'null'] },
      effect: { type: 'string', enum: ['applied', 'older', 'unmapped'], description: '`older`: came after newer news and did not move the status back.' },
    },
  },
};
