/**
 * Problem details (RFC 9457) in the description: each response's `type`, `status` and example `title` come from
 * the problem registry (../problem-details.ts: every feature's defineProblems), so they cannot differ from what
 * sendProblem() answers. The kernel imports no feature: src/api-description.ts loads their sets first (src/problems.ts).
 */
import { registeredProblems, type FieldError, type ProblemDef } from '../problem-details.ts';
import { bearerChallenge } from './security.ts';
import { ref, type Header, type JsonSchema, type Reference, type ResponseObject } from './types.ts';

export const PROBLEM_JSON = 'application/problem+json';
/** A problem type's name, as a feature defined it. */
type ProblemType = string;

const urn = (type: ProblemType) => `urn:amtsbote:problem:${type}`;

/** What an example problem adds to its type, title and status. */
export interface ProblemExample {
  detail?: string;
  instance?: string;
  errors?: FieldError[];
}

/** A problem response: the schema pins `type` and `status` to the problem type's. */
export function problemResponse(
  type: ProblemType,
  description: string,
  example: ProblemExample = {},
  headers?: Record<string, Header | Reference>,
): ResponseObject {
  const { status, title } = problemDef(type);
  return {
    description,
    ...(headers ? { headers } : {}),
    content: {
      [PROBLEM_JSON]: {
        schema: { allOf: [ref('Problem')], properties: { type: { const: urn(type) }, status: { const: status } } },
        example: { type: urn(type), title, status, ...example },
      },
    },
  };
}

/** A 401 problem with its bearer challenge of `realm`. */
export function unauthorizedResponse(type: ProblemType, realm: string, description: string, example: ProblemExample = {}): ResponseObject {
  return problemResponse(type, description, example, { 'WWW-Authenticate': bearerChallenge(realm) });
}

/** The schemas every problem answer refers to: `Problem` (its `type` one of the registry's) and `FieldError`. */
export function problemSchemas(): Record<string, JsonSchema> {
  return {
    Problem: {
      type: 'object',
      description: 'An error as RFC 9457 problem details. Branch on `type`; `title` is fixed per type, `detail` explains this occurrence.',
      required: ['type', 'title', 'status'],
      additionalProperties: false,
      properties: {
        type: { type: 'string', format: 'uri', enum: [...registeredProblems().keys()].map(urn) },
        title: { type: 'string' },
        status: { type: 'integer', minimum: 400, maximum: 599 },
        detail: { type: 'string' },
        instance: { type: 'string', format: 'uri-reference', description: 'The request path.' },
        errors: { type: 'array', minItems: 1, description: 'The offending fields (422).', items: ref('FieldError') },
      },
    },
    FieldError: {
      type: 'object',
      required: ['pointer', 'detail'],
      additionalProperties: false,
      properties: {
        pointer: {
          type: 'string',
          pattern: '^#(/.*)?$',
          description: 'A JSON Pointer (RFC 6901, as a URI fragment) to the field in the body; for XML, the same path in its JSON form.',
          examples: ['#/attachments/0/content'],
        },
        detail: { type: 'string', description: 'What is wrong (`required`, `expected object`, the rule broken); never the value sent.' },
      },
    },
  };
}

function problemDef(type: ProblemType): ProblemDef {
  const def = registeredProblems().get(type);
  if (!def) throw new Error(`the OpenAPI description names problem type ${type}, which no feature defines`);
  return def;
}
