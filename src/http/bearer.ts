import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { PortalConfig } from '../config/schema.ts';
import { HttpProblem } from './problem.ts';

/** Looks portals up by the SHA-256 of their bearer token; the tokens themselves are never kept. */
export class PortalAuth {
  private readonly byHash = new Map<string, PortalConfig>();

  constructor(portals: readonly PortalConfig[]) {
    for (const p of portals) if (p.tokenHash) this.byHash.set(p.tokenHash, p);
  }

  authenticate(req: Request): PortalConfig {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const challenge = { 'WWW-Authenticate': 'Bearer realm="amtsbote"' };
    if (!m) throw new HttpProblem('unauthorized', 'send Authorization: Bearer <portal token>', undefined, challenge);
    const portal = this.byHash.get('sha256:' + createHash('sha256').update(m[1]!, 'utf8').digest('hex'));
    if (!portal) throw new HttpProblem('unauthorized', 'the token is not valid', undefined, { ...challenge, 'WWW-Authenticate': 'Bearer realm="amtsbote", error="invalid_token"' });
    return portal;
  }
}
