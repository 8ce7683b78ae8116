import { defineProblems } from '../http/problem-details.ts';

/** The problem types of the operator console's JSON API (/api/v1/console/…). */
export const consoleProblem = defineProblems({
  'invalid-console-query': { status: 400, title: 'The query parameters are not valid' },
});
