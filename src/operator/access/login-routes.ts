import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { AccessStore } from '../../store/access-store.ts';
import type { AuditTrail } from '../../audit/trail.ts';
import type { OperatorAccess } from '../access.ts';
import { principalOf } from '../principal.ts';
import { accountPrincipal, ACCOUNT_NAME, type TenantList } from './accounts.ts';
import { clearCookie, readCookies, setCookie } from './cookies.ts';
import { LOGIN_CSS, loginPage, PAGE_CSP, type LoginView } from './login-page.ts';
import { fill, languageOf, messages, type Messages } from './messages.ts';
import { DUMMY_HASH, verifyPassword } from './passwords.ts';
import { localPath, type SessionCookie } from './session-access.ts';
import type { Sessions } from './sessions.ts';
import type { LoginThrottle } from './throttle.ts';

export interface LoginRoutesOptions {
  store: AccessStore;
  sessions: Sessions;
  throttle: LoginThrottle;
  audit: AuditTrail;
  access: OperatorAccess;
  cookie: SessionCookie;
  tenants: readonly TenantList[];
  /** The single sign-on button, when OIDC is configured. */
  sso?: { label: string } | undefined;
}

/** The login form's own CSRF token (no session yet): a cookie and the same value in the form (double submit). */
const LOGIN_COOKIE = 'amtsbote_login';
const formBody = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

/** `GET/POST /console/login`, `POST /console/logout` and the login page's stylesheet (mounted at /). */
export function loginRoutes(o: LoginRoutesOptions): express.Router {
  const r = express.Router();
  const flags = o.cookie.flags;

  const render = (req: Request, res: Response, status: number, m: Messages, v: Partial<LoginView>) => {
    const csrf = randomBytes(24).toString('base64url');
    setCookie(res, LOGIN_COOKIE, csrf, { ...flags, sameSite: 'strict', maxAge: 3600, path: '/console/login' });
    res
      .status(status)
      .set({ 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-store' })
      .type('html')
      .send(
        loginPage({
          m,
          csrf,
          next: localPath(v.next ?? req.query.next),
          ...v,
          sso: o.sso && { label: o.sso.label, href: `/console/oidc/start?next=${encodeURIComponent(localPath(v.next ?? req.query.next))}` },
        }),
      );
  };

  r.get('/console/access.css', (_req, res) => {
    res.type('text/css').set('Cache-Control', 'public, max-age=3600').send(LOGIN_CSS);
  });

  r.get('/console/login', (req, res) => {
    const m = messages(languageOf(req, res, flags.secure));
    const note = req.query.out === '1' ? m.loggedOut : req.query.next ? m.expired : undefined;
    const error =
      req.query.sso === 'refused'
        ? fill(m.ssoRefused, { label: o.sso?.label ?? 'SSO' })
        : req.query.sso === 'failed'
          ? fill(m.ssoFailed, { label: o.sso?.label ?? 'SSO' })
          : undefined;
    render(req, res, 200, m, { note, error });
  });

  r.post('/console/login', formBody, async (req, res) => {
    const m = messages(languageOf(req, res, flags.secure));
    const b = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof b.username === 'string' ? b.username.trim().toLowerCase() : '';
    const password = typeof b.password === 'string' ? b.password : '';
    const next = localPath(b.next);
    const expected = readCookies(req).get(LOGIN_COOKIE);
    if (!expected || typeof b._csrf !== 'string' || !same(b._csrf, expected)) {
      render(req, res, 403, m, { error: m.stale, next, username: name });
      return;
    }
    // A name that cannot be an account is not written anywhere: it may be a password typed in the wrong field.
    const known = ACCOUNT_NAME.test(name) ? await o.store.account(name) : undefined;
    const actor = known ? `account:${known.name}` : 'unknown';
    const address = req.ip ?? 'unknown';
    const wait = await o.throttle.waitMs(name, address);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      await o.audit.record({ actor, action: 'login-failed', detail: { reason: 'throttled', waitSeconds: seconds } });
      res.set('Retry-After', String(seconds));
      render(req, res, 429, m, { error: fill(m.throttled, { seconds }), next, username: name });
      return;
    }
    // Unknown names cost a hash as well: the answer's time does not tell which names exist.
    const ok = (await verifyPassword(password, known?.passwordHash ?? DUMMY_HASH)) && known !== undefined;
    if (!ok || !known) {
      await o.throttle.failed(name, address);
      await o.audit.record({ actor, action: 'login-failed', detail: { reason: known ? 'password' : 'unknown-account' } });
      render(req, res, 401, m, { error: m.failed, next, username: name });
      return;
    }
    await o.throttle.succeeded(name);
    const p = accountPrincipal(known, o.tenants);
    const s = await o.sessions.open(p, known.name);
    await o.audit.record({ actor: p.id, action: 'login', detail: { via: 'password', role: p.role } });
    setCookie(res, o.cookie.name, s.id, flags);
    clearCookie(res, LOGIN_COOKIE, { ...flags, path: '/console/login' });
    res.redirect(303, next);
  });

  // Who is logged in, and the CSRF token a script or a test sends as x-csrf-token with a change.
  r.get('/api/v1/session', o.access.api, (_req, res) => {
    const p = principalOf(res);
    res.set('Cache-Control', 'no-store').json({
      id: p.id,
      name: p.name,
      role: p.role,
      via: p.via,
      tenants: p.tenants === 'all' ? 'all' : [...p.tenants].sort(),
      csrfToken: (res.locals.csrfToken as string | undefined) ?? null,
    });
  });

  r.post('/console/logout', o.access.page, o.access.csrf, async (_req, res) => {
    const p = principalOf(res);
    await o.sessions.close(res.locals.sessionId as string | undefined);
    if (p.via !== 'token') await o.audit.record({ actor: p.id, action: 'logout' });
    clearCookie(res, o.cookie.name, flags);
    res.redirect(303, '/console/login?out=1');
  });

  return r;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
