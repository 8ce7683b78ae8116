/**
 * One server under benchmark, in a process of its own (started by bench/run.ts):
 *
 *   node --import tsx bench/server.ts baseline
 *   node --import tsx bench/server.ts hub --db sqlite --data-dir /tmp/x [--worker off|paused] [--concurrency 16] [--poll-ms 20] [--config config-soap]
 *   node --import tsx bench/server.ts hub --db postgres --pg-url postgres://… --schema amtsbote_bench_… --data-dir /tmp/x
 *
 * Prints one JSON line on stdout when it listens: {"event":"ready","mode":…,"url":…,"control":…,"pid":…}.
 * `url` is the server being measured; `control` is a second, tiny node:http server on its own port so the
 * benchmark's own questions never pass through the app under test:
 *
 *   GET  /__bench/stats         cumulative CPU time, event-loop utilisation and memory of this process
 *   GET  /__bench/counts        (hub) deliveries by state, and ms since the worker was started
 *   POST /__bench/worker/start  (hub, --worker paused) starts the delivery worker
 *   POST /__bench/worker/stop   (hub) stops it again (the under-load rows measure intake alone after delivering)
 *
 * Exits on SIGTERM or SIGINT, and when its stdin closes (the parent died), after closing the hub.
 * The hub reads BENCH_PORTAL_TOKEN and BACKOFFICE_URL (and, for file-drop, BENCH_DROP_DIR) from the environment
 * (bench/config/hub.yaml, or the bench/config-<adapter>/hub.yaml that --config names), and BENCH_WORKER_THREADS
 * (worker.threads, default the configuration's 0).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import express from 'express';
import { startHub, type Hub } from '../src/hub.ts';
import { countStatements } from './statement-count.ts';

const statementReport = process.env.BENCH_COUNT_SQL ? countStatements() : undefined;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    db: { type: 'string', default: 'sqlite' },
    'data-dir': { type: 'string' },
    'pg-url': { type: 'string' },
    schema: { type: 'string' },
    worker: { type: 'string', default: 'off' },
    concurrency: { type: 'string', default: '16' },
    'poll-ms': { type: 'string', default: '20' },
    /** A configuration folder in bench/: config (REST) or config-<adapter> (e2e-adapters). */
    config: { type: 'string', default: 'config' },
  },
});
const mode = positionals[0];

type Closer = () => Promise<void>;
const closers: Closer[] = [];
let shuttingDown = false;

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  // Bounded: if closing hangs, leave anyway (the parent would SIGKILL us a little later).
  setTimeout(() => {
    process.stderr.write('bench server: shutdown took longer than 8 s; exiting\n');
    process.exit(code || 1);
  }, 8_000).unref();
  if (statementReport) process.stderr.write(`bench server: statements sent\n${statementReport()}\n`);
  for (const c of closers.reverse()) {
    await c().catch((e: unknown) =>
      process.stderr.write(`bench server: shutdown step failed: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  }
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.stdin.on('end', () => void shutdown(0));
process.stdin.on('error', () => void shutdown(0));
process.stdin.resume();
process.on('uncaughtException', (e) => {
  process.stderr.write(`bench server: uncaught exception: ${e.stack ?? e.message}\n`);
  void shutdown(1);
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`bench server: unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  void shutdown(1);
});

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function closeServer(server: http.Server): Closer {
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

function processStats() {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const mem = process.memoryUsage();
  return {
    pid: process.pid,
    atMs: performance.now(),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    eluActiveMs: elu.active,
    eluIdleMs: elu.idle,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
  };
}

/** The benchmark's side door: a plain node:http server on its own port. */
async function startControl(hub: Hub | undefined): Promise<string> {
  let workerStartedAt: number | undefined;
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        if (req.method === 'GET' && req.url === '/__bench/stats') return json(res, 200, processStats());
        if (hub && req.method === 'GET' && req.url === '/__bench/counts') {
          const counts = await hub.store.deliveryCounts();
          const msSinceWorkerStart = workerStartedAt === undefined ? null : performance.now() - workerStartedAt;
          return json(res, 200, { counts, msSinceWorkerStart });
        }
        if (hub && req.method === 'POST' && req.url === '/__bench/worker/start') {
          if (!hub.worker) return json(res, 409, { error: 'the hub runs without a worker (--worker off)' });
          workerStartedAt = performance.now();
          hub.worker.start();
          return json(res, 200, { started: true });
        }
        if (hub && req.method === 'POST' && req.url === '/__bench/worker/stop') {
          await hub.worker?.stop();
          return json(res, 200, { stopped: true });
        }
        json(res, 404, { error: `no ${req.method} ${req.url}` });
      } catch (e) {
        json(res, 500, { error: e instanceof Error ? e.message : String(e) });
      }
    })();
  });
  const url = await listen(server);
  closers.push(closeServer(server));
  return url;
}

