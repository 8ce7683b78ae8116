import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HttpProblem } from '../http/problem.ts';

/** The environment variable holding the operator's bearer token. */
export const OPERATOR_TOKEN_ENV = 'AMTSBOTE_OPERATOR_TOKEN';

export type Authenticate = (req: Request, res: Response, next: NextFunction) => void;

/** Express middleware admitting requests with `Authorization: Bearer <operator token>`; no token configured: 503. */
export function operatorAuthenticator(token: string | undefined): Authenticate {
  const expected = token ? sha256(token) : undefined;
  return (req, _res, next) => {
    if (!expected) throw new HttpProblem('operator-api-disabled', `operator API disabled: set ${OPERATOR_TOKEN_ENV}`);
    const challenge = { 'WWW-Authenticate': 'Bearer realm="amtsbote-operator"' };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!m) throw new HttpProblem('operator-unauthorized', 'send Authorization: Bearer <operator token>', undefined, challenge);
    // Hashes have one length, so the comparison takes the same time whatever was sent.
    if (!timingSafeEqual(sha256(m[1]!), expected)) {
      throw new HttpProblem('operator-unauthorized', 'the token is not the operator token', undefined, { 'WWW-Authenticate': 'Bearer realm="amtsbote-operator", error="invalid_token"' });
    }
    next();
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
