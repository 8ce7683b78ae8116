/**
 * The submission API's part of the OpenAPI description: `POST /api/v1/submissions` and `GET
 * /api/v1/submissions/{id}`. The envelope's schema is generated from the zod schema validation uses
 * (envelope.ts), the answers' from submission-answers.ts; only the XML form is written here, as no schema
 * validates it before it becomes an envelope (xml.ts).
 */
import type { OpenApiFragment } from '../http/openapi/assemble.ts';
import { problemResponse } from '../http/openapi/problems.ts';
import { requires } from '../http/openapi/security.ts';
import { ref, type ResponseObject } from '../http/openapi/types.ts';
import { attachmentSchema, envelopeSchema } from './envelope.ts';
import { EXAMPLE_ID, exampleEnvelope, exampleSubmission, exampleXml } from './openapi-examples.ts';
import { submissionAnswers } from './submission-answers.ts';

const SUBMISSIONS = '/api/v1/submissions';
const ONE = `${SUBMISSIONS}/${EXAMPLE_ID}`;
const location = { Location: { $ref: '#/components/headers/Location' } };

const unauthorized = (instance: string): ResponseObject => ({
  ...problemResponse('unauthorized', 'No bearer token, or one no portal is configured with.', {
    detail: 'send Authorization: Bearer <portal token>',
    instance,
  }),
  headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } },
});
/** A submission's 401: no valid token, or (for a portal with `signing`) no valid signature (docs/security.md). */
const unauthorizedOrUnsigned = (): ResponseObject => {
  const r = unauthorized(SUBMISSIONS);
  const json = r.content!['application/problem+json']!;
  return {
    ...r,
    description:
      'No bearer token, or one no portal is configured with (`unauthorized`); or, for a portal that signs its requests, X-Amtsbote-Timestamp/X-Amtsbote-Signature missing, stale, wrong or replayed (`signature-invalid`).',
    content: {
      'application/problem+json': {
        ...json,
        schema: {
          allOf: [ref('Problem')],
          properties: {
            type: { enum: ['urn:amtsbote:problem:unauthorized', 'urn:amtsbote:problem:signature-invalid'] },
            status: { const: 401 },
          },
        },
      },
    },
  };
};
const internalError = (instance: string) =>
  problemResponse('internal-error', 'An unexpected error in the hub; nothing was changed. Try again later.', { instance });

