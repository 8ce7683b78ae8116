import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { eventually, FIXTURE_CONFIG, postSubmission, startTestHub, submission, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';
import type { AuditEntry, AuditTrail } from '../src/audit/trail.ts';
import type { Schedule } from '../src/scheduler/job.ts';

const BIN = fileURLToPath(new URL('../bin/amtsbote.js', import.meta.url));
const DAY = 86_400_000;
const PDF = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n');

/** The fixture configuration with a retention and a prune schedule, in a folder of its own. */
function configWith(retention: string): { dir: string; drop(): void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-retention-'));
  cpSync(FIXTURE_CONFIG, path.join(root, 'config'), { recursive: true });
  cpSync(path.join(FIXTURE_CONFIG, '../mappings'), path.join(root, 'mappings'), { recursive: true });
  writeFileSync(
    path.join(root, 'config', 'retention.yaml'),
    `${retention}\nschedules:\n  - { id: nightly-prune, cron: "0 3 * * *", job: prune }\n`,
  );
  return { dir: path.join(root, 'config'), drop: () => rmSync(root, { recursive: true, force: true }) };
}

/** The audit trail as a list: the port's contract, held in memory (the store-backed trail is tested on its own). */
class ListTrail implements AuditTrail {
  readonly entries: AuditEntry[] = [];
  async record(e: AuditEntry): Promise<void> {
    this.entries.push(e);
  }
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`retention of form data [${kind}]`, () => {
    let bo: TestBackOffice;
    let t: TestHub;
    let config: ReturnType<typeof configWith>;
    let now = 0;
    const audit = new ListTrail();

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new TestBackOffice().start();
      config = configWith(
        [
          'retention:',
          '  formDataDays: 30',
          '  rules:',
          '    - { tenant: "05513000", service: sperrmuell, formDataDays: 10 }',
          '    - { service: hundeanmeldung, formDataDays: 20 }',
        ].join('\n'),
      );
      now = Date.now();
      t = await startTestHub({ kind, backOfficeUrl: bo.url, configDir: config.dir, clock: () => now });
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
      config?.drop();
    });

    const read = async (id: string) => {
      const res = await t.fetch(`/api/v1/submissions/${id}`);
      expect(res.status, await res.clone().text()).to.equal(200);
      return (await res.json()) as {
        status: string;
        formData: string;
        purgedAt: string | null;
        deliveries: { state: string; attemptLog: unknown[] }[];
      };
    };
    const row = (id: string) =>
      t.hub.store.db.selectFrom('submissions').select(['content', 'purged_at', 'body_hash']).where('id', '=', id).executeTakeFirstOrThrow();
    const attachments = async (id: string) =>
      (await t.hub.store.db.selectFrom('attachments').select('filename').where('submission_id', '=', id).execute()).length;
    const fire = () => {
      const s = t.hub.scheduler.schedules.find((x) => x.id === 'nightly-prune') as Schedule;
      return t.hub.scheduler.fire(s, new Date(now));
    };

    it('deletes form data and attachments days after every delivery is final, per tenant and service; keeps the timeline', async () => {
      const waste = submission({
        attachments: [{ filename: 'nachweis.pdf', mediaType: 'application/pdf', content: PDF.toString('base64') }],
      });
      const wasteId = await postSubmission(t, waste);
      const dogId = await postSubmission(t, submission({ service: 'hundeanmeldung', data: { dogName: 'Bello', breed: 'Mischling' } }));
      // Delivered at "now"; the pair (05513000, sperrmuell) keeps its data 10 days, hundeanmeldung 20.
      for (const id of [wasteId, dogId])
        await eventually(async () => (await read(id)).status === 'delivered', 10_000, `submission ${id} delivered`);
      const timeline = (await t.hub.store.events(wasteId)).map((e) => e.type);
      expect(await attachments(wasteId)).to.equal(1);

      now += 9 * DAY;
      await fire();
      expect((await row(wasteId)).purged_at).to.equal(null);

      now += 2 * DAY;
      await fire();
      const purged = await row(wasteId);
      expect(purged.purged_at).to.equal(now);
      expect(purged.content).to.equal('{}');
      expect(await attachments(wasteId)).to.equal(0);
      expect((await row(dogId)).purged_at, 'hundeanmeldung keeps 20 days').to.equal(null);

      const view = await read(wasteId);
      expect(view).to.deep.include({ formData: 'purged', purgedAt: new Date(now).toISOString(), status: 'delivered' });
      expect(view.deliveries[0]!.attemptLog).to.have.length(1);
      expect((await t.hub.store.events(wasteId)).map((e) => e.type)).to.deep.equal([...timeline, 'submission.purged']);
      expect((await read(dogId)).formData).to.equal('held');

      // The same application resent is still recognised (the body hash stays): 200 with the first id.
      const again = await t.fetch('/api/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(waste),
      });
      expect(again.status).to.equal(200);
      expect(((await again.json()) as { id: string }).id).to.equal(wasteId);

      now += 10 * DAY;
      await fire();
      expect((await read(dogId)).formData).to.equal('purged');
    });

    it('purges a failed submission (dry run first, recorded in the audit trail), never replays it, keeps an open one', async () => {
      const { runPurge } = await import('../src/maintenance/purge.ts');
      // The back office refuses it for good (400): failed is a final state.
      const openId = await postSubmission(t, submission({ data: { scenario: 'reject' } }));
      await eventually(async () => (await read(openId)).deliveries[0]!.state === 'failed', 10_000, 'the refused delivery failed');
      const failed = await read(openId);
      expect(failed.status).to.equal('failed');
      const ids = (await t.hub.store.db.selectFrom('deliveries').select('id').where('submission_id', '=', openId).execute()).map(
        (r) => r.id,
      );

      // A dry run counts per tenant and service and changes nothing.
      now += 11 * DAY;
      const dry = await runPurge(t.hub.store.prune, t.hub.config.hub.retention, { now: () => now, dryRun: true, actor: 'test', audit });
      expect(dry.counts).to.deep.include({ tenant: '05513000', service: 'sperrmuell', submissions: 1, attachments: 0 });
      expect((await row(openId)).purged_at).to.equal(null);
      expect(audit.entries).to.deep.equal([]);

      const done = await runPurge(t.hub.store.prune, t.hub.config.hub.retention, { now: () => now, actor: 'cli:erika', audit });
      expect(done.counts).to.deep.include({ tenant: '05513000', service: 'sperrmuell', submissions: 1, attachments: 0 });
      expect(audit.entries).to.deep.equal([
        {
          actor: 'cli:erika',
          action: 'purge',
          tenant: '05513000',
          subject: 'service:sperrmuell',
          detail: { submissions: 1, attachments: 0, retentionDays: 10 },
        },
      ]);
      expect((await read(openId)).formData).to.equal('purged');
      // Nothing is left to send: a replay leaves the failed delivery failed.
      const [r] = await t.hub.store.replay(ids, 'erika', 'test', now);
      expect(r!.outcome).to.equal('not-failed');
      expect((await read(openId)).deliveries[0]!.state).to.equal('failed');

      // A delivery still open keeps its data however old the submission.
      const waiting = await postSubmission(t, submission({ data: { scenario: 'flaky-1' } }));
      await t.hub.store.db
        .updateTable('deliveries')
        .set({ state: 'waiting', next_attempt_at: now + 365 * DAY })
        .where('submission_id', '=', waiting)
        .execute();
      now += 100 * DAY;
      await fire();
      expect((await row(waiting)).purged_at).to.equal(null);
    });
  });
}

