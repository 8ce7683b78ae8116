/**
 * The OpenAPI 3.1 description of Amtsbote's public API (v1), written by hand to match the code:
 * intake (http.ts, envelope.ts, xml.ts, problem.ts), the submission view (submission-view.ts) and the
 * health routes (console/health.ts). Served at `GET /api/v1/openapi.json`; test/openapi.test.ts checks real
 * responses against it, so a change to one of those files must change this one too.
 */

import { statusPaths, statusProblemTypes, statusSchemas, statusSecuritySchemes, statusTag } from '../status/openapi.ts';
import { targetsPaths, targetsSchemas, targetsTag } from '../operator/targets-openapi.ts';
import { reconcilePaths, reconcileProblemTypes, reconcileSchemas, reconcileTag } from '../reconcile/openapi.ts';

/** JSON Schema 2020-12, the dialect of OpenAPI 3.1. Only the keywords used here are named. */
export interface JsonSchema {
  $ref?: string;
  $schema?: string;
  title?: string;
  description?: string;
  type?: JsonType | JsonType[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  contentEncoding?: string;
  contentMediaType?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  examples?: unknown[];
  default?: unknown;
}
type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

export interface Reference {
  $ref: string;
  summary?: string;
  description?: string;
}
export interface Example {
  summary?: string;
  description?: string;
  value: unknown;
}
export interface MediaType {
  schema: JsonSchema;
  example?: unknown;
  examples?: Record<string, Example>;
}
export interface Header {
  description?: string;
  required?: boolean;
  schema: JsonSchema;
}
export interface ResponseObject {
  description: string;
  headers?: Record<string, Header | Reference>;
  content?: Record<string, MediaType>;
}
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  description?: string;
  required?: boolean;
  schema: JsonSchema;
}
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { description?: string; required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject | Reference>;
}
export interface PathItem {
  summary?: string;
  get?: Operation;
  post?: Operation;
}
export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect?: string;
  info: { title: string; version: string; summary?: string; description?: string; license?: { name: string; identifier?: string } };
  servers?: { url: string; description?: string }[];
  tags?: { name: string; description?: string }[];
  security?: Record<string, string[]>[];
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses?: Record<string, ResponseObject>;
    headers?: Record<string, Header>;
    securitySchemes?: Record<string, { type: 'http'; scheme: string; bearerFormat?: string; description?: string }>;
  };
}

const schema = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const PROBLEM_JSON = 'application/problem+json';

/** A problem response whose `type` and `status` are fixed by the problem type (problem.ts). */
function problem(type: string, status: number, description: string, example: Record<string, unknown>): ResponseObject {
  return {
    description,
    content: {
      [PROBLEM_JSON]: {
        schema: {
          allOf: [schema('Problem')],
          properties: { type: { const: `urn:amtsbote:problem:${type}` }, status: { const: status } },
        },
        example: { type: `urn:amtsbote:problem:${type}`, status, ...example },
      },
    },
  };
}

const unauthorized = (instance: string): ResponseObject => ({
  ...problem('unauthorized', 401, 'No bearer token, or one no portal is configured with.', {
    title: 'A valid portal token is required',
    detail: 'send Authorization: Bearer <portal token>',
    instance,
  }),
  headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } },
});

const internalError = (instance: string): ResponseObject =>
  problem('internal-error', 500, 'An unexpected error in the hub; nothing was changed. Try again later.', {
    title: 'The hub could not process the request',
    instance,
  });

const EXAMPLE_ID = '019a9f3c-6b2e-7d41-9c1a-4f2b8e0d7a13';

const exampleEnvelope = {
  externalId: 'SP-2026-000123',
  tenant: '05513000',
  service: 'sperrmuell',
  submittedAt: '2026-11-24T09:30:00+01:00',
  applicant: { givenName: 'Erika', familyName: 'Mustermann', street: 'Musterweg', houseNumber: '1', postalCode: '45879', city: 'Gelsenkirchen' },
  data: { preferredDate: '2026-12-07', items: [{ kind: 'furniture', quantity: 2 }] },
  attachments: [{ filename: 'sperrmuell.jpg', mediaType: 'image/jpeg', content: '/9j/4AAQSkZJRgABAQ==' }],
};

