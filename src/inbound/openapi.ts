/**
 * The inbound channels' part of the OpenAPI description: `POST /api/v1/inbound/{channel}`. The body is the
 * standard's own document, so no schema is given for it here: each channel's XSD or JSON Schema checks it.
 */
import type { OpenApiFragment } from '../http/openapi/assemble.ts';
import { problemResponse } from '../http/openapi/problems.ts';
import { requires } from '../http/openapi/security.ts';
import { ref } from '../http/openapi/types.ts';

const INBOUND = '/api/v1/inbound/{channel}';
const EXAMPLE = '/api/v1/inbound/xgewerbeanzeige';
const EXAMPLE_ID = '01a20f8d-4ba7-73f2-b1d7-514ccc19bd3e';
const location = { Location: { $ref: '#/components/headers/Location' } };
const document = { type: 'string', description: "The document in its standard's form, exactly as the portal has it." } as const;

export const inboundFragment: OpenApiFragment = {
  paths: {
    [INBOUND]: {
      post: {
        operationId: 'sendInboundDocument',
        summary: 'Send a standards message (XÖV XML, FIM JSON) as it is',
        description: [
          'Takes one document on a configured inbound channel: the channel checks its media type, encoding, root',
          'element and schema, and its mapping reads tenant, service, externalId and submittedAt from it. Then as',
          '`POST /api/v1/submissions`: tenant and service routed (422), allowed for the portal (403), the service',
          'data schema (422), stored once per externalId (200 for a repeat, 409 for another document). The original',
          'bytes are kept: a target with format original receives them unchanged. Nothing is stored unless the answer is 202.',
        ].join(' '),
        tags: ['submissions'],
        security: requires('portalToken'),
        parameters: [
          {
            name: 'channel',
            in: 'path',
            required: true,
            description: "The channel's name in the configuration (`inbound.channels[].name`).",
            schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$', examples: ['xgewerbeanzeige'] },
          },
        ],
        requestBody: {
          required: true,
          description: 'XML channels take application/xml, text/xml or application/…+xml; JSON channels application/json.',
          content: { 'application/xml': { schema: document }, 'text/xml': { schema: document }, 'application/json': { schema: {} } },
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
            description: 'A repeat: this portal already sent a document with this externalId and the same content.',
            headers: location,
            content: { 'application/json': { schema: ref('SubmissionAccepted'), example: { id: EXAMPLE_ID, status: 'delivered' } } },
          },
          '400': problemResponse('unreadable-document', 'Not readable: the encoding, hostile or broken XML, JSON that does not parse.', {
            detail: 'the document is not well-formed',
            instance: EXAMPLE,
          }),
          '401': {
            ...problemResponse('unauthorized', 'No bearer token, or one no portal is configured with.', {
              detail: 'send Authorization: Bearer <portal token>',
              instance: EXAMPLE,
            }),
            headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } },
          },
          '403': problemResponse('tenant-not-allowed', 'The tenant exists but this portal may not submit for it.', {
            detail: 'portal portal-a may not submit for tenant 05512000',
            instance: EXAMPLE,
          }),
          '404': problemResponse('not-found', 'No inbound channel of this name.', {
            detail: 'no inbound channel xgewerbe',
            instance: EXAMPLE,
          }),
          '409': problemResponse('external-id-conflict', 'This externalId was already used for a different document.', {
            instance: EXAMPLE,
          }),
          '413': problemResponse('body-too-large', 'The body is larger than the hub accepts (25 MB by default).', {
            detail: 'the limit is 26214400 bytes',
            instance: EXAMPLE,
          }),
          '415': problemResponse('unsupported-document-type', 'Not a media type this channel takes.', { instance: EXAMPLE }),
          '422': problemResponse(
            'invalid-document',
            'The wrong root element, the schema refuses the document, or the mapping cannot read it; also `invalid-service-data` (the service data schema) and `invalid-submission` (tenant or service unknown or not routed). `errors` names each place.',
            {
              detail:
                "the document does not fit its schema: Element 'postleitzahl': [facet 'pattern'] the value is not accepted by the pattern '[0-9]{5}'.",
              instance: EXAMPLE,
              errors: [
                {
                  pointer: '#/gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:betriebsstaette/gew:postleitzahl',
                  detail: "Element 'postleitzahl': [facet 'pattern'] the value is not accepted by the pattern '[0-9]{5}'.",
                },
              ],
            },
          ),
          '500': problemResponse('internal-error', 'An unexpected error in the hub; nothing was changed.', { instance: EXAMPLE }),
        },
      },
    },
  },
};