/** (a) The yardstick: express 5 parsing the same JSON and answering 202 like the hub, storing nothing. */
async function startBaseline(): Promise<string> {
  const app = express();
  app.disable('x-powered-by');
  app.post('/api/v1/submissions', express.json({ limit: '25mb' }), (_req, res) => {
    const id = randomUUID();
    res.setHeader('Location', `/api/v1/submissions/${id}`);
    res.status(202).json({ id, status: 'received' });
  });
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000; // as the hub
  const url = await listen(server);
  closers.push(closeServer(server));
  return url;
}

/** (b, c) The hub on the bench configuration; the worker off (intake runs) or started on request (end to end). */
async function startBenchHub(): Promise<Hub> {
  const dataDir = values['data-dir'];
  if (!dataDir) throw new Error('--data-dir is required for hub mode');
  const db = values.db;
  if (db !== 'sqlite' && db !== 'postgres') throw new Error(`--db must be sqlite or postgres, not ${db}`);
  if (db === 'postgres' && (!values['pg-url'] || !values.schema)) throw new Error('--pg-url and --schema are required with --db postgres');
  const worker = values.worker;
  if (worker !== 'off' && worker !== 'paused') throw new Error(`--worker must be off or paused, not ${worker}`);
  if (!/^config(-[a-z-]+)?$/.test(values.config)) throw new Error(`--config must name a bench/config* folder, not ${values.config}`);
  const hub = await startHub({
    configDir: fileURLToPath(new URL(`./${values.config}`, import.meta.url)),
    dataDir,
    port: 0,
    host: '127.0.0.1',
    ...(db === 'postgres' ? { databaseUrl: values['pg-url'], databaseSchema: values.schema } : {}),
    env: process.env,
    worker:
      worker === 'off'
        ? { enabled: false }
        : {
            enabled: true,
            concurrency: Number(values.concurrency),
            pollIntervalMs: Number(values['poll-ms']),
            // worker.threads for every hub of the run: the delivery threads against the event loop (docs/throughput.md).
            ...(process.env.BENCH_WORKER_THREADS ? { threads: Number(process.env.BENCH_WORKER_THREADS) } : {}),
          },
    log: { console: false, file: false },
  });
  closers.push(() => hub.close());
  // startHub starts the worker at once; for the end-to-end run it waits until the backlog is loaded.
  if (worker === 'paused') await hub.worker?.stop();
  return hub;
}

async function main(): Promise<void> {
  let url: string;
  let hub: Hub | undefined;
  if (mode === 'baseline') {
    url = await startBaseline();
  } else if (mode === 'hub') {
    hub = await startBenchHub();
    url = hub.url;
  } else {
    throw new Error(`usage: bench/server.ts baseline | hub --db sqlite|postgres --data-dir DIR [--worker off|paused]`);
  }
  const control = await startControl(hub);
  process.stdout.write(JSON.stringify({ event: 'ready', mode, db: hub ? values.db : undefined, url, control, pid: process.pid }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench server: could not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  void shutdown(1);
});
