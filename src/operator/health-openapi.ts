/** The operations part of the OpenAPI description: `/healthz`, `/readyz` and `/metrics` (health.ts). */
import { z } from 'zod';
import type { OpenApiFragment } from '../http/openapi/assemble.ts';
import { problemResponse } from '../http/openapi/problems.ts';
import { requires } from '../http/openapi/security.ts';
import { ref } from '../http/openapi/types.ts';

const health = z.strictObject({ status: z.literal('ok') });
const readiness = z.strictObject({
  status: z.literal('ready'),
  database: z.enum(['sqlite', 'postgres']),
  worker: z
    .enum(['running', 'disabled'])
    .meta({ description: '`disabled` when this instance only takes submissions and another one delivers.' }),
});

export const healthFragment: OpenApiFragment = {
  tags: [{ name: 'operations', description: 'Health, readiness, metrics and this description.' }],
  answers: { Health: health, Readiness: readiness },
  paths: {
    '/healthz': {
      get: {
        operationId: 'getHealth',
        summary: 'Liveness',
        description: 'Answers as long as the process runs; checks nothing else.',
        tags: ['operations'],
        security: requires('nothing'),
        responses: {
          '200': {
            description: 'The process is alive.',
            content: { 'application/json': { schema: ref('Health'), example: { status: 'ok' } } },
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
        security: requires('nothing'),
        responses: {
          '200': {
            description: 'The hub is ready to accept submissions.',
            content: {
              'application/json': { schema: ref('Readiness'), example: { status: 'ready', database: 'postgres', worker: 'running' } },
            },
          },
          '503': problemResponse('unavailable', 'The database does not answer.', { detail: 'the database does not answer' }),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description:
          'Metrics in the Prometheus text exposition format (version 0.0.4): intake by portal and outcome, intake latency, deliveries by state.',
        tags: ['operations'],
        security: requires('nothing'),
        responses: {
          '200': {
            description: 'The metrics (`text/plain; version=0.0.4; charset=utf-8`).',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
  },
};
