import { createHash } from 'node:crypto';
import { BearerVerifier } from '../../http/bearer.ts';
import type { OperatorTokenConfig } from '../../config/access-schema.ts';
import { OPERATOR_TOKEN_PRINCIPAL, type Principal } from '../principal.ts';
import { scopeOf, type TenantList } from './accounts.ts';

export const MIN_TOKEN_LENGTH = 32;

/**
 * The bearer tokens of the operator API: AMTSBOTE_OPERATOR_TOKEN (an admin over every tenant) and the scoped
 * tokens of `access.operatorTokens`, each read from the environment variable it names. Held as hashes only, and
 * compared in constant time against all of them (BearerVerifier).
 */
export function operatorTokens(
  master: string | undefined,
  scoped: readonly OperatorTokenConfig[],
  env: NodeJS.ProcessEnv,
  tenants: readonly TenantList[],
): BearerVerifier<Principal> {
  const entries: { tokenHash: string; principal: Principal }[] = [];
  if (master) entries.push({ tokenHash: tokenHashOf(master), principal: OPERATOR_TOKEN_PRINCIPAL });
  for (const t of scoped) {
    const token = env[t.tokenEnv];
    if (!token) throw new Error(`access.operatorTokens ${t.id}: the environment variable ${t.tokenEnv} is not set`);
    if (token.length < MIN_TOKEN_LENGTH)
      throw new Error(`access.operatorTokens ${t.id}: the token in ${t.tokenEnv} is shorter than ${MIN_TOKEN_LENGTH} characters`);
    entries.push({
      tokenHash: tokenHashOf(token),
      principal: { id: `token:${t.id}`, name: t.id, role: t.role, tenants: scopeOf(t.tenants, tenants), via: 'token' },
    });
  }
  return new BearerVerifier(entries);
}

const tokenHashOf = (t: string) => `sha256:${createHash('sha256').update(t, 'utf8').digest('hex')}`;
