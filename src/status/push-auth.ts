import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { HubConfig } from '../config/schema.ts';
import { HttpProblem } from '../http/problem.ts';

/**
 * Back offices authenticate status pushes with a bearer token per target (targets.<id>.status.push). Only SHA-256
 * hashes are held (the config schema hashes a token as it parses it); a presented token is hashed and compared with
 * every configured hash in constant time. Targets sharing a token (one system serving several) share the caller.
 */
export class PushAuth {
  private readonly entries: { hash: Buffer; targetId: string }[] = [];

  constructor(targets: HubConfig['targets']) {
    for (const [id, t] of Object.entries(targets)) {
      if (t.status.push) this.entries.push({ hash: Buffer.from(t.status.push.tokenHash.slice('sha256:'.length), 'hex'), targetId: id });
    }
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** The targets the request's token stands for; 401 otherwise. */
  authenticate(req: Request): string[] {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const challenge = 'Bearer realm="amtsbote-backoffice"';
    if (!m) throw new HttpProblem('backoffice-unauthorized', 'send Authorization: Bearer <back-office token>', undefined, { 'WWW-Authenticate': challenge });
    const presented = createHash('sha256').update(m[1]!, 'utf8').digest();
    const targets: string[] = [];
    // No early exit: every hash is compared, so the time taken says nothing about which one is close.
    for (const e of this.entries) if (timingSafeEqual(e.hash, presented)) targets.push(e.targetId);
    if (targets.length === 0) throw new HttpProblem('backoffice-unauthorized', 'the token is not valid', undefined, { 'WWW-Authenticate': `${challenge}, error="invalid_token"` });
    return targets;
  }
}
