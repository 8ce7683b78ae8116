/**
 * The console JSON API's part of the OpenAPI description (api.ts); answers generated from the zod schemas of
 * answers.ts, query parameters from the search schema of search-query.ts.
 */
import { z } from 'zod';
import type { OpenApiFragment } from '../http/openapi/assemble.ts';
import { problemResponse, unauthorizedResponse } from '../http/openapi/problems.ts';
import { requires } from '../http/openapi/security.ts';
import { type JsonSchema, type Operation, ref, type ResponseObject } from '../http/openapi/types.ts';
import { countsAnswer, formDataAnswer, overviewAnswer, searchAnswer, timelineAnswer } from './answers.ts';
import { LOG_LEVELS } from './log-tap.ts';
import { searchQuery } from './search-query.ts';

const json = (schema: string, description: string): ResponseObject => ({
  description,
  content: { 'application/json': { schema: ref(schema) } },
});

const errors = (instance: string): Record<string, ResponseObject> => ({
  '401': unauthorizedResponse('operator-unauthorized', 'amtsbote-operator', 'No bearer token or session, or not a valid one.', {
    detail: 'send Authorization: Bearer <operator token>',
    instance,
  }),
  '503': problemResponse('operator-api-disabled', 'The hub was started without `AMTSBOTE_OPERATOR_TOKEN` (and without logins).', {
    detail: 'operator API disabled: set AMTSBOTE_OPERATOR_TOKEN',
    instance,
  }),
});

const badQuery = (instance: string, pointer: string, detail: string) =>
  problemResponse('invalid-console-query', 'A query parameter is not valid; `errors` names each by its pointer.', {
    detail: '1 parameter is not valid',
    instance,
    errors: [{ pointer, detail }],
  });

/** The search schema's fields as query parameters, each described by its zod schema's input side. */
const searchParameters = Object.entries(searchQuery.shape).map(([name, schema]) => {
  const {
    $schema: _d,
    description,
    ...s
  } = z.toJSONSchema(schema as z.ZodType, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { name, in: 'query' as const, required: false, description: String(description ?? ''), schema: s as JsonSchema };
});

const SUBMISSION = '019a9f3c-6b2e-7d41-9c1a-4f2b8e0d7a13';
const op = (o: Operation): Operation => ({ tags: ['console'], security: requires('operatorToken'), ...o });

export const consoleFragment: OpenApiFragment = {
  tags: [
    {
      name: 'console',
      description:
        "For operators: what the console shows, as JSON — the overview, the submissions' search and grouped counts, a submission's timeline, the live log. Every answer holds only the tenants the login may see.",
    },
  ],
  answers: {
    ConsoleOverview: overviewAnswer,
    ConsoleSearch: searchAnswer,
    ConsoleCounts: countsAnswer,
    ConsoleTimeline: timelineAnswer,
    ConsoleFormData: formDataAnswer,
  },
  paths: {
    '/api/v1/console/overview': {
      get: op({
        operationId: 'consoleOverview',
        summary: 'Per tenant and target: today in and out, waiting, failed; breakers; the last reconciliation',
        responses: { '200': json('ConsoleOverview', 'The overview now.'), ...errors('/api/v1/console/overview') },
      }),
    },
    '/api/v1/console/submissions': {
      get: op({
        operationId: 'consoleSearch',
        summary: 'Search submissions, newest first, a page at a time',
        parameters: searchParameters,
        responses: {
          '200': json('ConsoleSearch', 'One page.'),
          '400': badQuery('/api/v1/console/submissions?from=yesterday', '#/from', 'Invalid ISO datetime'),
          ...errors('/api/v1/console/submissions'),
        },
      }),
    },
    '/api/v1/console/submissions/counts': {
      get: op({
        operationId: 'consoleCounts',
        summary: 'Deliveries of the matching submissions by target × error kind (the failed ones unless `state` is given)',
        parameters: searchParameters.filter((p) => p.name !== 'limit' && p.name !== 'cursor'),
        responses: {
          '200': json('ConsoleCounts', 'Largest groups first.'),
          '400': badQuery('/api/v1/console/submissions/counts?state=lost', '#/state', 'Invalid option'),
          ...errors('/api/v1/console/submissions/counts'),
        },
      }),
    },
    '/api/v1/console/submissions/{id}': {
      get: op({
        operationId: 'consoleTimeline',
        summary: "A submission's timeline: events, attempts, deliveries, statuses to the portal",
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'The hub id or the external id.',
            schema: { type: 'string', examples: [SUBMISSION] },
          },
        ],
        responses: {
          '200': json('ConsoleTimeline', 'The timeline; no form data.'),
          '404': problemResponse('not-found', 'No such submission among the tenants the login may see.', {
            detail: `no submission ${SUBMISSION}`,
          }),
          ...errors(`/api/v1/console/submissions/${SUBMISSION}`),
        },
      }),
    },
    '/api/v1/console/submissions/{id}/form-data': {
      get: op({
        operationId: 'consoleFormData',
        summary: 'The form data of a submission (admins only; every view is written to the audit trail)',
        parameters: [{ name: 'id', in: 'path', required: true, description: 'The hub id.', schema: { type: 'string', format: 'uuid' } }],
        responses: {
          '200': json('ConsoleFormData', 'Applicant and data.'),
          '403': problemResponse('operator-forbidden', 'The login is not an admin.', { detail: 'this needs the role admin' }),
          '404': problemResponse('not-found', 'No such submission among the tenants the login may see.', {
            detail: `no submission ${SUBMISSION}`,
          }),
          ...errors(`/api/v1/console/submissions/${SUBMISSION}/form-data`),
        },
      }),
    },
    '/api/v1/console/log': {
      get: op({
        operationId: 'consoleLog',
        summary: 'The live sync log as server-sent events',
        description:
          'Each line is an `event: line` whose data is a JSON object: `at`, `level`, `message`, `tenant`, `target`, `submissionId`, `deliveryId` where the line has them, and `fields` (its other scalar values; never form data). The last kept lines come first.',
        parameters: [
          { name: 'tenant', in: 'query', required: false, description: 'Only lines of this tenant.', schema: { type: 'string' } },
          { name: 'target', in: 'query', required: false, description: 'Only lines of this target.', schema: { type: 'string' } },
          {
            name: 'level',
            in: 'query',
            required: false,
            description: 'The least severe level shown.',
            schema: { enum: [...LOG_LEVELS] },
          },
        ],
        responses: {
          '200': { description: 'The stream; it stays open.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          '400': badQuery('/api/v1/console/log?level=loud', '#/level', `expected one of ${LOG_LEVELS.join(', ')}`),
          ...errors('/api/v1/console/log'),
        },
      }),
    },
  },
};
