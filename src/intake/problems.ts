import { defineProblems, pointer, type HttpProblem } from '../http/problem-details.ts';
import { refusalTitles, type AcceptResult } from './accept.ts';

/** The problem types of the portal API (POST/GET /api/v1/submissions); documented in docs/api.md. */
export const intakeProblem = defineProblems({
  unauthorized: { status: 401, title: 'A valid portal token is required' },
  'signature-invalid': { status: 401, title: 'The request signature is missing, stale or wrong' },
  'too-many-requests': { status: 429, title: 'This portal sends more submissions than it may' },
  'tenant-not-allowed': { status: 403, title: refusalTitles['tenant-not-allowed'] },
  'external-id-conflict': { status: 409, title: refusalTitles['external-id-conflict'] },
  'invalid-submission': { status: 422, title: refusalTitles['invalid-submission'] },
});

/** A refused submission as the portal API answers it: 403, 409 or 422 with the fields at fault. */
export function refusalProblem(r: Extract<AcceptResult, { ok: false }>): HttpProblem {
  const errors = r.fields.map((f) => ({ pointer: pointer(f.path), detail: f.detail }));
  return intakeProblem(r.kind, r.detail, errors.length ? errors : undefined);
}
