import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { TestBackOffice } from './support/backoffice.ts';
import { eventually, PORTAL_A_TOKEN, PORTAL_B_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';
import { ADMIN_TOKEN, GE_TOKEN, scopedTokenAccess, TEST_PRINCIPALS } from './support/scoped-access.ts';

// The console in a real browser (Debian's chromium, driven by playwright-core): search, a submission's timeline,
// a replay from the dead letters, a live log line, another tenant's case refused. Screenshots of every page go to
// test-artifacts/screenshots/ (look at them).

const CHROMIUM = process.env.AMTSBOTE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.resolve('test-artifacts/screenshots');
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('console in a browser', function () {
  this.timeout(60_000);
  let bo: TestBackOffice;
  let t: TestHub;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  const ids: Record<string, string> = {};

  const submit = async (token: string, overrides: Record<string, unknown>) => {
    const res = await t.fetch('/api/v1/submissions', {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(submission(overrides)),
    });
    expect(res.status).to.equal(202);
    return ((await res.json()) as { id: string }).id;
  };
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    bo = await new TestBackOffice().start();
    t = await startTestHub({ kind: 'sqlite', backOfficeUrl: bo.url, access: scopedTokenAccess(TEST_PRINCIPALS) });
    ids.ok = await submit(PORTAL_A_TOKEN, { externalId: 'GE-2026-0001', tenant: '05513000' });
    // flaky-3: the three attempts of the policy run out (failed); a replay then gets through.
    ids.flaky = await submit(PORTAL_A_TOKEN, {
      externalId: 'GE-2026-0002',
      tenant: '05513000',
      data: { preferredDate: '2026-12-07', items: [], scenario: 'flaky-3' },
    });
    ids.bot = await submit(PORTAL_B_TOKEN, {
      externalId: 'BOT-2026-0001',
      tenant: '05512000',
      data: { preferredDate: '2026-12-07', items: [], scenario: 'reject' },
    });
    await eventually(async () => {
      const rows = (await t.hub.store.console.search({ tenants: undefined }, 10)).rows;
      return rows.length === 3 && rows.every((r) => r.deliveries.every((d) => d.state === 'delivered' || d.state === 'failed'));
    }, 20_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    // Until logins exist the console takes the bearer token; every request of the context carries it.
    admin = await browser.newContext({
      extraHTTPHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
      viewport: { width: 1360, height: 900 },
    });
    page = await admin.newPage();
    page.on('pageerror', (e) => {
      throw e;
    });
  });
  after(async () => {
    await browser?.close();
    await t?.stop(true);
    await bo?.stop();
  });

  it('shows the overview with its own strict CSP, in German', async () => {
    const res = await page.goto(`${t.hub.url}/console`);
    expect(res?.headers()['content-security-policy']).to.include("script-src 'self'");
    expect(await page.locator('html').getAttribute('lang')).to.equal('de');
    await expect(await page.locator('h1').textContent()).to.equal('Übersicht');
    expect(await page.locator('table.grid tbody tr').count()).to.be.greaterThan(1);
    await shot('overview');
  });

  it('searches by external id and opens the submission with its attempts', async () => {
    await page.goto(`${t.hub.url}/console/submissions`);
    await page.getByLabel('Externe ID').fill('GE-2026-0002');
    await page.getByRole('button', { name: 'Suchen' }).click();
    await page.waitForURL(/externalId=GE-2026-0002/);
    expect(await page.locator('#results tbody tr').count()).to.equal(1);
    await shot('submissions');
    await page.getByRole('link', { name: 'GE-2026-0002' }).click();
    await page.waitForURL(new RegExp(ids.flaky!));
    const timeline = await page.locator('#timeline').textContent();
    expect(timeline).to.include('Versuch 3');
    expect(timeline).to.include('http-503');
    expect(await page.locator('.form-data').count()).to.equal(0);
    await shot('submission');
  });

  it('replays a dead letter after the dry run and sees it delivered', async () => {
    await page.goto(`${t.hub.url}/console/dead-letters?tenant=05513000`);
    await shot('dead-letters');
    await page.getByLabel(/GE-2026-0002/).check();
    await page.getByRole('button', { name: /Ausgewählte erneut zustellen/ }).click();
    expect(await page.locator('#dry-run strong').textContent()).to.equal('1');
    await shot('dead-letters-dry-run');
    await page.getByLabel(/Grund/).fill('Fachverfahren wieder erreichbar');
    await page.getByRole('button', { name: 'Jetzt erneut zustellen' }).click();
    await page.waitForURL(/replayed=1/);
    await eventually(async () => (await t.hub.store.getSubmission(ids.flaky!))!.deliveries[0]!.state === 'delivered', 10_000);
    await page.goto(`${t.hub.url}/console/submissions/${ids.flaky}`);
    expect(await page.locator('#deliveries').textContent()).to.include('delivered');
    expect(await page.locator('#timeline').textContent()).to.include('delivery.replayed');
    expect(await page.locator('#timeline').textContent()).to.include('token:admin');
  });

  it('watches a live log line arrive, and pauses', async () => {
    await page.goto(`${t.hub.url}/console/log?tenant=05513000`);
    await page.locator('#pause:not([hidden])').waitFor();
    const id = await submit(PORTAL_A_TOKEN, { externalId: 'GE-2026-0003', tenant: '05513000' });
    await page.locator(`#live-log tbody a[href="/console/submissions/${id}"]`).first().waitFor({ timeout: 10_000 });
    await shot('live-log');
    await page.getByRole('button', { name: 'Anhalten' }).click();
    expect(await page.getByRole('button', { name: 'Fortsetzen' }).getAttribute('aria-pressed')).to.equal('true');
  });

  it('shows targets with secrets masked, reconciliation, and switches to English', async () => {
    await page.goto(`${t.hub.url}/console/targets`);
    expect(await page.locator('section.target').count()).to.be.greaterThan(0);
    await shot('targets');
    await page.getByRole('button', { name: 'Verbindung prüfen' }).first().click();
    expect(await page.locator('.notice').first().textContent()).to.match(/reachable|unreachable|refused/);
    await page.goto(`${t.hub.url}/console/reconciliation`);
    await shot('reconciliation');
    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.locator('h1').textContent()).to.equal('Reconciliation');
    await page.goto(`${t.hub.url}/console/submissions?lang=de`);
  });

  it("refuses a Gelsenkirchen operator Bottrop's submission by URL, and lists none of it", async () => {
    const ge = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${GE_TOKEN}` } });
    const p = await ge.newPage();
    const res = await p.goto(`${t.hub.url}/console/submissions/${ids.bot}`);
    expect(res?.status()).to.equal(404);
    await p.goto(`${t.hub.url}/console/dead-letters`);
    expect(await p.locator('#dead-letters').textContent()).not.to.include('BOT-2026');
    await p.goto(`${t.hub.url}/console`);
    expect(await p.locator('main').textContent()).not.to.include('05512000');
    await ge.close();
  });
});
