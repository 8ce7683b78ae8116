/**
 * Reconciliation's part of the OpenAPI description (the hub hands it to the kernel's assembly); keep it in step with
 * http.ts and export.ts. Its request bodies are checked by hand in http.ts and request.ts, so their schemas are
 * written here rather than generated.
 */
import type { OpenApiFragment } from '../http/openapi/assemble.ts';
import { problemResponse, unauthorizedResponse } from '../http/openapi/problems.ts';
import { requires } from '../http/openapi/security.ts';
import { ref, type JsonSchema, type Operation, type PathItem, type ResponseObject } from '../http/openapi/types.ts';
import { DISCREPANCY_CLASSES } from '../core/reconcile/types.ts';
import { CSV_COLUMNS } from './export.ts';

const str = (description?: string): JsonSchema => ({ type: ['string', 'null'], ...(description ? { description } : {}) });
const time = (description: string): JsonSchema => ({ type: ['string', 'null'], format: 'date-time', description });
const ACTIONS = ['redelivered', 'awaiting-operator', 'flagged', 'reported', 'recorded', 'forwarded', 'taken-in', 'released'];

const common: Record<string, ResponseObject> = {
  '401': unauthorizedResponse('operator-unauthorized', 'amtsbote-operator', 'No bearer token, or not the operator token.', {
    detail: 'send Authorization: Bearer <operator token>',
  }),
  '500': problemResponse('internal-error', 'The hub could not answer.', { detail: 'the hub could not process the request' }),
  '503': problemResponse('operator-api-disabled', 'The hub was started without `AMTSBOTE_OPERATOR_TOKEN`.', {
    detail: 'operator API disabled: set AMTSBOTE_OPERATOR_TOKEN',
  }),
};
const invalid = problemResponse('invalid-reconcile-request', 'The body or query is not valid; each field at fault has a pointer.', {
  detail: '1 field is not valid',
});
const notFound = (what: string) => problemResponse('not-found', `No such ${what}.`, { detail: `no ${what}` });
const idParam = (description: string, schema: JsonSchema) => ({ name: 'id', in: 'path' as const, required: true, description, schema });
const reasonBody = { required: false, content: { 'application/json': { schema: ref('ReconcileConfirm') } } };
const confirmed: ResponseObject = {
  description: 'What became of each re-delivery asked for.',
  content: { 'application/json': { schema: ref('ReconcileConfirmed') } },
};

function op(o: Omit<Operation, 'tags' | 'security'>): Operation {
  return { tags: ['reconciliation'], security: requires('operatorToken'), ...o, responses: { ...o.responses, ...common } };
}

/** A change: also refused to a viewer, and to a console session without its CSRF token. */
function change(o: Operation): Operation {
  return op({
    ...o,
    responses: {
      ...o.responses,
      '403': problemResponse('operator-forbidden', 'The login may not do this (role viewer), or a console session sent no CSRF token.', {
        detail: 'this needs the role operator',
      }),
    },
  });
}

