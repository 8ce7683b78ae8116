import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { chromium, type Browser } from 'playwright-core';
import winston from 'winston';
import { describeEachDatabase } from './support/databases.ts';
import { PROJECT_ROOT } from './support/run.ts';
import { createOperatorAccess } from '../src/operator/access/index.ts';
import { storeAuditTrail } from '../src/audit/store-trail.ts';
import { accessSchema } from '../src/config/access-schema.ts';
import { hashPassword } from '../src/operator/access/passwords.ts';
import { principalOf } from '../src/operator/principal.ts';
import { createHttpApp } from '../src/http/app.ts';
import { CLIENT_SECRET, freePort, startProvider } from './support/oidc-idp.ts';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = path.join(PROJECT_ROOT, 'test-artifacts', 'screenshots');
const PASSWORD = 'gelsenkirchen-2026!';

// The console's pages are built elsewhere; this stands in for one protected page, behind the same `page` and
// `csrf` middleware every console page uses, on the hub's HTTP kernel with the hub's login routes.
describeEachDatabase('console login in a browser', ({ kind, store }) => {
  let browser: Browser;
  let server: Server;
  let idp: Server;
  let base: string;
  let idpUrl: string;

  before(async function () {
    this.timeout(30_000);
    const logger = winston.createLogger({ silent: true });
    const [port, idpPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    idpUrl = `http://127.0.0.1:${idpPort}`;
    idp = await startProvider(idpPort, `${base}/console/oidc/callback`);
    const setup = createOperatorAccess({
      config: accessSchema.parse({
        sessions: { secureCookie: false },
        oidc: {
          issuer: idpUrl,
          clientId: 'amtsbote',
          clientSecretEnv: 'TEST_OIDC_SECRET',
          redirectUrl: `${base}/console/oidc/callback`,
          scope: 'openid profile amtsbote',
          label: 'Rechenzentrum',
          claims: { role: 'amtsbote_groups', tenants: 'amtsbote_tenants' },
          roles: { 'amtsbote-operators': 'operator', 'amtsbote-viewers': 'viewer' },
        },
      }),
      serverHost: '127.0.0.1',
      tenants: [{ key: '05513000' }, { key: '05512000' }],
      store: store(),
      audit: storeAuditTrail(store().audit, Date.now),
      env: { TEST_OIDC_SECRET: CLIENT_SECRET },
      logger,
      now: Date.now,
    });
    const { access } = setup;
    const page = express.Router();
    page.get('/console/protected', access.page, (_req, res) => {
      const p = principalOf(res);
      const csrf = String(res.locals.csrfToken);
      res
        .set('Content-Security-Policy', "default-src 'none'; style-src 'self'; form-action 'self'")
        .type('html')
        .send(
          `<!doctype html><html lang="de"><head><title>Geschützt</title><link rel="stylesheet" href="/console/access.css"></head><body><main class="login">` +
            `<h1>Angemeldet als <span id="who">${p.name}</span> (${p.role})</h1>` +
            `<form method="post" action="/console/protected/act"><button id="no-csrf">Ohne Token senden</button></form>` +
            `<form method="post" action="/console/protected/act"><input type="hidden" name="_csrf" value="${csrf}"><button id="with-csrf">Mit Token senden</button></form>` +
            `<form method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${csrf}"><button id="logout">Abmelden</button></form>` +
            `</main></body></html>`,
        );
    });
    page.post('/console/protected/act', access.page, access.csrf, (_req, res) => {
      res.type('html').send('<!doctype html><html lang="de"><title>ok</title><p id="done">erledigt</p></html>');
    });
    const app = createHttpApp({
      logger,
      mounts: [
        { path: '/', router: setup.routes },
        { path: '/', router: page },
      ],
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s));
    });
    await store().access.addAccount(
      { name: 'ge-op', passwordHash: await hashPassword(PASSWORD), role: 'operator', tenants: ['05513000'] },
      Date.now(),
    );
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    if (server) await new Promise((r) => server.close(r));
    if (idp) await new Promise((r) => idp.close(r));
  });

  it('logs in with the keyboard, reaches the protected page, is refused a CSRF-less POST and logs out', async function () {
    this.timeout(60_000);
    const ctx = await browser.newContext();
    const tab = await ctx.newPage();
    const scripts: string[] = [];
    tab.on('console', (m) => scripts.push(m.text()));

    await tab.goto(`${base}/console/protected`);
    expect(new URL(tab.url()).pathname).to.equal('/console/login');
    expect(await tab.getAttribute('html', 'lang')).to.equal('de');
    await tab.screenshot({ path: path.join(SHOTS, `login-${kind}.png`), fullPage: true });

    // Keyboard only: the name field has the focus, Tab to the password, Enter submits.
    await tab.keyboard.type('ge-op');
    await tab.keyboard.press('Tab');
    await tab.keyboard.type('wrong password!!');
    await tab.keyboard.press('Enter');
    await tab.waitForSelector('[role=alert]');
    expect(await tab.textContent('[role=alert]')).to.contain('falsch');
    await tab.screenshot({ path: path.join(SHOTS, `login-failed-${kind}.png`), fullPage: true });

    await tab.fill('#password', PASSWORD);
    await tab.press('#password', 'Enter');
    await tab.waitForURL(`${base}/console/protected`);
    expect(await tab.textContent('#who')).to.equal('ge-op');
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'amtsbote_session')!;
    expect(session).to.include({ httpOnly: true, sameSite: 'Lax' });

    await tab.click('#no-csrf');
    await tab.waitForLoadState();
    expect(await tab.textContent('body')).to.contain('CSRF');
    await tab.goBack();
    await tab.click('#with-csrf');
    await tab.waitForSelector('#done');
    await tab.goBack();

    await tab.click('#logout');
    await tab.waitForURL(/\/console\/login\?out=1$/);
    expect(await tab.textContent('[role=status]')).to.contain('abgemeldet');
    await tab.goto(`${base}/console/protected`);
    expect(new URL(tab.url()).pathname).to.equal('/console/login');

    // English on request.
    await tab.click('a[hreflang=en]');
    expect(await tab.getAttribute('html', 'lang')).to.equal('en');
    await tab.screenshot({ path: path.join(SHOTS, `login-en-${kind}.png`), fullPage: true });
    // No page ran a script, and none was blocked into the console.
    expect(scripts.filter((s) => /Content Security Policy/.test(s))).to.deep.equal([]);
    await ctx.close();
  });

  it("logs in through the data centre's OpenID provider and reaches the protected page", async function () {
    this.timeout(60_000);
    const ctx = await browser.newContext();
    const tab = await ctx.newPage();
    await tab.goto(`${base}/console/protected`);
    await tab.screenshot({ path: path.join(SHOTS, `login-sso-${kind}.png`), fullPage: true });
    await tab.click('text=Anmelden mit Rechenzentrum');
    await tab.waitForURL((u) => u.href.startsWith(idpUrl));
    await tab.fill('input[name=login]', 'anna.ge');
    await tab.fill('input[name=password]', 'any');
    await tab.click('button[type=submit]');
    // The provider asks for consent once.
    await tab.waitForSelector('button[type=submit]');
    if (tab.url().startsWith(idpUrl)) await tab.click('button[type=submit]');
    await tab.waitForURL(`${base}/console/protected`);
    expect(await tab.textContent('#who')).to.equal('anna.ge');
    expect(await tab.textContent('h1')).to.contain('(operator)');
    await tab.click('#logout');
    await tab.waitForURL(/\/console\/login\?out=1$/);
    await ctx.close();
  });
});
