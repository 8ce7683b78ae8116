/**
 * A minimal REST back office for the end-to-end benchmark, in a process of its own (started by bench/run.ts):
 *
 *   node --import tsx bench/backoffice.ts
 *
 * `POST /cases` reads the body and files one case per Idempotency-Key: 201 {caseId} for a new key, 200 with
 * the same caseId for a repeat (so a re-send is visible as a duplicate, not as a second case).
 * `GET /__bench/stats` answers how many requests, cases and repeats it saw.
 *
 * Prints {"event":"ready","url":…,"pid":…} on stdout when it listens; exits on SIGTERM/SIGINT or when stdin closes.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';

const cases = new Map<string, string>();
let requests = 0;
let repeats = 0;
let withoutKey = 0;
let bytes = 0;

const app = express();
app.disable('x-powered-by');
app.post('/cases', express.raw({ type: () => true, limit: '50mb' }), (req, res) => {
  requests++;
  bytes += Buffer.isBuffer(req.body) ? req.body.length : 0;
  const key = req.get('idempotency-key');
  if (!key) withoutKey++;
  const known = key ? cases.get(key) : undefined;
  if (known) {
    repeats++;
    res.status(200).json({ caseId: known });
    return;
  }
  const caseId = `AZ-${String(cases.size + 1).padStart(6, '0')}`;
  if (key) cases.set(key, caseId);
  res.status(201).json({ caseId });
});
app.get('/__bench/stats', (_req, res) => {
  res.json({ requests, cases: cases.size, repeats, withoutKey, bytes });
});
app.get('/', (_req, res) => {
  res.json({ ok: true });
});

const server = app.listen(0, '127.0.0.1', (err?: Error) => {
  if (err) {
    process.stderr.write(`bench back office: could not listen: ${err.message}\n`);
    process.exit(1);
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.stdout.write(JSON.stringify({ event: 'ready', url, pid: process.pid }) + '\n');
});
server.keepAliveTimeout = 65_000;

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3_000).unref();
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
