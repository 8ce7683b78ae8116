import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openStore, type Store } from '../src/store/index.ts';
import { TestBackOffice } from './support/backoffice.ts';
import { createTestDatabase, postgresReachable, PG_URL, type TestDatabase } from './support/databases.ts';
import { eventually, PORTAL_A_TOKEN, submission } from './support/hub.ts';
import { startHubProcess, type HubProcess } from './support/hub-process.ts';

/**
 * Several hub processes (`amtsbote start`, real child processes) on one PostgreSQL schema, delivering to one back
 * office that files one case per Idempotency-Key. 2,000 submissions each run; in the second, one process is
 * killed with SIGKILL mid-load and started again.
 */
const CONFIG = fileURLToPath(new URL('./fixtures/multi-instance', import.meta.url));
const COUNT = 2000;
/** Requests in flight from the test, spread over the hubs. */
const CONCURRENCY = 16;

describe('several hub processes on one PostgreSQL', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let store: Store;
  let backOffice: TestBackOffice;
  const dirs: string[] = [];
  const hubs: HubProcess[] = [];

  before(async function () {
    if (!(await postgresReachable())) {
      if (process.env.CI) throw new Error(`PostgreSQL is not reachable at ${PG_URL}; .ci/run should have started it`);
      console.warn(`      (skipped: PostgreSQL not reachable at ${PG_URL}; set AMTSBOTE_TEST_PG_URL)`);
      this.skip();
    }
  });

  beforeEach(async () => {
    db = await createTestDatabase('postgres');
    // Created and migrated here, so the hubs start on a ready schema (and the test can count rows).
    store = await openStore(db.options);
    backOffice = await new TestBackOffice().start();
  });

  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((h) => h.stop()));
    await backOffice.stop();
    await store.close();
    await db.drop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function startHub(): Promise<HubProcess> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-mi-'));
    dirs.push(dataDir);
    return startHubProcess({
      configDir: CONFIG,
      dataDir,
      databaseUrl: db.options.url!,
      databaseSchema: db.options.schema!,
      env: { BACKOFFICE_URL: backOffice.url, TEST_PORTAL_A_TOKEN: PORTAL_A_TOKEN },
    }).then((h) => {
      hubs.push(h);
      return h;
    });
  }

  it('deliver 2,000 submissions posted to both, each exactly once by idempotency key', async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([startHub(), startHub()]);
    const load = await postAll(
      COUNT,
      (i) => [a!, b!][i % 2]!,
      () => false,
    );
    expect(load.accepted.size).to.equal(COUNT);

    await allDelivered(store, COUNT);
    const r = await reconcile(store, backOffice, load);
    report('2 hubs', r, started);
    // Nobody died, so no lease ran out: one arrival per delivery, none sent twice.
    expect(r.arrivals).to.equal(COUNT);
    expect(r.repeatedKeys).to.equal(0);
    // Both instances did part of the work (SKIP LOCKED shares the queue rather than serializing it).
    expect(r.deliveredBy.size).to.equal(2);
  });

  it('lose nothing and file nothing twice when one of them is killed with SIGKILL mid-load and restarted', async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([startHub(), startHub()]);
    const live: HubProcess[] = [a!, b!];
    let killed: { pid: number; acceptedBy: string[]; inFlight: number; missing: number } | undefined;
    let restarted: Promise<void> | undefined;

    // Every 50th case takes the back office 1.5 s, so the victim surely has deliveries in its hands when it dies.
    const slow = (i: number) => i % 50 === 0;
    const load = await postAll(
      COUNT,
      (i) => live[i % live.length]!,
      slow,
      async (accepted) => {
        if (killed || accepted.size < COUNT * 0.35) return;
        const victim = b!;
        const acceptedBy = [...accepted.values()].filter((x) => x.pid === victim.pid).map((x) => x.id);
        killed = { pid: victim.pid, acceptedBy, inFlight: 0, missing: 0 };
        // Kill it while it has deliveries in the back office's hands, so some are cut off mid-flight
        // (and while requests to its intake are in flight too: those lose their answer).
        await eventually(async () => (await inFlightOf(store, victim.pid)) > 0, 10_000, 'deliveries in flight in the victim');
        live.splice(live.indexOf(victim), 1);
        await victim.kill();
        // Every 202 it gave was committed: the rows are there although the process is gone.
        killed.missing = acceptedBy.length - (await countSubmissions(store, acceptedBy));
        killed.inFlight = await inFlightOf(store, victim.pid);
        restarted = startHub().then((h) => void live.push(h));
        restarted.catch(() => undefined); // awaited after the load; this only keeps an early failure from counting as unhandled
      },
    );
    await restarted;
    expect(killed, 'the kill happened during the load').to.not.equal(undefined);
    expect(killed!.missing, 'submissions answered 202 by the killed hub but not in the store').to.equal(0);
    expect(killed!.inFlight, 'deliveries in flight in the killed hub').to.be.greaterThan(0);
    // Every external id got a 202 once; a request cut off by the kill was retried (as a portal does) and
    // answered 202 by the other hub, or 200 if the killed hub had committed it before dying.
    const answered = [...load.accepted.values(), ...load.duplicates.values()];
    expect(new Set(answered.map((x) => x.externalId)).size).to.equal(COUNT);

    await allDelivered(store, COUNT, 60_000);
    const r = await reconcile(store, backOffice, load);
    report('2 hubs, one SIGKILLed', r, started);
    console.log(
      `        killed pid ${killed!.pid} after ${killed!.acceptedBy.length} of its 202s (all committed); ${killed!.inFlight} of its deliveries were in flight; ` +
        `${load.cutOff} requests cut off and retried (${load.duplicates.size} of them had been committed: answered 200)`,
    );
    // A re-send after the kill arrives again, with the same key; it is filed as the first case, never as a second.
    expect(r.arrivals).to.be.at.least(COUNT);
    expect(r.repeatedKeys).to.be.at.most(killed!.inFlight);
    // Each delivery the killed process held was taken over once its lease ran out: attempt marked interrupted, sent again.
    expect(r.interrupted).to.equal(killed!.inFlight);
  });
});

