import express from 'express';
import type { Logger } from 'winston';
import type { AccessConfig } from '../../config/access-schema.ts';
import type { Store } from '../../store/index.ts';
import type { AuditTrail } from '../../audit/trail.ts';
import type { Clock } from '../../clock.ts';
import type { OperatorAccess } from '../access.ts';
import { OPERATOR_TOKEN_ENV } from '../operator-auth.ts';
import type { TenantList } from './accounts.ts';
import { loginRoutes } from './login-routes.ts';
import { oidcRoutes } from './oidc.ts';
import { sessionAccess, sessionCookie } from './session-access.ts';
import { Sessions } from './sessions.ts';
import { LoginThrottle } from './throttle.ts';
import { operatorTokens } from './tokens.ts';

export interface OperatorAccessSetup {
  access: OperatorAccess;
  /** The login and logout routes (mounted at /). */
  routes: express.Router;
  sessions: Sessions;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The operator area's access from configuration: tokens, sessions, throttle and the login page. Refuses an
 * insecure cookie unless the hub listens on a loopback address only (the demo over http://127.0.0.1).
 */
export function createOperatorAccess(o: {
  config: AccessConfig;
  serverHost: string;
  tenants: readonly TenantList[];
  store: Store;
  audit: AuditTrail;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  now: Clock;
}): OperatorAccessSetup {
  const c = o.config;
  if (!c.sessions.secureCookie && !LOOPBACK.has(o.serverHost))
    throw new Error(
      `access.sessions.secureCookie: false is only allowed while server.host is a loopback address (it is ${o.serverHost}); serve the console over HTTPS`,
    );
  const tokens = operatorTokens(o.env[OPERATOR_TOKEN_ENV], c.operatorTokens, o.env, o.tenants);
  const sessions = new Sessions(
    o.store.access,
    { idleMs: c.sessions.idleMinutes * 60_000, absoluteMs: c.sessions.absoluteHours * 3_600_000 },
    o.tenants,
    o.now,
  );
  const throttle = new LoginThrottle(
    o.store.access,
    { freeFailures: c.throttle.freeFailures, maxDelayMs: c.throttle.maxDelaySeconds * 1000, resetMs: c.throttle.resetMinutes * 60_000 },
    o.now,
  );
  const cookie = sessionCookie(c.sessions.secureCookie, c.sessions.sameSite);
  const access = sessionAccess({ tokens, sessions, cookie });
  const routes = express.Router();
  routes.use(
    loginRoutes({
      store: o.store.access,
      sessions,
      throttle,
      audit: o.audit,
      access,
      cookie,
      tenants: o.tenants,
      sso: c.oidc && { label: c.oidc.label },
    }),
  );
  if (c.oidc) {
    const secretEnv = c.oidc.clientSecretEnv;
    const clientSecret = secretEnv ? o.env[secretEnv] : undefined;
    if (secretEnv && !clientSecret) throw new Error(`access.oidc.clientSecretEnv: the environment variable ${secretEnv} is not set`);
    routes.use(oidcRoutes({ config: c.oidc, clientSecret, sessions, cookie, tenants: o.tenants, audit: o.audit, logger: o.logger }));
  }
  return { access, routes, sessions };
}
