import { defineProblems } from '../http/problem-details.ts';
import { refusalTitles } from './accept.ts';

/** The problem types of the portal API (POST/GET /api/v1/submissions); documented in docs/api.md. */
export const intakeProblem = defineProblems({
  unauthorized: { status: 401, title: 'A valid portal token is required' },
  'tenant-not-allowed': { status: 403, title: refusalTitles['tenant-not-allowed'] },
  'external-id-conflict': { status: 409, title: refusalTitles['external-id-conflict'] },
  'invalid-submission': { status: 422, title: refusalTitles['invalid-submission'] },
});
