import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import Transport from 'winston-transport';
import { TestBackOffice } from './support/backoffice.ts';
import { eventually, startTestHub, submission, type TestHub, postSubmission, settledSubmission } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';
import { ThreadRunner } from '../src/delivery/runner/thread-pool.ts';
import { Router } from '../src/routing/router.ts';
import { loadConfig } from '../src/config/load.ts';
import { adapterRegistry } from '../src/config/adapter-folders.ts';
import { builtinAdapters } from '../adapters/index.ts';
import { createLogger } from '../src/log/logger.ts';
import { systemClock } from '../src/clock.ts';

// worker.threads: the messages are rendered and sent on delivery threads, the store stays on the main thread.
// The fixture (test/fixtures/threads) has the test back office, a mapping that fails, and an adapter of its own
// that keeps a memo and logs.
const CONFIG = fileURLToPath(new URL('./fixtures/threads', import.meta.url));

interface View {
  status: string;
  deliveries: {
    id: string;
    state: string;
    attempts: number;
    reference: string | null;
    lastError: string | null;
    lastErrorKind: string | null;
  }[];
}

const waste = (scenario?: string) =>
  submission({
    data: { preferredDate: '2026-12-07', items: [], ...(scenario ? { scenario } : {}) },
    attachments: [
      { filename: 'hinweis.txt', mediaType: 'text/plain', content: Buffer.from('Sperrmüll am Straßenrand').toString('base64') },
    ],
  });

for (const kind of ['sqlite', 'postgres'] as const) {
  for (const threads of [1, 2]) {
    describe(`delivery threads: ${threads} [${kind}]`, () => {
      let bo: TestBackOffice;
      let t: TestHub;

      before(async function () {
        if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
        bo = await new TestBackOffice().start();
        t = await startTestHub({ kind, backOfficeUrl: bo.url, configDir: CONFIG, worker: { threads } });
      });
      after(async () => {
        await t?.stop(true);
        await bo?.stop();
      });

      it('delivers every submission once and records it once, attachments and all', async () => {
        const ids = await Promise.all(Array.from({ length: 12 }, () => postSubmission(t, waste())));
        const views = await Promise.all(ids.map((id) => settledSubmission<View>(t, id)));
        for (const v of views) expect(v.deliveries[0]).to.include({ state: 'delivered', attempts: 1 });
        const keys = views.map((v) => v.deliveries[0]!.id);
        const filed = bo.cases.filter((c) => keys.includes(c.idempotencyKey!));
        expect(filed).to.have.length(12);
        expect(new Set(filed.map((c) => c.idempotencyKey)).size).to.equal(12);
        // The bytes reached the mapping on the thread as bytes (base64 of the attachment, not a list of numbers).
        expect(JSON.parse(filed[0]!.body).files).to.deep.equal({
          name: 'hinweis.txt',
          content: Buffer.from('Sperrmüll am Straßenrand').toString('base64'),
        });
        for (const id of ids) {
          const types = (await t.hub.store.events(id)).map((e) => e.type);
          expect(types.filter((x) => x === 'delivery.delivered')).to.have.length(1);
        }
      });

      it('fails a delivery whose mapping fails on the thread as it does on the event loop', async () => {
        const id = await postSubmission(
          t,
          submission({ tenant: '05562014', service: 'hundeanmeldung', data: { dog: { name: 'Rex', breed: 'pudel' } } }),
        );
        const d = (await settledSubmission<View>(t, id)).deliveries[0]!;
        expect(d).to.include({ state: 'failed', attempts: 1, lastErrorKind: 'mapping' });
        expect(d.lastError).to.equal('broken.jsonata:2:12: $code: the value is not in the code list (dackel)');
        const failed = (await t.hub.store.events(id)).find((e) => e.type === 'delivery.failed')!;
        expect(failed.detail).to.include({ errorKind: 'mapping', mapping: 'broken.jsonata', line: 2, column: 12 });
        expect(failed.detail!.position).to.be.a('number');
      });

      it("keeps an adapter's memo in the main thread's store, and its log lines reach the hub's log", async () => {
        const id = await postSubmission(t, submission({ service: 'hundeanmeldung', data: { dog: { name: 'Bello' } } }));
        const d = (await settledSubmission<View>(t, id)).deliveries[0]!;
        expect(d).to.include({ state: 'delivered', attempts: 2 });
        // The number taken on the first attempt is the one the second sent, and the store holds it.
        const number = await t.hub.store.recallMemo(d.id, 'noted.number');
        expect(number).to.match(/^N-1-/);
        const filed = bo.cases.find((c) => c.idempotencyKey === d.id)!;
        expect(JSON.parse(filed.body)).to.include({ number });
        const line = t.logLines
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.message === 'noted-office files the case');
        expect(line).to.include({ level: 'info', target: 'noted', adapter: 'noted-office', number, deliveryId: d.id });
        expect(line!.timestamp).to.be.a('string');
        // The console's live log has it too.
        expect(t.hub.logTap.backlog().some((l) => l.message === 'noted-office files the case' && l.target === 'noted')).to.equal(true);
      });

      it("asks the back office's acknowledgement through a thread", async () => {
        const id = await postSubmission(t, submission({ tenant: '05562008', service: 'hundeanmeldung', data: { dog: { name: 'Ok' } } }));
        const deliveryId = (await t.hub.store.getSubmission(id))!.deliveries[0]!.id;
        const file = await eventually(
          async () => readdirSync(t.dropDir).find((f) => f.includes(deliveryId) && f.endsWith('.xml')),
          5_000,
          'the dropped file',
        );
        writeFileSync(path.join(t.dropDir, `${file}.ok`), 'HST-05562008-000007\n');
        const d = (await settledSubmission<View>(t, id)).deliveries[0]!;
        expect(d).to.include({ state: 'delivered', reference: 'HST-05562008-000007', attempts: 1 });
      });

      it('retries an attempt whose thread died with the same idempotency key, and the back office files one case', async () => {
        const runner = t.hub.worker!.runner as ThreadRunner;
        const id = await postSubmission(t, waste('slow'));
        const deliveryId = (await t.hub.store.getSubmission(id))!.deliveries[0]!.id;
        // The back office holds the request 1.5 s: the thread is stopped while it waits for the answer.
        await eventually(async () => bo.arrivals.includes(deliveryId), 5_000, 'the request at the back office');
        await Promise.all(runner.threads.map((w) => w.terminate()));
        const v = await settledSubmission<View>(t, id, 15_000);
        const log = (await t.hub.store.getSubmission(id))!.deliveries[0]!.attemptLog;
        // The attempt the thread held is a hub error; the retry delivers. (Under a loaded machine the replacement
        // thread may start so slowly that a retry in between meets the hard stop first: a timeout, retried too.)
        const outcomes = log.map((a) => [a.outcome, a.errorKind]);
        expect(outcomes[0], JSON.stringify(log)).to.deep.equal(['retry', 'internal']);
        expect(outcomes.at(-1)).to.deep.equal(['delivered', null]);
        for (const o of outcomes.slice(1, -1)) expect(o).to.deep.equal(['retry', 'timeout']);
        expect(v.deliveries[0]).to.include({ state: 'delivered' });
        expect(bo.arrivals.filter((k) => k === deliveryId).length).to.be.at.least(2);
        expect(bo.cases.filter((c) => c.idempotencyKey === deliveryId)).to.have.length(1);
        // The threads were replaced.
        expect(runner.threads).to.have.length(threads);
      });
    });
  }
}

