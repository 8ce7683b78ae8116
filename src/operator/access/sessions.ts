import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AccessStore } from '../../store/access-store.ts';
import type { Clock } from '../../clock.ts';
import type { Principal, Role } from '../principal.ts';
import { accountPrincipal, scopeOf, type TenantList } from './accounts.ts';

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
}

export interface OpenSession {
  principal: Principal;
  /** The token a form or `x-csrf-token` header must carry for a change. */
  csrfToken: string;
}

/** How often a session's last-seen time is written at most: every request would be a write. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Browser sessions. The cookie carries 32 random bytes; the database holds only their SHA-256, so a copy of the
 * database opens no session. The CSRF token is an HMAC of the id, never stored: only the holder of the cookie can
 * know it. A session ends when idle for `idleMs`, `absoluteMs` after the login whatever happens, or at logout. A
 * local account's role and tenants are read from the account on every request: a change or removal applies at
 * once. An OIDC session keeps what the provider's claims said at login.
 */
export class Sessions {
  constructor(
    private readonly store: AccessStore,
    private readonly policy: SessionPolicy,
    private readonly tenants: readonly TenantList[],
    private readonly now: Clock,
  ) {}

  /** A new session for `p`; the id goes into the cookie and nowhere else. */
  async open(p: Principal, account?: string): Promise<{ id: string; csrfToken: string }> {
    const id = randomBytes(32).toString('base64url');
    // Expired sessions are refused anyway; each login clears them out, so the table holds the live ones.
    await this.sweep();
    const t = this.now();
    await this.store.createSession({
      idHash: hashId(id),
      principalId: p.id,
      via: p.via,
      account: account ?? null,
      displayName: p.name,
      role: p.role,
      tenants: p.tenants === 'all' ? 'all' : [...p.tenants],
      createdAt: t,
      seenAt: t,
    });
    return { id, csrfToken: csrfTokenOf(id) };
  }

  /** The session of a cookie's id, if it is still valid. */
  async resolve(id: string | undefined): Promise<OpenSession | undefined> {
    if (!id || id.length > 100) return undefined;
    const idHash = hashId(id);
    const s = await this.store.session(idHash);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.seenAt > this.policy.idleMs || t - s.createdAt > this.policy.absoluteMs) {
      await this.store.deleteSession(idHash);
      return undefined;
    }
    let principal: Principal;
    if (s.account !== null) {
      const a = await this.store.account(s.account);
      if (!a) return undefined;
      principal = accountPrincipal(a, this.tenants);
    } else {
      principal = {
        id: s.principalId,
        name: s.displayName,
        role: s.role as Role,
        tenants: scopeOf(s.tenants, this.tenants),
        via: s.via === 'oidc' ? 'oidc' : 'session',
      };
    }
    if (t - s.seenAt > TOUCH_EVERY_MS) await this.store.touchSession(idHash, t);
    return { principal, csrfToken: csrfTokenOf(id) };
  }

  async close(id: string | undefined): Promise<void> {
    if (id) await this.store.deleteSession(hashId(id));
  }

  /** Deletes expired sessions (they are refused anyway; this keeps the table small). */
  sweep(): Promise<number> {
    const t = this.now();
    return this.store.expireSessions(t - this.policy.idleMs, t - this.policy.absoluteMs);
  }
}

function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function csrfTokenOf(id: string): string {
  return createHmac('sha256', id).update('amtsbote csrf').digest('base64url');
}
