import { defineProblems } from '../http/problem-details.ts';

/** The problem types of the operator API (replay, targets, reconciliation runs) and of /readyz. */
export const operatorProblem = defineProblems({
  'operator-unauthorized': { status: 401, title: 'A valid operator token is required' },
  'operator-forbidden': { status: 403, title: 'The login does not allow this' },
  'delivery-not-failed': { status: 409, title: 'Only a failed delivery can be replayed' },
  'invalid-replay': { status: 422, title: 'The replay request is not valid' },
  'operator-api-disabled': { status: 503, title: 'The operator API is disabled' },
  unavailable: { status: 503, title: 'The hub is not ready' },
});
