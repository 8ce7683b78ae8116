import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openStore } from '../src/store/index.ts';
import { createTestDatabase, postgresReachable, type TestDatabase } from './support/databases.ts';
import { startFitConnect, type FitConnectFixture } from './support/fit-connect-simulator/fixture.ts';
import { startHubProcess, type HubProcess } from './support/hub-process.ts';
import { eventually } from './support/hub.ts';
import { CONFIG, fitConnectEnv, gewerbeData, RawBackOffice } from './support/fit-connect-hub.ts';

/**
 * The hub as a real process (`amtsbote start`), killed with SIGKILL after it stored a FIT-Connect submission and
 * while its accept-submission is on its way (the simulated platform holds the request unanswered). Restarted,
 * it accepts the submission without storing it again.
 */
for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`FIT-Connect: a hub killed between storing and accepting [${kind}]`, function () {
    this.timeout(180_000);
    let f: FitConnectFixture;
    let bo: RawBackOffice;
    let db: TestDatabase;
    let dataDir: string;
    let hub: HubProcess | undefined;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      // The hub process runs on the machine's clock; the platform's clock is set to it, so the SET's iat is now.
      f = await startFitConnect({ startAt: Date.now() });
      bo = await new RawBackOffice().start();
      db = await createTestDatabase(kind);
      dataDir = db.options.sqliteFile ? path.dirname(db.options.sqliteFile) : mkdtempSync(path.join(os.tmpdir(), 'amtsbote-data-'));
    });
    after(async () => {
      await hub?.kill();
      await bo?.stop();
      await f?.sim.stop();
      await db?.drop();
      if (dataDir && !db?.options.sqliteFile) rmSync(dataDir, { recursive: true, force: true });
    });

    const run = () =>
      startHubProcess({
        configDir: CONFIG,
        dataDir,
        ...(db.options.url ? { databaseUrl: db.options.url, databaseSchema: db.options.schema! } : {}),
        env: { ...fitConnectEnv(f, '* * * * * *'), BACKOFFICE_URL: bo.url },
      });

    it('accepts on restart, and the submission is stored once', async () => {
      f.sim.holdEvents(true);
      hub = await run();
      const put = await f.sim.submit({ destinationId: f.destinationId, data: gewerbeData() });
      // Stored (the accept is only posted after the commit), and the accept is in flight: now it dies.
      await eventually(async () => f.sim.held.length > 0, 30_000, `the accept to be posted\n${hub?.tail()}`);
      await hub.kill();
      f.sim.holdEvents(false);
      expect(f.sim.submissions.get(put.submissionId)!.state).to.equal('submitted');

      const rows = async () => {
        const store = await openStore(db.options);
        try {
          const pickup = await store.fitConnect.get(put.submissionId);
          const stored = await store.db
            .selectFrom('submissions')
            .select(['id', 'external_id'])
            .where('external_id', '=', put.submissionId)
            .execute();
          return { pickup, stored };
        } finally {
          await store.close();
        }
      };
      const crashed = await rows();
      expect(crashed.stored).to.have.length(1);
      expect(crashed.pickup?.state).to.equal('stored');

      hub = await run();
      await eventually(async () => f.sim.submissions.get(put.submissionId)!.state === 'accepted', 30_000, `the accept\n${hub?.tail()}`);
      expect(f.sim.refusedEvents).to.deep.equal([]);
      // Accepted once: the event log has the platform's submit-submission and one accept.
      expect(f.sim.eventLogs.get(put.caseId)).to.have.length(2);
      await eventually(async () => bo.received.length > 0, 15_000, 'the delivery');
      await hub.stop();
      hub = undefined;

      const after = await rows();
      expect(after.stored.map((s) => s.id)).to.deep.equal(crashed.stored.map((s) => s.id));
      expect(after.pickup?.state).to.equal('accepted');
      expect(bo.received).to.have.length(1);
    });
  });
}
