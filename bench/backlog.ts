/**
 * The `backlog` scenario of `npm run bench` (run by bench/run.ts): a back office was down, BENCH_BACKLOG
 * deliveries (default 100,000) are queued, it comes back, and the hub drains the queue to it.
 *
 * For each setup — SQLite with one hub, PostgreSQL with one hub, PostgreSQL with two hubs on the same schema —
 * the backlog is written straight through the store (acceptSubmission → Store.createSubmission, thousands at
 * once, so group commit writes them in big transactions) while no hub runs, then the hub processes
 * (bench/server.ts, worker paused) start their workers together and the clock runs until every delivery is
 * delivered. The back office is bench/backoffice.ts in a process of its own, so the hub's CPU is its own.
 *
 * The baseline row is the same back office taking the same number of POSTs, each with its own Idempotency-Key
 * and a body like the hub's message, from a plain node:http keep-alive client loop in the bench process at
 * the worker's concurrency: what HTTP alone costs, so the hub's rate can be given as a ratio.
 *
 * Every run ends with a check: the store holds N delivered deliveries with N distinct back-office references,
 * and the back office saw N requests with N distinct keys (no repeat, none without a key).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.ts';
import { adapterRegistry } from '../src/config/adapter-folders.ts';
import { builtinAdapters } from '../adapters/index.ts';
import { acceptSubmission } from '../src/intake/accept.ts';
import { validateEnvelope } from '../src/intake/envelope.ts';
import { Router } from '../src/routing/router.ts';
import { openStore, type DatabaseOptions } from '../src/store/index.ts';
import { bodyTemplate } from './payload.ts';
import { caseBody, postCase } from './case-body.ts';
import { systemClock } from '../src/clock.ts';
import { Keyring } from '../src/security/field-crypto.ts';

const CONFIG_DIR = fileURLToPath(new URL('./config', import.meta.url));
/** Submissions handed to the store at once while queueing; group commit writes them 200 per transaction. */
const QUEUE_IN_FLIGHT = 2000;
/** How often the driver asks a hub for the counts: a GROUP BY over the whole table, so not too often. */
const POLL_MS = 500;

export type BacklogSetup = 'baseline' | 'graphile-worker' | 'sqlite' | 'postgres' | 'postgres-2' | 'sqlite-sealed' | 'postgres-sealed';
// Each encrypted row right after its row in clear: on a machine whose load drifts, neighbours compare best.
export const BACKLOG_SETUPS: readonly BacklogSetup[] = [
  'baseline',
  'graphile-worker',
  'sqlite',
  'sqlite-sealed',
  'postgres',
  'postgres-sealed',
  'postgres-2',
];
export const BACKLOG_LABELS: Record<BacklogSetup, string> = {
  baseline: 'backlog: plain HTTP client (baseline)',
  'graphile-worker': 'backlog: graphile-worker 0.16, PostgreSQL (anchor)',
  sqlite: 'backlog: SQLite, 1 hub',
  postgres: 'backlog: PostgreSQL, 1 hub',
  'postgres-2': 'backlog: PostgreSQL, 2 hubs',
  'sqlite-sealed': 'backlog: SQLite, 1 hub, encrypted',
  'postgres-sealed': 'backlog: PostgreSQL, 1 hub, encrypted',
};

/**
 * The environment of a hub with encryption at rest off, or on with fresh keys (the *-sealed rows). Either one
 * replaces the other when spread over it, and off blanks key variables the shell may hold: the hub refuses off
 * beside keys (src/security/hub-keys.ts).
 */
export function encryptionEnv(on: boolean): Record<string, string> {
  if (!on)
    return {
      AMTSBOTE_ENCRYPTION: 'off',
      AMTSBOTE_DATA_KEYS: '',
      AMTSBOTE_DATA_KEYS_FILE: '',
      AMTSBOTE_INDEX_KEYS: '',
      AMTSBOTE_INDEX_KEYS_FILE: '',
    };
  const key = () => randomBytes(32).toString('base64');
  return { AMTSBOTE_ENCRYPTION: 'on', AMTSBOTE_DATA_KEYS: `bench:${key()}`, AMTSBOTE_INDEX_KEYS: `bench-idx:${key()}` };
}

