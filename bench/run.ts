/**
 * `npm run bench`: intake throughput and latency of the hub against a bare express app, and end-to-end
 * delivery throughput, each server in a child process of its own (bench/server.ts, bench/backoffice.ts),
 * autocannon here in the parent. See bench/README.md for what each scenario measures and how to read it.
 *
 * Environment (all optional):
 *   BENCH_SECONDS=10          measured seconds per intake scenario
 *   BENCH_WARMUP_SECONDS=2    warm-up seconds before each intake measurement (not counted)
 *   BENCH_CONNECTIONS=50      concurrent connections for intake
 *   BENCH_E2E_COUNT=2000      submissions preloaded for each end-to-end run
 *   BENCH_E2E_CONCURRENCY=16  worker concurrency for end to end
 *   BENCH_E2E_POLL_MS=20      worker poll interval for end to end
 *   BENCH_E2E_TIMEOUT_SECONDS=90  give up waiting for the deliveries after this long
 *   BENCH_PG_URL              PostgreSQL (default AMTSBOTE_TEST_PG_URL or postgres://postgres@127.0.0.1:5432/test);
 *                             must point at a loopback address
 *   BENCH_ADAPTER_COUNT=500   submissions per adapter type in e2e-adapters
 *   BENCH_ADAPTERS=rest,soap,xml-http,file-drop,file-drop-ack   the adapter types e2e-adapters runs
 *   BENCH_XSD_SECONDS=5       measured seconds of the xsd scenario
 *   BENCH_BACKLOG=100000      deliveries queued per setup in the backlog scenario (bench/backlog.ts)
 *   BENCH_BACKLOG_TIMEOUT_SECONDS=900  give up draining one backlog after this long
 *   BENCH_BACKLOG_SETUPS=baseline,graphile-worker,sqlite,postgres,postgres-2,sqlite-sealed,postgres-sealed   the rows the backlog scenario runs
 *                             (*-sealed: encryption at rest on; every other hub row runs with it off, AMTSBOTE_ENCRYPTION=off)
 *   BENCH_SEALED_PAIRS=3      the *-sealed intake rows run this many times, each time right after the same row in clear;
 *                             the ratio is the median of the pairs (a busy machine drifts between runs)
 *   BENCH_RECONCILE=1000000   hub deliveries and back-office records of the reconcile scenario (bench/reconcile.ts)
 *   BENCH_ONLY=baseline,sqlite,postgres,sqlite-queued,postgres-queued,sqlite-sealed,postgres-sealed,e2e-sqlite,e2e-postgres,load-sqlite,load-postgres,xsd,e2e-adapters,backlog,reconcile
 *                             run a subset (the *-queued rows: intake with BENCH_BACKLOG queued for a back office that is down)
 *   BENCH_VERBOSE=1           forward the children's stderr
 *   BENCH_CPU_PROF=1          run the servers under `node --cpu-prof` (profiles in bench/results/profiles/<stamp>/<scenario>/,
 *                             the largest file is the main thread;
 *                             summarize with `node --import tsx bench/profile-summary.ts FILE`); the profiler
 *                             costs throughput, so numbers from such a run are not comparable
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { benchXsd, type XsdBenchResult } from '../src/mapping/xsd/bench.ts';
import { dropSchema, type DatabaseOptions } from '../src/store/index.ts';
import { bodyTemplate } from './payload.ts';
import {
  BACKLOG_SETUPS,
  backlogDetails,
  backlogTable,
  encryptionEnv,
  sealedRatios,
  queueBacklog,
  runBacklog,
  type BacklogResult,
  type BacklogSetup,
} from './backlog.ts';
import { reconcileTable, runReconcileBench, type ReconcileBenchResult } from './reconcile.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const TOKEN = 'bench-portal-token-0123456789';
const INTAKE_PATH = '/api/v1/submissions';
/** The goals the issue sets for durable intake at 50 connections. */
const GOAL_RATIO = 0.5;
const GOAL_P99_MS = 25;
/** The issue's goal for XSD validation of a ~5 KB document, in one thread. */
const GOAL_XSD_PER_SECOND = 500;

