import type { AccessStore, AccountRow } from '../../store/access-store.ts';
import type { AuditTrail } from '../../audit/trail.ts';
import { expandTenantScope, type Principal, type Role } from '../principal.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords.ts';

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
/** The scope of an account that sees every tenant. */
export const ALL_TENANTS = '*';
export const ACCOUNT_NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

export interface TenantList {
  key: string;
  parent?: string | undefined;
}

export class AccountError extends Error {
  override name = 'AccountError';
}

/**
 * Local accounts: created, listed, re-passworded and removed by an admin from a shell (`amtsbote user …`); every
 * change written to the audit trail. Scopes are stored as given (a district key stays a district key) and expanded
 * with the configured tenants when a login becomes a Principal, so a town added to a district later is covered.
 */
export class Accounts {
  constructor(
    private readonly store: AccessStore,
    private readonly audit: AuditTrail,
    private readonly tenants: readonly TenantList[],
    private readonly now: () => number,
  ) {}

  async add(actor: string, a: { name: string; password: string; role: string; tenants: readonly string[] }): Promise<void> {
    const name = checkName(a.name);
    const role = checkRole(a.role);
    const tenants = this.checkTenants(a.tenants);
    checkPassword(a.password);
    if (!(await this.store.addAccount({ name, passwordHash: await hashPassword(a.password), role, tenants }, this.now())))
      throw new AccountError(`an account ${name} exists already`);
    await this.audit.record({
      actor,
      action: 'account-changed',
      subject: `account:${name}`,
      detail: { change: 'added', role, tenants: tenants.join(',') },
    });
  }

  list(): Promise<AccountRow[]> {
    return this.store.accounts();
  }

  async passwd(actor: string, name: string, password: string): Promise<void> {
    checkPassword(password);
    if (!(await this.store.setPassword(name, await hashPassword(password), this.now()))) throw new AccountError(`no account ${name}`);
    await this.audit.record({ actor, action: 'account-changed', subject: `account:${name}`, detail: { change: 'password' } });
  }

  async remove(actor: string, name: string): Promise<void> {
    if (!(await this.store.removeAccount(name))) throw new AccountError(`no account ${name}`);
    await this.audit.record({ actor, action: 'account-changed', subject: `account:${name}`, detail: { change: 'removed' } });
  }

  private checkTenants(scopes: readonly string[]): string[] {
    const list = [...new Set(scopes.map((s) => s.trim()).filter(Boolean))];
    if (list.length === 0)
      throw new AccountError(`--tenants: give tenant keys (a district key covers its towns) or ${ALL_TENANTS} for all`);
    if (list.includes(ALL_TENANTS)) {
      if (list.length > 1) throw new AccountError(`--tenants: ${ALL_TENANTS} stands alone`);
      return list;
    }
    const known = new Set(this.tenants.map((t) => t.key));
    const unknown = list.filter((k) => !known.has(k));
    if (unknown.length) throw new AccountError(`--tenants: not configured tenants: ${unknown.join(', ')}`);
    return list;
  }
}

/** The Principal of a local account's login. */
export function accountPrincipal(a: Pick<AccountRow, 'name' | 'role' | 'tenants'>, tenants: readonly TenantList[]): Principal {
  return {
    id: `account:${a.name}`,
    name: a.name,
    role: ROLES.includes(a.role as Role) ? (a.role as Role) : 'viewer',
    tenants: scopeOf(a.tenants, tenants),
    via: 'session',
  };
}

/** Stored scopes to what a Principal holds: `*` is every tenant, otherwise districts expanded to their towns. */
export function scopeOf(scopes: readonly string[] | 'all', tenants: readonly TenantList[]): ReadonlySet<string> | 'all' {
  if (scopes === 'all' || scopes.includes(ALL_TENANTS)) return 'all';
  return expandTenantScope(scopes, tenants);
}

function checkName(name: string): string {
  if (!ACCOUNT_NAME.test(name))
    throw new AccountError('the name: lower-case letters, digits and . _ @ - (up to 64), starting with a letter or digit');
  return name;
}

function checkRole(role: string): Role {
  if (!ROLES.includes(role as Role)) throw new AccountError(`--role: one of ${ROLES.join(', ')}`);
  return role as Role;
}

function checkPassword(p: string): void {
  if (p.length < MIN_PASSWORD_LENGTH) throw new AccountError(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
}