/** The encrypted rows' ratios to the same setup in clear: the cost of encryption at rest (goal drain >= 0.85x). */
export function sealedRatios(results: readonly BacklogResult[]): { label: string; ratio: number }[] {
  return results
    .filter((r) => r.setup.endsWith('-sealed'))
    .flatMap((r) => {
      const plain = results.find((p) => p.setup === r.setup.replace(/-sealed$/, ''));
      return plain ? [{ label: r.label, ratio: round(r.deliveredPerSecond / plain.deliveredPerSecond, 2) }] : [];
    });
}

/** What bench/run.ts lends this scenario: its child-process, cleanup and HTTP helpers and its settings. */
export interface BacklogChild {
  name: string;
  info: { url: string; control?: string; pid: number };
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}
export interface BacklogContext<C extends BacklogChild> {
  count: number;
  /** Which rows to run (BENCH_BACKLOG_SETUPS); without the baseline there is no ratio. */
  setups: readonly BacklogSetup[];
  /** Worker concurrency per hub, and the baseline client's. */
  concurrency: number;
  pollMs: number;
  timeoutSeconds: number;
  pgUrl: string;
  /** Why PostgreSQL cannot be used, if it cannot: its rows are skipped. */
  pgProblem: string | undefined;
  token: string;
  spawnChild(name: string, script: string, args: string[], env: Record<string, string>, opts?: { profileAs?: string }): Promise<C>;
  stopChild(child: C): Promise<void>;
  getJson<T>(url: string, init?: RequestInit): Promise<T>;
  newSchema(): { schema: string; drop: () => Promise<void> };
  tempDir(prefix: string): string;
  log(msg: string): void;
  incidents: string[];
  aborted(): boolean;
}

export interface BacklogResult {
  id: 'backlog';
  label: string;
  kind: 'backlog';
  setup: BacklogSetup;
  instances: number;
  count: number;
  concurrencyPerInstance: number;
  /** Writing the backlog into the store (not for the baseline). */
  queue: { seconds: number; perSecond: number } | null;
  delivered: number;
  failed: number;
  seconds: number;
  deliveredPerSecond: number;
  /** deliveredPerSecond ÷ the baseline's, same run. */
  ratio: number | null;
  /** deliveredPerSecond ÷ graphile-worker's on the same PostgreSQL, same run (PostgreSQL rows). */
  ratioToGraphileWorker: number | null;
  timedOut: boolean;
  /** The hub processes together (baseline: the client loop in the bench process). */
  senderCpuMsPerDelivery: number;
  senderCpuPercent: number;
  senderLoopBusy: number | null;
  backOfficeCpuMsPerDelivery: number | null;
  /** The rest of the machine (PostgreSQL, other people's processes, the bench driver), % of one core. */
  otherCpuPercent: number | null;
  check: {
    requests: number;
    cases: number;
    repeats: number;
    withoutKey: number;
    storeDelivered: number | null;
    distinctReferences: number | null;
    ok: boolean;
  };
}
export interface BacklogSkipped {
  id: 'backlog';
  label: string;
  kind: 'skipped';
  reason: string;
}

interface ProcStats {
  cpuUserUs: number;
  cpuSystemUs: number;
  eluActiveMs: number;
  eluIdleMs: number;
}
interface BackOfficeStats {
  requests: number;
  cases: number;
  repeats: number;
  withoutKey: number;
}

