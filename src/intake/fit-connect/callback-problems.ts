import { defineProblems } from '../../http/problem-details.ts';

/** The problem types of `POST /api/v1/fit-connect/{destination}/callback`; documented in docs/api.md. */
export const callbackProblem = defineProblems({
  'callback-refused': { status: 401, title: 'The callback is not authentic or not fresh' },
  'callback-invalid': { status: 400, title: 'The callback is not a new-submissions callback' },
});
