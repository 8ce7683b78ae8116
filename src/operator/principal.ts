import type { Request, Response } from 'express';

/**
 * Who is asking, once authenticated: an operator token, a local account's session or an OIDC login all end as one
 * Principal on `res.locals.principal`. Every page, query, export and live stream of the operator area asks this
 * object which tenants it may see and what it may do — never the raw token or session.
 */

export type Role = 'viewer' | 'operator' | 'admin';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export interface Principal {
  /** Stable id for the audit trail: `account:<name>`, `oidc:<issuer>#<sub>`, `token:operator`. */
  readonly id: string;
  /** What the console shows. */
  readonly name: string;
  readonly role: Role;
  /** The tenant keys this principal may see, a district already expanded to its towns; `'all'` for every tenant. */
  readonly tenants: ReadonlySet<string> | 'all';
  readonly via: 'token' | 'session' | 'oidc';
}

/** Whether `p` holds at least `role` (admin ⊇ operator ⊇ viewer). */
export function hasRole(p: Principal, role: Role): boolean {
  return RANK[p.role] >= RANK[role];
}

/** Whether `p` may see anything of `tenant`. */
export function seesTenant(p: Principal, tenant: string): boolean {
  return p.tenants === 'all' || p.tenants.has(tenant);
}

/** The tenants a query must be restricted to; undefined: no restriction. An empty list means: nothing at all. */
export function tenantRestriction(p: Principal): string[] | undefined {
  return p.tenants === 'all' ? undefined : [...p.tenants];
}

/**
 * Expands configured scopes to tenant keys: a district's key covers itself and every tenant naming it as parent.
 * Unknown keys are kept (they match nothing) so a typo narrows access rather than widening it.
 */
export function expandTenantScope(scopes: readonly string[], tenants: readonly { key: string; parent?: string }[]): Set<string> {
  const out = new Set<string>();
  for (const s of scopes) {
    out.add(s);
    for (const t of tenants) if (t.parent === s) out.add(t.key);
  }
  return out;
}

/** The principal an authenticating middleware put on the response; throws when a route forgot to authenticate. */
export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw new Error('no principal: the route is not behind an authenticating middleware');
  return p;
}

export function setPrincipal(_req: Request, res: Response, p: Principal): void {
  res.locals.principal = p;
}

/** The operator token of AMTSBOTE_OPERATOR_TOKEN: an admin over every tenant (a machine's key, not a person's). */
export const OPERATOR_TOKEN_PRINCIPAL: Principal = {
  id: 'token:operator',
  name: 'operator token',
  role: 'admin',
  tenants: 'all',
  via: 'token',
};

/**
 * The name written into the sync log (`by` of a replay or confirmation): `operator` for the operator token, as
 * before accounts existed, otherwise the principal's id.
 */
export function actorName(p: Principal): string {
  return p.id === OPERATOR_TOKEN_PRINCIPAL.id ? 'operator' : p.id;
}
