/** The description's own path: `GET /api/v1/openapi.json` (served by the hub, listed with the other fragments). */
import type { OpenApiFragment } from './assemble.ts';
import { requires } from './security.ts';

export const documentFragment: OpenApiFragment = {
  paths: {
    '/api/v1/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        summary: 'This description',
        tags: ['operations'],
        security: requires('nothing'),
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
  },
};