export const intakeFragment: OpenApiFragment = {
  tags: [{ name: 'submissions', description: 'Send applications and follow their delivery.' }],
  requests: { SubmissionEnvelope: envelopeSchema, Attachment: attachmentSchema },
  answers: submissionAnswers,
  schemas: {
    SubmissionXml: {
      type: 'string',
      contentMediaType: 'application/xml',
      description: [
        'The XML form of `SubmissionEnvelope`: root element `<submission xmlns="urn:amtsbote:submission:1">`,',
        "the envelope's fields as child elements with the same names.",
        'Leaves are text (kept as written: `01234` stays a string); `type="number"` or `type="boolean"` on a leaf',
        'gives that type (`true`/`false`/`1`/`0`). An element whose children are all `<item>` is a list, with one',
        'item or many; attachments are `<attachments><item><filename>…</filename><mediaType>…</mediaType><content>…</content></item></attachments>`.',
        'Repeated elements outside `<item>` lists are refused; an empty `<attachments/>` means none, an empty',
        '`<applicant/>` or `<data/>` an empty object. Character references (`&#252;`) are decoded; entities other',
        "than XML's five are refused, as are DOCTYPE and entity declarations and nesting deeper than 32 levels.",
        'The same field rules as for JSON apply (422).',
      ].join(' '),
    },
  },
  headers: {
    Location: {
      description: "The submission's address, relative to the hub: `/api/v1/submissions/{id}`.",
      required: true,
      schema: { type: 'string', format: 'uri-reference', pattern: '^/api/v1/submissions/[0-9a-f-]{36}$' },
    },
    'WWW-Authenticate': {
      description: 'The bearer challenge (RFC 6750); `error="invalid_token"` when a token was sent but is not known.',
      required: true,
      schema: { type: 'string', examples: ['Bearer realm="amtsbote"', 'Bearer realm="amtsbote", error="invalid_token"'] },
    },
  },
  paths: {
    [SUBMISSIONS]: {
      post: {
        operationId: 'createSubmission',
        summary: 'Send a submission',
        description: [
          'Stores the submission and queues one delivery per back office the routes name for its tenant and service.',
          'The checks run in this order: token (401), rate limit (429), media type and charset (415), body size (413),',
          'signature where the portal signs (401), parsing (400), fields and attachments (422), tenant and service known (422), tenant allowed for this portal (403), service offered for the',
          'tenant (422), external id (200/409).',
          'Nothing is stored unless the answer is 202.',
        ].join(' '),
        tags: ['submissions'],
        security: requires('portalToken'),
        requestBody: {
          required: true,
          description:
            'The submission in UTF-8 (a `charset` other than UTF-8 is refused with 415). At most 25 MB by default (`server.bodyLimit`).',
          content: {
            'application/json': { schema: ref('SubmissionEnvelope'), example: exampleEnvelope },
            'application/xml': { schema: ref('SubmissionXml'), example: exampleXml },
            'text/xml': { schema: ref('SubmissionXml') },
          },
        },
        responses: {
          '202': {
            description: 'Accepted: stored and queued for delivery. Follow `Location` for the delivery status.',
            headers: location,
            content: {
              'application/json': {
                schema: { allOf: [ref('SubmissionAccepted')], properties: { status: { const: 'received' } } },
                example: { id: EXAMPLE_ID, status: 'received' },
              },
            },
          },
          '200': {
            description:
              'A resubmission: this portal already sent this externalId with the same content. Nothing new is stored; the answer names the first submission and its current status.',
            headers: location,
            content: { 'application/json': { schema: ref('SubmissionAccepted'), example: { id: EXAMPLE_ID, status: 'delivered' } } },
          },
          '400': problemResponse(
            'malformed-body',
            'The body is not valid JSON, not well-formed XML, breaks the XML convention, or arrived incomplete.',
            {
              detail: 'the body is not valid JSON (at character 17)',
              instance: SUBMISSIONS,
            },
          ),
          '401': unauthorizedOrUnsigned(),
          '403': problemResponse('tenant-not-allowed', 'The tenant exists but this portal may not submit for it.', {
            detail: 'portal portal-a may not submit for tenant 05512000',
            instance: SUBMISSIONS,
          }),
          '409': problemResponse(
            'external-id-conflict',
            'This portal already used the externalId for a submission with different content. Use a new externalId for a new application.',
            {
              detail: `external id SP-2026-000123 was first used for submission ${EXAMPLE_ID} with a different body`,
              instance: SUBMISSIONS,
            },
          ),
          '413': problemResponse('body-too-large', 'The body is larger than the hub accepts (25 MB by default).', {
            detail: 'the limit is 26214400 bytes',
            instance: SUBMISSIONS,
          }),
          '415': problemResponse(
            'unsupported-media-type',
            'Content-Type is missing, not JSON or XML, or names a charset other than UTF-8.',
            { detail: 'text/plain is not accepted', instance: SUBMISSIONS },
          ),
          '422': problemResponse(
            'invalid-submission',
            'Fields are missing or invalid, the tenant or service is unknown, or the service is not offered for the tenant. `errors` names each field.',
            {
              detail: '2 fields are not valid',
              instance: SUBMISSIONS,
              errors: [
                { pointer: '#/tenant', detail: 'an official key: 8-digit AGS or 5-digit district key' },
                { pointer: '#/applicant', detail: 'required' },
              ],
            },
          ),
          '429': problemResponse(
            'too-many-requests',
            "The portal's token is over its configured rate (`rateLimit`); `Retry-After` says when to try again.",
            { detail: 'portal ge-portal may send 60 submissions per minute', instance: SUBMISSIONS },
            { 'Retry-After': { description: 'Seconds until one more submission is taken.', schema: { type: 'integer', minimum: 1 } } },
          ),
          '500': internalError(SUBMISSIONS),
        },
      },
    },
    [`${SUBMISSIONS}/{id}`]: {
      get: {
        operationId: 'getSubmission',
        summary: 'Show a submission and its deliveries',
        description:
          "The status of one of this portal's submissions, every delivery to a back office and every attempt, with the back office's reference (Aktenzeichen) once delivered. Never contains form data.",
        tags: ['submissions'],
        security: requires('portalToken'),
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
            content: { 'application/json': { schema: ref('Submission'), example: exampleSubmission } },
          },
          '401': unauthorized(ONE),
          '404': problemResponse('not-found', "No such submission for this portal. Another portal's submission is answered the same way.", {
            detail: `no submission ${EXAMPLE_ID} for this portal`,
            instance: ONE,
          }),
          '500': internalError(ONE),
        },
      },
    },
  },
};
