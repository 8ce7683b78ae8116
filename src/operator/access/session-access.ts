import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { BearerVerifier } from '../../http/bearer.ts';
import { bearerChallenge } from '../../http/bearer.ts';
import { LOGIN_PATH, requireRole, type OperatorAccess } from '../access.ts';
import type { Authenticate } from '../operator-auth.ts';
import { OPERATOR_TOKEN_ENV } from '../operator-auth.ts';
import { setPrincipal, type Principal } from '../principal.ts';
import { operatorProblem } from '../problems.ts';
import { readCookies, type CookieFlags } from './cookies.ts';
import type { Sessions } from './sessions.ts';

export interface SessionCookie {
  /** `__Host-amtsbote_session` with Secure (the prefix makes browsers insist on Secure, Path=/ and no Domain). */
  name: string;
  flags: Omit<CookieFlags, 'maxAge'>;
}

export function sessionCookie(secure: boolean, sameSite: 'lax' | 'strict'): SessionCookie {
  return { name: secure ? '__Host-amtsbote_session' : 'amtsbote_session', flags: { secure, sameSite, path: '/' } };
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const formBody = express.urlencoded({ extended: false, limit: '64kb' });

/**
 * The full OperatorAccess: bearer tokens (AMTSBOTE_OPERATOR_TOKEN and the scoped `access.operatorTokens`) or a
 * browser session's cookie (a local account's login or an OIDC login), each ending as one Principal. A bearer
 * token wins when both are sent; a token carries no ambient credential, so only sessions need the CSRF check.
 */
export function sessionAccess(o: { tokens: BearerVerifier<Principal>; sessions: Sessions; cookie: SessionCookie }): OperatorAccess {
  /** The session of the request's cookie, put on the response; false when there is none. */
  const fromSession = async (req: Request, res: Response): Promise<boolean> => {
    const s = await o.sessions.resolve(readCookies(req).get(o.cookie.name));
    if (!s) return false;
    setPrincipal(req, res, s.principal);
    res.locals.csrfToken = s.csrfToken;
    res.locals.sessionId = readCookies(req).get(o.cookie.name);
    return true;
  };
  const fromToken = (req: Request, res: Response): void => {
    if (!o.tokens.enabled) throw operatorProblem('operator-api-disabled', `operator API disabled: set ${OPERATOR_TOKEN_ENV}`);
    const check = o.tokens.verify(req);
    if (!check.ok) {
      const challenge = bearerChallenge('amtsbote-operator', check.reason);
      throw operatorProblem('operator-unauthorized', 'the token is not an operator token', undefined, challenge);
    }
    setPrincipal(req, res, check.principals[0]!);
  };

  const api: Authenticate = (req, res, next) => {
    void (async () => {
      if (req.headers.authorization) fromToken(req, res);
      else if (!(await fromSession(req, res))) {
        throw operatorProblem(
          'operator-unauthorized',
          'send Authorization: Bearer <operator token>, or log in at /console/login',
          undefined,
          bearerChallenge('amtsbote-operator', 'missing'),
        );
      }
    })().then(() => next(), next);
  };

  const page: Authenticate = (req, res, next) => {
    if (req.headers.authorization) {
      api(req, res, next);
      return;
    }
    fromSession(req, res).then((ok) => {
      if (ok) next();
      else res.redirect(303, `${LOGIN_PATH}?next=${encodeURIComponent(localPath(req.originalUrl))}`);
    }, next);
  };

  const csrf: Authenticate = (req, res, next) => {
    const expected = res.locals.csrfToken as string | undefined;
    // Safe methods change nothing; a bearer token is no ambient credential.
    if (!CHANGES.has(req.method) || expected === undefined) {
      next();
      return;
    }
    const check = () => {
      const body = req.body as Record<string, unknown> | undefined;
      const sent = req.get('x-csrf-token') ?? (typeof body?._csrf === 'string' ? body._csrf : undefined);
      if (!sent || !same(sent, expected)) {
        next(
          operatorProblem(
            'operator-forbidden',
            'the form is stale or not from this console: reload the page (CSRF token missing or wrong)',
          ),
        );
        return;
      }
      next();
    };
    if (req.is('application/x-www-form-urlencoded') && req.body === undefined) formBody(req, res, (e?: unknown) => (e ? next(e) : check()));
    else check();
  };

  return { api, page, requireRole, csrf };
}

/** A `next` target must stay on this hub: a path, never `//host` or a URL. */
export function localPath(p: unknown): string {
  return typeof p === 'string' && p.startsWith('/') && !p.startsWith('//') && !p.startsWith('/\\') ? p : '/console';
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `api` then `csrf` then, if given, `requireRole(role)`: what a state-changing route of the JSON API takes. */
export function chain(...steps: Authenticate[]): Authenticate {
  return (req: Request, res: Response, next: NextFunction) => {
    const run = (i: number, err?: unknown): void => {
      const step = steps[i];
      if (err || !step) {
        next(err);
        return;
      }
      try {
        step(req, res, (e?: unknown) => run(i + 1, e));
      } catch (e) {
        next(e);
      }
    };
    run(0);
  };
}
