import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { eventually, FIXTURE_CONFIG, PORTAL_A_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';
import { openStore } from '../src/store/index.ts';
import { documented } from './support/openapi.ts';

const ONE = '/api/v1/deliveries/{id}/replay';
const MANY = '/api/v1/deliveries/replay';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';

interface Problem {
  type: string;
  status: number;
  detail?: string;
  errors?: { pointer: string; detail: string }[];
}

async function submit(t: TestHub, scenario: string): Promise<{ id: string; deliveryId: string }> {
  const res = await t.fetch('/api/v1/submissions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(submission({ data: { preferredDate: '2026-12-07', items: [], scenario } })),
  });
  expect(res.status, await res.clone().text()).to.equal(202);
  const { id } = (await res.json()) as { id: string };
  const deliveryId = (await t.hub.store.getSubmission(id))!.deliveries[0]!.id;
  return { id, deliveryId };
}

async function settledDelivery(t: TestHub, id: string, state?: string) {
  return eventually(
    async () => {
      const d = (await t.hub.store.getSubmission(id))!.deliveries[0]!;
      return (state ? d.state === state : d.state === 'delivered' || d.state === 'failed') && d;
    },
    10_000,
    `submission ${id} to settle${state ? ` as ${state}` : ''}`,
  );
}

