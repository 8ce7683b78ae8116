/**
 * One of the demo's back-office simulators (src/demo/simulators) for the e2e-adapters benchmark, in a process
 * of its own (started by bench/run.ts):
 *
 *   node --import tsx bench/simulator.ts dogtax-soap | waste-xml
 *   node --import tsx bench/simulator.ts waste-batch --directory DIR [--interval-ms 100]
 *
 * No injected outages (failureRate 0). Prints {"event":"ready","url":…,"control":…,"pid":…} on stdout when it
 * runs; `control` serves GET /__bench/stats ({ cases }: how many cases the simulator has filed). Exits on
 * SIGTERM/SIGINT or when stdin closes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { startSimulator, type RunningSimulator } from '../src/demo/index.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { directory: { type: 'string' }, 'interval-ms': { type: 'string', default: '100' } },
});
const kind = positionals[0];

let sim: RunningSimulator | undefined;
let control: http.Server | undefined;
let stopping = false;
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(code), 3_000).unref();
  control?.closeAllConnections();
  control?.close();
  void (sim?.close() ?? Promise.resolve()).finally(() => process.exit(code));
}
process.on('SIGTERM', () => stop());
process.on('SIGINT', () => stop());
process.stdin.on('end', () => stop());
process.stdin.on('error', () => stop());
process.stdin.resume();

async function main(): Promise<void> {
  if (kind === 'dogtax-soap' || kind === 'waste-xml') {
    sim = await startSimulator({ kind, port: 0, failureRate: 0 });
  } else if (kind === 'waste-batch') {
    if (!values.directory) throw new Error('--directory is required for waste-batch');
    sim = await startSimulator({ kind, directory: values.directory, intervalMs: Number(values['interval-ms']), failureRate: 0 });
  } else {
    throw new Error('usage: bench/simulator.ts dogtax-soap | waste-xml | waste-batch --directory DIR');
  }
  const running = sim;
  control = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/__bench/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cases: running.cases().length }));
      return;
    }
    res.writeHead(404).end();
  });
  const server = control;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const controlUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.stdout.write(JSON.stringify({ event: 'ready', url: running.url, control: controlUrl, pid: process.pid }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench simulator: could not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  stop(1);
});
