/**
 * `GET /api/v1/session` in the OpenAPI description: who is logged in, and the CSRF token for changes.
 * Keep it in step with login-routes.ts.
 */
import type { OpenApiFragment } from '../../http/openapi/assemble.ts';
import { unauthorizedResponse } from '../../http/openapi/problems.ts';
import { requires } from '../../http/openapi/security.ts';

export const sessionFragment: OpenApiFragment = {
  tags: [{ name: 'session', description: 'The operator login behind a request: a console session or an operator token.' }],
  paths: {
    '/api/v1/session': {
      get: {
        operationId: 'getSession',
        summary: 'Who is asking: role, tenants and (for a console session) the CSRF token',
        tags: ['session'],
        security: requires('operatorToken'),
        responses: {
          '200': {
            description:
              'The principal. `csrfToken` is what a state-changing request authenticated by the session cookie must send as `x-csrf-token`; null for a bearer token.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'name', 'role', 'via', 'tenants', 'csrfToken'],
                  additionalProperties: false,
                  properties: {
                    id: { type: 'string', description: '`account:<name>`, `oidc:<issuer>#<sub>` or `token:<id>`' },
                    name: { type: 'string' },
                    role: { enum: ['viewer', 'operator', 'admin'] },
                    via: { enum: ['token', 'session', 'oidc'] },
                    tenants: {
                      oneOf: [{ const: 'all' }, { type: 'array', items: { type: 'string' } }],
                      description: 'tenant keys, districts expanded to their towns; `all` for every tenant',
                    },
                    csrfToken: { type: ['string', 'null'] },
                  },
                },
                example: { id: 'account:ge-op', name: 'ge-op', role: 'operator', via: 'session', tenants: ['05513000'], csrfToken: 'k3…' },
              },
            },
          },
          '401': unauthorizedResponse('operator-unauthorized', 'amtsbote-operator', 'No operator token and no console session.', {
            detail: 'send Authorization: Bearer <operator token>, or log in at /console/login',
            instance: '/api/v1/session',
          }),
        },
      },
    },
  },
};