const exampleXml = `<?xml version="1.0" encoding="UTF-8"?>
<submission xmlns="urn:amtsbote:submission:1">
  <externalId>SP-2026-000124</externalId>
  <tenant>05562014</tenant>
  <service>99050012104000</service>
  <submittedAt>2026-11-24T09:30:00+01:00</submittedAt>
  <applicant>
    <givenName>Erika</givenName>
    <familyName>Mustermann</familyName>
    <postalCode>45964</postalCode>
    <city>Gladbeck</city>
  </applicant>
  <data>
    <preferredDate>2026-12-07</preferredDate>
    <express type="boolean">false</express>
    <items>
      <item><kind>furniture</kind><quantity type="number">2</quantity></item>
    </items>
  </data>
  <attachments>
    <item>
      <filename>sperrmuell.jpg</filename>
      <mediaType>image/jpeg</mediaType>
      <content>/9j/4AAQSkZJRgABAQ==</content>
    </item>
  </attachments>
</submission>
`;

const exampleSubmission = {
  id: EXAMPLE_ID,
  externalId: 'SP-2026-000123',
  tenant: '05513000',
  service: 'sperrmuell',
  submittedAt: '2026-11-24T09:30:00+01:00',
  receivedAt: '2026-11-24T08:30:01.512Z',
  status: 'delivered',
  caseStatus: { status: 'PROCESSING', reason: null, at: '2026-11-25T07:00:00.000Z', sequence: 2 },
  statusHistory: [
    { at: '2026-11-24T08:30:03.020Z', recordedAt: '2026-11-24T08:30:03.031Z', source: 'delivery', target: 'abfallwirtschaft', deliveryId: '019a9f3c-6b2f-7a02-8e55-0c7d3b91f4e6', backofficeStatus: null, status: 'RECEIVED', reason: null, effect: 'applied' },
    { at: '2026-11-25T07:00:00.000Z', recordedAt: '2026-11-25T07:00:00.412Z', source: 'push', target: 'abfallwirtschaft', deliveryId: '019a9f3c-6b2f-7a02-8e55-0c7d3b91f4e6', backofficeStatus: 'disponiert', status: 'PROCESSING', reason: null, effect: 'applied' },
  ],
  deliveries: [
    {
      id: '019a9f3c-6b2f-7a02-8e55-0c7d3b91f4e6',
      target: 'abfallwirtschaft',
      route: 'sperrmuell-gelsenkirchen',
      state: 'delivered',
      attempts: 2,
      nextAttemptAt: null,
      reference: 'AZ-2026-4711',
      lastError: null,
      lastErrorKind: null,
      deliveredAt: '2026-11-24T08:30:03.020Z',
      attemptLog: [
        {
          number: 1,
          startedAt: '2026-11-24T08:30:01.530Z',
          finishedAt: '2026-11-24T08:30:01.601Z',
          durationMs: 71,
          outcome: 'retry',
          error: 'HTTP 503: down for maintenance',
          errorKind: 'http-503',
          httpStatus: 503,
          reference: null,
        },
        {
          number: 2,
          startedAt: '2026-11-24T08:30:02.950Z',
          finishedAt: '2026-11-24T08:30:03.020Z',
          durationMs: 70,
          outcome: 'delivered',
          error: null,
          errorKind: null,
          httpStatus: 201,
          reference: 'AZ-2026-4711',
        },
      ],
    },
  ],
};

const nullableString = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: ['string', 'null'], description, ...extra });
const nullableTime = (description: string): JsonSchema => ({ type: ['string', 'null'], format: 'date-time', description });

// The constraints below mirror envelope.ts; keep them in step.
const SUBMITTED_AT_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';
const B = '[A-Za-z0-9+/]\\s*';
const BASE64_PATTERN = `^\\s*(${B}${B}${B}${B})*(${B}${B}(${B}=|=\\s*=)\\s*)?$`;

/** A problem of the operator API (console/operator-api.ts). */
function operatorProblem(type: string, status: number, description: string, example: Record<string, unknown>, challenge = false): ResponseObject {
  return {
    ...problem(type, status, description, example),
    ...(challenge ? { headers: { 'WWW-Authenticate': { description: 'The bearer challenge (RFC 6750) of realm `amtsbote-operator`.', required: true, schema: { type: 'string' } } } } : {}),
  };
}

const operatorDisabled = operatorProblem('operator-api-disabled', 503, 'The hub was started without `AMTSBOTE_OPERATOR_TOKEN`, so the operator API is off.', {
  title: 'The operator API is disabled',
  detail: 'operator API disabled: set AMTSBOTE_OPERATOR_TOKEN',
});

