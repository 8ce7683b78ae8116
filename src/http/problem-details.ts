import type { Response } from 'express';

/**
 * RFC 9457 problem details. Each feature defines the problem types of its API in its own folder with
 * `defineProblems` (intake/problems.ts, operator/problems.ts, …); the kernel defines only the ones every API
 * shares (`httpProblem`). A type's `type` URI, status and title are fixed; `detail` explains one occurrence.
 */

/** One offending field: RFC 9457's `errors` extension, with a JSON Pointer into the request body. */
export interface FieldError {
  pointer: string;
  detail: string;
}

export interface ProblemDef {
  readonly status: number;
  readonly title: string;
}

export const PROBLEM_TYPE_BASE = 'urn:amtsbote:problem:';

export class HttpProblem extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

/** Makes a problem of one of the set's types: `problem('not-found', 'no delivery 42')`. */
export type ProblemFactory<T extends Record<string, ProblemDef>> = {
  (type: keyof T & string, detail?: string, errors?: FieldError[], headers?: Record<string, string>): HttpProblem;
  /** The set's types, for the OpenAPI description and docs. */
  readonly types: T;
};

// Every type defined anywhere, so two features cannot give one type URI two meanings.
const registry = new Map<string, ProblemDef>();

export function defineProblems<const T extends Record<string, ProblemDef>>(types: T): ProblemFactory<T> {
  for (const [name, def] of Object.entries(types)) {
    const known = registry.get(name);
    if (known && (known.status !== def.status || known.title !== def.title))
      throw new Error(`problem type ${name} is defined twice, differently`);
    registry.set(name, def);
  }
  const make = (type: keyof T & string, detail?: string, errors?: FieldError[], headers?: Record<string, string>) =>
    new HttpProblem(type, types[type]!.status, types[type]!.title, detail, errors, headers);
  return Object.assign(make, { types });
}

/** Every problem type defined so far (each feature's set registers when its module loads). */
export function registeredProblems(): ReadonlyMap<string, ProblemDef> {
  return registry;
}

/** The problem types every API shares; documented in docs/api.md. */
export const httpProblem = defineProblems({
  'malformed-body': { status: 400, title: 'The request body could not be parsed' },
  // Answered by Node's HTTP parser through client-error.ts, before any route sees the request.
  'malformed-request': { status: 400, title: 'The request is not valid HTTP/1.1' },
  'request-timeout': { status: 408, title: 'The request took too long to arrive' },
  'header-too-large': { status: 431, title: 'The request header fields are too large' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'This method is not allowed here' },
  'body-too-large': { status: 413, title: 'The request body is larger than allowed' },
  'unsupported-media-type': { status: 415, title: 'Send application/json, application/xml or text/xml' },
  'internal-error': { status: 500, title: 'The hub could not process the request' },
});

export function sendProblem(res: Response, p: HttpProblem, instance?: string): void {
  for (const [k, v] of Object.entries(p.headers)) res.setHeader(k, v);
  res
    .status(p.status)
    .type('application/problem+json')
    .json({
      type: PROBLEM_TYPE_BASE + p.type,
      title: p.title,
      status: p.status,
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
