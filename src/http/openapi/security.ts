/**
 * The bearer schemes of the API, one per kind of caller. Fragments name them through `requires()`, so an operation
 * cannot point at a scheme the document does not define.
 */
import type { Header, SecurityScheme } from './types.ts';

export const securitySchemes = {
  portalToken: {
    type: 'http',
    scheme: 'bearer',
    description: "The portal's token, configured per portal (the hub keeps only its SHA-256). Send `Authorization: Bearer <token>`.",
  },
  operatorToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'The operator token: the value of the environment variable `AMTSBOTE_OPERATOR_TOKEN` the hub was started with. Portal tokens are not accepted.',
  },
  backofficeToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      "A back office's push token: `targets.<id>.status.push.token` (or `tokenHash`) of the hub's configuration. The token stands for that target (or every target sharing it).",
  },
} as const satisfies Record<string, SecurityScheme>;

export type SecuritySchemeName = keyof typeof securitySchemes;

/** An operation's `security`: this scheme, or none for a public one. */
export function requires(scheme: SecuritySchemeName | 'nothing'): Record<string, string[]>[] {
  return scheme === 'nothing' ? [] : [{ [scheme]: [] }];
}

/** The `WWW-Authenticate` header of a 401: the bearer challenge (RFC 6750) of `realm`. */
export function bearerChallenge(realm: string): Header {
  return { description: `The bearer challenge (RFC 6750) of realm \`${realm}\`.`, required: true, schema: { type: 'string' } };
}