export async function runBacklog<C extends BacklogChild>(ctx: BacklogContext<C>): Promise<(BacklogResult | BacklogSkipped)[]> {
  const out: (BacklogResult | BacklogSkipped)[] = [];
  let baselineRate: number | undefined;
  let gwRate: number | undefined;
  for (const setup of BACKLOG_SETUPS.filter((s) => ctx.setups.includes(s))) {
    if (ctx.aborted()) break;
    const label = BACKLOG_LABELS[setup];
    if (setup !== 'baseline' && setup !== 'sqlite' && ctx.pgProblem) {
      out.push({ id: 'backlog', label, kind: 'skipped', reason: ctx.pgProblem });
      continue;
    }
    try {
      const r = setup === 'baseline' ? await runBaseline(ctx) : await runHubs(ctx, setup);
      if (setup === 'baseline') baselineRate = r.deliveredPerSecond;
      else r.ratio = baselineRate ? round(r.deliveredPerSecond / baselineRate, 2) : null;
      if (setup === 'graphile-worker') gwRate = r.deliveredPerSecond;
      else if (setup.startsWith('postgres')) r.ratioToGraphileWorker = gwRate ? round(r.deliveredPerSecond / gwRate, 2) : null;
      if (!r.check.ok) ctx.incidents.push(`${label}: exactly-once check failed: ${JSON.stringify(r.check)}`);
      if (r.failed) ctx.incidents.push(`${label}: ${r.failed} deliveries failed`);
      // Logged at once, so a long run that is stopped half-way still leaves its finished rows.
      ctx.log(`${backlogDetails(r)}; ${r.deliveredPerSecond}/s, sender ${r.senderCpuMsPerDelivery} cpu ms/delivery`);
      out.push(r);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      ctx.incidents.push(`${label}: ${msg}`);
      out.push({ id: 'backlog', label, kind: 'skipped', reason: `failed: ${msg.split('\n')[0]}` });
    }
  }
  return out;
}

/** The back office in a child process of its own, with its CPU read from /proc. */
async function startBackOffice<C extends BacklogChild>(ctx: BacklogContext<C>, label: string) {
  const child = await ctx.spawnChild(`${label}: back office`, 'backoffice.ts', [], {});
  return {
    child,
    url: child.info.url,
    cpuMs: () => processCpuMs(child.info.pid),
    stats: () => ctx.getJson<BackOfficeStats>(`${child.info.url}/__bench/stats`),
  };
}

