import express, { type Request, type Response } from 'express';
import * as client from 'openid-client';
import type { Logger } from 'winston';
import type { OidcConfig } from '../../config/access-schema.ts';
import type { AuditTrail } from '../../audit/trail.ts';
import type { Principal, Role } from '../principal.ts';
import { ROLES, scopeOf, type TenantList } from './accounts.ts';
import { clearCookie, readCookies, setCookie } from './cookies.ts';
import { localPath, type SessionCookie } from './session-access.ts';
import type { Sessions } from './sessions.ts';

/** What the browser carries between leaving for the provider and coming back: state, nonce, PKCE verifier, target. */
const FLOW_COOKIE = 'amtsbote_oidc';
const FLOW_PATH = '/console/oidc';
const LOOPBACK = /^https?:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?(\/|$)/;

export interface OidcRoutesOptions {
  config: OidcConfig;
  clientSecret: string | undefined;
  sessions: Sessions;
  cookie: SessionCookie;
  tenants: readonly TenantList[];
  audit: AuditTrail;
  logger: Logger;
}

/**
 * OpenID Connect single sign-on (authorization code with PKCE, state and nonce) through openid-client 6:
 * `GET /console/oidc/start` sends the browser to the provider, `GET /console/oidc/callback` takes the code back,
 * maps the claims to a role and tenants and opens a session as a local login does. A user whose claims map to no
 * role or no tenant is refused. The provider's metadata is read at the first login (and again after a failure),
 * so a provider that is down at start-up does not stop the hub.
 */
export function oidcRoutes(o: OidcRoutesOptions): express.Router {
  const c = o.config;
  let discovered: Promise<client.Configuration> | undefined;
  const configuration = () =>
    (discovered ??= client
      .discovery(
        new URL(c.issuer),
        c.clientId,
        o.clientSecret,
        o.clientSecret ? client.ClientSecretPost(o.clientSecret) : client.None(),
        // Plain http only to a provider on this machine (tests, a demo); anything else must be https.
        LOOPBACK.test(c.issuer) ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((e: unknown) => {
        discovered = undefined;
        throw e;
      }));
  const flowFlags = { ...o.cookie.flags, sameSite: 'lax' as const, path: FLOW_PATH };
  const r = express.Router();

  const refuse = (res: Response, why: 'refused' | 'failed') => {
    clearCookie(res, FLOW_COOKIE, flowFlags);
    res.redirect(303, `/console/login?sso=${why}`);
  };

  r.get('/console/oidc/start', async (req: Request, res: Response) => {
    let config: client.Configuration;
    try {
      config = await configuration();
    } catch (e) {
      o.logger.warn('OpenID provider not reachable', { issuer: c.issuer, error: (e as Error).message });
      refuse(res, 'failed');
      return;
    }
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: c.redirectUrl,
      scope: c.scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const flow = { state, nonce, verifier, next: localPath(req.query.next) };
    setCookie(res, FLOW_COOKIE, Buffer.from(JSON.stringify(flow)).toString('base64url'), { ...flowFlags, maxAge: 600 });
    res.redirect(303, url.href);
  });

  r.get('/console/oidc/callback', async (req: Request, res: Response) => {
    const flow = readFlow(readCookies(req).get(FLOW_COOKIE));
    if (!flow) {
      refuse(res, 'failed');
      return;
    }
    let claims: Record<string, unknown>;
    try {
      const config = await configuration();
      // The URL the provider sent the browser to: the registered redirect URL with the answer's query.
      const current = new URL(c.redirectUrl);
      current.search = new URL(req.originalUrl, 'http://callback').search;
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error('no ID token');
      const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      claims = { ...info, ...idClaims };
    } catch (e) {
      o.logger.warn('OpenID login failed', { issuer: c.issuer, error: (e as Error).message });
      await o.audit.record({ actor: 'unknown', action: 'login-failed', detail: { via: 'oidc', reason: 'protocol' } });
      refuse(res, 'failed');
      return;
    }
    const p = principalOfClaims(claims, c, o.tenants);
    if (!p.ok) {
      await o.audit.record({ actor: p.id, action: 'login-failed', detail: { via: 'oidc', reason: p.reason } });
      refuse(res, 'refused');
      return;
    }
    const s = await o.sessions.open(p.principal);
    await o.audit.record({ actor: p.principal.id, action: 'login', detail: { via: 'oidc', role: p.principal.role } });
    clearCookie(res, FLOW_COOKIE, flowFlags);
    setCookie(res, o.cookie.name, s.id, o.cookie.flags);
    res.redirect(303, flow.next);
  });

  return r;
}

function readFlow(v: string | undefined): { state: string; nonce: string; verifier: string; next: string } | undefined {
  if (!v) return undefined;
  try {
    const f = JSON.parse(Buffer.from(v, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof f.state === 'string' && typeof f.nonce === 'string' && typeof f.verifier === 'string')
      return { state: f.state, nonce: f.nonce, verifier: f.verifier, next: localPath(f.next) };
  } catch {
    // A broken cookie is no flow.
  }
  return undefined;
}

/** Claims to a Principal: the highest role any role-claim value maps to, the tenants of the tenants claim. */
export function principalOfClaims(
  claims: Record<string, unknown>,
  c: OidcConfig,
  tenants: readonly TenantList[],
): { ok: true; principal: Principal } | { ok: false; id: string; reason: 'no-role' | 'no-tenant' } {
  const id = `oidc:${c.issuer}#${String(claims.sub)}`;
  const values = list(claims[c.claims.role]);
  const roles = values.map((v) => c.roles[v]).filter((r): r is Role => r !== undefined);
  const role = ROLES.filter((r) => roles.includes(r)).at(-1);
  if (!role) return { ok: false, id, reason: 'no-role' };
  const known = new Set(tenants.map((t) => t.key));
  const scopes = list(claims[c.claims.tenants]).filter((t) => t === '*' || known.has(t));
  if (scopes.length === 0) return { ok: false, id, reason: 'no-tenant' };
  const name = typeof claims[c.claims.name] === 'string' ? (claims[c.claims.name] as string) : String(claims.sub);
  return { ok: true, principal: { id, name, role, tenants: scopeOf(scopes, tenants), via: 'oidc' } };
}

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return v.split(/[,\s]+/).filter(Boolean);
  return [];
}