export const openApiDocument: OpenApiDocument = {
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
  info: {
    title: 'Amtsbote',
    version: '1',
    summary: 'Submissions from municipal service portals, delivered to back-office systems (Fachverfahren).',
    description: [
      'A portal sends each completed application (Antrag) once to `POST /api/v1/submissions`, as JSON or XML,',
      'with its portal token. Amtsbote stores it, answers 202 at once and delivers it in the background to every',
      'back office its routes name for the tenant and service; `GET /api/v1/submissions/{id}` shows how far that got.',
      '',
      '* **tenant** is the official key of the municipality: the 8-digit AGS (Amtlicher Gemeindeschlüssel, e.g.',
      '  `05513000` Gelsenkirchen) or the 5-digit key of a district (Kreis, e.g. `05562`). A portal may submit for',
      '  the tenants it is configured with and for the municipalities of a district it is configured with.',
      '* **service** is the service\'s slug (e.g. `sperrmuell`) or its LeiKa key (Leistungskatalog, 14 digits).',
      '* **externalId** is the portal\'s own id of the application. Resending the same application under the same',
      '  externalId is safe (200 with the first submission); a different body under it is refused (409).',
      '* Errors are `application/problem+json` (RFC 9457); field errors carry a JSON Pointer into the body.',
    ].join('\n'),
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: '/', description: 'this hub' }],
  tags: [
    { name: 'submissions', description: 'Send applications and follow their delivery.' },
    { name: 'operations', description: 'Health, readiness, metrics and this description.' },
    { name: 'deliveries', description: 'For operators: replay failed deliveries (dead letters). Needs the operator token.' },
    statusTag,
    targetsTag,
    reconcileTag,
  ],
  paths: {
    '/api/v1/submissions': {
      post: {
        operationId: 'createSubmission',
        summary: 'Send a submission',
        description: [
          'Stores the submission and queues one delivery per back office the routes name for its tenant and service.',
          'The checks run in this order: token (401), media type and charset (415), body size (413), parsing (400),',
          'fields (422), tenant and service known (422), tenant allowed for this portal (403), service offered for the',
          'tenant (422), external id (200/409).',
          'Nothing is stored unless the answer is 202.',
        ].join(' '),
        tags: ['submissions'],
        security: [{ portalToken: [] }],
        requestBody: {
          required: true,
          description: 'The submission in UTF-8 (a `charset` other than UTF-8 is refused with 415). At most 25 MB by default (`server.bodyLimit`).',
          content: {
            'application/json': {
              schema: schema('SubmissionEnvelope'),
              example: exampleEnvelope,
            },
            'application/xml': {
              schema: schema('SubmissionXml'),
              example: exampleXml,
            },
            'text/xml': {
              schema: schema('SubmissionXml'),
            },
          },
        },
        responses: {
          '202': {
            description: 'Accepted: stored and queued for delivery. Follow `Location` for the delivery status.',
            headers: { Location: { $ref: '#/components/headers/Location' } },
            content: {
              'application/json': {
                schema: { allOf: [schema('SubmissionAccepted')], properties: { status: { const: 'received' } } },
                example: { id: EXAMPLE_ID, status: 'received' },
              },
            },
          },
          '200': {
            description: 'A resubmission: this portal already sent this externalId with the same content. Nothing new is stored; the answer names the first submission and its current status.',
            headers: { Location: { $ref: '#/components/headers/Location' } },
            content: {
              'application/json': {
                schema: schema('SubmissionAccepted'),
                example: { id: EXAMPLE_ID, status: 'delivered' },
              },
            },
          },
          '400': problem('malformed-body', 400, 'The body is not valid JSON, not well-formed XML, breaks the XML convention, or arrived incomplete.', {
            title: 'The request body could not be parsed',
            detail: 'the body is not valid JSON (at character 17)',
            instance: '/api/v1/submissions',
          }),
          '401': unauthorized('/api/v1/submissions'),
          '403': problem('tenant-not-allowed', 403, 'The tenant exists but this portal may not submit for it.', {
            title: 'This portal may not submit for this tenant',
            detail: 'portal portal-a may not submit for tenant 05512000',
            instance: '/api/v1/submissions',
          }),
          '409': problem('external-id-conflict', 409, 'This portal already used the externalId for a submission with different content. Use a new externalId for a new application.', {
            title: 'This external id was already used for a different submission',
            detail: `external id SP-2026-000123 was first used for submission ${EXAMPLE_ID} with a different body`,
            instance: '/api/v1/submissions',
          }),
          '413': problem('body-too-large', 413, 'The body is larger than the hub accepts (25 MB by default).', {
            title: 'The request body is larger than allowed',
            detail: 'the limit is 26214400 bytes',
            instance: '/api/v1/submissions',
          }),
          '415': problem('unsupported-media-type', 415, 'Content-Type is missing, not JSON or XML, or names a charset other than UTF-8.', {
            title: 'Send application/json or application/xml',
            detail: 'text/plain is not accepted',
            instance: '/api/v1/submissions',
          }),
          '422': problem('invalid-submission', 422, 'Fields are missing or invalid, the tenant or service is unknown, or the service is not offered for the tenant. `errors` names each field.', {
            title: 'The submission is not valid',
            detail: '2 fields are not valid',
            instance: '/api/v1/submissions',
            errors: [
              { pointer: '#/tenant', detail: 'an official key: 8-digit AGS or 5-digit district key' },
              { pointer: '#/applicant', detail: 'required' },
            ],
          }),
          '500': internalError('/api/v1/submissions'),
        },
      },
    },
    '/api/v1/submissions/{id}': {
      get: {
        operationId: 'getSubmission',
        summary: 'Show a submission and its deliveries',
        description: 'The status of one of this portal\'s submissions, every delivery to a back office and every attempt, with the back office\'s reference (Aktenzeichen) once delivered. Never contains form data.',
        tags: ['submissions'],
        security: [{ portalToken: [] }],
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'The id from the 202 answer (the last segment of `Location`), in lower case.',
            schema: { type: 'string', format: 'uuid', examples: [EXAMPLE_ID] },
          },
        ],
        responses: {
          '200': {
            description: 'The submission.',
            content: { 'application/json': { schema: schema('Submission'), example: exampleSubmission } },
          },
          '401': unauthorized(`/api/v1/submissions/${EXAMPLE_ID}`),
          '404': problem('not-found', 404, 'No such submission for this portal. Another portal\'s submission is answered the same way.', {
            title: 'Not found',
            detail: `no submission ${EXAMPLE_ID} for this portal`,
            instance: `/api/v1/submissions/${EXAMPLE_ID}`,
          }),
          '500': internalError(`/api/v1/submissions/${EXAMPLE_ID}`),
        },
      },
    },
    '/api/v1/deliveries/{id}/replay': {
      post: {
        operationId: 'replayDelivery',
        summary: 'Replay one failed delivery',
        description: [
          'Puts a `failed` delivery back in the queue: due at once, with the same idempotency key (the delivery id), so a',
          'back office that already filed the case answers with it instead of filing twice. The attempt numbers go on;',
          'the retry policy\'s attempts count afresh from here. `lastError` stays until the next attempt. The sync log',
          'gets a `delivery.replayed` event with `by: "operator"`, the optional `reason` and the previous error.',
        ].join('\n'),
        tags: ['deliveries'],
        security: [{ operatorToken: [] }],
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'The delivery\'s id: `deliveries[].id` of the submission, `deliveryId` in the sync log, or the first column of `amtsbote replay --dry-run`.',
            schema: { type: 'string', format: 'uuid', examples: [EXAMPLE_ID] },
          },
        ],
        requestBody: {
          required: false,
          description: 'Optional.',
          content: {
            'application/json': {
              schema: { type: 'object', additionalProperties: true, properties: { reason: { type: 'string', maxLength: 500, description: 'Why, for the sync log.' } } },
              example: { reason: 'Fachverfahren wieder erreichbar' },
            },
          },
        },
        responses: {
          '200': {
            description: 'Queued again; the worker picks it up at once.',
            content: { 'application/json': { schema: schema('ReplayedDelivery'), example: { id: EXAMPLE_ID, state: 'queued', attempts: 3, previousError: 'HTTP 503 (gave up after 3 attempts)' } } },
          },
          '400': operatorProblem('malformed-body', 400, 'The body is not JSON.', { title: 'The request body could not be parsed', detail: 'the request body could not be read' }),
          '401': operatorProblem('operator-unauthorized', 401, 'No bearer token, or not the operator token (portal tokens are not accepted).', {
            title: 'A valid operator token is required',
            detail: 'the token is not the operator token',
          }, true),
          '404': operatorProblem('not-found', 404, 'No such delivery.', { title: 'Not found', detail: `no delivery ${EXAMPLE_ID}` }),
          '409': operatorProblem('delivery-not-failed', 409, 'The delivery is not `failed` (queued, being sent, waiting, acknowledging or delivered); nothing was changed.', {
            title: 'Only a failed delivery can be replayed',
            detail: `delivery ${EXAMPLE_ID} is delivered; only failed deliveries can be replayed`,
          }),
          '422': operatorProblem('invalid-replay', 422, 'The body is not valid.', { title: 'The replay request is not valid', detail: '1 field is not valid', errors: [{ pointer: '#/reason', detail: 'expected a string of at most 500 characters' }] }),
          '500': internalError(`/api/v1/deliveries/${EXAMPLE_ID}/replay`),
          '503': operatorDisabled,
        },
      },
    },
    '/api/v1/deliveries/replay': {
      post: {
        operationId: 'replayDeliveries',
        summary: 'Replay failed deliveries by filter',
        description: [
          'Finds the `failed` deliveries that match every given filter field (at least one) and replays each as',
          '`POST /api/v1/deliveries/{id}/replay` does; with `dryRun` only lists them. At most 10 000 per call:',
          '`truncated` says more matched, so call again.',
        ].join('\n'),
        tags: ['deliveries'],
        security: [{ operatorToken: [] }],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schema('ReplayFilter'), example: { target: 'backoffice', errorKind: 'http-503', since: '2026-11-24T00:00:00Z', dryRun: true } } },
        },
        responses: {
          '200': {
            description: 'What matched, and (unless a dry run) what became of each.',
            content: {
              'application/json': {
                schema: schema('ReplayReport'),
                example: { dryRun: true, matched: 1, replayed: 0, truncated: false, deliveries: [{ id: EXAMPLE_ID, submissionId: EXAMPLE_ID, target: 'backoffice', tenant: '05513000', errorKind: 'http-503', failedAt: '2026-11-24T08:31:02.114Z' }] },
              },
            },
          },
          '400': operatorProblem('malformed-body', 400, 'The body is not JSON.', { title: 'The request body could not be parsed', detail: 'the request body could not be read' }),
          '401': operatorProblem('operator-unauthorized', 401, 'No bearer token, or not the operator token (portal tokens are not accepted).', {
            title: 'A valid operator token is required',
            detail: 'send Authorization: Bearer <operator token>',
          }, true),
          '422': operatorProblem('invalid-replay', 422, 'The filter is not valid: unknown fields, wrong types, unreadable times, or no filter field at all (pointer `#`).', {
            title: 'The replay request is not valid',
            detail: '1 field is not valid',
            errors: [{ pointer: '#/since', detail: 'expected an ISO 8601 date or date-time, e.g. 2026-11-24T08:00:00Z' }],
          }),
          '500': internalError('/api/v1/deliveries/replay'),
          '503': operatorDisabled,
        },
      },
    },
    ...statusPaths,
    ...targetsPaths,
    ...reconcilePaths,
    '/api/v1/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        summary: 'This description',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'The OpenAPI 3.1 description of this API.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['openapi', 'info', 'paths'],
                  properties: { openapi: { const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' } },
                },
              },
            },
          },
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'getHealth',
        summary: 'Liveness',
        description: 'Answers as long as the process runs; checks nothing else.',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'The process is alive.',
            content: { 'application/json': { schema: schema('Health'), example: { status: 'ok' } } },
          },
        },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness',
        summary: 'Readiness',
        description: 'Ready when the database answers. Use it for load balancer and orchestrator readiness checks.',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'The hub is ready to accept submissions.',
            content: { 'application/json': { schema: schema('Readiness'), example: { status: 'ready', database: 'postgres', worker: 'running' } } },
          },
          '503': problem('unavailable', 503, 'The database does not answer.', {
            title: 'The hub is not ready',
            detail: 'the database does not answer',
          }),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description: 'Metrics in the Prometheus text exposition format (version 0.0.4): intake by portal and outcome, intake latency, deliveries by state.',
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'The metrics (`text/plain; version=0.0.4; charset=utf-8`).',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      ...statusSecuritySchemes,
      operatorToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'The operator token: the value of the environment variable `AMTSBOTE_OPERATOR_TOKEN` the hub was started with. Portal tokens are not accepted.',
      },
      portalToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'The portal\'s token, configured per portal (the hub keeps only its SHA-256). Send `Authorization: Bearer <token>`.',
      },
    },
    headers: {
      Location: {
        description: 'The submission\'s address, relative to the hub: `/api/v1/submissions/{id}`.',
        required: true,
        schema: { type: 'string', format: 'uri-reference', pattern: '^/api/v1/submissions/[0-9a-f-]{36}$' },
      },
      'WWW-Authenticate': {
        description: 'The bearer challenge (RFC 6750); `error="invalid_token"` when a token was sent but is not known.',
        required: true,
        schema: { type: 'string', examples: ['Bearer realm="amtsbote"', 'Bearer realm="amtsbote", error="invalid_token"'] },
      },
    },
    schemas: {
      ...statusSchemas,
      ...targetsSchemas,
      ...reconcileSchemas,
      SubmissionEnvelope: {
        type: 'object',
        description: 'A submission as a portal sends it. `applicant` and `data` are free-form; the routes\' mappings decide what a back office needs from them.',
        required: ['externalId', 'tenant', 'service', 'submittedAt', 'applicant', 'data'],
        additionalProperties: false,
        properties: {
          externalId: {
            type: 'string',
            description: 'The portal\'s own id of the application, unique per portal: printable ASCII without spaces.',
            minLength: 1,
            maxLength: 200,
            pattern: '^[\\x21-\\x7e]+$',
            examples: ['SP-2026-000123'],
          },
          tenant: {
            type: 'string',
            description: 'The municipality: 8-digit AGS (Amtlicher Gemeindeschlüssel) or 5-digit district key.',
            pattern: '^\\d{5}(\\d{3})?$',
            examples: ['05513000', '05562'],
          },
          service: {
            type: 'string',
            description: 'The service: its slug as configured on the hub, or its 14-digit LeiKa key.',
            minLength: 1,
            maxLength: 100,
            examples: ['sperrmuell', '99050012104000'],
          },
          submittedAt: {
            type: 'string',
            format: 'date-time',
            pattern: SUBMITTED_AT_PATTERN,
            description: 'When the applicant submitted, ISO 8601 with seconds and a time zone (`Z` or `±hh:mm`).',
            examples: ['2026-11-24T09:30:00+01:00'],
          },
          applicant: {
            type: 'object',
            description: 'The applicant (Antragsteller), free-form: name, address, contact.',
            additionalProperties: true,
          },
          data: {
            type: 'object',
            description: 'The form\'s answers, free-form as the service\'s form defines them.',
            additionalProperties: true,
          },
          attachments: {
            type: 'array',
            description: 'Files sent with the application (proofs, photos). Omitted means none.',
            maxItems: 100,
            default: [],
            items: schema('Attachment'),
          },
        },
      },
      Attachment: {
        type: 'object',
        description: 'One file, inline as base64.',
        required: ['filename', 'mediaType', 'content'],
        additionalProperties: false,
        properties: {
          filename: {
            type: 'string',
            description: 'A file name without path separators or control characters; not `.` or `..`.',
            minLength: 1,
            maxLength: 255,
            pattern: '^(?!\\.\\.?$)[^\\\\/\\u0000-\\u001f]+$',
            examples: ['nachweis.pdf'],
          },
          mediaType: {
            type: 'string',
            description: 'The file\'s media type.',
            pattern: '^[\\w.+-]+/[\\w.+-]+$',
            examples: ['application/pdf', 'image/jpeg'],
          },
          content: {
            type: 'string',
            description: 'The file, base64-encoded (RFC 4648, with padding; whitespace such as line breaks is ignored).',
            contentEncoding: 'base64',
            pattern: BASE64_PATTERN,
          },
        },
      },
      SubmissionXml: {
        type: 'string',
        contentMediaType: 'application/xml',
        description: [
          'The XML form of `SubmissionEnvelope`: root element `<submission xmlns="urn:amtsbote:submission:1">`,',
          'the envelope\'s fields as child elements with the same names.',
          'Leaves are text (kept as written: `01234` stays a string); `type="number"` or `type="boolean"` on a leaf',
          'gives that type (`true`/`false`/`1`/`0`). An element whose children are all `<item>` is a list, with one',
          'item or many; attachments are `<attachments><item><filename>…</filename><mediaType>…</mediaType><content>…</content></item></attachments>`.',
          'Repeated elements outside `<item>` lists are refused; an empty `<attachments/>` means none, an empty',
          '`<applicant/>` or `<data/>` an empty object. Character references (`&#252;`) are decoded; entities other',
          'than XML\'s five are refused, as are DOCTYPE and entity declarations and nesting deeper than 32 levels.',
          'The same field rules as for JSON apply (422).',
        ].join(' '),
      },
      SubmissionStatus: {
        type: 'string',
        enum: ['received', 'delivering', 'delivered', 'failed'],
        description: [
          '`received`: no delivery tried yet; `delivering`: at least one delivery is under way or waiting for a retry;',
          '`delivered`: every back office has it; `failed`: a delivery failed for good and none is still open.',
        ].join(' '),
      },
      SubmissionAccepted: {
        type: 'object',
        description: 'The answer to a submission: its id on the hub and its status.',
        required: ['id', 'status'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', format: 'uuid', description: 'The submission\'s id on the hub (UUIDv7).' },
          status: schema('SubmissionStatus'),
        },
      },
      Submission: {
        type: 'object',
        description: 'A submission as the hub tracks it: ids, states, attempts and references; never form data.',
        required: ['id', 'externalId', 'tenant', 'service', 'submittedAt', 'receivedAt', 'status', 'caseStatus', 'statusHistory', 'deliveries'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', format: 'uuid', description: 'The submission\'s id on the hub (UUIDv7).' },
          externalId: { type: 'string', description: 'The portal\'s id of the application, as sent.' },
          tenant: { type: 'string', pattern: '^\\d{5}(\\d{3})?$', description: 'The tenant\'s official key (AGS or district key).' },
          service: { type: 'string', description: 'The service\'s slug (also when it was sent as a LeiKa key).' },
          submittedAt: { type: 'string', format: 'date-time', description: 'As the portal sent it.' },
          receivedAt: { type: 'string', format: 'date-time', description: 'When the hub stored it (UTC).' },
          status: schema('SubmissionStatus'),
          caseStatus: schema('CaseStatus'),
          statusHistory: { type: 'array', description: 'Every status the back offices reported for this submission, oldest first (by their time).', items: schema('StatusHistoryEntry') },
          deliveries: {
            type: 'array',
            description: 'One delivery per back office (target) the routes name, in the order they were created.',
            items: schema('Delivery'),
          },
        },
      },
      DeliveryState: {
        type: 'string',
        enum: ['queued', 'sending', 'waiting', 'acknowledging', 'delivered', 'failed'],
        description: '`queued`: due to be sent; `sending`: an attempt is under way; `waiting`: a retry is scheduled; `acknowledging`: handed over, the back office confirms later (e.g. a file drop with `.ok` files); `delivered`; `failed`: given up.',
      },
      Delivery: {
        type: 'object',
        description: 'The delivery of the submission to one back office.',
        required: ['id', 'target', 'route', 'state', 'attempts', 'nextAttemptAt', 'reference', 'lastError', 'lastErrorKind', 'deliveredAt', 'attemptLog'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', format: 'uuid', description: 'The delivery\'s id; also the idempotency key sent to the back office.' },
          target: { type: 'string', description: 'The back office (target id in the hub\'s configuration).' },
          route: { type: 'string', description: 'The route that chose this target.' },
          state: schema('DeliveryState'),
          attempts: { type: 'integer', minimum: 0, description: 'Attempts so far.' },
          nextAttemptAt: nullableTime('When the next attempt is due; only while `queued` or `waiting`, else null.'),
          reference: nullableString('The back office\'s reference for the case (e.g. Aktenzeichen), once it gave one.'),
          lastError: nullableString('The last attempt\'s error, if it failed.'),
          lastErrorKind: nullableString('The kind of the last error, e.g. `http-503`, `timeout`, `network`, `mapping`.'),
          deliveredAt: nullableTime('When the back office accepted it.'),
          attemptLog: { type: 'array', description: 'Every attempt, first first.', items: schema('Attempt') },
        },
      },
      AttemptOutcome: {
        type: ['string', 'null'],
        enum: ['delivered', 'retry', 'failed', 'interrupted', 'handed-over', null],
        description: '`delivered`; `retry`: failed, will be tried again; `failed`: failed for good; `interrupted`: the hub stopped mid-attempt; null while the attempt runs.',
      },
      Attempt: {
        type: 'object',
        description: 'One attempt to deliver.',
        required: ['number', 'startedAt', 'finishedAt', 'durationMs', 'outcome', 'error', 'errorKind', 'httpStatus', 'reference'],
        additionalProperties: false,
        properties: {
          number: { type: 'integer', minimum: 1, description: 'The attempt\'s number, from 1.' },
          startedAt: { type: 'string', format: 'date-time' },
          finishedAt: nullableTime('Null while the attempt runs.'),
          durationMs: { type: ['integer', 'null'], minimum: 0, description: 'Null while the attempt runs.' },
          outcome: schema('AttemptOutcome'),
          error: nullableString('What went wrong, if anything.'),
          errorKind: nullableString('The kind of error, e.g. `http-400`, `timeout`.'),
          httpStatus: { type: ['integer', 'null'], minimum: 100, maximum: 599, description: 'The back office\'s HTTP status, where there was one.' },
          reference: nullableString('The back office\'s reference, if this attempt delivered.'),
        },
      },
      Problem: {
        type: 'object',
        description: 'An error as RFC 9457 problem details. Branch on `type`; `title` is fixed per type, `detail` explains this occurrence.',
        required: ['type', 'title', 'status'],
        additionalProperties: false,
        properties: {
          type: {
            type: 'string',
            format: 'uri',
            enum: [
              'urn:amtsbote:problem:malformed-body',
              'urn:amtsbote:problem:unauthorized',
              'urn:amtsbote:problem:tenant-not-allowed',
              'urn:amtsbote:problem:not-found',
              'urn:amtsbote:problem:external-id-conflict',
              'urn:amtsbote:problem:body-too-large',
              'urn:amtsbote:problem:unsupported-media-type',
              'urn:amtsbote:problem:invalid-submission',
              'urn:amtsbote:problem:internal-error',
              'urn:amtsbote:problem:unavailable',
              'urn:amtsbote:problem:operator-unauthorized',
              'urn:amtsbote:problem:delivery-not-failed',
              'urn:amtsbote:problem:invalid-replay',
              'urn:amtsbote:problem:operator-api-disabled',
              ...statusProblemTypes,
              ...reconcileProblemTypes,
            ],
          },
          title: { type: 'string' },
          status: { type: 'integer', minimum: 400, maximum: 599 },
          detail: { type: 'string' },
          instance: { type: 'string', format: 'uri-reference', description: 'The request path.' },
          errors: { type: 'array', minItems: 1, description: 'The offending fields (422).', items: schema('FieldError') },
        },
      },
      FieldError: {
        type: 'object',
        required: ['pointer', 'detail'],
        additionalProperties: false,
        properties: {
          pointer: { type: 'string', pattern: '^#(/.*)?$', description: 'A JSON Pointer (RFC 6901, as a URI fragment) to the field in the body; for XML, the same path in its JSON form.', examples: ['#/attachments/0/content'] },
          detail: { type: 'string', description: 'What is wrong (`required`, `expected object`, the rule broken); never the value sent.' },
        },
      },
      ReplayFilter: {
        type: 'object',
        description: 'Which failed deliveries to replay; every given field must match, and at least one of target, tenant, errorKind, since, until is needed.',
        additionalProperties: false,
        properties: {
          target: { type: 'string', minLength: 1, description: 'The target id.' },
          tenant: { type: 'string', minLength: 1, description: 'The tenant key (AGS).', examples: ['05513000'] },
          errorKind: { type: 'string', minLength: 1, description: 'The kind of the last error, e.g. `http-400`, `http-503`, `timeout`, `mapping`.' },
          since: { type: 'string', description: 'Failed at or after (ISO 8601).', examples: ['2026-11-24T00:00:00Z'] },
          until: { type: 'string', description: 'Failed before (ISO 8601).' },
          dryRun: { type: 'boolean', default: false, description: 'Only list what would be replayed.' },
          reason: { type: 'string', maxLength: 500, description: 'Why, for the sync log.' },
        },
      },
      ReplayReport: {
        type: 'object',
        required: ['dryRun', 'matched', 'replayed', 'truncated', 'deliveries'],
        additionalProperties: false,
        properties: {
          dryRun: { type: 'boolean' },
          matched: { type: 'integer', minimum: 0, description: 'Failed deliveries that matched.' },
          replayed: { type: 'integer', minimum: 0, description: 'Of those, put back in the queue (0 on a dry run).' },
          truncated: { type: 'boolean', description: 'More than 10 000 matched; call again for the rest.' },
          deliveries: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'submissionId', 'target', 'tenant', 'errorKind', 'failedAt'],
              additionalProperties: false,
              properties: {
                id: { type: 'string', format: 'uuid' },
                submissionId: { type: 'string', format: 'uuid' },
                target: { type: 'string' },
                tenant: { type: 'string' },
                errorKind: { type: ['string', 'null'] },
                failedAt: { type: 'string', format: 'date-time' },
                outcome: { type: 'string', enum: ['replayed', 'not-failed', 'not-found'], description: 'Absent on a dry run. `not-failed`: it changed state between finding and replaying.' },
              },
            },
          },
        },
      },
      ReplayedDelivery: {
        type: 'object',
        required: ['id', 'state', 'attempts', 'previousError'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', format: 'uuid' },
          state: { const: 'queued' },
          attempts: { type: 'integer', minimum: 0, description: 'Attempts so far; the next one is numbered one higher.' },
          previousError: { type: ['string', 'null'], description: 'The error it had failed with.' },
        },
      },
      Health: {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: { status: { const: 'ok' } },
      },
      Readiness: {
        type: 'object',
        required: ['status', 'database', 'worker'],
        additionalProperties: false,
        properties: {
          status: { const: 'ready' },
          database: { type: 'string', enum: ['sqlite', 'postgres'] },
          worker: { type: 'string', enum: ['running', 'disabled'], description: '`disabled` when this instance only takes submissions and another one delivers.' },
        },
      },
    },
  },
};
