import { defineProblems } from '../http/problem-details.ts';

/** The problem types of reconciliation runs and reports (http.ts); the operator token's are operator/problems.ts. */
export const reconcileProblem = defineProblems({
  'invalid-reconcile-request': { status: 422, title: 'The reconciliation request is not valid' },
  'discrepancy-not-awaiting': { status: 409, title: 'This finding is not waiting for an operator' },
});
