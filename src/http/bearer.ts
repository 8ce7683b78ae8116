import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/**
 * The one bearer-token check of every API (portals, back offices, operators). Only SHA-256 hashes of the tokens
 * are held; a presented token is hashed and compared with every accepted hash in constant time, with no early exit,
 * so the time taken says nothing about which hash is close. Each caller keeps its own problem types and realm.
 */

/** A token as configuration keeps it: `sha256:<64 hex digits>`. */
export type TokenHash = string;

export type BearerCheck<P> = { ok: true; principals: P[] } | { ok: false; reason: 'missing' | 'invalid' };

export class BearerVerifier<P> {
  private readonly entries: { hash: Buffer; principal: P }[];

  /** `entries`: each accepted token's hash (`sha256:<hex>`) and what it stands for (a portal, a target, …). */
  constructor(entries: Iterable<{ tokenHash: TokenHash; principal: P }>) {
    this.entries = [...entries].map((e) => ({ hash: Buffer.from(e.tokenHash.slice('sha256:'.length), 'hex'), principal: e.principal }));
  }

  /** A verifier accepting one plain token (held only as its hash); none when the token is unset or empty. */
  static ofToken<P>(token: string | undefined, principal: P): BearerVerifier<P> {
    return new BearerVerifier(token ? [{ tokenHash: hashToken(token), principal }] : []);
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** Every principal whose hash the request's bearer token matches (several share a token, e.g. targets of one system). */
  verify(req: Request): BearerCheck<P> {
    const token = bearerToken(req);
    if (token === undefined) return { ok: false, reason: 'missing' };
    const presented = createHash('sha256').update(token, 'utf8').digest();
    const principals: P[] = [];
    for (const e of this.entries) if (timingSafeEqual(e.hash, presented)) principals.push(e.principal);
    return principals.length ? { ok: true, principals } : { ok: false, reason: 'invalid' };
  }
}

/** The token of `Authorization: Bearer <token>`; undefined when the header is missing or not a bearer token. */
export function bearerToken(req: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
}

// config/load.ts hashes configured tokens the same way.
function hashToken(token: string): TokenHash {
  return 'sha256:' + createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The `WWW-Authenticate` header of a 401: RFC 6750's challenge, with `invalid_token` when a token was sent. */
export function bearerChallenge(realm: string, reason: 'missing' | 'invalid'): Record<string, string> {
  return { 'WWW-Authenticate': `Bearer realm="${realm}"${reason === 'invalid' ? ', error="invalid_token"' : ''}` };
}