// ---------------------------------------------------------------------------------------------------------
// Settings

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, not ${raw}`);
  return n;
}

const ALL_SCENARIOS = [
  'baseline',
  'sqlite',
  'postgres',
  'sqlite-queued',
  'postgres-queued',
  'sqlite-sealed',
  'postgres-sealed',
  'e2e-sqlite',
  'e2e-postgres',
  'load-sqlite',
  'load-postgres',
  'xsd',
  'e2e-adapters',
  'backlog',
  'reconcile',
] as const;
/** The adapter types of e2e-adapters, each with its bench/config* folder and the back office it delivers to. */
const ADAPTER_TYPES = ['rest', 'soap', 'xml-http', 'file-drop', 'file-drop-ack'] as const;
type AdapterType = (typeof ADAPTER_TYPES)[number];
type ScenarioId = (typeof ALL_SCENARIOS)[number];

const settings = {
  seconds: intEnv('BENCH_SECONDS', 10, 1, 600),
  warmupSeconds: intEnv('BENCH_WARMUP_SECONDS', 2, 0, 60),
  connections: intEnv('BENCH_CONNECTIONS', 50, 1, 1000),
  e2eCount: intEnv('BENCH_E2E_COUNT', 2000, 1, 1_000_000),
  e2eConcurrency: intEnv('BENCH_E2E_CONCURRENCY', 16, 1, 256),
  e2ePollMs: intEnv('BENCH_E2E_POLL_MS', 20, 10, 10_000),
  e2eTimeoutSeconds: intEnv('BENCH_E2E_TIMEOUT_SECONDS', 90, 1, 3600),
  adapterCount: intEnv('BENCH_ADAPTER_COUNT', 500, 1, 1_000_000),
  adapters: (process.env.BENCH_ADAPTERS ? process.env.BENCH_ADAPTERS.split(',').map((s) => s.trim()) : [...ADAPTER_TYPES]).map((s) => {
    if (!(ADAPTER_TYPES as readonly string[]).includes(s))
      throw new Error(`BENCH_ADAPTERS: unknown adapter type ${s}; known: ${ADAPTER_TYPES.join(', ')}`);
    return s as AdapterType;
  }),
  xsdSeconds: intEnv('BENCH_XSD_SECONDS', 5, 1, 600),
  backlog: intEnv('BENCH_BACKLOG', 100_000, 1, 10_000_000),
  backlogTimeoutSeconds: intEnv('BENCH_BACKLOG_TIMEOUT_SECONDS', 900, 1, 86_400),
  backlogSetups: (process.env.BENCH_BACKLOG_SETUPS
    ? process.env.BENCH_BACKLOG_SETUPS.split(',').map((s) => s.trim())
    : [...BACKLOG_SETUPS]
  ).map((s) => {
    if (!(BACKLOG_SETUPS as readonly string[]).includes(s))
      throw new Error(`BENCH_BACKLOG_SETUPS: unknown setup ${s}; known: ${BACKLOG_SETUPS.join(', ')}`);
    return s as BacklogSetup;
  }),
  reconcile: intEnv('BENCH_RECONCILE', 1_000_000, 20, 10_000_000),
  sealedPairs: intEnv('BENCH_SEALED_PAIRS', 3, 1, 20),
  pgUrl: process.env.BENCH_PG_URL || process.env.AMTSBOTE_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test',
  only: new Set<ScenarioId>(
    (process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim()) : [...ALL_SCENARIOS]).map((s) => {
      if (!(ALL_SCENARIOS as readonly string[]).includes(s))
        throw new Error(`BENCH_ONLY: unknown scenario ${s}; known: ${ALL_SCENARIOS.join(', ')}`);
      return s as ScenarioId;
    }),
  ),
  verbose: Boolean(process.env.BENCH_VERBOSE),
  cpuProfile: Boolean(process.env.BENCH_CPU_PROF),
};
const STAMP = isoBasic(new Date());
const PROFILE_DIR = path.join(RESULTS_DIR, 'profiles', STAMP);

// ---------------------------------------------------------------------------------------------------------
// Child processes: every one is tracked, and killed at the end whatever happens.

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<void>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Set when the child ended while we still needed it. */
  stopping: boolean;
  stderrTail: string[];
  info: { url: string; control?: string; pid: number };
}

const live = new Set<Child>();
const cleanupTasks: (() => Promise<void>)[] = [];
/** Set on SIGINT/SIGTERM: nothing new is started, and what is being set up is undone. */
let aborted = false;

const incidents: string[] = [];

function spawnChild(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  opts: { profileAs?: string } = {},
): Promise<Child> {
  if (aborted) return Promise.reject(new Error('aborted'));
  const readyTimeoutMs = 60_000;
  // One folder per scenario: with --import tsx, node writes a profile per thread (main and module-loader).
  const profile = settings.cpuProfile && opts.profileAs ? ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE_DIR, opts.profileAs)}`] : [];
  const proc = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(BENCH_DIR, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const child: Child = {
    name,
    proc,
    exit: undefined,
    stopping: false,
    stderrTail: [],
    info: { url: '', pid: proc.pid ?? -1 },
    exited: new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        child.exit = { code, signal };
        live.delete(child);
        if (!child.stopping) {
          const tail = child.stderrTail.slice(-20).join('\n');
          incidents.push(
            `${name} (pid ${proc.pid}) exited unexpectedly with ${signal ?? `code ${code}`}${tail ? `; its last stderr lines:\n${tail}` : ''}`,
          );
        }
        resolve();
      });
    }),
  };
  live.add(child);
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    child.stderrTail.push(line);
    if (child.stderrTail.length > 200) child.stderrTail.shift();
    if (settings.verbose) process.stderr.write(`[${name}] ${line}\n`);
  });
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child);
      reject(new Error(`${name} did not report ready within ${readyTimeoutMs} ms; stderr:\n${child.stderrTail.join('\n')}`));
    }, readyTimeoutMs);
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      let msg: { event?: string; url?: string; control?: string; pid?: number } | undefined;
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        if (settings.verbose) process.stderr.write(`[${name}] ${line}\n`);
        return;
      }
      if (msg?.event === 'ready' && msg.url) {
        clearTimeout(timer);
        child.info = { url: msg.url, pid: msg.pid ?? proc.pid ?? -1, ...(msg.control ? { control: msg.control } : {}) };
        resolve(child);
      }
    });
    void child.exited.then(() => {
      clearTimeout(timer);
      reject(
        new Error(
          `${name} exited (${child.exit?.signal ?? `code ${child.exit?.code}`}) before it was ready; stderr:\n${child.stderrTail.join('\n')}`,
        ),
      );
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
async function stopChild(child: Child, graceMs = 10_000): Promise<void> {
  child.stopping = true;
  if (child.exit) return;
  child.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      incidents.push(`${child.name} (pid ${child.proc.pid}) did not stop within ${graceMs} ms of SIGTERM; killed`);
      child.proc.kill('SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([child.exited, killed]);
  clearTimeout(timer);
  await child.exited;
}

let cleanedUp: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleanedUp ??= (async () => {
    await Promise.all([...live].map((c) => stopChild(c)));
    for (const task of cleanupTasks.reverse()) {
      await task().catch((e: unknown) =>
        process.stderr.write(`bench: cleanup step failed: ${e instanceof Error ? e.message : String(e)}\n`),
      );
    }
  })();
  return cleanedUp;
}

// Last resort: never leave a child behind, also when this process dies on an error.
process.on('exit', () => {
  for (const c of live) c.proc.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}; stopping children and cleaning up\n`);
    aborted = true;
    currentCannon?.stop();
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers (loopback only)

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]')
    throw new Error(`refusing to send benchmark traffic to ${host}: loopback only`);
}

async function getJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  assertLoopback(url);
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface ProcStats {
  atMs: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  eluActiveMs: number;
  eluIdleMs: number;
  rssBytes: number;
}
interface DeliveryCounts {
  counts: Record<'queued' | 'sending' | 'waiting' | 'delivered' | 'failed', number>;
  msSinceWorkerStart: number | null;
}

function procDelta(a: ProcStats, b: ProcStats) {
  const wallMs = b.atMs - a.atMs;
  const cpuMs = (b.cpuUserUs - a.cpuUserUs + b.cpuSystemUs - a.cpuSystemUs) / 1000;
  const active = b.eluActiveMs - a.eluActiveMs;
  const idle = b.eluIdleMs - a.eluIdleMs;
  return {
    /** CPU time of the server process over the window, in % of one core. */
    cpuPercent: round((cpuMs / wallMs) * 100, 0),
    /** Share of the window the event loop was busy (JS, or blocked in a synchronous call such as fsync). */
    eventLoopUtilization: round(active / (active + idle), 2),
    rssMb: round(b.rssBytes / 1024 / 1024, 0),
  };
}

/** This process (the load generator) and the whole machine, sampled at a window's edges. */
interface HostSample {
  atMs: number;
  parent: NodeJS.CpuUsage;
  /** Busy and total jiffies of all CPUs from /proc/stat (Linux); undefined elsewhere. */
  machine: { busy: number; total: number } | undefined;
}

function hostSample(): HostSample {
  let machine: HostSample['machine'];
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0); // without guest time, which steal/user already count
    machine = { busy: total - idle, total };
  } catch {
    machine = undefined;
  }
  return { atMs: performance.now(), parent: process.cpuUsage(), machine };
}

/**
 * Where the CPU went during a window, in % of one core: the server process, this process (autocannon), and
 * everything else on the machine (PostgreSQL, the back office, other people's processes), out of cpus × 100 %.
 */
function hostDelta(a: HostSample, b: HostSample, serverCpuPercent: number) {
  const wallMs = b.atMs - a.atMs;
  const loadGenerator = round(((b.parent.user - a.parent.user + b.parent.system - a.parent.system) / 1000 / wallMs) * 100, 0);
  const cores = os.cpus().length;
  const machine =
    a.machine && b.machine ? round(((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * cores * 100, 0) : null;
  return {
    loadGeneratorCpuPercent: loadGenerator,
    machineCpuPercent: machine,
    machineCapacityPercent: cores * 100,
    otherCpuPercent: machine === null ? null : Math.max(0, machine - loadGenerator - serverCpuPercent),
    loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Load generation

const template = bodyTemplate();
let currentCannon: ReturnType<typeof autocannon> | undefined;

/** Latencies and outcomes of the responses that completed inside one time window. */
class Window {
  private latencies = new Float64Array(1 << 16);
  private n = 0;
  ok = 0;
  non2xx = 0;
  errors = 0;
  readonly statusCodes: Record<string, number> = {};
  startedAt = 0;
  endedAt = 0;

  record(status: number, ms: number): void {
    this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1;
    if (status >= 200 && status < 300) this.ok++;
    else this.non2xx++;
    if (this.n === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.n++] = ms;
  }

  summary() {
    const seconds = (this.endedAt - this.startedAt) / 1000;
    const sorted = this.latencies.slice(0, this.n).sort();
    const q = (p: number) => (this.n ? round(sorted[Math.min(this.n - 1, Math.ceil(p * this.n) - 1)]!, 1) : 0);
    return {
      seconds: round(seconds, 2),
      responses: this.n,
      requestsPerSecond: round(this.n / seconds, 0),
      okPerSecond: round(this.ok / seconds, 0),
      ok: this.ok,
      non2xx: this.non2xx,
      errors: this.errors,
      statusCodes: { ...this.statusCodes },
      latencyMs: {
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        p999: q(0.999),
        max: q(1),
        mean: this.n ? round(sorted.reduce((a, b) => a + b, 0) / this.n, 2) : 0,
      },
    };
  }
}
type WindowSummary = ReturnType<Window['summary']>;

/**
 * POSTs submissions, each with an external id of its own (`<tag>-<n>`), over `connections` keep-alive
 * connections, either `amount` requests, or as one autocannon run split into a warm-up and a measured window:
 * the measured window starts once `warmupSeconds` have passed AND every connection has had an answer (a
 * saturated server admits new connections slowly, which is not what the steady state measures), and lasts
 * `seconds`. Responses are sorted into the windows by the time they complete.
 */
async function fire(
  url: string,
  tag: string,
  o: {
    connections: number;
    amount?: number;
    warmupSeconds?: number;
    seconds?: number;
    onMeasureStart?: () => void;
    stopOn?: Promise<unknown>;
  },
): Promise<{
  warmup: (WindowSummary & { allConnectionsAnsweredAfterSeconds: number | null }) | null;
  measured: WindowSummary;
  totalOk: number;
}> {
  assertLoopback(url);
  let n = 0;
  const { prefix, suffix } = template;
  const timed = o.amount === undefined;
  const warmupMs = timed ? (o.warmupSeconds ?? 0) * 1000 : 0;
  const measureMs = (o.seconds ?? 10) * 1000;
  /** Bound on waiting for every connection to be answered before measuring anyway. */
  const maxWarmupMs = warmupMs + 30_000;
  const warm = new Window();
  const measured = new Window();
  const answered = new Set<unknown>();
  let allAnsweredAt: number | null = null;
  let measuring = false;
  let measureEnd = Infinity;
  /** Every 2xx answer of the run, in a window or not (for the durability check). */
  let totalOk = 0;
  let stopTimer: NodeJS.Timeout | undefined;
  const t0 = performance.now();
  warm.startedAt = t0;

  let settle: (err: Error | null) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  const instance = autocannon(
    {
      url: url + INTAKE_PATH,
      connections: o.connections,
      // Timed runs are stopped by us at the end of the measured window; the duration is only a bound.
      ...(timed ? { duration: Math.ceil((maxWarmupMs + measureMs) / 1000) + 5 } : { amount: o.amount! }),
      timeout: 10,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      requests: [
        {
          method: 'POST',
          path: INTAKE_PATH,
          setupRequest: (req) => {
            req.body = `${prefix}${tag}-${++n}${suffix}`;
            return req;
          },
        },
      ],
    },
    (err) => settle(err),
  );
  currentCannon = instance;
  // The server died: no point in firing at a closed port until the time is up.
  void o.stopOn?.then(() => instance.stop());
  const startMeasuring = (reason: 'warm' | 'bound') => {
    if (measuring) return;
    measuring = true;
    warm.endedAt = measured.startedAt = performance.now();
    if (reason === 'bound')
      incidents.push(`${tag}: not every connection had an answer after ${maxWarmupMs / 1000} s of warm-up; measured anyway`);
    o.onMeasureStart?.();
    if (timed) {
      measureEnd = measured.startedAt + measureMs;
      stopTimer = setTimeout(() => instance.stop(), measureMs);
    }
  };
  const maybeStart = () => {
    if (!measuring && performance.now() - t0 >= warmupMs && (allAnsweredAt !== null || !timed)) startMeasuring('warm');
  };
  if (!timed) startMeasuring('warm');
  const warmupTimer = timed ? setTimeout(maybeStart, warmupMs) : undefined;
  const boundTimer = timed ? setTimeout(() => startMeasuring('bound'), maxWarmupMs) : undefined;

  instance.on('response', (client: unknown, status: number, _bytes: number, responseTimeMs: number) => {
    if (status >= 200 && status < 300) totalOk++;
    if (measuring) {
      // autocannon may still complete a few requests after stop(); they fall outside the window.
      if (performance.now() <= measureEnd) measured.record(status, responseTimeMs);
      return;
    }
    warm.record(status, responseTimeMs);
    if (allAnsweredAt === null) {
      answered.add(client);
      if (answered.size >= o.connections) allAnsweredAt = performance.now();
    }
    maybeStart();
  });
  instance.on('reqError', () => {
    if (!measuring) warm.errors++;
    else if (performance.now() <= measureEnd) measured.errors++;
  });
  try {
    await finished;
  } finally {
    currentCannon = undefined;
    clearTimeout(stopTimer);
    clearTimeout(warmupTimer);
    clearTimeout(boundTimer);
  }
  measured.endedAt = Math.min(performance.now(), measureEnd);
  return {
    warmup: timed
      ? { ...warm.summary(), allConnectionsAnsweredAfterSeconds: allAnsweredAt === null ? null : round((allAnsweredAt - t0) / 1000, 2) }
      : null,
    measured: measured.summary(),
    totalOk,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios

interface IntakeResult {
  id: ScenarioId;
  label: string;
  kind: 'intake';
  warmup: (WindowSummary & { allConnectionsAnsweredAfterSeconds: number | null }) | null;
  measured: WindowSummary;
  server: ReturnType<typeof procDelta>;
  host: ReturnType<typeof hostDelta>;
  /** Hub only: deliveries the store holds after the run vs. 2xx answers given (warm-up + measured). */
  durability?: { accepted: number; stored: number; ok: boolean };
  /** *-sealed rows: each run in clear and the encrypted run right after it, req/s and server CPU ms per request. */
  sealedPairs?: { plainRps: number; sealedRps: number; plainCpuMs: number; sealedCpuMs: number }[];
}
interface E2eResult {
  id: ScenarioId;
  label: string;
  kind: 'e2e';
  /** e2e-adapters: which adapter type delivered. */
  adapter?: AdapterType;
  count: number;
  preload: WindowSummary;
  delivered: number;
  failed: number;
  open: number;
  seconds: number;
  deliveredPerSecond: number;
  timedOut: boolean;
  server: ReturnType<typeof procDelta>;
  host: ReturnType<typeof hostDelta>;
  /** What the receiving side saw; null where it cannot tell (simulators count cases, not requests). */
  backOffice: { requests: number | null; cases: number; repeats: number | null; withoutKey: number | null };
}
interface XsdResult extends XsdBenchResult {
  id: ScenarioId;
  label: string;
  kind: 'xsd';
  seconds: number;
  goalPerSecond: number;
  goalMet: boolean;
}
interface Skipped {
  id: ScenarioId;
  label: string;
  kind: 'skipped';
  reason: string;
}
/** Intake and delivery at once: posting for BENCH_SECONDS while the worker delivers, then intake alone on the same hub. */
interface LoadResult {
  id: ScenarioId;
  label: string;
  kind: 'load';
  /** Intake while the worker delivers (after the warm-up). */
  underLoad: WindowSummary;
  /** The same hub with its worker stopped, posting again. */
  alone: WindowSummary;
  /** underLoad ÷ alone, req/s. */
  intakeRatio: number;
  /** Every submission of the loaded run delivered, ÷ seconds from the worker's start until the last was. */
  delivered: number;
  seconds: number;
  deliveredPerSecond: number;
  timedOut: boolean;
  /** The hub process's largest RSS sampled while loaded and draining. */
  peakRssMb: number;
  server: ReturnType<typeof procDelta>;
  host: ReturnType<typeof hostDelta>;
  backOffice: E2eResult['backOffice'];
}
type ScenarioResult = IntakeResult | E2eResult | LoadResult | XsdResult | BacklogResult | ReconcileBenchResult | Skipped;

const LABELS: Record<ScenarioId, string> = {
  baseline: 'bare express (baseline)',
  sqlite: 'hub intake, SQLite',
  postgres: 'hub intake, PostgreSQL',
  'sqlite-queued': 'hub intake, SQLite, backlog queued',
  'postgres-queued': 'hub intake, PostgreSQL, backlog queued',
  'sqlite-sealed': 'hub intake, SQLite, encrypted',
  'postgres-sealed': 'hub intake, PostgreSQL, encrypted',
  'e2e-sqlite': 'end to end, SQLite',
  'e2e-postgres': 'end to end, PostgreSQL',
  'load-sqlite': 'under load, SQLite, encrypted',
  'load-postgres': 'under load, PostgreSQL, encrypted',
  xsd: 'XSD validation',
  'e2e-adapters': 'end to end by adapter, SQLite',
  backlog: 'backlog drain',
  reconcile: 'reconciliation, 1M vs 1M',
};

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanupTasks.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh PostgreSQL schema name for one scenario (the hub creates and migrates it), and a function that drops it. */
function newSchema(): { schema: string; drop: () => Promise<void> } {
  if (aborted) throw new Error('aborted');
  const schema = `amtsbote_bench_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  let dropped: Promise<void> | undefined;
  const drop = () => (dropped ??= dropSchema(settings.pgUrl, schema));
  cleanupTasks.push(drop);
  return { schema, drop };
}

/** Arguments for bench/server.ts in hub mode, and what to clean up after the scenario (the schema, at once). */
async function hubArgs(
  db: 'sqlite' | 'postgres',
  worker: 'off' | 'paused',
  configFolder = 'config',
): Promise<{ args: string[]; store: DatabaseOptions; release: () => Promise<void> }> {
  const dataDir = tempDir('amtsbote-bench-');
  const args = ['hub', '--db', db, '--data-dir', dataDir, '--worker', worker, '--config', configFolder];
  let release = async () => rmSync(dataDir, { recursive: true, force: true });
  // The database the hub will open, for filling it before the hub starts.
  let store: DatabaseOptions = { sqliteFile: path.join(dataDir, 'amtsbote.sqlite') };
  if (db === 'postgres') {
    const { schema, drop } = newSchema();
    store = { url: settings.pgUrl, schema };
    args.push('--pg-url', settings.pgUrl, '--schema', schema);
    const rm = release;
    // Dropped as soon as the scenario ends, so it does not sit beside other people's test schemas.
    release = async () => {
      await rm();
      await drop();
    };
  }
  if (worker === 'paused') args.push('--concurrency', String(settings.e2eConcurrency), '--poll-ms', String(settings.e2ePollMs));
  return { args, store, release };
}

// Encryption at rest off, but for the *-sealed rows, the backlog's and the under-load rows (as a hub runs).
const hubEnv = (backOfficeUrl: string, extra: Record<string, string> = {}) => ({
  BENCH_PORTAL_TOKEN: TOKEN,
  BACKOFFICE_URL: backOfficeUrl,
  ...encryptionEnv(false),
  ...extra,
});

function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

async function runIntake(id: ScenarioId, db: 'sqlite' | 'postgres' | null, sealed = false): Promise<IntakeResult> {
  const label = LABELS[id];
  const setup = db ? await hubArgs(db, 'off') : { args: ['baseline'], release: async () => undefined };
  try {
    // The back office is never called (worker off); the URL only has to be valid configuration.
    const env = hubEnv('http://127.0.0.1:9', sealed ? encryptionEnv(true) : {});
    const child = await spawnChild(label, 'server.ts', setup.args, env, { profileAs: id });
    try {
      return await measureIntake(id, label, db, child);
    } finally {
      await stopChild(child);
    }
  } finally {
    await setup.release();
  }
}

/**
 * Intake with encryption at rest on, each run right after the same run in clear, BENCH_SEALED_PAIRS times: on a
 * machine whose load drifts, neighbouring runs compare better than runs minutes apart.
 */
async function runSealedIntake(id: 'sqlite-sealed' | 'postgres-sealed', db: 'sqlite' | 'postgres'): Promise<IntakeResult> {
  const pairs: NonNullable<IntakeResult['sealedPairs']> = [];
  const cpuMsPerRequest = (r: IntakeResult) => round((r.server.cpuPercent * 10) / Math.max(1, r.measured.requestsPerSecond), 3);
  let last: IntakeResult | undefined;
  for (let i = 0; i < settings.sealedPairs; i++) {
    const plain = await runIntake(db, db);
    last = await runIntake(id, db, true);
    pairs.push({
      plainRps: plain.measured.requestsPerSecond,
      sealedRps: last.measured.requestsPerSecond,
      plainCpuMs: cpuMsPerRequest(plain),
      sealedCpuMs: cpuMsPerRequest(last),
    });
    log(`${LABELS[id]}: pair ${i + 1}: ${plain.measured.requestsPerSecond} req/s in clear, ${last.measured.requestsPerSecond} encrypted`);
  }
  return { ...last!, sealedPairs: pairs };
}

/**
 * Intake while a back office has been down for hours: the store already holds BENCH_BACKLOG deliveries for it,
 * and the worker runs and fails against it (connection refused) until its breaker opens. Set beside the plain
 * intake row of the same database, it shows whether a growing queue slows intake.
 */
async function runIntakeWithQueue(id: ScenarioId, db: 'sqlite' | 'postgres'): Promise<IntakeResult> {
  const label = LABELS[id];
  const setup = await hubArgs(db, 'paused');
  const env = hubEnv('http://127.0.0.1:9');
  try {
    log(`${label}: queueing ${settings.backlog} deliveries for a back office that is down (no hub running)`);
    const queued = await queueBacklog(setup.store, settings.backlog, env, `${id}-${Date.now().toString(36)}`);
    log(`${label}: queued in ${queued.seconds} s; starting the hub and its worker`);
    const child = await spawnChild(label, 'server.ts', setup.args, env, { profileAs: id });
    try {
      await getJson(`${child.info.control}/__bench/worker/start`, { method: 'POST' });
      return await measureIntake(id, label, db, child, settings.backlog);
    } finally {
      await stopChild(child);
    }
  } finally {
    await setup.release();
  }
}

async function measureIntake(
  id: ScenarioId,
  label: string,
  db: 'sqlite' | 'postgres' | null,
  child: Child,
  queuedBefore = 0,
): Promise<IntakeResult> {
  const tag = `${id}-${Date.now().toString(36)}`;
  const statsAt = () => getJson<ProcStats>(`${child.info.control}/__bench/stats`);
  let before: Promise<ProcStats> | undefined;
  let hostBefore: HostSample | undefined;
  log(`${label}: ${settings.warmupSeconds} s warm-up, then ${settings.seconds} s measured, ${settings.connections} connections`);
  const { warmup, measured, totalOk } = await fire(child.info.url, tag, {
    connections: settings.connections,
    warmupSeconds: settings.warmupSeconds,
    seconds: settings.seconds,
    onMeasureStart: () => {
      hostBefore = hostSample();
      before = statsAt();
      before.catch(() => undefined); // awaited below; this only keeps a failure from being "unhandled" meanwhile
    },
    stopOn: child.exited,
  });
  const hostAfter = hostSample();
  if (child.exit) throw new Error(`the server process died during the run (${child.exit.signal ?? `exit code ${child.exit.code}`})`);
  const after = await statsAt();
  const server = procDelta(await before!, after);
  const result: IntakeResult = {
    id,
    label,
    kind: 'intake',
    warmup,
    measured,
    server,
    host: hostDelta(hostBefore!, hostAfter, server.cpuPercent),
  };
  if (db) {
    // One route target per submission, so deliveries = submissions. autocannon stops with up to `connections`
    // requests in flight; the hub stores those but their answers are not counted, so the store may
    // hold up to that many more than were counted as accepted, never fewer.
    const { counts } = await getJson<DeliveryCounts>(`${child.info.control}/__bench/counts`);
    const stored = Object.values(counts).reduce((a, b) => a + b, 0) - queuedBefore;
    const accepted = totalOk;
    const inFlightAtStop = settings.connections;
    const ok = stored >= accepted && stored <= accepted + inFlightAtStop;
    result.durability = { accepted, stored, ok };
    if (!ok)
      incidents.push(
        `${label}: ${accepted} submissions were answered 2xx, but the store holds ${stored} (expected ${accepted} to ${accepted + inFlightAtStop})`,
      );
  }
  if (measured.non2xx || measured.errors) {
    incidents.push(
      `${label}: ${measured.non2xx} non-2xx answers (${JSON.stringify(measured.statusCodes)}), ${measured.errors} connection errors or timeouts`,
    );
  }
  return result;
}

/** Where an end-to-end run delivers to: the receiving side, started before the hub, and how to ask it what it saw. */
interface Receiver {
  /** BACKOFFICE_URL (and any other variables) for the hub's configuration. */
  env: Record<string, string>;
  stats(): Promise<E2eResult['backOffice']>;
  stop(): Promise<void>;
}

/** The bench's REST back office (bench/backoffice.ts). */
async function restReceiver(label: string): Promise<Receiver> {
  const backOffice = await spawnChild(`${label}: back office`, 'backoffice.ts', [], {});
  return {
    env: { BACKOFFICE_URL: backOffice.info.url },
    stats: async () => {
      const bo = await getJson<E2eResult['backOffice'] & { bytes: number }>(`${backOffice.info.url}/__bench/stats`);
      return { requests: bo.requests, cases: bo.cases, repeats: bo.repeats, withoutKey: bo.withoutKey };
    },
    stop: () => stopChild(backOffice),
  };
}

/** One of the demo's simulators (bench/simulator.ts) in a child process, or (file-drop) just a temp folder. */
async function adapterReceiver(adapter: AdapterType, label: string): Promise<Receiver> {
  if (adapter === 'rest') return restReceiver(label);
  if (adapter === 'file-drop') {
    // No acknowledgement: nobody reads the folder; the written files are the cases.
    const dir = tempDir('amtsbote-bench-drop-');
    return {
      env: { BACKOFFICE_URL: 'http://127.0.0.1:9', BENCH_DROP_DIR: dir },
      stats: async () => ({
        requests: null,
        cases: readdirSync(dir).filter((f) => f.endsWith('.xml')).length,
        repeats: null,
        withoutKey: null,
      }),
      stop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const dir = adapter === 'file-drop-ack' ? tempDir('amtsbote-bench-drop-') : undefined;
  const kind = adapter === 'soap' ? 'dogtax-soap' : adapter === 'xml-http' ? 'waste-xml' : 'waste-batch';
  const sim = await spawnChild(
    `${label}: ${kind} simulator`,
    'simulator.ts',
    dir ? [kind, '--directory', dir, '--interval-ms', '100'] : [kind],
    {},
  );
  return {
    env: { BACKOFFICE_URL: dir ? 'http://127.0.0.1:9' : sim.info.url, ...(dir ? { BENCH_DROP_DIR: dir } : {}) },
    stats: async () => ({
      requests: null,
      cases: (await getJson<{ cases: number }>(`${sim.info.control}/__bench/stats`)).cases,
      repeats: null,
      withoutKey: null,
    }),
    stop: async () => {
      await stopChild(sim);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * N submissions loaded through the API with the worker paused, then the worker started and the clock run until
 * all N are delivered (or failed), the receiver started first and the hub on `configFolder`.
 */
async function runDelivery(o: {
  id: ScenarioId;
  label: string;
  db: 'sqlite' | 'postgres';
  configFolder: string;
  count: number;
  adapter?: AdapterType;
  receiver: () => Promise<Receiver>;
}): Promise<E2eResult> {
  const { id, label } = o;
  const setup = await hubArgs(o.db, 'paused', o.configFolder);
  const receiver = await o.receiver().catch(async (e: unknown) => {
    await setup.release();
    throw e;
  });
  try {
    const hub = await spawnChild(
      label,
      'server.ts',
      setup.args,
      hubEnv(receiver.env['BACKOFFICE_URL'] ?? 'http://127.0.0.1:9', receiver.env),
      { profileAs: o.adapter ? `${id}-${o.adapter}` : id },
    );
    try {
      const n = o.count;
      log(`${label}: preloading ${n} submissions (worker paused)`);
      const { measured: preload } = await fire(hub.info.url, `${id}-${o.adapter ?? 'rest'}-${Date.now().toString(36)}`, {
        connections: Math.min(settings.connections, n),
        amount: n,
        stopOn: hub.exited,
      });
      if (hub.exit) throw new Error(`the hub process died during the preload (${hub.exit.signal ?? `exit code ${hub.exit.code}`})`);
      const loaded = await getJson<DeliveryCounts>(`${hub.info.control}/__bench/counts`);
      const total = Object.values(loaded.counts).reduce((a, b) => a + b, 0);
      if (preload.ok !== n || total !== n)
        incidents.push(`${label}: preload answered ${preload.ok}/${n} with 2xx; the store holds ${total} deliveries`);

      log(
        `${label}: worker started (concurrency ${settings.e2eConcurrency}, poll ${settings.e2ePollMs} ms); waiting for ${total} deliveries`,
      );
      const before = await getJson<ProcStats>(`${hub.info.control}/__bench/stats`);
      const hostBefore = hostSample();
      await getJson(`${hub.info.control}/__bench/worker/start`, { method: 'POST' });
      const deadline = Date.now() + settings.e2eTimeoutSeconds * 1000;
      let last: DeliveryCounts = loaded;
      let timedOut = false;
      // Bounded: ends when every delivery is delivered or failed, the hub dies, or the deadline passes.
      for (;;) {
        last = await getJson<DeliveryCounts>(`${hub.info.control}/__bench/counts`);
        if (last.counts.delivered + last.counts.failed >= total) break;
        if (hub.exit) throw new Error(`${label}: the hub process died while delivering`);
        if (Date.now() > deadline) {
          timedOut = true;
          incidents.push(`${label}: not done after ${settings.e2eTimeoutSeconds} s: ${JSON.stringify(last.counts)}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      const hostAfter = hostSample();
      const after = await getJson<ProcStats>(`${hub.info.control}/__bench/stats`);
      const server = procDelta(before, after);
      const seconds = (last.msSinceWorkerStart ?? 0) / 1000;
      const bo = await receiver.stats();
      const { counts } = last;
      if (counts.failed) incidents.push(`${label}: ${counts.failed} deliveries failed`);
      if (bo.repeats) incidents.push(`${label}: the back office saw ${bo.repeats} repeated idempotency keys (re-sends)`);
      if (bo.cases !== counts.delivered)
        incidents.push(`${label}: ${counts.delivered} delivered, but the back office holds ${bo.cases} cases`);
      return {
        id,
        label,
        kind: 'e2e',
        ...(o.adapter ? { adapter: o.adapter } : {}),
        count: total,
        preload,
        delivered: counts.delivered,
        failed: counts.failed,
        open: counts.queued + counts.sending + counts.waiting,
        seconds: round(seconds, 2),
        deliveredPerSecond: round(counts.delivered / seconds, 0),
        timedOut,
        server,
        host: hostDelta(hostBefore, hostAfter, server.cpuPercent),
        backOffice: bo,
      };
    } finally {
      await stopChild(hub);
    }
  } finally {
    await receiver.stop();
    await setup.release();
  }
}

function runE2e(id: ScenarioId, db: 'sqlite' | 'postgres'): Promise<E2eResult> {
  const label = LABELS[id];
  return runDelivery({ id, label, db, configFolder: 'config', count: settings.e2eCount, receiver: () => restReceiver(label) });
}

/**
 * The shape of the peer comparison: the worker runs while 50 connections post for BENCH_SECONDS (after the warm-up);
 * delivered/s counts from the worker's start until the last of those submissions is delivered. Then the worker is
 * stopped and the same hub takes BENCH_SECONDS of intake alone, for the ratio of intake under load to intake alone.
 */
async function runUnderLoad(id: ScenarioId, db: 'sqlite' | 'postgres'): Promise<LoadResult> {
  const label = LABELS[id];
  const setup = await hubArgs(db, 'paused');
  const receiver = await restReceiver(label).catch(async (e: unknown) => {
    await setup.release();
    throw e;
  });
  try {
    // Encrypted, as a hub runs (issue 15 measures it so); the other rows keep it off to stay comparable.
    const env = hubEnv(receiver.env['BACKOFFICE_URL']!, { ...encryptionEnv(true), ...receiver.env });
    const hub = await spawnChild(label, 'server.ts', setup.args, env, { profileAs: id });
    try {
      const stats = () => getJson<ProcStats>(`${hub.info.control}/__bench/stats`);
      let peakRss = 0;
      const sampler = setInterval(() => {
        void stats().then(
          (st) => (peakRss = Math.max(peakRss, st.rssBytes)),
          () => undefined,
        );
      }, 250);
      try {
        const before = await stats();
        const hostBefore = hostSample();
        await getJson(`${hub.info.control}/__bench/worker/start`, { method: 'POST' });
        log(`${label}: worker started; posting for ${settings.warmupSeconds} + ${settings.seconds} s`);
        const loaded = await fire(hub.info.url, `${id}-${Date.now().toString(36)}`, {
          connections: settings.connections,
          warmupSeconds: settings.warmupSeconds,
          seconds: settings.seconds,
          stopOn: hub.exited,
        });
        const deadline = Date.now() + settings.e2eTimeoutSeconds * 1000;
        let last: DeliveryCounts;
        let timedOut = false;
        for (;;) {
          last = await getJson<DeliveryCounts>(`${hub.info.control}/__bench/counts`);
          const total = Object.values(last.counts).reduce((a, b) => a + b, 0);
          if (last.counts.delivered + last.counts.failed >= total) break;
          if (hub.exit) throw new Error(`${label}: the hub process died while delivering`);
          if (Date.now() > deadline) {
            timedOut = true;
            incidents.push(`${label}: not drained after ${settings.e2eTimeoutSeconds} s: ${JSON.stringify(last.counts)}`);
            break;
          }
          await new Promise((r) => setTimeout(r, 25));
        }
        const hostAfter = hostSample();
        const after = await stats();
        peakRss = Math.max(peakRss, after.rssBytes);
        const server = procDelta(before, after);
        const seconds = (last.msSinceWorkerStart ?? 0) / 1000;
        const bo = await receiver.stats();
        if (last.counts.failed) incidents.push(`${label}: ${last.counts.failed} deliveries failed`);
        if (bo.repeats) incidents.push(`${label}: the back office saw ${bo.repeats} repeated idempotency keys (re-sends)`);
        if (bo.cases !== last.counts.delivered)
          incidents.push(`${label}: ${last.counts.delivered} delivered, but the back office holds ${bo.cases} cases`);
        if (last.counts.delivered < loaded.totalOk)
          incidents.push(`${label}: ${loaded.totalOk} submissions accepted, ${last.counts.delivered} delivered`);

        await getJson(`${hub.info.control}/__bench/worker/stop`, { method: 'POST' });
        log(`${label}: worker stopped; intake alone for ${settings.warmupSeconds} + ${settings.seconds} s`);
        const alone = await fire(hub.info.url, `${id}-alone-${Date.now().toString(36)}`, {
          connections: settings.connections,
          warmupSeconds: settings.warmupSeconds,
          seconds: settings.seconds,
          stopOn: hub.exited,
        });
        return {
          id,
          label,
          kind: 'load',
          underLoad: loaded.measured,
          alone: alone.measured,
          intakeRatio: round(loaded.measured.requestsPerSecond / Math.max(1, alone.measured.requestsPerSecond), 2),
          delivered: last.counts.delivered,
          seconds: round(seconds, 2),
          deliveredPerSecond: round(last.counts.delivered / Math.max(0.001, seconds), 0),
          timedOut,
          peakRssMb: round(peakRss / 1024 / 1024, 0),
          server,
          host: hostDelta(hostBefore, hostAfter, server.cpuPercent),
          backOffice: bo,
        };
      } finally {
        clearInterval(sampler);
      }
    } finally {
      await stopChild(hub);
    }
  } finally {
    await receiver.stop();
    await setup.release();
  }
}

const ADAPTER_LABELS: Record<AdapterType, string> = {
  rest: 'rest (bench back office)',
  soap: 'soap (dogtax-soap)',
  'xml-http': 'xml-http + XSD (waste-xml)',
  'file-drop': 'file-drop, no ack',
  'file-drop-ack': 'file-drop + ack (waste-batch)',
};

/** e2e-adapters: one delivery run per adapter type on SQLite, each with a hub and a receiver of its own. */
async function runE2eAdapters(): Promise<ScenarioResult[]> {
  const id: ScenarioId = 'e2e-adapters';
  const out: ScenarioResult[] = [];
  for (const adapter of settings.adapters) {
    if (aborted) break;
    const label = `e2e SQLite, ${ADAPTER_LABELS[adapter]}`;
    const configFolder = adapter === 'rest' ? 'config' : `config-${adapter}`;
    try {
      out.push(
        await runDelivery({
          id,
          label,
          db: 'sqlite',
          configFolder,
          count: settings.adapterCount,
          adapter,
          receiver: () => adapterReceiver(adapter, label),
        }),
      );
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      incidents.push(`${label}: ${msg}`);
      out.push({ id, label, kind: 'skipped', reason: `failed: ${msg.split('\n')[0]}` });
    }
  }
  return out;
}

/** xsd: validations per second of a ~5 KB document in this process (src/mapping/xsd/bench.ts), nothing else running. */
async function runXsd(): Promise<XsdResult> {
  log(`XSD validation: ${settings.xsdSeconds} s`);
  const r = await benchXsd({ seconds: settings.xsdSeconds });
  const kb = Math.round(r.docBytes / 1024);
  return {
    id: 'xsd',
    // The row names the schema set; the file list stays in the JSON and the detail line.
    label: `XSD validation (${kb} KB, ${r.schema.replace(/ \(\d+ files:.*$/, '')})`,
    kind: 'xsd',
    ...r,
    seconds: settings.xsdSeconds,
    goalPerSecond: GOAL_XSD_PER_SECOND,
    goalMet: r.validationsPerSecond >= GOAL_XSD_PER_SECOND,
  };
}

async function postgresProblem(): Promise<string | undefined> {
  try {
    assertLoopback(settings.pgUrl.replace(/^postgres(ql)?:/, 'http:'));
  } catch (e) {
    return (e as Error).message;
  }
  const c = new pg.Client({ connectionString: settings.pgUrl, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return undefined;
  } catch (e) {
    await c.end().catch(() => undefined);
    return `PostgreSQL not reachable at ${redactUrl(settings.pgUrl)} (${(e as Error).message}); set BENCH_PG_URL`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Output

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function table(results: ScenarioResult[]): string {
  const baseline = results.find((r): r is IntakeResult => r.kind === 'intake' && r.id === 'baseline');
  const head = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'non-2xx', 'server cpu', 'loop busy', 'loadgen cpu', 'other cpu'];
  const host = (h: ReturnType<typeof hostDelta>) => [
    `${h.loadGeneratorCpuPercent}%`,
    h.otherCpuPercent === null ? 'n/a' : `${h.otherCpuPercent}%`,
  ];
  const rows: string[][] = [];
  for (const r of results) {
    if (r.kind === 'intake') {
      const ratio =
        baseline && r.id !== 'baseline'
          ? `${(r.measured.requestsPerSecond / baseline.measured.requestsPerSecond).toFixed(2)}x`
          : r.id === 'baseline'
            ? '1.00x'
            : 'n/a';
      rows.push([
        r.label,
        String(r.measured.requestsPerSecond),
        String(r.measured.latencyMs.p50),
        String(r.measured.latencyMs.p99),
        ratio,
        String(r.measured.non2xx + r.measured.errors),
        `${r.server.cpuPercent}%`,
        `${Math.round(r.server.eventLoopUtilization * 100)}%`,
        ...host(r.host),
      ]);
    } else if (r.kind === 'e2e') {
      rows.push([
        r.label,
        `${r.deliveredPerSecond} delivered/s`,
        '',
        '',
        '',
        String(r.failed),
        `${r.server.cpuPercent}%`,
        `${Math.round(r.server.eventLoopUtilization * 100)}%`,
        ...host(r.host),
      ]);
    } else if (r.kind === 'load') {
      const vsBaseline = baseline ? ` (${(r.deliveredPerSecond / baseline.measured.requestsPerSecond).toFixed(2)}x baseline)` : '';
      rows.push([r.label, `${r.deliveredPerSecond} delivered/s${vsBaseline}`]);
      rows.push([
        `  intake while delivering`,
        String(r.underLoad.requestsPerSecond),
        String(r.underLoad.latencyMs.p50),
        String(r.underLoad.latencyMs.p99),
        `${r.intakeRatio.toFixed(2)}x alone`,
        String(r.underLoad.non2xx + r.underLoad.errors),
        `${r.server.cpuPercent}%`,
        `${Math.round(r.server.eventLoopUtilization * 100)}%`,
        ...host(r.host),
      ]);
    } else if (r.kind === 'xsd') {
      rows.push([r.label, `${r.validationsPerSecond} validations/s`]);
    } else if (r.kind === 'backlog' || r.kind === 'reconcile') {
    } else {
      rows.push([r.label, `skipped: ${r.reason}`]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.filter((r) => r.length > 2).map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells.length <= 2
      ? `${cells[0]!.padEnd(widths[0]!)}  ${cells[1] ?? ''}`
      : cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

/**
 * The *-sealed rows against the same rows in clear: intake by req/s (the median of its pairs) and by server CPU
 * per request, the backlog by deliveries/s and by sender CPU per delivery. CPU per unit of work is the steadier
 * figure on a busy machine.
 */
function encryptionCost(results: ScenarioResult[]): { label: string; ratio: number; cpuRatio: number; goal: number; note: string }[] {
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const intake = results
    .filter((r): r is IntakeResult => r.kind === 'intake' && Boolean(r.sealedPairs?.length))
    .map((r) => {
      const p = r.sealedPairs!;
      return {
        label: r.label,
        ratio: round(median(p.map((x) => x.sealedRps / x.plainRps)), 2),
        cpuRatio: round(median(p.map((x) => x.plainCpuMs / x.sealedCpuMs)), 2),
        goal: 0.9,
        note: `pairs (clear/encrypted req/s): ${p.map((x) => `${x.plainRps}/${x.sealedRps}`).join(', ')}`,
      };
    });
  const backlog = results.filter((r): r is BacklogResult => r.kind === 'backlog');
  const drain = sealedRatios(backlog).map((b) => {
    const r = backlog.find((x) => x.label === b.label)!;
    const plain = backlog.find((x) => x.setup === r.setup.replace(/-sealed$/, ''))!;
    return {
      ...b,
      cpuRatio: round(plain.senderCpuMsPerDelivery / r.senderCpuMsPerDelivery, 2),
      goal: 0.85,
      note: `${plain.deliveredPerSecond}/${r.deliveredPerSecond} delivered/s, ${plain.senderCpuMsPerDelivery}/${r.senderCpuMsPerDelivery} cpu ms per delivery`,
    };
  });
  return [...intake, ...drain];
}

function goals(results: ScenarioResult[]) {
  const baseline = results.find((r): r is IntakeResult => r.kind === 'intake' && r.id === 'baseline');
  return results
    .filter((r): r is IntakeResult => r.kind === 'intake' && r.id !== 'baseline')
    .map((r) => {
      const ratio = baseline ? r.measured.requestsPerSecond / baseline.measured.requestsPerSecond : undefined;
      return {
        id: r.id,
        label: r.label,
        ratio: ratio === undefined ? null : round(ratio, 2),
        ratioMet: ratio === undefined ? null : ratio >= GOAL_RATIO,
        p99Ms: r.measured.latencyMs.p99,
        baselineP99Ms: baseline?.measured.latencyMs.p99 ?? null,
        p99Met: r.measured.latencyMs.p99 < GOAL_P99_MS,
      };
    });
}

function details(results: ScenarioResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.kind === 'intake') {
      const m = r.measured;
      lines.push(
        `${r.label}: ${m.responses} responses in ${m.seconds} s, ${m.ok} 2xx; latency mean ${m.latencyMs.mean} / p90 ${m.latencyMs.p90} / p99.9 ${m.latencyMs.p999} / max ${m.latencyMs.max} ms` +
          (r.warmup
            ? `; warm-up ${r.warmup.seconds} s (all ${settings.connections} connections answered after ${r.warmup.allConnectionsAnsweredAfterSeconds} s), ${r.warmup.requestsPerSecond} req/s, max ${r.warmup.latencyMs.max} ms`
            : '') +
          `; server rss ${r.server.rssMb} MB` +
          (r.durability
            ? `; store holds ${r.durability.stored} for ${r.durability.accepted} counted 2xx (${r.durability.ok ? 'none lost' : 'MISMATCH'})`
            : ''),
      );
    } else if (r.kind === 'e2e') {
      const bo = r.backOffice;
      lines.push(
        `${r.label}: ${r.delivered}/${r.count} delivered in ${r.seconds} s (${r.failed} failed, ${r.open} open${r.timedOut ? ', TIMED OUT' : ''}); ` +
          `back office: ${bo.requests === null ? '' : `${bo.requests} requests, `}${bo.cases} cases${bo.repeats === null ? '' : `, ${bo.repeats} repeats`}; ` +
          `preload ${r.preload.requestsPerSecond} req/s, p99 ${r.preload.latencyMs.p99} ms`,
      );
    } else if (r.kind === 'load') {
      const bo = r.backOffice;
      lines.push(
        `${r.label}: ${r.delivered} delivered in ${r.seconds} s from the worker's start${r.timedOut ? ' (TIMED OUT)' : ''}; ` +
          `intake while delivering ${r.underLoad.requestsPerSecond} req/s (p99 ${r.underLoad.latencyMs.p99} ms), alone ${r.alone.requestsPerSecond} req/s (p99 ${r.alone.latencyMs.p99} ms): ${r.intakeRatio}x; ` +
          `peak rss ${r.peakRssMb} MB; back office: ${bo.requests} requests, ${bo.cases} cases, ${bo.repeats} repeats`,
      );
    } else if (r.kind === 'backlog') {
      lines.push(backlogDetails(r));
    } else if (r.kind === 'xsd') {
      lines.push(
        `${r.label}: ${r.validationsPerSecond} validations/s of a ${r.docBytes}-byte document over ${r.seconds} s, one thread, in the bench process`,
      );
    }
  }
  return lines.join('\n');
}

/** Which code was measured: the commit and the files under src/ and adapters/ that differ from it (read-only git). */
function codeState(): { commit: string | null; modified: string[] } {
  // Not trimmed at the start: porcelain lines begin with a status column that may be a space.
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trimEnd();
  try {
    const modified = git('status', '--porcelain', '--', 'src', 'adapters')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return { commit: git('rev-parse', '--short', 'HEAD'), modified };
  } catch {
    return { commit: null, modified: [] };
  }
}

/** ISO 8601 basic format (no colons), safe as a file name everywhere: 20261124T093000Z. */
function isoBasic(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = os.loadavg().map((l) => round(l, 2));
  const code = codeState();
  log(
    `${os.cpus().length} CPUs, node ${process.version}; intake ${settings.warmupSeconds} s warm-up + ${settings.seconds} s at ${settings.connections} connections, ` +
      `body ${template.bytes} bytes; end to end ${settings.e2eCount} submissions, worker concurrency ${settings.e2eConcurrency}`,
  );
  const pgProblem =
    settings.only.has('postgres') ||
    settings.only.has('postgres-queued') ||
    settings.only.has('e2e-postgres') ||
    settings.only.has('load-postgres') ||
    settings.only.has('backlog') ||
    settings.only.has('reconcile')
      ? await postgresProblem()
      : undefined;
  if (pgProblem) log(`PostgreSQL scenarios skipped: ${pgProblem}`);

  const results: ScenarioResult[] = [];
  const plan: [ScenarioId, () => Promise<ScenarioResult | ScenarioResult[]>][] = [
    ['baseline', () => runIntake('baseline', null)],
    ['sqlite', () => runIntake('sqlite', 'sqlite')],
    ['postgres', () => runIntake('postgres', 'postgres')],
    ['sqlite-queued', () => runIntakeWithQueue('sqlite-queued', 'sqlite')],
    ['postgres-queued', () => runIntakeWithQueue('postgres-queued', 'postgres')],
    ['sqlite-sealed', () => runSealedIntake('sqlite-sealed', 'sqlite')],
    ['postgres-sealed', () => runSealedIntake('postgres-sealed', 'postgres')],
    ['e2e-sqlite', () => runE2e('e2e-sqlite', 'sqlite')],
    ['e2e-postgres', () => runE2e('e2e-postgres', 'postgres')],
    ['load-sqlite', () => runUnderLoad('load-sqlite', 'sqlite')],
    ['load-postgres', () => runUnderLoad('load-postgres', 'postgres')],
    ['xsd', () => runXsd()],
    ['e2e-adapters', () => runE2eAdapters()],
    [
      'backlog',
      () =>
        runBacklog({
          count: settings.backlog,
          setups: settings.backlogSetups,
          concurrency: settings.e2eConcurrency,
          pollMs: settings.e2ePollMs,
          timeoutSeconds: settings.backlogTimeoutSeconds,
          pgUrl: settings.pgUrl,
          pgProblem,
          token: TOKEN,
          spawnChild,
          stopChild: (c) => stopChild(c),
          getJson,
          newSchema,
          tempDir,
          log,
          incidents,
          aborted: () => aborted,
        }),
    ],
    ['reconcile', () => runReconcileBench({ count: settings.reconcile, pgUrl: settings.pgUrl, pgProblem, log })],
  ];
  for (const [id, run] of plan) {
    if (aborted) break;
    if (!settings.only.has(id)) continue;
    if (pgProblem && id.includes('postgres')) {
      results.push({ id, label: LABELS[id], kind: 'skipped', reason: pgProblem });
      continue;
    }
    try {
      const r = await run();
      results.push(...(Array.isArray(r) ? r : [r]));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      incidents.push(`${LABELS[id]}: ${msg}`);
      results.push({ id, label: LABELS[id], kind: 'skipped', reason: `failed: ${msg.split('\n')[0]}` });
    }
  }

  if (aborted) return; // interrupted: no table, no results file
  const g = goals(results);
  const cores = os.cpus().length;
  const out: string[] = [
    '',
    `${cores} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}; load average at start ${loadAtStart.join(' / ')}` +
      (loadAtStart[0]! > cores / 2 ? ' -- the machine was already busy: expect noisy numbers' : ''),
    `code: ${code.commit ?? 'unknown commit'}${code.modified.length ? ` + uncommitted changes in ${code.modified.join(', ')}` : ''}`,
    `intake: ${settings.connections} connections, ${template.bytes}-byte JSON body, ${settings.seconds} s measured after >= ${settings.warmupSeconds} s warm-up; end to end: ${settings.e2eCount} submissions, worker concurrency ${settings.e2eConcurrency}, poll ${settings.e2ePollMs} ms` +
      (settings.only.has('e2e-adapters')
        ? `; by adapter: ${settings.adapterCount} submissions each (${settings.adapters.join(', ')})`
        : ''),
    '',
    // A backlog-only run has rows only in its own table.
    ...(results.some((r) => r.kind !== 'backlog' && r.kind !== 'reconcile') ? [table(results), ''] : []),
    ...(results.some((r) => r.kind === 'backlog')
      ? [backlogTable(results.filter((r): r is BacklogResult => r.kind === 'backlog')), '']
      : []),
    ...(results.some((r) => r.kind === 'reconcile')
      ? [reconcileTable(results.filter((r): r is ReconcileBenchResult => r.kind === 'reconcile')), '']
      : []),
    'server cpu: the server process, % of one core; loop busy: its event-loop utilisation; loadgen cpu: autocannon (this process);',
    `other cpu: the rest of the machine (PostgreSQL, the back office, anything else running), out of ${cores * 100}%`,
    '',
  ];
  out.push(
    `goal: durable intake at >= ${GOAL_RATIO}x the bare-express rate and p99 < ${GOAL_P99_MS} ms at ${settings.connections} connections`,
  );
  for (const x of g) {
    const ratio = x.ratio === null ? 'ratio n/a (no baseline)' : `${x.ratio.toFixed(2)}x ${x.ratioMet ? 'met' : 'NOT met'}`;
    out.push(
      `  ${x.label.padEnd(24)} rate ${ratio}; p99 ${x.p99Ms} ms ${x.p99Met ? 'met' : 'NOT met'} (baseline p99 ${x.baselineP99Ms ?? 'n/a'} ms)`,
    );
  }
  const sealed = encryptionCost(results);
  if (sealed.length) out.push('goal: encryption at rest costs little: intake >= 0.9x and backlog drain >= 0.85x of the same row in clear');
  for (const x of sealed)
    out.push(
      `  ${x.label.padEnd(40)} rate ${x.ratio.toFixed(2)}x ${x.ratio >= x.goal ? 'met' : 'NOT met'}; by cpu per unit ${x.cpuRatio.toFixed(2)}x (${x.note})`,
    );
  const xsd = results.find((r): r is XsdResult => r.kind === 'xsd');
  if (xsd)
    out.push(
      `goal: XSD validation of a ~5 KB document >= ${GOAL_XSD_PER_SECOND}/s: ${xsd.validationsPerSecond}/s ${xsd.goalMet ? 'met' : 'NOT met'}`,
    );
  out.push('', details(results));
  if (incidents.length) out.push('', 'incidents:', ...incidents.map((i) => `  - ${i}`));
  const finishedAt = new Date();

  const json = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    code,
    machine: {
      cpus: cores,
      cpuModel: os.cpus()[0]?.model ?? null,
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)),
    },
    settings: { ...settings, only: [...settings.only], pgUrl: redactUrl(settings.pgUrl), bodyBytes: template.bytes },
    results,
    goals: {
      ratio: GOAL_RATIO,
      p99Ms: GOAL_P99_MS,
      connections: settings.connections,
      scenarios: g,
      xsd: xsd ? { validationsPerSecond: xsd.validationsPerSecond, goalPerSecond: GOAL_XSD_PER_SECOND, met: xsd.goalMet } : null,
    },
    incidents,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${STAMP}${settings.cpuProfile ? '-cpu-prof' : ''}.json`);
  writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  // A profiled run's numbers are not comparable: it does not replace latest.json.
  if (!settings.cpuProfile) writeFileSync(path.join(RESULTS_DIR, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
  out.push(
    '',
    `results: ${path.relative(ROOT, file)}${settings.cpuProfile ? '' : ' (and bench/results/latest.json)'}; took ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s`,
  );
  if (settings.cpuProfile) out.push(`CPU profiles (numbers above are slowed by the profiler): ${path.relative(ROOT, PROFILE_DIR)}/`);
  process.stdout.write(out.join('\n') + '\n');
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
