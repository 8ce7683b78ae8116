/**
 * The FIT-Connect callback's part of the OpenAPI description: `POST /api/v1/fit-connect/{destination}/callback`,
 * called by the FIT-Connect platform (not by portals), authenticated by its HMAC headers.
 */
import type { OpenApiFragment } from '../../http/openapi/assemble.ts';
import { problemResponse } from '../../http/openapi/problems.ts';
import { CALLBACK_NEW_SUBMISSIONS } from './callback.ts';

const PATH = '/api/v1/fit-connect/{destination}/callback';
const EXAMPLE = '/api/v1/fit-connect/gelsenkirchen-gewerbe/callback';

export const fitConnectFragment: OpenApiFragment = {
  tags: [{ name: 'fit-connect', description: 'The FIT-Connect platform tells the hub about new submissions at a destination.' }],
  paths: {
    [PATH]: {
      post: {
        operationId: 'fitConnectCallback',
        summary: 'FIT-Connect: new submissions are waiting at a destination',
        description: [
          "The FIT-Connect platform's new-submissions callback. It is believed only with `callback-authentication`, the",
          "hex HMAC-SHA512 over `{callback-timestamp}.{body}` with the destination's callback secret, and a",
          '`callback-timestamp` (Unix seconds) at most 5 minutes old. A good callback makes the hub poll the destination',
          'now; it stores nothing itself. Any other callback changes nothing.',
        ].join(' '),
        tags: ['fit-connect'],
        security: [],
        parameters: [
          {
            name: 'destination',
            in: 'path',
            required: true,
            description: "The destination's name in the configuration (`fitConnect.destinations[].name`).",
            schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', examples: ['gelsenkirchen-gewerbe'] },
          },
          { name: 'callback-authentication', in: 'header', required: true, schema: { type: 'string', pattern: '^[0-9a-fA-F]{128}$' } },
          { name: 'callback-timestamp', in: 'header', required: true, schema: { type: 'string', pattern: '^[0-9]{1,12}$' } },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['type', 'submissions'],
                properties: {
                  type: { const: CALLBACK_NEW_SUBMISSIONS },
                  submissions: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['destinationId', 'submissionId', 'caseId'],
                      properties: { destinationId: { type: 'string' }, submissionId: { type: 'string' }, caseId: { type: 'string' } },
                    },
                  },
                },
              },
            },
          },
        },
        responses: {
          '202': { description: 'Authentic and fresh: the destination is polled now.' },
          '400': problemResponse('callback-invalid', 'Authentic, but not a new-submissions callback.', { instance: EXAMPLE }),
          '401': problemResponse('callback-refused', 'A wrong or missing HMAC, or a timestamp older than 5 minutes.', {
            detail: 'the callback-authentication HMAC does not match',
            instance: EXAMPLE,
          }),
          '404': problemResponse('not-found', 'No destination of this name, or none with a callback secret.', { instance: EXAMPLE }),
        },
      },
    },
  },
};
