import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { eventually, FIXTURE_CONFIG, PORTAL_B_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';
import { CookieJar, logIn } from './support/browser-session.ts';
import { hashPassword } from '../src/operator/access/passwords.ts';
import { uuidv7, type AuditRecord } from '../src/store/index.ts';
import { createOperatorAccess } from '../src/operator/access/index.ts';
import { accessSchema } from '../src/config/access-schema.ts';

const GE = '05513000';
const BOT = '05512000';
const MASTER = 'operator-token-0123456789abcdef';
const GE_OPERATOR = 'ge-operator-token-0123456789abcdefghij';
const GE_VIEWER = 'ge-viewer-token-0123456789abcdefghijkl';
const PASSWORD = 'gelsenkirchen-2026!';

/** The fixture configuration with the access section of a test: scoped tokens, a short throttle, http on 127.0.0.1. */
function accessConfig(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-access-config-'));
  cpSync(FIXTURE_CONFIG, dir, { recursive: true });
  const hub = readFileSync(path.join(FIXTURE_CONFIG, 'hub.yaml'), 'utf8').replace(
    'mappings: ../mappings',
    `mappings: ${path.join(FIXTURE_CONFIG, '../mappings')}`,
  );
  writeFileSync(
    path.join(dir, 'hub.yaml'),
    `${hub}
access:
  sessions: { secureCookie: false, idleMinutes: 30, absoluteHours: 8 }
  throttle: { freeFailures: 2, maxDelaySeconds: 60, resetMinutes: 60 }
  operatorTokens:
    - { id: ge-ops, tokenEnv: TEST_GE_OPERATOR_TOKEN, role: operator, tenants: ["${GE}"] }
    - { id: ge-watch, tokenEnv: TEST_GE_VIEWER_TOKEN, role: viewer, tenants: ["${GE}"] }
`,
  );
  return dir;
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`operator access [${kind}]`, () => {
    let bo: TestBackOffice;
    let t: TestHub;
    let configDir: string;
    let now = Date.UTC(2026, 11, 3, 8, 0, 0);
    const ids: Record<'ge' | 'bot', { id: string; deliveryId: string }> = {} as never;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      this.timeout(30_000);
      bo = await new TestBackOffice().start();
      configDir = accessConfig();
      process.env.AMTSBOTE_OPERATOR_TOKEN = MASTER;
      t = await startTestHub({
        kind,
        backOfficeUrl: bo.url,
        configDir,
        clock: () => now,
        env: { TEST_GE_OPERATOR_TOKEN: GE_OPERATOR, TEST_GE_VIEWER_TOKEN: GE_VIEWER },
      });
      // One failed case each in Gelsenkirchen and Bottrop.
      for (const [k, tenant, token] of [
        ['ge', GE, undefined],
        ['bot', BOT, PORTAL_B_TOKEN],
      ] as const) {
        const res = await t.fetch('/api/v1/submissions', {
          method: 'POST',
          ...(token ? { token } : {}),
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(submission({ tenant, data: { preferredDate: '2026-12-07', items: [], scenario: 'reject' } })),
        });
        expect(res.status, await res.clone().text()).to.equal(202);
        const { id } = (await res.json()) as { id: string };
        const d = await eventually(async () => {
          const x = (await t.hub.store.getSubmission(id))!.deliveries[0]!;
          return x.state === 'failed' && x;
        });
        ids[k] = { id, deliveryId: d.id };
      }
      await t.hub.store.access.addAccount(
        { name: 'ge-op', passwordHash: await hashPassword(PASSWORD), role: 'operator', tenants: [GE] },
        now,
      );
      await t.hub.store.access.addAccount(
        { name: 'ge-view', passwordHash: await hashPassword(PASSWORD), role: 'viewer', tenants: [GE] },
        now,
      );
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
      if (configDir) rmSync(configDir, { recursive: true, force: true });
    });

    const post = (p: string, body: unknown, token: string) =>
      t.fetch(p, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    it("a Gelsenkirchen operator token never counts, sees or replays Bottrop's failed delivery", async () => {
      const dry = await post('/api/v1/deliveries/replay', { target: 'backoffice', dryRun: true }, GE_OPERATOR);
      expect(dry.status, await dry.clone().text()).to.equal(200);
      const report = (await dry.json()) as { matched: number; deliveries: { tenant: string }[] };
      expect(report.matched).to.equal(1);
      expect(report.deliveries.map((d) => d.tenant)).to.deep.equal([GE]);
      const bottrop = (await (await post('/api/v1/deliveries/replay', { tenant: BOT, dryRun: true }, GE_OPERATOR)).json()) as {
        matched: number;
      };
      expect(bottrop.matched).to.equal(0);
      const one = await post(`/api/v1/deliveries/${ids.bot.deliveryId}/replay`, {}, GE_OPERATOR);
      expect(one.status).to.equal(404);
      expect((await t.hub.store.getSubmission(ids.bot.id))!.deliveries[0]!.state).to.equal('failed');
      // The master token still sees both.
      const all = (await (await post('/api/v1/deliveries/replay', { target: 'backoffice', dryRun: true }, MASTER)).json()) as {
        matched: number;
      };
      expect(all.matched).to.equal(2);
    });

    it("counts only the operator's tenants in the targets' queues", async () => {
      const mine = (await (await t.fetch('/api/v1/targets/backoffice', { token: GE_VIEWER })).json()) as { queue: { failed: number } };
      const every = (await (await t.fetch('/api/v1/targets/backoffice', { token: MASTER })).json()) as { queue: { failed: number } };
      expect(mine.queue.failed).to.equal(1);
      expect(every.queue.failed).to.equal(2);
      const list = (await (await t.fetch('/api/v1/targets', { token: GE_VIEWER })).json()) as { targets: { id: string }[] };
      // dropbox serves Datteln only.
      expect(list.targets.map((x) => x.id)).to.not.include('dropbox');
    });

    it("a Gelsenkirchen operator sees and confirms only Gelsenkirchen's reconciliation findings; Bottrop's answer 404", async () => {
      const rstore = t.hub.store.reconcile;
      const runId = uuidv7(now);
      await rstore.startRun({
        id: runId,
        job: 'reconcile',
        scheduleId: 'on-demand',
        scheduledFor: null,
        filters: {},
        instance: 'test:1',
        startedAt: now,
      });
      await rstore.addDiscrepancies(runId, [
        {
          class: 'missing-in-backoffice',
          action: 'awaiting-operator',
          tenant: GE,
          deliveryId: ids.ge.deliveryId,
          submissionId: ids.ge.id,
          targetId: 'backoffice',
        },
        {
          class: 'missing-in-backoffice',
          action: 'awaiting-operator',
          tenant: BOT,
          deliveryId: ids.bot.deliveryId,
          submissionId: ids.bot.id,
          targetId: 'backoffice',
        },
      ]);
      await rstore.finishRun(runId, {
        state: 'finished',
        finishedAt: now + 1000,
        counts: { 'missing-in-backoffice': 2 },
        matched: 7,
        discrepancies: 2,
        error: null,
      });
      const findings: { id: number; tenant?: string }[] = [];
      for await (const d of rstore.discrepancies(runId)) findings.push(d);
      const botFinding = findings.find((d) => d.tenant === BOT)!.id;
      const geFinding = findings.find((d) => d.tenant === GE)!.id;

      const run = (await (await t.fetch(`/api/v1/reconcile/runs/${runId}`, { token: GE_VIEWER })).json()) as {
        discrepancies: number | null;
        counts: unknown;
        discrepancyList: { tenant: string }[];
      };
      expect(run.discrepancyList.map((d) => d.tenant)).to.deep.equal([GE]);
      expect([run.discrepancies, run.counts]).to.deep.equal([null, null]);
      const csv = await (await t.fetch(`/api/v1/reconcile/runs/${runId}?format=csv`, { token: GE_VIEWER })).text();
      expect(csv).to.contain(GE).and.not.contain(BOT);
      const listed = (await (await t.fetch('/api/v1/reconcile/runs', { token: GE_VIEWER })).json()) as { runs: { matched: unknown }[] };
      expect(listed.runs.every((r) => r.matched === null)).to.equal(true);
      const full = (await (await t.fetch(`/api/v1/reconcile/runs/${runId}`, { token: MASTER })).json()) as { discrepancyList: unknown[] };
      expect(full.discrepancyList).to.have.length(2);

      expect((await post(`/api/v1/reconcile/discrepancies/${botFinding}/redeliver`, {}, GE_OPERATOR)).status).to.equal(404);
      expect((await post(`/api/v1/reconcile/discrepancies/${geFinding}/redeliver`, {}, GE_VIEWER)).status).to.equal(403);
      const mine = await post(`/api/v1/reconcile/discrepancies/${geFinding}/redeliver`, {}, GE_OPERATOR);
      expect(mine.status, await mine.clone().text()).to.not.equal(404);
      // Confirming the whole run touches only the operator's findings.
      const all = (await (await post(`/api/v1/reconcile/runs/${runId}/redeliver`, {}, GE_OPERATOR)).json()) as {
        results: { discrepancy: number }[];
      };
      expect(all.results.map((r) => r.discrepancy)).to.not.include(botFinding);
      expect((await rstore.getDiscrepancy(botFinding))!.action).to.equal('awaiting-operator');
    });

    it('refuses to start with a cookie without Secure unless the hub listens on loopback', () => {
      const build = (serverHost: string) =>
        createOperatorAccess({
          config: accessSchema.parse({ sessions: { secureCookie: false } }),
          serverHost,
          tenants: [],
          store: t.hub.store,
          audit: t.hub.audit,
          env: {},
          logger: t.hub.logger,
          now: () => now,
        });
      expect(() => build('0.0.0.0')).to.throw(/secureCookie/);
      expect(() => build('127.0.0.1')).to.not.throw();
    });

    it('a viewer reads but may not replay (403); an unknown token is 401', async () => {
      expect((await t.fetch('/api/v1/targets', { token: GE_VIEWER })).status).to.equal(200);
      const r = await post(`/api/v1/deliveries/${ids.ge.deliveryId}/replay`, {}, GE_VIEWER);
      expect(r.status).to.equal(403);
      expect(((await r.json()) as { type: string }).type).to.equal('urn:amtsbote:problem:operator-forbidden');
      expect((await t.fetch('/api/v1/targets', { token: 'not-a-token-at-all-0123456789abcdef' })).status).to.equal(401);
    });

    it('logs a local account in: httpOnly SameSite cookie, CSRF token needed for a change, scoped like a token', async () => {
      const jar = new CookieJar(t.hub.url);
      const login = await logIn(jar, 'ge-op', PASSWORD, '/console/submissions');
      expect(login.status).to.equal(303);
      expect(login.headers.get('location')).to.equal('/console/submissions');
      const cookie = jar.lastSetCookie.find((c) => c.startsWith('amtsbote_session='))!;
      expect(cookie)
        .to.match(/HttpOnly/)
        .and.match(/SameSite=Lax/)
        .and.match(/Path=\//);
      const me = (await (await jar.fetch('/api/v1/session')).json()) as { id: string; role: string; tenants: string[]; csrfToken: string };
      expect(me).to.include({ id: 'account:ge-op', role: 'operator' });
      expect(me.tenants).to.deep.equal([GE]);

      const json = { 'content-type': 'application/json' };
      const noCsrf = await jar.fetch(`/api/v1/deliveries/${ids.ge.deliveryId}/replay`, { method: 'POST', headers: json, body: '{}' });
      expect(noCsrf.status).to.equal(403);
      const wrong = await jar.fetch(`/api/v1/deliveries/${ids.ge.deliveryId}/replay`, {
        method: 'POST',
        headers: { ...json, 'x-csrf-token': 'x' },
        body: '{}',
      });
      expect(wrong.status).to.equal(403);
      const other = await jar.fetch(`/api/v1/deliveries/${ids.bot.deliveryId}/replay`, {
        method: 'POST',
        headers: { ...json, 'x-csrf-token': me.csrfToken },
        body: '{}',
      });
      expect(other.status).to.equal(404);
      const ok = await jar.fetch(`/api/v1/deliveries/${ids.ge.deliveryId}/replay`, {
        method: 'POST',
        headers: { ...json, 'x-csrf-token': me.csrfToken },
        body: '{"reason":"Test"}',
      });
      expect(ok.status, await ok.clone().text()).to.equal(200);
      const ev = (await t.hub.store.events(ids.ge.id)).find((e) => e.type === 'delivery.replayed')!;
      expect(ev.detail).to.include({ by: 'account:ge-op', reason: 'Test' });

      // Logout needs the token too, then the session is gone.
      expect((await jar.form('/console/logout', {})).status).to.equal(403);
      const out = await jar.form('/console/logout', { _csrf: me.csrfToken });
      expect(out.status).to.equal(303);
      expect(out.headers.get('location')).to.equal('/console/login?out=1');
      expect((await jar.fetch('/api/v1/session')).status).to.equal(401);
      const records = await audit();
      expect(records.filter((r) => r.actor === 'account:ge-op').map((r) => r.action)).to.include.members(['login', 'replay', 'logout']);
    });

    it('ends a session idle too long, and one past its absolute lifetime, on the hub clock', async () => {
      const jar = new CookieJar(t.hub.url);
      expect((await logIn(jar, 'ge-view', PASSWORD)).status).to.equal(303);
      now += 29 * 60_000;
      expect((await jar.fetch('/api/v1/session')).status).to.equal(200);
      now += 31 * 60_000;
      expect((await jar.fetch('/api/v1/session')).status).to.equal(401);

      const busy = new CookieJar(t.hub.url);
      expect((await logIn(busy, 'ge-view', PASSWORD)).status).to.equal(303);
      // In use every 25 minutes, never idle: still ended 8 hours after the login.
      for (let i = 1; i <= 19; i++) {
        now += 25 * 60_000;
        expect((await busy.fetch('/api/v1/session')).status, `after ${i * 25} min`).to.equal(200);
      }
      now += 10 * 60_000;
      expect((await busy.fetch('/api/v1/session')).status).to.equal(401);
    });

    it('refuses a wrong password, then throttles the account with a growing delay; no password reaches the audit trail', async () => {
      const jar = new CookieJar(t.hub.url);
      expect((await logIn(jar, 'ge-op', 'wrong-password-1')).status).to.equal(401);
      expect((await logIn(jar, 'ge-op', 'wrong-password-2')).status).to.equal(401);
      const held = await logIn(jar, 'ge-op', PASSWORD);
      expect(held.status).to.equal(429);
      expect(held.headers.get('retry-after')).to.equal('1');
      expect(await held.text()).to.contain('Zu viele Fehlversuche');
      now += 1000;
      expect((await logIn(jar, 'ge-op', 'wrong-password-3')).status).to.equal(401);
      now += 1000;
      expect((await logIn(jar, 'ge-op', PASSWORD)).status).to.equal(429);
      now += 1000;
      expect((await logIn(jar, 'ge-op', PASSWORD)).status).to.equal(303);
      // A password typed into the name field is not written anywhere.
      expect((await logIn(new CookieJar(t.hub.url), 'My Secret Pass!', 'x')).status).to.equal(401);
      const text = JSON.stringify(await audit()) + t.logLines.join('');
      expect(text).to.not.match(/wrong-password|gelsenkirchen-2026|My Secret Pass/);
      const failed = (await audit()).filter((r) => r.action === 'login-failed');
      expect(failed.map((r) => r.detail?.reason)).to.include.members(['password', 'throttled', 'unknown-account']);
      expect((await t.hub.store.audit.verify()).ok).to.equal(true);
    });

    it('serves the login page in German, English on request, with a CSP that allows no script', async () => {
      // The address's failures of the test before are forgotten after the reset time.
      now += 61 * 60_000;
      const jar = new CookieJar(t.hub.url);
      const de = await jar.fetch('/console/login');
      expect(de.headers.get('content-security-policy')).to.contain("default-src 'none'").and.not.contain('script');
      const html = await de.text();
      expect(html).to.contain('<html lang="de">').and.contain('Anmelden').and.not.contain('<script');
      const en = await (await jar.fetch('/console/login?lang=en')).text();
      expect(en).to.contain('<html lang="en">').and.contain('Log in');
      // Remembered.
      expect(await (await jar.fetch('/console/login')).text()).to.contain('<html lang="en">');
      const stale = await jar.form('/console/login', { _csrf: 'forged', username: 'ge-op', password: PASSWORD });
      expect(stale.status).to.equal(403);
      const evil = await logIn(new CookieJar(t.hub.url), 'ge-view', PASSWORD, '//evil.example/');
      expect(evil.headers.get('location')).to.equal('/console');
    });

    async function audit(): Promise<AuditRecord[]> {
      const out: AuditRecord[] = [];
      for await (const r of t.hub.store.audit.records()) out.push(r);
      return out;
    }
  });
}
