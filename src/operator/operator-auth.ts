import type { NextFunction, Request, Response } from 'express';
import { BearerVerifier, bearerChallenge } from '../http/bearer.ts';
import { operatorProblem } from './problems.ts';
import { OPERATOR_TOKEN_PRINCIPAL, setPrincipal } from './principal.ts';

/** The environment variable holding the operator's bearer token. */
export const OPERATOR_TOKEN_ENV = 'AMTSBOTE_OPERATOR_TOKEN';

export type Authenticate = (req: Request, res: Response, next: NextFunction) => void;

/** Express middleware admitting requests with `Authorization: Bearer <operator token>`; no token configured: 503. */
export function operatorAuthenticator(token: string | undefined): Authenticate {
  const verifier = BearerVerifier.ofToken(token, 'operator');
  return (req, res, next) => {
    if (!verifier.enabled) throw operatorProblem('operator-api-disabled', `operator API disabled: set ${OPERATOR_TOKEN_ENV}`);
    const check = verifier.verify(req);
    if (!check.ok) {
      const challenge = bearerChallenge('amtsbote-operator', check.reason);
      if (check.reason === 'missing')
        throw operatorProblem('operator-unauthorized', 'send Authorization: Bearer <operator token>', undefined, challenge);
      throw operatorProblem('operator-unauthorized', 'the token is not the operator token', undefined, challenge);
    }
    setPrincipal(req, res, OPERATOR_TOKEN_PRINCIPAL);
    next();
  };
}
