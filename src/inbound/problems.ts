import { defineProblems } from '../http/problem-details.ts';

/** The problem types of `POST /api/v1/inbound/{channel}` beyond the portal API's own; documented in docs/api.md. */
export const inboundProblem = defineProblems({
  'unsupported-document-type': { status: 415, title: 'This channel does not take documents of this media type' },
  'unreadable-document': { status: 400, title: 'The document could not be read' },
  'invalid-document': { status: 422, title: 'The document does not fit its channel' },
  'invalid-service-data': { status: 422, title: "The submission's data does not fit its service's schema" },
});
