import type { Request } from 'express';
import type { PortalConfig } from '../config/schema.ts';
import { BearerVerifier, bearerChallenge } from '../http/bearer.ts';
import { intakeProblem } from './problems.ts';

/** Portals authenticate with their bearer token; only its SHA-256 is configured (tokenHash). */
export class PortalAuth {
  private readonly verifier: BearerVerifier<PortalConfig>;

  constructor(portals: readonly PortalConfig[]) {
    this.verifier = new BearerVerifier(portals.flatMap((p) => (p.tokenHash ? [{ tokenHash: p.tokenHash, principal: p }] : [])));
  }

  /** The portal the request's token belongs to; 401 otherwise. */
  authenticate(req: Request): PortalConfig {
    const check = this.verifier.verify(req);
    if (check.ok) return check.principals[0]!;
    const challenge = bearerChallenge('amtsbote', check.reason);
    if (check.reason === 'missing') throw intakeProblem('unauthorized', 'send Authorization: Bearer <portal token>', undefined, challenge);
    throw intakeProblem('unauthorized', 'the token is not valid', undefined, challenge);
  }
}
