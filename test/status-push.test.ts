import { expect } from 'chai';
import { documented } from './support/openapi.ts';
import { TestBackOffice } from './support/backoffice.ts';
import { postgresReachable } from './support/databases.ts';
import { eventually, PORTAL_A_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';
import { ARCHIVE_PUSH_TOKEN, CALLBACK_TOKEN, PUSH_TOKEN, statusConfig, TestPortal } from './status-support.ts';

/** Checks a real answer against the OpenAPI document and returns its body. */
const conforms = documented;

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`status push and the submission's status [${kind}]`, () => {
    let bo: TestBackOffice;
    let portal: TestPortal;
    let t: TestHub;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new TestBackOffice().start();
      portal = await new TestPortal().start();
      t = await startTestHub({ kind, backOfficeUrl: bo.url, configDir: statusConfig(`${portal.url}/status`) });
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
      await portal?.stop();
    });

    /** A submission delivered to the fixture's `backoffice`; its id, delivery id and reference. */
    async function deliveredCase(): Promise<{ id: string; deliveryId: string; reference: string }> {
      const res = await t.fetch('/api/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(submission()),
      });
      const { id } = (await res.json()) as { id: string };
      return eventually(
        async () => {
          const v = (await (await t.fetch(`/api/v1/submissions/${id}`)).json()) as any;
          // Delivered, and the hub's own RECEIVED recorded (the worker records it right after the delivery).
          return v.status === 'delivered' && v.caseStatus && { id, deliveryId: v.deliveries[0].id, reference: v.deliveries[0].reference };
        },
        10_000,
        'delivery',
      );
    }
    const push = (body: unknown, token: string | null = PUSH_TOKEN, contentType = 'application/json') =>
      t.fetch('/api/v1/backoffice-events', {
        method: 'POST',
        token,
        headers: { 'content-type': contentType },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const view = async (id: string) => conforms(await t.fetch(`/api/v1/submissions/${id}`), '/api/v1/submissions/{id}', 'get');

    it('401 without a token and with a portal token, with a challenge', async () => {
      for (const token of [null, PORTAL_A_TOKEN]) {
        const res = await push({ reference: 'x', status: 'erledigt' }, token);
        expect(res.status).to.equal(401);
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer realm="amtsbote-backoffice"/);
        expect((await conforms(res, '/api/v1/backoffice-events', 'post')).type).to.equal('urn:amtsbote:problem:backoffice-unauthorized');
      }
    });

    it('415 for another media type, 400 for malformed JSON', async () => {
      expect((await conforms(await push('{}', PUSH_TOKEN, 'text/plain'), '/api/v1/backoffice-events', 'post')).status).to.equal(415);
      expect((await conforms(await push('{"status":', PUSH_TOKEN), '/api/v1/backoffice-events', 'post')).status).to.equal(400);
    });

    it('reads the body as strictly as the intake: depth 400, duplicate and __proto__ keys 422, quoted charset taken', async () => {
      const deep = await conforms(await push(`{"events":${'['.repeat(100_000)}`), '/api/v1/backoffice-events', 'post');
      expect(deep).to.include({ status: 400, detail: 'the body is nested deeper than 64 levels' });
      const twice = await conforms(
        await push('{"reference":"a","reference":"b","status":"erledigt"}'),
        '/api/v1/backoffice-events',
        'post',
      );
      expect(twice).to.deep.include({
        status: 422,
        errors: [{ pointer: '#/reference', detail: 'the key "reference" appears twice in one object' }],
      });
      const proto = await conforms(
        await push('{"reference":"a","status":"erledigt","__proto__":{"reason":"x"}}'),
        '/api/v1/backoffice-events',
        'post',
      );
      expect(proto).to.include({ status: 422, type: 'urn:amtsbote:problem:invalid-status-event' });
      const quoted = await push({ reference: 'no-such-case', status: 'erledigt' }, PUSH_TOKEN, 'application/json; charset="utf-8"');
      expect(quoted.status, await quoted.clone().text()).to.equal(404);
    });

    it('records a pushed status, maps it, shows it on the submission and sends it to the portal', async () => {
      const c = await deliveredCase();
      const res = await push({
        reference: c.reference,
        status: 'Rueckfrage Bauamt',
        reason: 'Foto des Sperrmülls fehlt',
        at: '2026-11-20T08:00:00+01:00',
      });
      expect(res.status).to.equal(200);
      expect(await conforms(res, '/api/v1/backoffice-events', 'post')).to.deep.equal({
        results: [{ outcome: 'applied', submissionId: c.id, portalStatus: 'ACTION_REQUIRED' }],
      });
      const v = await view(c.id);
      expect(v.status, 'the delivery status is unchanged').to.equal('delivered');
      // A back office's word beats the hub's RECEIVED, whatever its time.
      expect(v.caseStatus).to.deep.equal({
        status: 'ACTION_REQUIRED',
        reason: 'Foto des Sperrmülls fehlt',
        at: '2026-11-20T07:00:00.000Z',
        sequence: 2,
      });
      const pushed = v.statusHistory.filter((h: any) => h.source === 'push');
      expect(pushed).to.have.length(1);
      expect(pushed[0]).to.include({
        source: 'push',
        target: 'backoffice',
        deliveryId: c.deliveryId,
        backofficeStatus: 'Rueckfrage Bauamt',
        status: 'ACTION_REQUIRED',
        effect: 'applied',
      });
      const got = await eventually(async () => portal.updatesOf(c.id)[1], 5000, 'the portal to get the update');
      expect(portal.updatesOf(c.id)[0]).to.include({ status: 'RECEIVED', sequence: 1 });
      expect(got).to.deep.equal({
        submissionId: c.id,
        externalId: v.externalId,
        tenant: '05513000',
        service: 'sperrmuell',
        status: 'ACTION_REQUIRED',
        reason: 'Foto des Sperrmülls fehlt',
        at: '2026-11-20T07:00:00.000Z',
        sequence: 2,
      });
      expect(portal.taken.find((u) => u.body.submissionId === c.id)!.authorization).to.equal(`Bearer ${CALLBACK_TOKEN}`);
      // The portal answered before the hub recorded its answer.
      const types = await eventually(
        async () => {
          const all = (await t.hub.store.events(c.id)).map((e) => e.type);
          return all.includes('status.forwarded') && all;
        },
        5000,
        'status.forwarded',
      );
      expect(types).to.include.members(['status.recorded', 'status.changed']);
    });

    it('is idempotent for the same (case, status, at)', async () => {
      const c = await deliveredCase();
      const e = { idempotencyKey: c.deliveryId, status: 'in Bearbeitung', at: '2026-11-20T09:00:00Z' };
      expect((await (await push(e)).json()).results[0].outcome).to.equal('applied');
      expect(await conforms(await push(e), '/api/v1/backoffice-events', 'post')).to.deep.equal({
        results: [{ outcome: 'duplicate', submissionId: c.id }],
      });
      expect((await push({ events: [e, e] })).status).to.equal(200);
      expect((await view(c.id)).statusHistory.filter((h: any) => h.source === 'push')).to.have.length(1);
    });

    it('takes concurrent batches about the same cases in opposite orders, none refused', async () => {
      const cases = [];
      for (let i = 0; i < 6; i++) cases.push(await deliveredCase());
      for (let round = 0; round < 5; round++) {
        const at = (minute: number) => `2026-11-21T10:${String(round * 10 + minute).padStart(2, '0')}:00Z`;
        const forward = cases.map((c) => ({ reference: c.reference, status: 'in Bearbeitung', at: at(1) }));
        const backward = [...cases]
          .reverse()
          .map((c) => ({ reference: c.reference, status: 'Rueckfrage Bauamt', reason: 'Foto fehlt', at: at(2) }));
        const answers = await Promise.all([
          push({ events: forward }),
          push({ events: backward }),
          push({ events: forward.map((e) => ({ ...e, at: at(3) })) }),
        ]);
        expect(
          answers.map((a) => a.status),
          `round ${round}`,
        ).to.deep.equal([200, 200, 200]);
      }
      // The newest word of the last round holds, whatever order the batches were taken in. (Its time is 10:43, or
      // 10:33 when the last round's 10:42 news came last: then the case was PROCESSING all along, as far as the hub saw.)
      for (const c of cases) expect((await view(c.id)).caseStatus.status).to.equal('PROCESSING');
    });

    it('422 with a pointer per field, and a batch with one bad event writes nothing', async () => {
      const c = await deliveredCase();
      const single = await conforms(await push({ status: '', colour: 'blue' }), '/api/v1/backoffice-events', 'post');
      expect(single.type).to.equal('urn:amtsbote:problem:invalid-status-event');
      expect(single.errors.map((e: any) => e.pointer)).to.have.members(['#/status', '#/colour', '#/reference']);
      const res = await push({
        events: [
          { reference: c.reference, status: 'erledigt' },
          { reference: c.reference },
          { reference: c.reference, status: 'x', at: '2099-01-01T00:00:00Z' },
          { reference: c.reference, status: 'x', target: 'dropbox' },
        ],
      });
      const body = await conforms(res, '/api/v1/backoffice-events', 'post');
      expect(res.status).to.equal(422);
      expect(body.errors).to.deep.include({ pointer: '#/events/1/status', detail: 'required' });
      // Checks that need the parsed event run once every field is well-formed.
      expect(
        (
          await (
            await push({
              events: [
                { reference: c.reference, status: 'erledigt' },
                { reference: c.reference, status: 'x', at: '2099-01-01T00:00:00Z' },
                { reference: c.reference, status: 'x', target: 'dropbox' },
              ],
            })
          ).json()
        ).errors,
      ).to.deep.equal([
        { pointer: '#/events/1/at', detail: 'lies in the future' },
        { pointer: '#/events/2/target', detail: 'this token may not report for this target' },
      ]);
      expect(
        (await view(c.id)).statusHistory.filter((h: any) => h.source === 'push'),
        'nothing half-written',
      ).to.deep.equal([]);
      expect((await push({ events: [] })).status).to.equal(422);
    });

    it('404 for a single event about an unknown case; a batch answers per event', async () => {
      const c = await deliveredCase();
      const single = await push({ reference: 'AZ-99999', status: 'erledigt' });
      expect(single.status).to.equal(404);
      expect((await conforms(single, '/api/v1/backoffice-events', 'post')).type).to.equal('urn:amtsbote:problem:unknown-case');
      // Another target's token does not see this target's cases.
      expect((await push({ reference: c.reference, status: 'erledigt' }, ARCHIVE_PUSH_TOKEN)).status).to.equal(404);
      const batch = await conforms(
        await push({
          events: [
            { reference: 'AZ-99999', status: 'erledigt' },
            { reference: c.reference, status: 'erledigt' },
          ],
        }),
        '/api/v1/backoffice-events',
        'post',
      );
      expect(batch.results).to.deep.equal([
        { outcome: 'unknown-case' },
        { outcome: 'applied', submissionId: c.id, portalStatus: 'COMPLETED' },
      ]);
    });

    it('answers older news and unmapped words per event, without moving the status', async () => {
      const c = await deliveredCase();
      await push({ reference: c.reference, status: 'ERLEDIGT_OK', at: '2026-11-20T12:00:00Z' });
      const r = await conforms(
        await push({
          events: [
            { reference: c.reference, status: 'in Bearbeitung', at: '2026-11-20T10:00:00Z' },
            { reference: c.reference, status: 'Wiedervorlage', at: '2026-11-20T13:00:00Z' },
          ],
        }),
        '/api/v1/backoffice-events',
        'post',
      );
      expect(r.results.map((x: any) => x.outcome)).to.deep.equal(['older', 'unmapped']);
      const v = await view(c.id);
      expect(v.caseStatus.status).to.equal('COMPLETED');
      expect(
        v.statusHistory.filter((h: any) => h.source === 'push').map((h: any) => [h.backofficeStatus, h.status, h.effect]),
      ).to.deep.equal([
        ['in Bearbeitung', 'PROCESSING', 'older'],
        ['ERLEDIGT_OK', 'COMPLETED', 'applied'],
        ['Wiedervorlage', null, 'unmapped'],
      ]);
      const metrics = await (await t.fetch('/metrics', { token: null })).text();
      expect(metrics).to.match(/amtsbote_status_recorded_total\{target="backoffice",source="push",outcome="unmapped"\} [1-9]/);
    });

    it('shows RECEIVED once the back office has the case, before it reported anything', async () => {
      const c = await deliveredCase();
      const v = await view(c.id);
      expect(v.caseStatus).to.include({ status: 'RECEIVED', sequence: 1 });
      expect(v.statusHistory).to.have.length(1);
      expect(v.statusHistory[0]).to.include({
        source: 'delivery',
        deliveryId: c.deliveryId,
        backofficeStatus: null,
        status: 'RECEIVED',
        effect: 'applied',
      });
    });
  });
}
