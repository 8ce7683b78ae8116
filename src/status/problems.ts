import { defineProblems } from '../http/problem-details.ts';

/** The problem types of status pushed by back offices (push-routes.ts). */
export const statusProblem = defineProblems({
  'backoffice-unauthorized': { status: 401, title: 'A valid back-office token is required' },
  'unknown-case': { status: 404, title: 'No case of this back office matches the event' },
  'invalid-status-event': { status: 422, title: 'The status event is not valid' },
});
