import type { Response } from 'express';

/** One offending field: RFC 9457's `errors` extension, with a JSON Pointer into the request body. */
export interface FieldError {
  pointer: string;
  detail: string;
}

/** Problem types; documented in docs/api.md. */
export const problemTypes = {
  'malformed-body': { status: 400, title: 'The request body could not be parsed' },
  unauthorized: { status: 401, title: 'A valid portal token is required' },
  'tenant-not-allowed': { status: 403, title: 'This portal may not submit for this tenant' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'This method is not allowed here' },
  'external-id-conflict': { status: 409, title: 'This external id was already used for a different submission' },
  'body-too-large': { status: 413, title: 'The request body is larger than allowed' },
  'unsupported-media-type': { status: 415, title: 'Send application/json, application/xml or text/xml' },
  'invalid-submission': { status: 422, title: 'The submission is not valid' },
  'internal-error': { status: 500, title: 'The hub could not process the request' },
  unavailable: { status: 503, title: 'The hub is not ready' },
  // The operator API (replay of failed deliveries).
  'operator-unauthorized': { status: 401, title: 'A valid operator token is required' },
  'delivery-not-failed': { status: 409, title: 'Only a failed delivery can be replayed' },
  'invalid-replay': { status: 422, title: 'The replay request is not valid' },
  'operator-api-disabled': { status: 503, title: 'The operator API is disabled' },
  // Status pushed by back offices (src/status/push-routes.ts).
  'backoffice-unauthorized': { status: 401, title: 'A valid back-office token is required' },
  'unknown-case': { status: 404, title: 'No case of this back office matches the event' },
  'invalid-status-event': { status: 422, title: 'The status event is not valid' },
  // Reconciliation runs and reports (src/reconcile/http.ts).
  'invalid-reconcile-request': { status: 422, title: 'The reconciliation request is not valid' },
  'discrepancy-not-awaiting': { status: 409, title: 'This finding is not waiting for an operator' },
} as const;

export type ProblemType = keyof typeof problemTypes;

export class HttpProblem extends Error {
  constructor(
    readonly type: ProblemType,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? problemTypes[type].title);
  }
}

export function sendProblem(res: Response, p: HttpProblem, instance?: string): void {
  const { status, title } = problemTypes[p.type];
  for (const [k, v] of Object.entries(p.headers)) res.setHeader(k, v);
  res
    .status(status)
    .type('application/problem+json')
    .json({
      type: `urn:amtsbote:problem:${p.type}`,
      title,
      status,
      ...(p.detail ? { detail: p.detail } : {}),
      ...(instance ? { instance } : {}),
      ...(p.errors?.length ? { errors: p.errors } : {}),
    });
}

/**
 * `['data', 'items', 0]` → `#/data/items/0`: a JSON Pointer (RFC 6901) in its URI-fragment form, as RFC 9457's
 * example uses; characters a fragment may not hold are percent-encoded.
 */
export function pointer(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '#';
  return '#/' + path.map((p) => encodeFragment(String(p).replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
}

function encodeFragment(s: string): string {
  return s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]/g, (c) => encodeURIComponent(c));
}