describe('amtsbote purge (CLI)', () => {
  let bo: TestBackOffice;
  let t: TestHub;
  let config: ReturnType<typeof configWith>;
  before(async () => {
    bo = await new TestBackOffice().start();
    config = configWith('retention:\n  rules:\n    - { tenant: "05513000", formDataDays: 0 }');
    t = await startTestHub({ kind: 'sqlite', backOfficeUrl: bo.url, configDir: config.dir });
  });
  after(async () => {
    await t?.stop(true);
    await bo?.stop();
    config?.drop();
  });

  it('--dry-run counts per tenant and service and changes nothing; without it, deletes', async function () {
    this.timeout(60_000);
    const ids: string[] = [];
    for (const body of [submission(), submission({ tenant: '05512000' })]) {
      const res = await t.fetch('/api/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        ...(body.tenant === '05512000' ? { token: 'portal-b-token-0123456789' } : {}),
      });
      expect(res.status).to.equal(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    for (const id of ids)
      await eventually(
        async () => (await t.hub.store.getSubmission(id))?.deliveries.every((d) => d.state === 'delivered'),
        10_000,
        'delivered',
      );
    // The clock moves on by a few ms between delivery and the command: 0 days means "once final".
    await new Promise((r) => setTimeout(r, 20));
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, [BIN, 'purge', '--config', config.dir, '--data', t.dataDir, '--json', ...args], {
        env: { ...process.env, BACKOFFICE_URL: bo.url, TEST_PORTAL_A_TOKEN: 'x'.repeat(20), DROP_DIR: t.dropDir },
      });
    const dry = JSON.parse((await run('--dry-run')).stdout) as {
      dryRun: boolean;
      pairs: { tenant: string; service: string; submissions: number }[];
    };
    expect(dry.dryRun).to.equal(true);
    expect(dry.pairs).to.have.length(1);
    expect(dry.pairs[0]).to.deep.include({ tenant: '05513000', service: 'sperrmuell', submissions: 1, retentionDays: 0 });
    expect((await t.hub.store.getSubmission(ids[0]!))!.purgedAt).to.equal(null);

    const done = JSON.parse((await run()).stdout) as typeof dry;
    expect(done.pairs[0]).to.deep.include({ submissions: 1 });
    expect((await t.hub.store.getSubmission(ids[0]!))!.purgedAt).to.be.a('number');
    expect((await t.hub.store.getSubmission(ids[1]!))!.purgedAt, 'Bottrop has no retention').to.equal(null);
  });
});

describe('retention configuration', () => {
  it('refuses a rule for a tenant or service the hub does not know', async () => {
    const { loadConfig } = await import('../src/config/load.ts');
    const { adapterRegistry } = await import('../src/config/adapter-folders.ts');
    const { builtinAdapters } = await import('../adapters/index.ts');
    const c = configWith(
      'retention:\n  rules:\n    - { tenant: "05999000", formDataDays: 5 }\n    - { service: sperrmull, formDataDays: 5 }',
    );
    try {
      const env = { ...process.env, BACKOFFICE_URL: 'http://127.0.0.1:1', TEST_PORTAL_A_TOKEN: 'x'.repeat(20), DROP_DIR: os.tmpdir() };
      let message = '';
      try {
        loadConfig(c.dir, { adapters: await adapterRegistry(c.dir, builtinAdapters), env });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).to.include('no tenant 05999000').and.to.include('no service sperrmull');
    } finally {
      c.drop();
    }
  });
});
