/**
 * The targets API's part of the OpenAPI description (the hub hands it to the kernel's assembly).
 * test/delivery-policies.test.ts checks real answers against it; keep it in step with targets-api.ts.
 */
import type { OpenApiFragment } from '../http/openapi/assemble.ts';
import { problemResponse, unauthorizedResponse } from '../http/openapi/problems.ts';
import { requires } from '../http/openapi/security.ts';
import { ref, type JsonSchema, type PathItem, type ResponseObject } from '../http/openapi/types.ts';

const time = (description: string): JsonSchema => ({ type: ['string', 'null'], format: 'date-time', description });
const count = (description: string): JsonSchema => ({ type: 'integer', minimum: 0, description });

function operatorErrors(instance: string): Record<string, ResponseObject> {
  return {
    '401': unauthorizedResponse('operator-unauthorized', 'amtsbote-operator', 'No bearer token, or not the operator token.', {
      detail: 'send Authorization: Bearer <operator token>',
      instance,
    }),
    '503': problemResponse('operator-api-disabled', 'The hub was started without `AMTSBOTE_OPERATOR_TOKEN`.', {
      detail: 'operator API disabled: set AMTSBOTE_OPERATOR_TOKEN',
      instance,
    }),
  };
}

const targetsSchemas: Record<string, JsonSchema> = {
  Target: {
    type: 'object',
    description: 'One target: its policies and where they stand now, read from the database (so the same on every instance).',
    required: ['id', 'configured', 'adapter', 'breaker', 'rateLimit', 'window', 'queue'],
    additionalProperties: false,
    properties: {
      id: { type: 'string' },
      configured: { type: 'boolean', description: 'false for a target that open deliveries name but the configuration no longer has' },
      adapter: { type: ['string', 'null'] },
      breaker: {
        type: 'object',
        required: ['enabled', 'state', 'consecutiveFailures', 'openedAt', 'retryAt', 'lastError'],
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean' },
          state: { enum: ['closed', 'open', 'half-open'], description: 'half-open: one delivery is probing the back office' },
          consecutiveFailures: count('retryable failures in a row'),
          openedAt: time('when it opened (this outage)'),
          retryAt: time('open: when the next probe may go; half-open: when the probe’s lease runs out'),
          lastError: { type: ['string', 'null'] },
        },
      },
      rateLimit: {
        type: 'object',
        required: ['maxInFlight', 'perMinute', 'burst', 'tokens'],
        additionalProperties: false,
        properties: {
          maxInFlight: { type: ['integer', 'null'] },
          perMinute: { type: ['number', 'null'] },
          burst: { type: ['integer', 'null'] },
          tokens: { type: ['number', 'null'], description: 'attempts that may start now' },
        },
      },
      window: {
        oneOf: [
          { type: 'null', description: 'no windows: always open' },
          {
            type: 'object',
            required: ['windows', 'open', 'openedAt', 'nextOpening'],
            additionalProperties: false,
            properties: {
              windows: { type: 'array', items: { type: 'string' } },
              open: { type: 'boolean' },
              openedAt: time('when the current window opened'),
              nextOpening: time('when closed: when the next window opens'),
            },
          },
        ],
      },
      queue: {
        type: 'object',
        required: ['queued', 'waiting', 'sending', 'acknowledging', 'failed', 'due', 'oldestDueAt'],
        additionalProperties: false,
        properties: {
          queued: count('never tried yet'),
          waiting: count('waiting for their next attempt'),
          sending: count('in flight'),
          acknowledging: count('handed over, waiting for the back office to confirm'),
          failed: count('dead letters'),
          due: count('queued or waiting and due now: the backlog'),
          oldestDueAt: time('when the oldest of the backlog fell due'),
        },
      },
    },
  },
};

const EXAMPLE = {
  id: 'kreis-re-sperrmuell',
  configured: true,
  adapter: 'xml-http',
  breaker: {
    enabled: true,
    state: 'open',
    consecutiveFailures: 5,
    openedAt: '2026-11-25T02:10:04.000Z',
    retryAt: '2026-11-25T02:11:04.000Z',
    lastError: 'back office answered HTTP 503',
  },
  rateLimit: { maxInFlight: 2, perMinute: 30, burst: 1, tokens: 1 },
  window: { windows: ['Mon-Fri 06:00-22:00 Europe/Berlin'], open: true, openedAt: '2026-11-25T05:00:00.000Z', nextOpening: null },
  queue: { queued: 412, waiting: 5, sending: 0, acknowledging: 0, failed: 0, due: 417, oldestDueAt: '2026-11-25T02:09:58.000Z' },
};

const targetsPaths: Record<string, PathItem> = {
  '/api/v1/targets': {
    get: {
      operationId: 'listTargets',
      summary: 'Every target with its breaker, limits, window and queue',
      tags: ['targets'],
      security: requires('operatorToken'),
      responses: {
        '200': {
          description: 'All targets, by id.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['targets'],
                additionalProperties: false,
                properties: { targets: { type: 'array', items: ref('Target') } },
              },
              example: { targets: [EXAMPLE] },
            },
          },
        },
        ...operatorErrors('/api/v1/targets'),
      },
    },
  },
  '/api/v1/targets/{id}': {
    get: {
      operationId: 'getTarget',
      summary: 'One target with its breaker, limits, window and queue',
      tags: ['targets'],
      security: requires('operatorToken'),
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          description: 'The target id of the configuration (`targets.<id>`).',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': { description: 'The target.', content: { 'application/json': { schema: ref('Target'), example: EXAMPLE } } },
        '404': problemResponse('not-found', 'No such target, configured or named by an open delivery.', {
          detail: 'no target nope',
          instance: '/api/v1/targets/nope',
        }),
        ...operatorErrors('/api/v1/targets/kreis-re-sperrmuell'),
      },
    },
  },
};

export const targetsFragment: OpenApiFragment = {
  tags: [
    { name: 'targets', description: 'Each back-office target’s circuit breaker, rate limit, delivery window and queue (for operators).' },
  ],
  paths: targetsPaths,
  schemas: targetsSchemas,
};