function operator(t: TestHub, path: string, body: unknown, token: string | null = OPERATOR_TOKEN): Promise<Response> {
  return t.fetch(path, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`replay [${kind}]`, () => {
    let bo: TestBackOffice;
    let t: TestHub;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new TestBackOffice().start();
      // The hub reads the operator token from its environment at start-up (the test hub's is a copy of ours).
      process.env.AMTSBOTE_OPERATOR_TOKEN = OPERATOR_TOKEN;
      try {
        t = await startTestHub({ kind, backOfficeUrl: bo.url });
      } finally {
        delete process.env.AMTSBOTE_OPERATOR_TOKEN;
      }
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
    });

    it('replays a delivery whose attempts ran out: delivered with the same idempotency key, attempts numbered on', async () => {
      // 503 four times: the three attempts of the policy run out; after the replay the fifth try gets through.
      const { id, deliveryId } = await submit(t, 'flaky-4');
      const failed = await settledDelivery(t, id);
      expect(failed).to.include({ state: 'failed', attempts: 3, lastErrorKind: 'http-503' });

      const res = await operator(t, `/api/v1/deliveries/${deliveryId}/replay`, { reason: 'back office is back' });
      expect(res.status, await res.clone().text()).to.equal(200);
      const body = (await documented(res, ONE)) as { id: string; state: string; attempts: number; previousError: string };
      expect(body).to.include({ id: deliveryId, state: 'queued', attempts: 3 });
      expect(body.previousError).to.match(/gave up after 3 attempts/);

      const d = await settledDelivery(t, id, 'delivered');
      expect(d.attempts).to.equal(5);
      expect(d.attemptLog.map((a) => [a.number, a.outcome, a.httpStatus])).to.deep.equal([
        [1, 'retry', 503],
        [2, 'retry', 503],
        [3, 'failed', 503],
        [4, 'retry', 503],
        [5, 'delivered', 201],
      ]);
      expect(d.lastError).to.equal(null);
      const keys = bo.requests.filter((r) => r.idempotencyKey === deliveryId);
      expect(keys).to.have.length(5); // every try, before and after the replay, with the delivery id as key
      expect(bo.cases.filter((c) => c.idempotencyKey === deliveryId)).to.have.length(1);

      const events = await t.hub.store.events(id);
      expect(events.map((e) => e.type).filter((x) => !x.startsWith('status.'))).to.deep.equal([
        'submission.received',
        'delivery.queued',
        'delivery.sending',
        'delivery.waiting',
        'delivery.sending',
        'delivery.waiting',
        'delivery.sending',
        'delivery.failed',
        'delivery.replayed',
        'delivery.sending',
        'delivery.waiting',
        'delivery.sending',
        'delivery.delivered',
      ]);
      const replayed = events.find((e) => e.type === 'delivery.replayed')!;
      expect(replayed.deliveryId).to.equal(deliveryId);
      expect(replayed.detail).to.include({ by: 'operator', reason: 'back office is back', previousErrorKind: 'http-503', attempts: 3 });
      expect(replayed.detail!.previousError).to.match(/gave up after 3 attempts/);
    });

    it('refuses a delivery that is not failed (409) and an unknown one (404)', async () => {
      const { id, deliveryId } = await submit(t, '');
      await settledDelivery(t, id, 'delivered');
      const res = await operator(t, `/api/v1/deliveries/${deliveryId}/replay`, {});
      expect(res.status).to.equal(409);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const p = (await documented(res, ONE)) as Problem;
      expect(p).to.include({ type: 'urn:amtsbote:problem:delivery-not-failed', status: 409 });
      expect(p.detail).to.match(/is delivered/);
      expect((await t.hub.store.events(id)).map((e) => e.type)).not.to.include('delivery.replayed');

      const unknown = await operator(t, '/api/v1/deliveries/00000000-0000-7000-8000-000000000000/replay', {});
      expect(unknown.status).to.equal(404);
      expect(((await documented(unknown, ONE)) as Problem).type).to.equal('urn:amtsbote:problem:not-found');
    });

    it('by filter: a dry run counts and changes nothing; a bad filter is a 422 with pointers; a real run replays', async () => {
      const since = new Date(Date.now() - 1).toISOString();
      const a = await submit(t, 'reject');
      const b = await submit(t, 'reject');
      for (const s of [a, b])
        expect(await settledDelivery(t, s.id)).to.include({ state: 'failed', attempts: 1, lastErrorKind: 'http-400' });

      const dry = await operator(t, '/api/v1/deliveries/replay', { errorKind: 'http-400', since, target: 'backoffice', dryRun: true });
      expect(dry.status, await dry.clone().text()).to.equal(200);
      const report = (await documented(dry, MANY)) as {
        dryRun: boolean;
        matched: number;
        replayed: number;
        deliveries: { id: string; target: string; tenant: string; errorKind: string; failedAt: string }[];
      };
      expect(report).to.include({ dryRun: true, matched: 2, replayed: 0 });
      expect(report.deliveries.map((d) => d.id)).to.have.members([a.deliveryId, b.deliveryId]);
      expect(report.deliveries[0]).to.include({ target: 'backoffice', tenant: '05513000', errorKind: 'http-400' });
      expect(Date.parse(report.deliveries[0]!.failedAt)).to.be.greaterThan(Date.parse(since));
      for (const s of [a, b]) {
        expect((await t.hub.store.getSubmission(s.id))!.deliveries[0]).to.include({ state: 'failed', attempts: 1 });
        expect((await t.hub.store.events(s.id)).map((e) => e.type)).not.to.include('delivery.replayed');
      }

      const bad = await operator(t, '/api/v1/deliveries/replay', { since: 'yesterday', colour: 'blue', dryRun: 'yes' });
      expect(bad.status).to.equal(422);
      const p = (await documented(bad, MANY)) as Problem;
      expect(p.type).to.equal('urn:amtsbote:problem:invalid-replay');
      expect(p.errors!.map((e) => e.pointer)).to.have.members(['#/colour', '#/dryRun', '#/since']);
      const garbled = await t.fetch('/api/v1/deliveries/replay', {
        method: 'POST',
        token: OPERATOR_TOKEN,
        headers: { 'content-type': 'application/json' },
        body: '{"since":',
      });
      expect(garbled.status).to.equal(400);
      expect(((await documented(garbled, MANY)) as Problem).type).to.equal('urn:amtsbote:problem:malformed-body');
      const none = await operator(t, '/api/v1/deliveries/replay', { dryRun: true });
      expect(none.status).to.equal(422);
      expect(((await none.json()) as Problem).errors).to.deep.equal([
        { pointer: '#', detail: 'give at least one of target, tenant, errorKind, since, until' },
      ]);

      const run = await operator(t, '/api/v1/deliveries/replay', { errorKind: 'http-400', since });
      expect(run.status).to.equal(200);
      expect(await documented(run, MANY)).to.include({ dryRun: false, matched: 2, replayed: 2 });
      // The back office still rejects them: a second attempt each, numbered on, and failed again.
      for (const s of [a, b]) {
        const d = await eventually(
          async () => {
            const v = (await t.hub.store.getSubmission(s.id))!.deliveries[0]!;
            return v.state === 'failed' && v.attempts === 2 && v;
          },
          10_000,
          'the replayed delivery to fail again',
        );
        expect(d.attemptLog.map((x) => x.number)).to.deep.equal([1, 2]);
      }
    });

    it('does not accept a portal token (401)', async () => {
      const { deliveryId } = await submit(t, 'reject');
      const res = await operator(t, `/api/v1/deliveries/${deliveryId}/replay`, {}, PORTAL_A_TOKEN);
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.match(/invalid_token/);
      expect(((await documented(res, ONE)) as Problem).type).to.equal('urn:amtsbote:problem:operator-unauthorized');
      const none = await operator(t, '/api/v1/deliveries/replay', { errorKind: 'http-400' }, null);
      expect(none.status).to.equal(401);
    });
  });
}

