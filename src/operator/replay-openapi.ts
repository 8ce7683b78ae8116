/**
 * The replay routes' part of the OpenAPI description (operator-api.ts), its bodies and answers generated from
 * the zod schemas of replay-schemas.ts.
 */
import type { OpenApiFragment } from '../http/openapi/assemble.ts';
import { problemResponse, unauthorizedResponse } from '../http/openapi/problems.ts';
import { requires } from '../http/openapi/security.ts';
import { ref, type ResponseObject } from '../http/openapi/types.ts';
import { replayedDeliveryAnswer, replayFilterBody, replayOneBody, replayReportAnswer } from './replay-schemas.ts';

/** A viewer (or a session without its CSRF token) may not replay. */
const forbidden = problemResponse(
  'operator-forbidden',
  'The login may not replay (role viewer), or a console session sent no CSRF token.',
  {
    detail: 'this needs the role operator',
  },
);

const EXAMPLE_ID = '019a9f3c-6b2e-7d41-9c1a-4f2b8e0d7a13';
const ONE = `/api/v1/deliveries/${EXAMPLE_ID}/replay`;
const BY_FILTER = '/api/v1/deliveries/replay';

const malformed = problemResponse('malformed-body', 'The body is not JSON.', { detail: 'the request body could not be read' });
const unauthorized = (detail: string) =>
  unauthorizedResponse(
    'operator-unauthorized',
    'amtsbote-operator',
    'No bearer token, or not the operator token (portal tokens are not accepted).',
    { detail },
  );
const disabled = problemResponse(
  'operator-api-disabled',
  'The hub was started without `AMTSBOTE_OPERATOR_TOKEN`, so the operator API is off.',
  { detail: 'operator API disabled: set AMTSBOTE_OPERATOR_TOKEN' },
);
const internalError = (instance: string): ResponseObject =>
  problemResponse('internal-error', 'An unexpected error in the hub; nothing was changed. Try again later.', { instance });

export const replayFragment: OpenApiFragment = {
  tags: [{ name: 'deliveries', description: 'For operators: replay failed deliveries (dead letters). Needs the operator token.' }],
  requests: { ReplayFilter: replayFilterBody, ReplayReason: replayOneBody },
  answers: { ReplayReport: replayReportAnswer, ReplayedDelivery: replayedDeliveryAnswer },
  paths: {
    '/api/v1/deliveries/{id}/replay': {
      post: {
        operationId: 'replayDelivery',
        summary: 'Replay one failed delivery',
        description: [
          'Puts a `failed` delivery back in the queue: due at once, with the same idempotency key (the delivery id), so a',
          'back office that already filed the case answers with it instead of filing twice. The attempt numbers go on;',
          "the retry policy's attempts count afresh from here. `lastError` stays until the next attempt. The sync log",
          'gets a `delivery.replayed` event with `by: "operator"`, the optional `reason` and the previous error.',
        ].join('\n'),
        tags: ['deliveries'],
        security: requires('operatorToken'),
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            description:
              "The delivery's id: `deliveries[].id` of the submission, `deliveryId` in the sync log, or the first column of `amtsbote replay --dry-run`.",
            schema: { type: 'string', format: 'uuid', examples: [EXAMPLE_ID] },
          },
        ],
        requestBody: {
          required: false,
          description: 'Optional.',
          content: { 'application/json': { schema: ref('ReplayReason'), example: { reason: 'Fachverfahren wieder erreichbar' } } },
        },
        responses: {
          '200': {
            description: 'Queued again; the worker picks it up at once.',
            content: {
              'application/json': {
                schema: ref('ReplayedDelivery'),
                example: { id: EXAMPLE_ID, state: 'queued', attempts: 3, previousError: 'HTTP 503 (gave up after 3 attempts)' },
              },
            },
          },
          '400': malformed,
          '403': forbidden,
          '401': unauthorized('the token is not the operator token'),
          '404': problemResponse('not-found', 'No such delivery.', { detail: `no delivery ${EXAMPLE_ID}` }),
          '409': problemResponse(
            'delivery-not-failed',
            'The delivery is not `failed` (queued, being sent, waiting, acknowledging or delivered); nothing was changed.',
            {
              detail: `delivery ${EXAMPLE_ID} is delivered; only failed deliveries can be replayed`,
            },
          ),
          '422': problemResponse('invalid-replay', 'The body is not valid.', {
            detail: '1 field is not valid',
            errors: [{ pointer: '#/reason', detail: 'expected a string of at most 500 characters' }],
          }),
          '500': internalError(ONE),
          '503': disabled,
        },
      },
    },
    [BY_FILTER]: {
      post: {
        operationId: 'replayDeliveries',
        summary: 'Replay failed deliveries by filter',
        description: [
          'Finds the `failed` deliveries that match every given filter field (at least one) and replays each as',
          '`POST /api/v1/deliveries/{id}/replay` does; with `dryRun` only lists them. At most 10 000 per call:',
          '`truncated` says more matched, so call again.',
        ].join('\n'),
        tags: ['deliveries'],
        security: requires('operatorToken'),
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: ref('ReplayFilter'),
              example: { target: 'backoffice', errorKind: 'http-503', since: '2026-11-24T00:00:00Z', dryRun: true },
            },
          },
        },
        responses: {
          '200': {
            description: 'What matched, and (unless a dry run) what became of each.',
            content: {
              'application/json': {
                schema: ref('ReplayReport'),
                example: {
                  dryRun: true,
                  matched: 1,
                  replayed: 0,
                  truncated: false,
                  deliveries: [
                    {
                      id: EXAMPLE_ID,
                      submissionId: EXAMPLE_ID,
                      target: 'backoffice',
                      tenant: '05513000',
                      errorKind: 'http-503',
                      failedAt: '2026-11-24T08:31:02.114Z',
                    },
                  ],
                },
              },
            },
          },
          '400': malformed,
          '403': forbidden,
          '401': unauthorized('send Authorization: Bearer <operator token>'),
          '422': problemResponse(
            'invalid-replay',
            'The filter is not valid: unknown fields, wrong types, unreadable times, or no filter field at all (pointer `#`).',
            {
              detail: '1 field is not valid',
              errors: [{ pointer: '#/since', detail: 'expected an ISO 8601 date or date-time, e.g. 2026-11-24T08:00:00Z' }],
            },
          ),
          '500': internalError(BY_FILTER),
          '503': disabled,
        },
      },
    },
  },
};