interface Accepted {
  id: string;
  externalId: string;
  pid: number;
}
interface Load {
  /** Submission id → who answered 202 for it. */
  accepted: Map<string, Accepted>;
  /** 200 answers: the same external id again, already stored (a retry of a request whose answer was lost). */
  duplicates: Map<string, Accepted>;
  /** Requests that got no answer (connection cut by a kill) and were retried. */
  cutOff: number;
}

/**
 * Posts `count` submissions (external ids mi-0 … mi-<count-1>) with CONCURRENCY in flight, each to the hub
 * `pick` names. A request that gets no answer is sent again to whichever hub `pick` names then, with the same
 * external id, as a portal would. `slow(i)` makes the back office take 1.5 s over that one (TestBackOffice's
 * `slow` scenario). `onAccepted` runs after each 202 (the kill test uses it as its trigger).
 */
async function postAll(
  count: number,
  pick: (i: number) => HubProcess,
  slow: (i: number) => boolean,
  onAccepted?: (accepted: Map<string, Accepted>) => Promise<void>,
): Promise<Load> {
  const load: Load = { accepted: new Map(), duplicates: new Map(), cutOff: 0 };
  let next = 0;
  const one = async (i: number) => {
    const body = JSON.stringify(
      submission({ externalId: `mi-${i}`, ...(slow(i) ? { data: { preferredDate: '2026-12-07', items: [], scenario: 'slow' } } : {}) }),
    );
    for (let tries = 0; ; tries++) {
      const hub = pick(i + tries);
      let res: Response;
      try {
        res = await fetch(`${hub.url}/api/v1/submissions`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${PORTAL_A_TOKEN}` },
        });
      } catch (e) {
        if (tries > 20) throw e;
        load.cutOff++;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const answer = (await res.json()) as { id: string };
      if (res.status !== 202 && res.status !== 200)
        throw new Error(`POST mi-${i} to ${hub.url}: HTTP ${res.status} ${JSON.stringify(answer)}`);
      (res.status === 202 ? load.accepted : load.duplicates).set(answer.id, { id: answer.id, externalId: `mi-${i}`, pid: hub.pid });
      if (res.status === 200) return;
      await onAccepted?.(load.accepted);
      return;
    }
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await one(next++);
    }),
  );
  return load;
}

/** Deliveries a hub process holds a lease on (`sending`, lease owner <host>:<pid>:<random>). */
async function inFlightOf(store: Store, pid: number): Promise<number> {
  const r = await store.db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', '=', 'sending')
    .where('lease_owner', 'like', `%:${pid}:%`)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function countSubmissions(store: Store, ids: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const r = await store.db
      .selectFrom('submissions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('id', 'in', ids.slice(i, i + 500))
      .executeTakeFirstOrThrow();
    n += Number(r.n);
  }
  return n;
}

async function allDelivered(store: Store, count: number, timeoutMs = 45_000): Promise<void> {
  let last: Awaited<ReturnType<Store['deliveryCounts']>> | undefined;
  await eventually(
    async () => {
      last = await store.deliveryCounts();
      return last.delivered + last.failed >= count;
    },
    timeoutMs,
    `${count} deliveries to finish`,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last counts ${JSON.stringify(last)}`);
  });
  expect(last!.failed, 'failed deliveries').to.equal(0);
}

/** Compares what the store believes with what the back office holds. */
async function reconcile(store: Store, backOffice: TestBackOffice, load: Load) {
  const rows = await store.db
    .selectFrom('deliveries')
    .innerJoin('submissions', 'submissions.id', 'deliveries.submission_id')
    .select([
      'deliveries.id',
      'deliveries.submission_id',
      'deliveries.idempotency_key',
      'deliveries.state',
      'deliveries.reference',
      'deliveries.attempts',
      'submissions.external_id',
    ])
    .execute();
  // Each external id is one submission with one delivery (a single-target route).
  expect(new Set(rows.map((r) => r.external_id)).size).to.equal(COUNT);
  expect(rows).to.have.length(COUNT);
  for (const id of load.accepted.keys())
    expect(
      rows.some((r) => r.submission_id === id),
      `202 for ${id} but no delivery stored`,
    ).to.equal(true);
  expect(rows.filter((r) => r.state !== 'delivered')).to.deep.equal([]);

  const cases = new Map(backOffice.cases.map((c) => [c.idempotencyKey, c]));
  // One case per key, and exactly the keys the store holds: nothing missing, nothing extra, nothing doubled.
  expect(backOffice.cases).to.have.length(COUNT);
  expect(cases.size).to.equal(COUNT);
  for (const r of rows) expect(cases.get(r.idempotency_key)?.reference, `reference of ${r.id}`).to.equal(r.reference);
  expect(backOffice.arrivals.filter((k) => !k)).to.deep.equal([]);

  // Which processes made the successful attempts (owner is <host>:<pid>:<random>).
  const owners = await store.db.selectFrom('attempts').select('owner').distinct().where('outcome', '=', 'delivered').execute();
  const deliveredBy = new Set(owners.map((o) => o.owner.split(':').at(-2)));
  const interrupted = await store.db.selectFrom('attempts').select('delivery_id').distinct().where('outcome', '=', 'interrupted').execute();
  return {
    delivered: rows.length,
    arrivals: backOffice.arrivals.length,
    repeatedKeys: backOffice.arrivals.length - new Set(backOffice.arrivals).size,
    retried: rows.filter((r) => r.attempts > 1).length,
    deliveredBy,
    interrupted: interrupted.length,
  };
}

function report(label: string, r: Awaited<ReturnType<typeof reconcile>>, started: number): void {
  console.log(
    `        ${label}: ${r.delivered} delivered in ${((Date.now() - started) / 1000).toFixed(1)} s (processes started included); ` +
      `back office: ${r.arrivals} arrivals, ${r.delivered} cases, ${r.repeatedKeys} repeated keys; ${r.retried} deliveries took more than one attempt`,
  );
}
