import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { eventually, PORTAL_A_TOKEN, PORTAL_B_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';
import { documented } from './support/openapi.ts';
import { ADMIN_TOKEN, GE_TOKEN, scopedTokenAccess, TEST_PRINCIPALS } from './support/scoped-access.ts';

const GE = '05513000';
const BOT = '05512000';

async function submit(t: TestHub, token: string, overrides: Record<string, unknown>): Promise<string> {
  const res = await t.fetch('/api/v1/submissions', {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(submission(overrides)),
  });
  expect(res.status, await res.clone().text()).to.equal(202);
  return ((await res.json()) as { id: string }).id;
}

/**
 * Reads server-sent `line` events until `until` holds for one, or `ms` pass. The stream is left open (the hub
 * ends its streams when it stops); a cancelled fetch would leave undici's socket for the server to wait on.
 */
async function readLines(res: Response, until: (l: Record<string, unknown>) => boolean, ms = 5000): Promise<Record<string, unknown>[]> {
  const reader = res.body!.getReader();
  const lines: Record<string, unknown>[] = [];
  let text = '';
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), left))]);
    if (!chunk || chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
    let i: number;
    while ((i = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, i);
      text = text.slice(i + 2);
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!data) continue;
      const l = JSON.parse(data) as Record<string, unknown>;
      lines.push(l);
      if (until(l)) {
        reader.releaseLock();
        return lines;
      }
    }
  }
  return lines;
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`console API [${kind}]`, () => {
    let bo: TestBackOffice;
    let t: TestHub;
    const ids: Record<string, string> = {};
    const ext = { geOk: `ge-ok-${kind}`, geBad: `ge-bad-${kind}`, botBad: `bot-bad-${kind}` };
    const get = (path: string, token = ADMIN_TOKEN) => t.fetch(path, { token });

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new TestBackOffice().start();
      t = await startTestHub({ kind, backOfficeUrl: bo.url, access: scopedTokenAccess(TEST_PRINCIPALS) });
      ids.geOk = await submit(t, PORTAL_A_TOKEN, { externalId: ext.geOk, tenant: GE });
      ids.geBad = await submit(t, PORTAL_A_TOKEN, {
        externalId: ext.geBad,
        tenant: GE,
        data: { preferredDate: '2026-12-07', items: [], scenario: 'reject' },
      });
      ids.botBad = await submit(t, PORTAL_B_TOKEN, {
        externalId: ext.botBad,
        tenant: BOT,
        data: { preferredDate: '2026-12-07', items: [], scenario: 'reject' },
      });
      await eventually(async () => {
        const all = await t.hub.store.console.search({ tenants: undefined }, 10);
        return all.rows.every((r) => r.deliveries.every((d) => d.state === 'delivered' || d.state === 'failed')) && all.rows.length === 3;
      }, 10_000);
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
    });

    it('searches by external id and by state, with grouped counts, as documented', async () => {
      const one = await documented(await get(`/api/v1/console/submissions?externalId=${ext.geOk}`), '/api/v1/console/submissions', 'get');
      expect(one.submissions.map((s: { id: string }) => s.id)).to.deep.equal([ids.geOk]);
      expect(one.submissions[0].deliveries[0]).to.include({ state: 'delivered' });
      const failed = await documented(await get('/api/v1/console/submissions?state=failed&limit=1'), '/api/v1/console/submissions', 'get');
      expect(failed.submissions).to.have.length(1);
      const rest = await documented(
        await get(`/api/v1/console/submissions?state=failed&limit=1&cursor=${failed.next}`),
        '/api/v1/console/submissions',
        'get',
      );
      expect([...failed.submissions, ...rest.submissions].map((s: { id: string }) => s.id).sort()).to.deep.equal(
        [ids.geBad, ids.botBad].sort(),
      );
      expect(rest.next).to.equal(null);
      const counts = await documented(await get('/api/v1/console/submissions/counts'), '/api/v1/console/submissions/counts', 'get');
      expect(counts.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).to.equal(2);
      expect(counts.groups[0]).to.include({ errorKind: 'http-400' });
    });

    it('refuses bad parameters with problem+json naming each', async () => {
      const res = await get('/api/v1/console/submissions?from=yesterday&state=lost&colour=red');
      const p = await documented(res, '/api/v1/console/submissions', 'get');
      expect(p.status).to.equal(400);
      expect(p.errors.map((e: { pointer: string }) => e.pointer).sort()).to.deep.equal(['#/colour', '#/from', '#/state']);
      expect(JSON.stringify(p)).not.to.match(/at .*\.ts/);
      expect((await get('/api/v1/console/submissions', 'not-a-token')).status).to.equal(401);
    });

    it("shows a submission's timeline by hub id or external id", async () => {
      const tl = await documented(await get(`/api/v1/console/submissions/${ext.geBad}`), '/api/v1/console/submissions/{id}', 'get');
      expect(tl.submission.id).to.equal(ids.geBad);
      const attempt = tl.entries.find((e: { kind: string }) => e.kind === 'attempt');
      expect(attempt).to.include({ outcome: 'failed', errorKind: 'http-400', httpStatus: 400 });
      expect(attempt.durationMs).to.be.a('number');
      expect(JSON.stringify(tl)).not.to.include('Mustermann');
      const byId = await documented(await get(`/api/v1/console/submissions/${ids.geOk}`), '/api/v1/console/submissions/{id}', 'get');
      expect(byId.submission.deliveries[0].reference).to.match(/^AZ-/);
    });

    it('shows form data to an admin only, and audits each view', async () => {
      const path = `/api/v1/console/submissions/${ids.geOk}/form-data`;
      expect((await documented(await get(path, GE_TOKEN), '/api/v1/console/submissions/{id}/form-data', 'get')).status).to.equal(403);
      const body = await documented(await get(path), '/api/v1/console/submissions/{id}/form-data', 'get');
      expect(body.content.applicant.familyName).to.equal('Mustermann');
      const audit = [];
      for await (const r of t.hub.store.audit.records()) if (r.action === 'form-data-viewed') audit.push(r);
      expect(audit).to.have.length(1);
      expect(audit[0]).to.include({ actor: 'token:admin', subject: ids.geOk, tenant: GE });
      expect((await t.hub.store.audit.verify()).ok).to.equal(true);
    });

    it('gives a Gelsenkirchen operator nothing of Bottrop: search, counts, timeline, overview, log', async () => {
      const s = await documented(await get('/api/v1/console/submissions?state=failed', GE_TOKEN), '/api/v1/console/submissions', 'get');
      expect(s.submissions.map((x: { tenant: string }) => x.tenant)).to.deep.equal([GE]);
      expect((await get(`/api/v1/console/submissions?externalId=${ext.botBad}`, GE_TOKEN).then((r) => r.json())).submissions).to.deep.equal(
        [],
      );
      const c = await documented(await get('/api/v1/console/submissions/counts', GE_TOKEN), '/api/v1/console/submissions/counts', 'get');
      expect(c.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).to.equal(1);
      expect((await get(`/api/v1/console/submissions/${ids.botBad}`, GE_TOKEN)).status).to.equal(404);
      expect((await get(`/api/v1/console/submissions/${ext.botBad}`, GE_TOKEN)).status).to.equal(404);
      const o = await documented(await get('/api/v1/console/overview', GE_TOKEN), '/api/v1/console/overview', 'get');
      expect(o.rows.map((r: { tenant: string }) => r.tenant)).to.deep.equal([GE]);
      expect(o.rows[0]).to.include({ receivedToday: 2, deliveredToday: 1, failed: 1 });
      const all = await documented(await get('/api/v1/console/overview'), '/api/v1/console/overview', 'get');
      expect(all.rows.map((r: { tenant: string }) => r.tenant)).to.include(BOT);
      // The log's kept lines: the admin sees Bottrop's failure, the Gelsenkirchen operator none of Bottrop's lines.
      const admin = await readLines(await get('/api/v1/console/log'), (l) => l.tenant === BOT);
      expect(admin.some((l) => l.tenant === BOT)).to.equal(true);
      const ge = await readLines(await get('/api/v1/console/log', GE_TOKEN), () => false, 500);
      expect(ge.length).to.be.greaterThan(0);
      expect(ge.every((l) => l.tenant === GE)).to.equal(true);
    });

    it('shows a Gelsenkirchen operator no Bottrop case on any page, where an admin sees it', async () => {
      const pages = [
        '/console',
        '/console/submissions?state=failed',
        '/console/dead-letters',
        '/console/reconciliation',
        '/console/log',
        '/console/targets',
      ];
      const bottrop = [ext.botBad, ids.botBad!];
      // The admin's dead letters name Bottrop's failed case: the pages show what the GE operator must not see.
      const adminDead = await eventually(
        async () => {
          const html = await (await get('/console/dead-letters')).text();
          return html.includes(ext.botBad) ? html : undefined;
        },
        10_000,
        "Bottrop's dead letter on the admin's page",
      );
      expect(adminDead).to.include(ext.botBad);
      for (const page of pages) {
        const res = await get(page, GE_TOKEN);
        expect(res.status, page).to.equal(200);
        expect(res.headers.get('content-type'), page).to.match(/^text\/html/);
        const html = await res.text();
        for (const x of bottrop) expect(html, `${page} names ${x}`).not.to.include(x);
      }
      for (const page of ['/console/submissions?state=failed', '/console/dead-letters'])
        expect(await (await get(page, GE_TOKEN)).text(), page).to.include(ext.geBad);
      expect((await get(`/console/submissions/${ids.botBad}`, GE_TOKEN)).status).to.equal(404);
      expect((await get(`/console/submissions/${ext.botBad}`, GE_TOKEN)).status).to.equal(404);
    });

    it('streams new log lines as they happen, filtered by tenant and level, never with form values', async () => {
      const res = await get(`/api/v1/console/log?tenant=${GE}&level=info`);
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
      const fresh = `ge-live-${kind}`;
      const reading = readLines(res, (l) => JSON.stringify(l).includes('delivered') && l.tenant === GE && l.submissionId === ids.live);
      ids.live = await submit(t, PORTAL_A_TOKEN, { externalId: fresh, tenant: GE });
      const lines = await reading;
      expect(lines.some((l) => l.submissionId === ids.live)).to.equal(true);
      expect(lines.every((l) => l.tenant === GE)).to.equal(true);
      expect(JSON.stringify(lines)).not.to.include('Mustermann');
      const bad = await documented(await get('/api/v1/console/log?level=loud'), '/api/v1/console/log', 'get');
      expect(bad.errors[0].pointer).to.equal('#/level');
    });
  });
}
