import type { Server } from 'node:http';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { FIXTURE_CONFIG, startTestHub, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';
import { CookieJar } from './support/browser-session.ts';
import { CLIENT_SECRET, freePort, startProvider } from './support/oidc-idp.ts';

/** Follows redirects by hand, each with the jar of its origin (provider or hub), as a browser would. */
async function follow(jars: CookieJar[], url: string, init: RequestInit = {}): Promise<{ url: string; res: Response }> {
  let res: Response;
  let current = url;
  let opts = init;
  for (let i = 0; i < 20; i++) {
    const jar = jars.find((j) => current.startsWith(j.base))!;
    res = await jar.fetch(current, opts);
    const loc = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !loc) return { url: current, res };
    current = new URL(loc, current).href;
    opts = {};
  }
  throw new Error('too many redirects');
}

/** Logs in at the provider's development login and consent forms (any password) and returns to the hub. */
async function ssoLogin(hub: CookieJar, idp: CookieJar, who: string, next = '/console/overview') {
  let step = await follow([hub, idp], `${hub.base}/console/oidc/start?next=${encodeURIComponent(next)}`);
  for (let i = 0; i < 3 && step.url.startsWith(idp.base); i++) {
    const html = await step.res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`no form at the provider: ${html.slice(0, 200)}`);
    const fields: Record<string, string> = prompt === 'login' ? { prompt, login: who, password: 'any' } : { prompt };
    const posted = await idp.form(new URL(action, step.url).href, fields);
    step = await follow([hub, idp], new URL(posted.headers.get('location')!, step.url).href);
  }
  return step;
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`OIDC single sign-on [${kind}]`, () => {
    let bo: TestBackOffice;
    let t: TestHub;
    let idpServer: Server;
    let configDir: string;
    let idpUrl: string;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      this.timeout(30_000);
      const [hubPort, idpPort] = [await freePort(), await freePort()];
      idpUrl = `http://127.0.0.1:${idpPort}`;
      const redirect = `http://127.0.0.1:${hubPort}/console/oidc/callback`;
      idpServer = await startProvider(idpPort, redirect);
      bo = await new TestBackOffice().start();
      configDir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-oidc-config-'));
      cpSync(FIXTURE_CONFIG, configDir, { recursive: true });
      const hubYaml = readFileSync(path.join(FIXTURE_CONFIG, 'hub.yaml'), 'utf8').replace(
        'mappings: ../mappings',
        `mappings: ${path.join(FIXTURE_CONFIG, '../mappings')}`,
      );
      writeFileSync(
        path.join(configDir, 'hub.yaml'),
        `${hubYaml}
access:
  sessions: { secureCookie: false }
  oidc:
    issuer: ${idpUrl}
    clientId: amtsbote
    clientSecretEnv: TEST_OIDC_SECRET
    redirectUrl: ${redirect}
    scope: openid profile amtsbote
    label: Rechenzentrum
    claims: { role: amtsbote_groups, tenants: amtsbote_tenants }
    roles: { amtsbote-operators: operator, amtsbote-viewers: viewer, amtsbote-admins: admin }
`,
      );
      t = await startTestHub({ kind, backOfficeUrl: bo.url, configDir, port: hubPort, env: { TEST_OIDC_SECRET: CLIENT_SECRET } });
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
      if (idpServer) await new Promise((r) => idpServer.close(r));
      if (configDir) rmSync(configDir, { recursive: true, force: true });
    });

    it('logs in through the provider with code + PKCE and opens a session with the mapped role and tenants', async function () {
      this.timeout(20_000);
      const login = await (await new CookieJar(t.hub.url).fetch('/console/login')).text();
      expect(login).to.contain('Anmelden mit Rechenzentrum');

      const hub = new CookieJar(t.hub.url);
      const idp = new CookieJar(idpUrl);
      // The authorization request carries the PKCE challenge, state and nonce.
      const start = await hub.fetch('/console/oidc/start?next=/console/overview');
      const auth = new URL(start.headers.get('location')!);
      expect(auth.origin).to.equal(idpUrl);
      expect(auth.searchParams.get('code_challenge_method')).to.equal('S256');
      expect(auth.searchParams.get('state')).to.have.length.greaterThan(20);
      expect(auth.searchParams.get('nonce')).to.have.length.greaterThan(20);

      const end = await ssoLogin(hub, idp, 'anna.ge');
      expect(end.url).to.equal(`${t.hub.url}/console/overview`);
      const me = (await (await hub.fetch('/api/v1/session')).json()) as Record<string, unknown>;
      expect(me).to.deep.include({ id: `oidc:${idpUrl}#anna.ge`, name: 'anna.ge', role: 'operator', via: 'oidc', tenants: ['05513000'] });

      // A district in the claim covers its towns.
      const kreis = new CookieJar(t.hub.url);
      await ssoLogin(kreis, new CookieJar(idpUrl), 'rolf.kreis');
      const k = (await (await kreis.fetch('/api/v1/session')).json()) as { role: string; tenants: string[] };
      expect(k.role).to.equal('viewer');
      expect(k.tenants).to.deep.equal(['05562', '05562008', '05562014']);

      const logins = [];
      for await (const r of t.hub.store.audit.records()) if (r.action === 'login') logins.push(r);
      expect(logins.map((r) => [r.actor, r.detail?.via])).to.deep.include([`oidc:${idpUrl}#anna.ge`, 'oidc']);
    });

    it('refuses a user whose claims map to no role or no tenant', async function () {
      this.timeout(20_000);
      for (const who of ['otto.norole', 'nina.notenant']) {
        const hub = new CookieJar(t.hub.url);
        const end = await ssoLogin(hub, new CookieJar(idpUrl), who);
        expect(end.url).to.equal(`${t.hub.url}/console/login?sso=refused`);
        expect(await end.res.text()).to.contain('abgelehnt');
        expect((await hub.fetch('/api/v1/session')).status).to.equal(401);
      }
      const failed = [];
      for await (const r of t.hub.store.audit.records()) if (r.action === 'login-failed') failed.push([r.actor, r.detail?.reason]);
      expect(failed).to.deep.include.members([
        [`oidc:${idpUrl}#otto.norole`, 'no-role'],
        [`oidc:${idpUrl}#nina.notenant`, 'no-tenant'],
      ]);
    });

    it('refuses a callback whose state does not match the browser that started the login', async function () {
      this.timeout(20_000);
      const victim = new CookieJar(t.hub.url);
      await victim.fetch('/console/oidc/start');
      // An attacker's code and state, replayed into another browser.
      const attacker = new CookieJar(t.hub.url);
      const start = await attacker.fetch('/console/oidc/start');
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const r = await victim.fetch(`/console/oidc/callback?code=forged&state=${state}`);
      expect(r.status).to.equal(303);
      expect(r.headers.get('location')).to.equal('/console/login?sso=failed');
      expect((await victim.fetch('/api/v1/session')).status).to.equal(401);
    });
  });
}
