// What receiving a document and checking form data answer: the route turns a refusal into a problem response
// (status, detail, and each offending place), and nothing is stored for it.

import type { SchemaViolation } from './json-schema.ts';

export type { SchemaViolation } from './json-schema.ts';

export interface Refusal {
  ok: false;
  /** 415: not a media type the channel takes; 400: not readable (encoding, well-formedness, hostile); 422: readable but wrong. */
  status: 400 | 415 | 422;
  /** One line, naming the rule that failed, never the value. */
  detail: string;
  /** Where: an XML element path (`/xgewerbe:anzeige/xgewerbe:postleitzahl`) or a JSON pointer (`/data/hund/rasse`). The first of `errors`. */
  path?: string;
  /** Every offending place, when a schema found several. */
  errors?: SchemaViolation[];
}

export function refuse(status: Refusal['status'], detail: string, path?: string, errors?: SchemaViolation[]): Refusal {
  return { ok: false, status, detail, ...(path !== undefined ? { path } : {}), ...(errors?.length ? { errors } : {}) };
}
