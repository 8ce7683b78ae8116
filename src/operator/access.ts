import type { Authenticate } from './operator-auth.ts';
import { hasRole, principalOf, type Role } from './principal.ts';
import { operatorProblem } from './problems.ts';

/**
 * How the operator area admits a request: one object the console pages, the console's JSON API and the older
 * operator API (replay, targets, reconciliation) all take, so a login, an OIDC session and a scoped operator token
 * end as the same Principal on `res.locals.principal`. The hub's implementation (tokens, sessions, OIDC) is in
 * src/operator/access/; a test may hand in its own (test/support/scoped-access.ts).
 */
export interface OperatorAccess {
  /** For pages: a visitor without a login is sent to the login page (303), never shown a problem document. */
  readonly page: Authenticate;
  /** For the JSON API: a bearer token or a session cookie; otherwise 401 problem+json. */
  readonly api: Authenticate;
  /** After `page` or `api`: 403 unless the principal holds at least `role`. */
  requireRole(role: Role): Authenticate;
  /**
   * On every state-changing request from a browser session: the CSRF token (`_csrf` field or `x-csrf-token`
   * header) must match the session's. Requests authenticated by a bearer token pass (no ambient credential).
   * Pages put the expected token into forms from `res.locals.csrfToken`.
   */
  readonly csrf: Authenticate;
}

/** Where a browser without a login is sent. */
export const LOGIN_PATH = '/console/login';

export function requireRole(role: Role): Authenticate {
  return (_req, res, next) => {
    if (!hasRole(principalOf(res), role)) throw operatorProblem('operator-forbidden', `this needs the role ${role}`);
    next();
  };
}