async function runBaseline<C extends BacklogChild>(ctx: BacklogContext<C>): Promise<BacklogResult> {
  const label = BACKLOG_LABELS.baseline;
  const bo = await startBackOffice(ctx, label);
  try {
    ctx.log(`${label}: ${ctx.count} POSTs at concurrency ${ctx.concurrency}`);
    const body = caseBody();
    const agent = new http.Agent({ keepAlive: true, maxSockets: ctx.concurrency });
    const target = new URL('/cases', bo.url);
    const host = hostCpu();
    const boBefore = bo.cpuMs();
    const cpuBefore = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    const t0 = performance.now();
    let next = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: ctx.concurrency }, async () => {
        while (next < ctx.count) {
          const key = `baseline-${next++}`;
          const status = await postCase(agent, target, body, key);
          if (status !== 201) failed++;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const loop = performance.eventLoopUtilization(elu);
    const boCpu = diff(bo.cpuMs(), boBefore);
    const machine = host.done();
    agent.destroy();
    const clientCpuMs = (cpu.user + cpu.system) / 1000;
    const s = await bo.stats();
    const delivered = ctx.count - failed;
    return {
      id: 'backlog',
      label,
      kind: 'backlog',
      setup: 'baseline',
      instances: 1,
      count: ctx.count,
      concurrencyPerInstance: ctx.concurrency,
      queue: null,
      delivered,
      failed,
      seconds: round(seconds, 2),
      deliveredPerSecond: round(delivered / seconds, 0),
      ratio: 1,
      ratioToGraphileWorker: null,
      timedOut: false,
      senderCpuMsPerDelivery: round(clientCpuMs / ctx.count, 3),
      senderCpuPercent: round((clientCpuMs / (seconds * 1000)) * 100, 0),
      senderLoopBusy: round(loop.utilization, 2),
      backOfficeCpuMsPerDelivery: boCpu === null ? null : round(boCpu / ctx.count, 3),
      otherCpuPercent: machine === null ? null : Math.max(0, round(machine - ((clientCpuMs + (boCpu ?? 0)) / (seconds * 1000)) * 100, 0)),
      check: {
        requests: s.requests,
        cases: s.cases,
        repeats: s.repeats,
        withoutKey: s.withoutKey,
        storeDelivered: null,
        distinctReferences: null,
        ok: s.requests === ctx.count && s.cases === ctx.count && s.repeats === 0 && s.withoutKey === 0,
      },
    };
  } finally {
    await ctx.stopChild(bo.child);
  }
}

async function runHubs<C extends BacklogChild>(ctx: BacklogContext<C>, setup: Exclude<BacklogSetup, 'baseline'>): Promise<BacklogResult> {
  const label = BACKLOG_LABELS[setup];
  const instances = setup === 'postgres-2' ? 2 : 1;
  const gw = setup === 'graphile-worker';
  const bo = await startBackOffice(ctx, label);
  const hubs: C[] = [];
  let release: () => Promise<void> = async () => undefined;
  try {
    const dataDirs = Array.from({ length: instances }, () => ctx.tempDir('amtsbote-bench-backlog-'));
    let db: DatabaseOptions;
    const dbArgs: string[] = [];
    if (setup === 'sqlite' || setup === 'sqlite-sealed') {
      db = { sqliteFile: path.join(dataDirs[0]!, 'amtsbote.sqlite') };
      dbArgs.push('--db', 'sqlite');
    } else {
      const { schema, drop } = ctx.newSchema();
      release = drop;
      db = { url: ctx.pgUrl, schema };
      dbArgs.push('--db', 'postgres', '--pg-url', ctx.pgUrl, '--schema', schema);
    }
    const env = { BENCH_PORTAL_TOKEN: ctx.token, BACKOFFICE_URL: bo.url, ...encryptionEnv(setup.endsWith('-sealed')) };

    let queue: BacklogResult['queue'] = null;
    if (gw) {
      // graphile-worker queues its own jobs (add_jobs, one statement) before it reports ready.
      const t = performance.now();
      hubs.push(
        await ctx.spawnChild(
          label,
          'gw-drain.ts',
          [
            '--pg-url',
            ctx.pgUrl,
            '--schema',
            db.schema!,
            '--count',
            String(ctx.count),
            '--concurrency',
            String(ctx.concurrency),
            '--backoffice',
            bo.url,
          ],
          {},
          { profileAs: 'backlog-graphile-worker' },
        ),
      );
      const seconds = (performance.now() - t) / 1000;
      queue = { seconds: round(seconds, 2), perSecond: round(ctx.count / seconds, 0) };
    } else {
      ctx.log(`${label}: queueing ${ctx.count} deliveries through the store (no hub running)`);
      queue = await queueBacklog(db, ctx.count, env, `${setup}-${Date.now().toString(36)}`);
      ctx.log(`${label}: queued in ${queue.seconds} s (${queue.perSecond}/s); starting ${instances} hub${instances > 1 ? 's' : ''}`);
    }

    // Started one after the other: on SQLite only one may run, and on PostgreSQL the schema exists already.
    for (const [i, dataDir] of (gw ? [] : dataDirs).entries()) {
      const args = [
        'hub',
        ...dbArgs,
        '--data-dir',
        dataDir,
        '--worker',
        'paused',
        '--config',
        'config',
        '--concurrency',
        String(ctx.concurrency),
        '--poll-ms',
        String(ctx.pollMs),
      ];
      hubs.push(await ctx.spawnChild(`${label} #${i + 1}`, 'server.ts', args, env, { profileAs: `backlog-${setup}-${i + 1}` }));
    }
    const statsOf = () => Promise.all(hubs.map((h) => ctx.getJson<ProcStats>(`${h.info.control}/__bench/stats`)));
    const before = await statsOf();
    const host = hostCpu();
    const boBefore = bo.cpuMs();
    const t0 = performance.now();
    await Promise.all(hubs.map((h) => ctx.getJson(`${h.info.control}/__bench/worker/start`, { method: 'POST' })));
    ctx.log(`${label}: workers started (concurrency ${ctx.concurrency} each); draining`);

    const deadline = Date.now() + ctx.timeoutSeconds * 1000;
    let counts: Record<string, number> = {};
    let timedOut = false;
    let seconds = 0;
    // Bounded: ends when every delivery is delivered or failed, a hub dies, or the deadline passes.
    for (;;) {
      counts = (await ctx.getJson<{ counts: Record<string, number> }>(`${hubs[0]!.info.control}/__bench/counts`)).counts;
      seconds = (performance.now() - t0) / 1000;
      if ((counts['delivered'] ?? 0) + (counts['failed'] ?? 0) >= ctx.count) break;
      const dead = hubs.find((h) => h.exit);
      if (dead) throw new Error(`${dead.name} died while draining (${dead.exit!.signal ?? `exit code ${dead.exit!.code}`})`);
      if (Date.now() > deadline) {
        timedOut = true;
        ctx.incidents.push(`${label}: not drained after ${ctx.timeoutSeconds} s: ${JSON.stringify(counts)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const after = await statsOf();
    const boCpu = diff(bo.cpuMs(), boBefore);
    const machine = host.done();
    const delivered = counts['delivered'] ?? 0;
    const hubCpuMs = before.reduce(
      (sum, b, i) => sum + (after[i]!.cpuUserUs - b.cpuUserUs + after[i]!.cpuSystemUs - b.cpuSystemUs) / 1000,
      0,
    );
    const busy = before.map((b, i) => {
      const active = after[i]!.eluActiveMs - b.eluActiveMs;
      return active / (active + after[i]!.eluIdleMs - b.eluIdleMs);
    });
    await Promise.all(hubs.splice(0).map((h) => ctx.stopChild(h)));
    const s = await bo.stats();
    const store = gw ? null : await countDelivered(db);
    return {
      id: 'backlog',
      label,
      kind: 'backlog',
      setup,
      instances,
      count: ctx.count,
      concurrencyPerInstance: ctx.concurrency,
      queue,
      delivered,
      failed: counts['failed'] ?? 0,
      seconds: round(seconds, 2),
      deliveredPerSecond: round(delivered / seconds, 0),
      ratio: null,
      ratioToGraphileWorker: null,
      timedOut,
      senderCpuMsPerDelivery: round(hubCpuMs / Math.max(1, delivered), 3),
      senderCpuPercent: round((hubCpuMs / (seconds * 1000)) * 100, 0),
      senderLoopBusy: round(busy.reduce((a, b) => a + b, 0) / busy.length, 2),
      backOfficeCpuMsPerDelivery: boCpu === null ? null : round(boCpu / Math.max(1, delivered), 3),
      otherCpuPercent: machine === null ? null : Math.max(0, round(machine - ((hubCpuMs + (boCpu ?? 0)) / (seconds * 1000)) * 100, 0)),
      check: {
        requests: s.requests,
        cases: s.cases,
        repeats: s.repeats,
        withoutKey: s.withoutKey,
        storeDelivered: store?.delivered ?? null,
        distinctReferences: store?.references ?? null,
        // As many delivered as distinct references, cases, requests and keys: each delivered one reached the back
        // office once. (Whether all were delivered is `delivered` and `timedOut`: a run cut short still checks this.)
        // graphile-worker keeps no references: its jobs done against the back office's cases.
        ok:
          (store ? store.references === store.delivered && s.cases === store.delivered : s.cases === delivered) &&
          s.requests === s.cases &&
          s.repeats === 0 &&
          s.withoutKey === 0,
      },
    };
  } finally {
    await Promise.all(hubs.map((h) => ctx.stopChild(h)));
    await ctx.stopChild(bo.child);
    await release();
  }
}

/**
 * Writes `count` submissions of the bench payload (one delivery each) as the intake would, minus HTTP:
 * validateEnvelope → acceptSubmission → Store.createSubmission, QUEUE_IN_FLIGHT at a time.
 */
export async function queueBacklog(
  db: DatabaseOptions,
  count: number,
  env: Record<string, string>,
  tag: string,
): Promise<{ seconds: number; perSecond: number }> {
  const config = loadConfig(CONFIG_DIR, { adapters: await adapterRegistry(CONFIG_DIR, builtinAdapters), env: { ...process.env, ...env } });
  const router = new Router(config);
  const portal = config.hub.portals[0]!;
  const { prefix, suffix } = bodyTemplate();
  // Sealed with the keys the hub will open them with (the *-sealed rows), else in clear.
  const store = await openStore({ ...db, keys: Keyring.fromEnvironment(env) });
  try {
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(QUEUE_IN_FLIGHT, count) }, async () => {
        while (next < count) {
          const v = validateEnvelope(JSON.parse(`${prefix}backlog-${tag}-${next++}${suffix}`));
          if (!v.ok) throw new Error(`the bench payload is not a valid envelope: ${JSON.stringify(v.errors)}`);
          const r = await acceptSubmission(store, router, portal, v.envelope, systemClock());
          if (!r.ok) throw new Error(`the hub refused the bench payload: ${r.kind} (${r.detail})`);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { seconds: round(seconds, 2), perSecond: round(count / seconds, 0) };
  } finally {
    await store.close();
  }
}

/** Delivered deliveries and their distinct back-office references, read after the hubs have stopped. */
async function countDelivered(db: DatabaseOptions): Promise<{ delivered: number; references: number }> {
  const store = await openStore(db);
  try {
    const r = await store.db
      .selectFrom('deliveries')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.count<number>('reference').distinct().as('refs')])
      .where('state', '=', 'delivered')
      .executeTakeFirstOrThrow();
    return { delivered: Number(r.n), references: Number(r.refs) };
  } finally {
    await store.close();
  }
}

/** CPU time (user + system) of a process from /proc/<pid>/stat, in ms; null where there is no /proc. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ")"; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
/** USER_HZ: 100 on every Linux that matters. */
const CLOCK_TICKS = 100;

/** Busy CPU of the whole machine over a window, in % of one core; null where there is no /proc/stat. */
function hostCpu(): { done(): number | null } {
  const sample = () => {
    try {
      const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
      const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
      const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
      return { busy: total - idle, total, at: performance.now() };
    } catch {
      return null;
    }
  };
  const a = sample();
  return {
    done() {
      const b = sample();
      if (!a || !b) return null;
      const wallMs = b.at - a.at;
      return round((((b.busy - a.busy) * 1000) / CLOCK_TICKS / wallMs) * 100, 0);
    },
  };
}

function diff(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a - b;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** The scenario's own table: deliveries/s, the ratio to the plain client, and CPU per delivery. */
export function backlogTable(results: BacklogResult[]): string {
  const head = [
    'backlog drain',
    'delivered/s',
    'ratio',
    'vs graphile-worker',
    'sender cpu ms/delivery',
    'sender cpu',
    'loop busy',
    'back office cpu ms/delivery',
    'other cpu',
    'exactly once',
  ];
  const rows = results.map((r) => [
    r.label.replace(/^backlog: /, ''),
    String(r.deliveredPerSecond),
    r.ratio === null ? 'n/a' : `${r.ratio.toFixed(2)}x`,
    r.ratioToGraphileWorker === null ? '' : `${r.ratioToGraphileWorker.toFixed(2)}x`,
    r.senderCpuMsPerDelivery.toFixed(3),
    `${r.senderCpuPercent}%`,
    r.senderLoopBusy === null ? 'n/a' : `${Math.round(r.senderLoopBusy * 100)}%`,
    r.backOfficeCpuMsPerDelivery === null ? 'n/a' : r.backOfficeCpuMsPerDelivery.toFixed(3),
    r.otherCpuPercent === null ? 'n/a' : `${r.otherCpuPercent}%`,
    (r.check.ok ? 'yes' : 'NO') + (r.timedOut ? ` (${r.delivered} of ${r.count}: timed out)` : ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

export function backlogDetails(r: BacklogResult): string {
  const c = r.check;
  return (
    `${r.label}: ${r.delivered}/${r.count} delivered in ${r.seconds} s by ${r.instances} ${r.setup === 'baseline' ? 'client' : `hub${r.instances > 1 ? 's' : ''}`} at concurrency ${r.concurrencyPerInstance} each` +
    (r.timedOut ? ' (TIMED OUT)' : '') +
    (r.queue ? `; queued in ${r.queue.seconds} s (${r.queue.perSecond}/s)` : '') +
    `; back office: ${c.requests} requests, ${c.cases} cases, ${c.repeats} repeats, ${c.withoutKey} without key` +
    (c.storeDelivered === null ? '' : `; store: ${c.storeDelivered} delivered, ${c.distinctReferences} distinct references`)
  );
}
