/**
 * The queue-drain anchor of the `backlog` scenario (bench/backlog.ts): graphile-worker 0.16 draining a
 * PostgreSQL queue of N jobs, each POSTing the hub's message body with an Idempotency-Key of its own to the same
 * back office (bench/backoffice.ts) at the same concurrency as the hub's worker. What a well-kept PostgreSQL job
 * queue in Node does on this machine, beside the hub on the same database server.
 *
 *   node --import tsx bench/gw-drain.ts --pg-url postgres://… --schema amtsbote_bench_… --count 20000 --concurrency 16 --backoffice http://…
 *
 * Like bench/server.ts it prints a ready line once the jobs are queued and answers on a control port:
 * GET /__bench/stats (CPU, event loop), GET /__bench/counts ({ counts: { delivered, failed } }), and
 * POST /__bench/worker/start starts the runner.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Logger, makeWorkerUtils, run, type Runner } from 'graphile-worker';
import { caseBody, postCase } from './case-body.ts';

const { values } = parseArgs({
  options: {
    'pg-url': { type: 'string' },
    schema: { type: 'string' },
    count: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '16' },
    backoffice: { type: 'string' },
  },
});
const connectionString = values['pg-url'];
const schema = values.schema;
const backOffice = values.backoffice;
if (!connectionString || !schema || !backOffice) throw new Error('--pg-url, --schema and --backoffice are required');
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const quiet = new Logger(() => () => undefined);

const body = caseBody();
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL('/cases', backOffice);
const post = (key: string): Promise<number> => postCase(agent, target, body, key);

let delivered = 0;
let failed = 0;
let runner: Runner | undefined;

async function startRunner(): Promise<void> {
  runner = await run({
    connectionString,
    schema,
    concurrency,
    noHandleSignals: true,
    pollInterval: 100,
    logger: quiet,
    // 0.16.6 has no local queue nor batched completions (those came with 0.17): each job is fetched and completed
    // by a statement of its own, as the peer harness's run of it did (its `localQueue` preset was ignored).
    taskList: {
      deliver: async (payload) => {
        const status = await post((payload as { key: string }).key);
        if (status === 201 || status === 200) delivered++;
        else {
          failed++;
          throw new Error(`back office answered ${status}`);
        }
      },
    },
  });
}

async function main(): Promise<void> {
  const utils = await makeWorkerUtils({ connectionString, schema, logger: quiet });
  await utils.migrate();
  await utils.withPgClient((c) =>
    c.query(
      `select ${schema}.add_jobs(array(select json_populate_record(null::${schema}.job_spec,
         json_build_object('identifier', 'deliver', 'payload', json_build_object('key', 'gw-' || g))) from generate_series(1, $1) g))`,
      [count],
    ),
  );
  await utils.release();
  const json = (res: http.ServerResponse, status: number, b: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(b));
  const control = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/__bench/stats') {
      const cpu = process.cpuUsage();
      const elu = performance.eventLoopUtilization();
      return json(res, 200, {
        pid: process.pid,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        eluActiveMs: elu.active,
        eluIdleMs: elu.idle,
        rssBytes: process.memoryUsage().rss,
      });
    }
    if (req.method === 'GET' && req.url === '/__bench/counts') return json(res, 200, { counts: { delivered, failed } });
    if (req.method === 'POST' && req.url === '/__bench/worker/start') {
      void startRunner().then(
        () => json(res, 200, { started: true }),
        (e: unknown) => json(res, 500, { error: String(e) }),
      );
      return;
    }
    json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
  const stop = async () => {
    await runner?.stop().catch(() => undefined);
    control.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdout.write(`${JSON.stringify({ event: 'ready', mode: 'graphile-worker', url, control: url, pid: process.pid })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`gw-drain: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
