import type { Request } from 'express';
import type { HubConfig } from '../config/schema.ts';
import { BearerVerifier, bearerChallenge } from '../http/bearer.ts';
import { statusProblem } from './problems.ts';

/**
 * Back offices authenticate status pushes with a bearer token per target (targets.<id>.status.push); the config
 * schema keeps only its SHA-256. Targets sharing a token (one system serving several) share the caller.
 */
export class PushAuth {
  private readonly verifier: BearerVerifier<string>;

  constructor(targets: HubConfig['targets']) {
    this.verifier = new BearerVerifier(
      Object.entries(targets).flatMap(([id, t]) => (t.status.push ? [{ tokenHash: t.status.push.tokenHash, principal: id }] : [])),
    );
  }

  get enabled(): boolean {
    return this.verifier.enabled;
  }

  /** The targets the request's token stands for; 401 otherwise. */
  authenticate(req: Request): string[] {
    const check = this.verifier.verify(req);
    if (check.ok) return check.principals;
    const challenge = bearerChallenge('amtsbote-backoffice', check.reason);
    if (check.reason === 'missing')
      throw statusProblem('backoffice-unauthorized', 'send Authorization: Bearer <back-office token>', undefined, challenge);
    throw statusProblem('backoffice-unauthorized', 'the token is not valid', undefined, challenge);
  }
}