describe('replay from the command line [sqlite]', function () {
  this.timeout(40_000);
  let bo: TestBackOffice;
  before(async () => {
    bo = await new TestBackOffice().start();
  });
  after(async () => bo?.stop());

  it('without AMTSBOTE_OPERATOR_TOKEN the operator API is off (503); `amtsbote replay` queues a failed delivery of a stopped hub', async () => {
    const saved = process.env.AMTSBOTE_OPERATOR_TOKEN;
    delete process.env.AMTSBOTE_OPERATOR_TOKEN;
    const t = await startTestHub({ kind: 'sqlite', backOfficeUrl: bo.url });
    if (saved !== undefined) process.env.AMTSBOTE_OPERATOR_TOKEN = saved;
    let stopped = false;
    try {
      const { id, deliveryId } = await submit(t, 'reject');
      expect(await settledDelivery(t, id)).to.include({ state: 'failed', attempts: 1 });
      const off = await operator(t, `/api/v1/deliveries/${deliveryId}/replay`, {}, 'anything');
      expect(off.status).to.equal(503);
      expect(await documented(off, ONE)).to.include({
        type: 'urn:amtsbote:problem:operator-api-disabled',
        detail: 'operator API disabled: set AMTSBOTE_OPERATOR_TOKEN',
      });
      await t.stop();
      stopped = true;

      const env = { ...process.env, BACKOFFICE_URL: bo.url, TEST_PORTAL_A_TOKEN: PORTAL_A_TOKEN, DROP_DIR: t.dropDir };
      const dry = await cli(
        ['replay', '--error-kind', 'http-400', '--target', 'backoffice', '--dry-run', '--config', FIXTURE_CONFIG, '--data', t.dataDir],
        env,
      );
      expect(dry.code, dry.stderr).to.equal(0);
      expect(dry.stdout).to.include(`${deliveryId}\tbackoffice\t05513000\thttp-400\t`);
      expect(dry.stdout).to.include('dry run: 1 failed delivery would be replayed');

      const run = await cli(
        ['replay', deliveryId, '--by', 'erika', '--reason', 'Feld ergänzt', '--config', FIXTURE_CONFIG, '--data', t.dataDir],
        env,
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.include(`${deliveryId}\treplayed (queued)`);
      expect(run.stdout).to.include('replayed 1 of 1 by erika');

      const again = await cli(['replay', deliveryId, '--config', FIXTURE_CONFIG, '--data', t.dataDir], env);
      expect(again.code).to.equal(1);
      expect(again.stdout).to.include('not failed (queued)');

      const store = await openStore(t.db.options);
      try {
        const d = (await store.getSubmission(id))!.deliveries[0]!;
        expect(d).to.include({ state: 'queued', attempts: 1, lastErrorKind: 'http-400' }); // the error stays until the next attempt
        const replayed = (await store.events(id)).filter((e) => e.type === 'delivery.replayed');
        expect(replayed).to.have.length(1);
        expect(replayed[0]!.detail).to.include({ by: 'erika', reason: 'Feld ergänzt', previousErrorKind: 'http-400' });
      } finally {
        await store.close();
      }
    } finally {
      if (!stopped) await t.stop();
      await t.db.drop();
    }
  });
});

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/amtsbote.js', import.meta.url)), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