const reconcilePaths: Record<string, PathItem> = {
  '/api/v1/reconcile/runs': {
    get: op({
      operationId: 'listReconcileRuns',
      summary: 'Reconciliation runs, newest first',
      description: 'Scheduled and on-demand runs. `next`, when present, is the `before` of the next page.',
      parameters: [
        {
          name: 'limit',
          in: 'query',
          required: false,
          description: 'Runs per page (1–500, default 50).',
          schema: { type: 'integer', minimum: 1, maximum: 500 },
        },
        {
          name: 'before',
          in: 'query',
          required: false,
          description: 'The id of the last run of the previous page.',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': { description: 'A page of runs.', content: { 'application/json': { schema: ref('ReconcileRunPage') } } },
        '422': invalid,
      },
    }),
    post: change({
      operationId: 'runReconciliation',
      summary: 'Run a reconciliation now',
      description: 'Runs one now (stuck deliveries, hub vs back office, portal vs hub) and answers when it ended. Every field is optional.',
      requestBody: {
        required: false,
        content: {
          'application/json': {
            schema: ref('ReconcileRequest'),
            example: { target: 'gelsendienste-sperrmuell', since: '2026-11-20T00:00:00Z' },
          },
        },
      },
      responses: {
        '201': {
          description: 'The run, recorded.',
          headers: { Location: { description: 'The run.', required: true, schema: { type: 'string' } } },
          content: { 'application/json': { schema: ref('ReconcileRun') } },
        },
        '400': problemResponse('malformed-body', 'The body is not JSON.', { detail: 'the request body could not be read' }),
        '422': invalid,
      },
    }),
  },
  '/api/v1/reconcile/runs/{id}': {
    get: op({
      operationId: 'getReconcileRun',
      summary: 'One run with its discrepancies, as JSON or CSV',
      description: '`?format=csv` or `Accept: text/csv` for the CSV export (RFC 4180, one row per discrepancy).',
      parameters: [
        idParam('The run.', { type: 'string' }),
        { name: 'format', in: 'query', required: false, description: '`json` (default) or `csv`.', schema: { enum: ['json', 'csv'] } },
      ],
      responses: {
        '200': {
          description: 'The run.',
          content: {
            'application/json': {
              schema: {
                allOf: [ref('ReconcileRun')],
                properties: { discrepancyList: { type: 'array', items: ref('Discrepancy') } },
                required: ['discrepancyList'],
              },
            },
            'text/csv': { schema: { type: 'string', description: `Columns: ${CSV_COLUMNS.join(', ')}.` } },
          },
        },
        '404': notFound('reconciliation run'),
        '422': invalid,
      },
    }),
  },
  '/api/v1/reconcile/runs/{id}/redeliver': {
    post: change({
      operationId: 'confirmRunRedeliveries',
      summary: 'Re-deliver every case of a run that awaits an operator',
      description:
        'For targets with `reconcile.redeliver: ask`: each `missing-in-backoffice` finding still `awaiting-operator` is re-delivered with its idempotency key.',
      parameters: [idParam('The run.', { type: 'string' })],
      requestBody: reasonBody,
      responses: { '200': confirmed, '404': notFound('reconciliation run'), '422': invalid },
    }),
  },
  '/api/v1/reconcile/discrepancies/{id}/redeliver': {
    post: change({
      operationId: 'confirmRedelivery',
      summary: 'Re-deliver one case a run found missing and left to an operator',
      parameters: [idParam('The finding (`id` in the report).', { type: 'string', pattern: '^[0-9]+$' })],
      requestBody: reasonBody,
      responses: {
        '200': confirmed,
        '404': notFound('reconciliation finding'),
        '409': problemResponse(
          'discrepancy-not-awaiting',
          'The finding is not a missing case waiting for an operator (or it was acted on).',
          { detail: 'finding 7 is not a missing case waiting for an operator' },
        ),
        '422': invalid,
      },
    }),
  },
};

const reconcileSchemas: Record<string, JsonSchema> = {
  ReconcileRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      target: { type: 'string', description: 'only this target' },
      tenant: {
        type: 'string',
        pattern: '^\\d{5}(\\d{3})?$',
        description: 'only this tenant (a district key includes its municipalities)',
      },
      since: { type: 'string', description: "compare from this time (ISO 8601); default: each target's lookbackDays" },
    },
  },
  ReconcileRun: {
    type: 'object',
    required: [
      'id',
      'job',
      'schedule',
      'scheduledFor',
      'filters',
      'instance',
      'startedAt',
      'finishedAt',
      'state',
      'matched',
      'discrepancies',
      'counts',
      'error',
    ],
    properties: {
      id: { type: 'string' },
      job: { enum: ['reconcile', 'stuck-deliveries'] },
      schedule: { type: 'string', description: 'the schedule id, `target:<id>`, or `on-demand`' },
      scheduledFor: time('the cron firing the run was for'),
      filters: { type: 'object' },
      instance: { type: 'string' },
      startedAt: { type: 'string', format: 'date-time' },
      finishedAt: time('when it ended'),
      state: {
        enum: ['running', 'finished', 'partial', 'failed'],
        description: 'partial: a side could not be read (see its side-failed finding) and was not compared; the findings stand',
      },
      matched: { type: 'integer', minimum: 0 },
      discrepancies: { type: 'integer', minimum: 0 },
      counts: {
        type: 'object',
        description: `findings per class: ${DISCREPANCY_CLASSES.join(', ')}`,
        additionalProperties: { type: 'integer', minimum: 1 },
      },
      error: str('why it failed (a target or portal that could not be compared)'),
    },
  },
  ReconcileRunPage: {
    type: 'object',
    required: ['runs'],
    additionalProperties: false,
    properties: { runs: { type: 'array', items: ref('ReconcileRun') }, next: { type: 'string' } },
  },
  Discrepancy: {
    type: 'object',
    required: ['id', 'class', 'action'],
    additionalProperties: false,
    properties: {
      id: { type: 'integer' },
      class: { enum: [...DISCREPANCY_CLASSES] },
      action: { enum: ACTIONS },
      target: str(),
      portal: str(),
      tenant: str(),
      submission: str(),
      delivery: str(),
      reference: str(),
      idempotencyKey: str(),
      externalId: str(),
      resolvedAt: time('when an operator acted on it'),
      resolvedBy: str(),
      detail: { type: ['object', 'null'] },
    },
  },
  ReconcileConfirm: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 500 } } },
  ReconcileConfirmed: {
    type: 'object',
    required: ['redelivered', 'results'],
    properties: {
      redelivered: { type: 'integer', minimum: 0 },
      results: {
        type: 'array',
        items: {
          type: 'object',
          required: ['discrepancy', 'deliveryId', 'outcome'],
          properties: {
            discrepancy: { type: 'integer' },
            deliveryId: str(),
            outcome: { enum: ['redelivered', 'not-awaiting', 'not-found', 'not-delivered'] },
          },
        },
      },
    },
  },
};

export const reconcileFragment: OpenApiFragment = {
  tags: [
    {
      name: 'reconciliation',
      description:
        'For operators: reconciliation runs, their reports (JSON, CSV), and re-deliveries left to an operator. Needs the operator token.',
    },
  ],
  paths: reconcilePaths,
  schemas: reconcileSchemas,
};
