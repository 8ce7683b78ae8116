import { expect } from 'chai';
import { PROBLEM_BASE } from '../src/intake/fit-connect/problems.ts';
import { postgresReachable } from './support/databases.ts';
import { startFitConnect, type FitConnectFixture } from './support/fit-connect-simulator/fixture.ts';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { CALLBACK_SECRET, CONFIG, FIM_SCHEMA, fitConnectEnv, fixture, gewerbeData, RawBackOffice } from './support/fit-connect-hub.ts';

/**
 * The FIT-Connect subscriber wired into the hub, against the simulated platform as a real HTTP server: picked up by
 * the scheduled poll and by a callback, decrypted and verified, stored once, accepted with a SET the platform
 * verifies, routed and delivered byte for byte; tampered submissions rejected with the documented problem; bad
 * callbacks change nothing; a submission that cannot be taken in raises the alert after 2 days of the hub's clock.
 */

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`FIT-Connect subscriber in the hub [${kind}]`, function () {
    // The first test of a run waits for the 4096-bit test keys.
    this.timeout(120_000);
    let f: FitConnectFixture;
    let bo: RawBackOffice;
    let t: TestHub;

    async function start(pollCron: string) {
      f = await startFitConnect();
      bo = await new RawBackOffice().start();
      t = await startTestHub({ kind, backOfficeUrl: bo.url, configDir: CONFIG, clock: f.clock.now, env: fitConnectEnv(f, pollCron) });
      // The start-up poll (accept-on-restart) is done before a test puts anything in.
      await t.hub.fitConnect.poll('gelsenkirchen');
    }
    async function stop() {
      await t?.stop(true);
      await bo?.stop();
      await f?.sim.stop();
    }
    const count = async (table: 'submissions' | 'fit_connect_pickups') =>
      Number(
        (
          await t.hub.store.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const state = (id: string) => f.sim.submissions.get(id)!.state;

    describe('polling on the schedule', () => {
      before(async function () {
        if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
        await start('* * * * * *');
      });
      after(stop);

      it('picks up an XGewerbeanzeige submission, stores it once, accepts it, and delivers the original bytes', async () => {
        const put = await f.sim.submit({ destinationId: f.destinationId, data: gewerbeData() });
        await eventually(async () => state(put.submissionId) === 'accepted', 15_000, 'the accept');
        expect(f.sim.refusedEvents).to.deep.equal([]);

        // The platform has the accept a moment before the hub has written down that it does.
        const pickup = await eventually(
          async () => {
            const p = await t.hub.store.fitConnect.get(put.submissionId);
            return p?.state === 'accepted' && p;
          },
          5_000,
          'the pickup accepted',
        );
        expect(pickup).to.include({ destination: 'gelsenkirchen', caseId: put.caseId });
        const stored = await t.hub.store.getSubmission(pickup!.hubSubmissionId!);
        expect(stored).to.include({ externalId: put.submissionId, tenant: '05513000', service: 'gewerbeanmeldung' });

        const got = await eventually(async () => bo.received[0], 10_000, 'the delivery');
        expect(got.body.equals(fixture('gewerbeanmeldung.xml')), 'the bytes the back office got').to.equal(true);

        // Later polls see nothing new: stored once.
        const before = await count('submissions');
        await t.hub.fitConnect.poll('gelsenkirchen');
        expect(await count('submissions')).to.equal(before);
        expect(f.sim.submissions.get(put.submissionId)!.problems).to.deep.equal([]);
      });

      it('rejects a submission whose data ciphertext was changed with encryption-issue, storing nothing', async () => {
        const before = await count('submissions');
        const put = await f.sim.submit({ destinationId: f.destinationId, data: gewerbeData(), tamper: { dataCiphertext: true } });
        await eventually(async () => state(put.submissionId) === 'rejected', 15_000, 'the reject');
        expect(f.sim.submissions.get(put.submissionId)!.problems).to.deep.include.members([
          {
            type: `${PROBLEM_BASE}encryption-issue`,
            title: 'Entschlüsselungs-Fehler',
            detail: 'Die Entschlüsselung der Fachdaten ist fehlgeschlagen.',
            instance: 'data',
          },
        ]);
        expect(await count('submissions')).to.equal(before);
      });

      it('rejects a wrong data hash with hash-mismatch and data its service schema refuses with schema-violation', async () => {
        const before = await count('submissions');
        const hash = await f.sim.submit({ destinationId: f.destinationId, data: gewerbeData(), tamper: { dataHash: true } });
        const dog = await f.sim.submit({
          destinationId: f.destinationId,
          data: { content: fixture('fim-hundeanmeldung.json'), mimeType: 'application/json', schemaUri: FIM_SCHEMA },
        });
        await eventually(
          async () => state(hash.submissionId) === 'rejected' && state(dog.submissionId) === 'rejected',
          15_000,
          'the rejects',
        );
        const types = (id: string) =>
          (f.sim.submissions.get(id)!.problems as { type: string; instance: string }[]).map((p) => [p.type, p.instance]);
        expect(types(hash.submissionId)).to.deep.equal([[`${PROBLEM_BASE}hash-mismatch`, 'data']]);
        expect(types(dog.submissionId)).to.deep.equal([[`${PROBLEM_BASE}schema-violation`, 'data']]);
        // The path of the missing field, never a value of the form.
        const detail = (f.sim.submissions.get(dog.submissionId)!.problems[0] as { detail: string }).detail;
        expect(detail).to.include('/data/hund/chipnummer');
        expect(detail).not.to.include('Labrador');
        expect(await count('submissions')).to.equal(before);
      });

      it("rejects a submission whose tags differ from the platform's signed submit-submission event with incorrect-authentication-tag", async () => {
        const before = await count('submissions');
        const put = await f.sim.submit({ destinationId: f.destinationId, data: gewerbeData(), tamper: { eventTags: true } });
        await eventually(async () => state(put.submissionId) === 'rejected', 15_000, 'the reject');
        const found = f.sim.submissions.get(put.submissionId)!.problems as { type: string; instance: string }[];
        expect(found.map((p) => [p.type, p.instance])).to.deep.equal([[`${PROBLEM_BASE}incorrect-authentication-tag`, 'submission']]);
        expect(await count('submissions')).to.equal(before);
      });

      it('rejects a submission of a schema the destination does not take with unsupported-schema', async () => {
        const put = await f.sim.submit({
          destinationId: f.destinationId,
          data: { content: '{}', mimeType: 'application/json', schemaUri: 'https://schema.example/unbekannt.json' },
        });
        await eventually(async () => state(put.submissionId) === 'rejected', 15_000, 'the reject');
        expect((f.sim.submissions.get(put.submissionId)!.problems[0] as { type: string }).type).to.equal(
          `${PROBLEM_BASE}unsupported-schema`,
        );
      });
    });

    describe('callbacks and the alert', () => {
      before(async function () {
        if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
        // Once a year: whatever happens here, a callback (or the test) made it happen.
        await start('0 0 1 1 *');
      });
      after(stop);
      const callbackUrl = () => `${t.hub.url}/api/v1/fit-connect/gelsenkirchen/callback`;

      it('a forged and a stale callback are refused and change nothing', async () => {
        const put = await f.sim.submit({ destinationId: f.destinationId, data: gewerbeData() });
        const before = f.sim.requests.length;
        expect(await f.sim.fireCallback({ url: callbackUrl(), secret: CALLBACK_SECRET, submissions: [put], forge: true })).to.equal(401);
        expect(await f.sim.fireCallback({ url: callbackUrl(), secret: CALLBACK_SECRET, submissions: [put], ageSeconds: 6 * 60 })).to.equal(
          401,
        );
        await new Promise((r) => setTimeout(r, 300));
        expect(f.sim.requests.length, 'requests to the platform').to.equal(before);
        expect(await t.hub.store.fitConnect.get(put.submissionId)).to.equal(undefined);
        expect(state(put.submissionId)).to.equal('submitted');
      });

      it('a callback with the right HMAC makes the hub poll now: the submission is stored and accepted', async () => {
        const put = await f.sim.submit({ destinationId: f.destinationId, data: gewerbeData() });
        expect(await f.sim.fireCallback({ url: callbackUrl(), secret: CALLBACK_SECRET, submissions: [put] })).to.equal(202);
        await eventually(async () => (await t.hub.store.fitConnect.get(put.submissionId))?.state === 'accepted', 15_000, 'the accept');
        expect(state(put.submissionId)).to.equal('accepted');
      });

      it('a submission that cannot be taken in waits, and after 2 days of the clock raises the alert (log, metric, query)', async () => {
        const put = await f.sim.submit({
          destinationId: f.destinationId,
          data: {
            content: fixture('fim-hundeanmeldung.json'),
            mimeType: 'application/json',
            schemaUri: 'https://schema.example/sperrmuell.json',
          },
        });
        const first = await t.hub.fitConnect.poll('gelsenkirchen');
        expect(first.outcomes.held).to.equal(1);
        expect(first.overdue).to.equal(0);
        const pickup = await t.hub.store.fitConnect.get(put.submissionId);
        expect(pickup).to.include({ state: 'seen' });
        expect(pickup?.lastError).to.include('no route for service sperrmuell');
        expect(state(put.submissionId)).to.equal('submitted');

        f.clock.advance(47 * 3_600_000);
        expect((await t.hub.fitConnect.poll('gelsenkirchen')).overdue).to.equal(0);
        f.clock.advance(2 * 3_600_000);
        expect((await t.hub.fitConnect.poll('gelsenkirchen')).overdue).to.equal(1);
        const alerts = t.logLines.filter((l) => l.includes('fit-connect-unaccepted'));
        expect(alerts).to.have.length(1);
        expect(alerts[0]).to.include(put.submissionId).and.not.to.include('Kowalski');
        const metrics = await t.hub.metrics.registry.metrics();
        expect(metrics).to.include('amtsbote_fit_connect_unaccepted_overdue{destination="gelsenkirchen"} 1');
        const overdue = await t.hub.store.fitConnect.unanswered(f.clock.now() - 48 * 3_600_000);
        expect(overdue.map((p) => p.submissionId)).to.deep.equal([put.submissionId]);
      });
    });
  });
}