/**
 * A ThreadRunner on its own, beside no hub: the main thread's router from the fixture configuration, the
 * threads loading `configDir` (the fixture's, or one that is not there).
 */
async function threadRunner(threads: number, configDir: string, transports: Transport[] = []): Promise<ThreadRunner> {
  const env = { ...process.env, BACKOFFICE_URL: 'http://127.0.0.1:9', TEST_PORTAL_A_TOKEN: 'portal-a-token-0123456789', DROP_DIR: '/tmp' };
  const config = loadConfig(CONFIG, { adapters: await adapterRegistry(CONFIG, builtinAdapters), env });
  return new ThreadRunner({
    threads,
    configDir,
    env,
    router: new Router(config),
    logger: createLogger({ level: 'info', console: false, transports }),
    now: systemClock,
  });
}

describe('delivery threads: a thread that stops answering', function () {
  this.timeout(40_000);
  it('ends the attempt at its hard stop, then replaces the silent thread with one that answers', async () => {
    const lines: string[] = [];
    const capture = new Transport();
    capture.log = (info: { message: string }, next: () => void) => {
      lines.push(info.message);
      next();
    };
    const runner = await threadRunner(1, CONFIG, [capture]);
    await runner.open();
    try {
      const first = runner.threads[0]!.threadId;
      const now = systemClock();
      const dog = (id: string, scenario: string) => ({
        d: {
          id,
          submissionId: `s-${id}`,
          routeId: 'dogs',
          targetId: 'noted',
          mappingId: 'dog.jsonata',
          idempotencyKey: `k-${id}`,
          tenant: '05513000',
          service: 'hundeanmeldung',
          attempt: 1,
          leaseExpiresAt: now + 60_000,
          resumed: false,
        },
        src: {
          portalId: 'portal-a',
          externalId: `e-${id}`,
          tenant: '05513000',
          service: 'hundeanmeldung',
          submittedAt: new Date(now).toISOString(),
          receivedAt: now,
          purgedAt: null,
          content: JSON.stringify({ applicant: { familyName: 'Muster' }, data: { scenario, dog: { name: 'Bello' } } }),
          attachments: [],
        },
      });
      const notes = new Map<string, string>();
      const memo = {
        recall: async (key: string) => notes.get(key),
        remember: async (key: string, value: string) => void notes.set(key, value),
      };
      // The noted target's timeoutMs is 2000: the attempt ends at 3000 ms, retryable, whatever the thread does.
      const stuck = dog('d-hang', 'hang-thread');
      const started = Date.now();
      const outcome = await runner.run(stuck.d, stuck.src, memo);
      expect(outcome, JSON.stringify(outcome)).to.include({ ok: false, retryable: true, errorKind: 'timeout' });
      expect(Date.now() - started).to.be.within(2_900, 6_000);
      // 5 s after the hard stop the thread counts as stuck: it is stopped and a new one takes its place.
      await eventually(async () => runner.threads.length === 1 && runner.threads[0]!.threadId !== first, 15_000, 'a new thread');
      expect(lines).to.include('a delivery thread did not answer within the attempt time; it is replaced');
      expect(lines).to.include('a delivery thread stopped; a new one takes its place');
      const fresh = dog('d-next', 'plain');
      // The new thread answers: the noted office turns every first attempt away.
      expect(await runner.run(fresh.d, fresh.src, memo)).to.include({ ok: false, errorKind: 'busy' });
    } finally {
      await runner.close();
    }
  });
});

describe('delivery threads: start-up', () => {
  it('reports why a thread could not start, and open() fails with it', async () => {
    // The main thread's configuration loads; the threads are pointed at a folder that is not there.
    const runner = await threadRunner(2, path.join(CONFIG, 'not-there'));
    const failure = await runner.open().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failure?.message).to.match(
      /^a delivery thread could not start: invalid configuration:\n.*not-there configuration folder not found/,
    );
    expect(runner.threads).to.have.length(0);
  });
});
