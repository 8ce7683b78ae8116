/**
 * The per-delivery JavaScript outside the store, each step alone (bench/README.md#per-delivery-steps):
 *
 *   node --import tsx bench/per-delivery.ts
 *
 * Two shapes: `xml-http`, the peer benchmark's (../shared/peer-bench/hubcfg: one xml-http target, the 20-field
 * mapping hub-map.jsonata, its hub-body.json), and `rest`, the backlog drain's (bench/config: rest target,
 * sperrmuell.jsonata, bench/payload.ts). Each step runs for PER_DELIVERY_MS (default 1000) after a warm-up and
 * prints µs per op (wall and this process's CPU) and ops/s. The HTTP rows run 16 requests in flight against a
 * node:http back office in a child process, so their CPU is the client's only; the bare node:http keep-alive
 * request is the yardstick the adapter's exchange is read against.
 *
 * Env: PER_DELIVERY_MS=1000, PER_DELIVERY_SHAPES=xml-http,rest, PER_DELIVERY_PEER (default: shared/peer-bench beside the checkout).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinAdapters } from '../adapters/index.ts';
import { createTargetHttp } from '../adapters/_http/target-http.ts';
import { adapterRegistry } from '../src/config/adapter-folders.ts';
import { loadConfig } from '../src/config/load.ts';
import { LogTap } from '../src/console/log-tap.ts';
import { mappingInput } from '../src/delivery/message-input.ts';
import { createLogger } from '../src/log/logger.ts';
import { renderMessage, writeXml } from '../src/mapping/engine.ts';
import { createMetrics } from '../src/operator/metrics.ts';
import { Router } from '../src/routing/router.ts';
import type { AdapterInstance, DeliveryContext, OutboundMessage } from '../src/sdk/types.ts';
import type { ClaimedDelivery, MessageSource } from '../src/store/index.ts';
import { systemClock } from '../src/clock.ts';
import { bodyTemplate } from './payload.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const MS = Number(process.env.PER_DELIVERY_MS ?? 1000);
const SHAPES = (process.env.PER_DELIVERY_SHAPES ?? 'xml-http,rest').split(',').map((s) => s.trim());
/** The peer benchmark beside the checkout: ../shared from /work/main, ../../shared from a worktree under /work/wt. */
const PEER =
  process.env.PER_DELIVERY_PEER ??
  ['../../shared/peer-bench', '../../../shared/peer-bench'].map((p) => path.resolve(here, p)).find((p) => existsSync(p)) ??
  path.resolve(here, '../../shared/peer-bench');
const IN_FLIGHT = 16;

interface Row {
  shape: string;
  step: string;
  wallUs: number;
  cpuUs: number;
  opsPerS: number;
}
const rows: Row[] = [];

/** Runs `op` `inFlight` at a time for MS after a warm-up of MS / 4; µs per op of wall and CPU time. */
async function measure(shape: string, step: string, op: () => unknown, inFlight = 1): Promise<void> {
  const run = async (ms: number) => {
    let n = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < end) {
          const r = op();
          if (r instanceof Promise) await r;
          n++;
        }
      }),
    );
    return n;
  };
  await run(MS / 4);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const n = await run(MS);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  rows.push({
    shape,
    step,
    wallUs: (wall * 1000) / n,
    cpuUs: (cpu.user + cpu.system) / n,
    opsPerS: (n / wall) * 1000,
  });
}

/** A node:http back office in a child process: 200 <ack/> (as the peer bench's mock) or 201 {caseId} (as bench/backoffice.ts). */
async function startBackOffice(): Promise<{ url: string; stop: () => void }> {
  const code = `
    const http = require('node:http');
    let n = 0;
    http.createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => {
        if (req.url.startsWith('/cases')) {
          const b = JSON.stringify({ caseId: 'AZ-' + ++n });
          res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
          res.end(b);
        } else {
          res.writeHead(200, { 'content-type': 'application/xml', 'content-length': 6 });
          res.end('<ack/>');
        }
      });
    }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
    process.stdin.on('end', () => process.exit(0)).resume();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.stdin.end() };
}

/** Runs `create` with a proxy variable set (and NO_PROXY for 127.0.0.1, so nothing is proxied) or with none. */
async function withProxyVariable<T>(set: boolean, create: () => Promise<T>): Promise<T> {
  const names = ['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'].flatMap((n) => [n, n.toUpperCase()]);
  const saved = new Map(names.map((n) => [n, process.env[n]]));
  for (const n of names) delete process.env[n];
  if (set) Object.assign(process.env, { HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' });
  try {
    return await create();
  } finally {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
}

/** The bare yardstick: one keep-alive POST with node:http, body read to the end. */
function bareRequest(agent: http.Agent, url: URL, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        Buffer.concat(chunks).toString('utf8');
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Shape {
  name: string;
  configDir: string;
  /** The back office path the target is pointed at. */
  urlPath: string;
  /** applicant and data, as the store keeps them (JSON). */
  content: string;
  submittedAt: string;
}

function shapes(): Shape[] {
  const all: Shape[] = [];
  if (SHAPES.includes('xml-http')) {
    if (!existsSync(path.join(PEER, 'hubcfg'))) console.error(`per-delivery: ${PEER}/hubcfg not found, xml-http shape skipped`);
    else {
      const body = JSON.parse(readFileSync(path.join(PEER, 'hub-body.json'), 'utf8')) as Record<string, unknown>;
      all.push({
        name: 'xml-http',
        configDir: path.join(PEER, 'hubcfg'),
        urlPath: '/backoffice',
        content: JSON.stringify({ applicant: body.applicant, data: body.data }),
        submittedAt: String(body.submittedAt),
      });
    }
  }
  if (SHAPES.includes('rest')) {
    const t = bodyTemplate();
    const body = JSON.parse(`${t.prefix}bench-1${t.suffix}`) as Record<string, unknown>;
    all.push({
      name: 'rest',
      configDir: path.join(here, 'config'),
      urlPath: '/cases',
      content: JSON.stringify({ applicant: body.applicant, data: body.data }),
      submittedAt: String(body.submittedAt),
    });
  }
  return all;
}

async function benchShape(s: Shape, backOffice: string): Promise<void> {
  const env = { ...process.env, BENCH_PORTAL_TOKEN: 'per-delivery-bench-token-0123456789', BACKOFFICE_URL: backOffice };
  const config = loadConfig(s.configDir, { adapters: await adapterRegistry(s.configDir, builtinAdapters), env });
  const router = new Router(config);
  const [target] = [...config.targets.values()];
  const [route] = config.hub.routes;
  if (!target || !route) throw new Error(`${s.configDir}: no target or route`);
  const step = router.step(route.id, target.id)!;
  const tenant = route.tenants[0]!;
  const service = router.service(route.service)!.slug;

  const d: ClaimedDelivery = {
    id: '019ae3b2-7c00-7000-8000-000000000001',
    submissionId: '019ae3b2-7c00-7000-8000-000000000002',
    routeId: route.id,
    targetId: target.id,
    mappingId: step.mapping.id,
    idempotencyKey: '019ae3b2-7c00-7000-8000-000000000001',
    tenant,
    service,
    attempt: 1,
    leaseExpiresAt: 0,
    resumed: false,
  };
  const src: MessageSource = {
    portalId: 'bench-portal',
    externalId: 'bench-1',
    tenant,
    service,
    submittedAt: s.submittedAt,
    receivedAt: Date.parse(s.submittedAt),
    purgedAt: null,
    content: s.content,
    attachments: [],
  };

  await measure(s.name, 'mapping input (message-input.ts)', () => mappingInput(router, d, d.submissionId, src));
  const input = mappingInput(router, d, d.submissionId, src);
  await measure(s.name, 'JSONata evaluate', () => step.mapping.evaluate(input));
  const body = await step.mapping.evaluate(input);
  if (target.format === 'xml') await measure(s.name, 'XML build (writeXml)', () => writeXml(body, step.mapping.id, target.config.xml));
  await measure(s.name, 'renderMessage (evaluate + write)', () => renderMessage(step.mapping, input, target.format, target.config.xml));
  const rendered = await renderMessage(step.mapping, input, target.format, target.config.xml);
  const message: OutboundMessage = { ...rendered, attachments: [] };

  // The exchange: the adapter as the worker calls it, its HTTP client alone, and the bare request.
  const url = `${backOffice}${s.urlPath}`;
  const quiet = createLogger({ level: 'info', console: false });
  const dctx: DeliveryContext = {
    deliveryId: d.id,
    idempotencyKey: d.idempotencyKey,
    submissionId: d.submissionId,
    tenant,
    service,
    attempt: 1,
  };
  const data = Buffer.from(message.text, 'utf8');
  const headers = { 'Content-Type': message.contentType, 'Idempotency-Key': d.idempotencyKey, 'X-Amtsbote-Delivery': d.id };
  // Both ways createTargetHttp sends: node:http (exchange.ts), and axios, which it keeps for a hub whose
  // environment names a proxy (here one that NO_PROXY sends this host around): the adapter as the worker calls
  // it, then its HTTP client alone.
  for (const client of ['node:http', 'axios'] as const) {
    const created = await withProxyVariable(client === 'axios', async () => ({
      adapter: await target.adapter.create({ ...(target.options as object), url } as never, {
        targetId: target.id,
        logger: quiet.child({ target: target.id, adapter: target.adapter.type }),
        timeoutMs: target.config.timeoutMs,
        clock: systemClock,
      }),
      http: createTargetHttp({
        adapter: target.adapter.type,
        version: '1.0.0',
        accept: 'application/xml',
        auth: { type: 'none' },
        timeoutMs: target.config.timeoutMs,
        logger: quiet,
        maxResponseBytes: 10 * 1024 * 1024,
        clock: systemClock,
      }),
    }));
    const adapter: AdapterInstance = created.adapter;
    const first = await adapter.deliver(message, dctx);
    if (!first.ok) throw new Error(`${s.name}: the adapter's delivery failed: ${first.error}`);
    await measure(s.name, `${target.adapter.type} adapter deliver(), ${client}`, () => adapter.deliver(message, dctx), IN_FLIGHT);
    await adapter.close?.();
    await measure(
      s.name,
      `target-http send() alone, ${client}`,
      () => created.http.send({ method: 'POST', url, data, headers }, AbortSignal.timeout(5000), {}),
      IN_FLIGHT,
    );
    created.http.close();
  }

  const agent = new http.Agent({ keepAlive: true });
  const u = new URL(url);
  await measure(
    s.name,
    'bare node:http keep-alive POST (yardstick)',
    () => bareRequest(agent, u, data, { ...headers, 'User-Agent': 'x', Accept: 'application/xml' }),
    IN_FLIGHT,
  );
  agent.destroy();
}

/** The worker's log line and metrics, as the hub sets them up (the console's LogTap is always a transport). */
async function benchLogAndMetrics(): Promise<void> {
  const logger = createLogger({ level: 'info', console: false, transports: [new LogTap()] });
  const ids = {
    submissionId: '019ae3b2-7c00-7000-8000-000000000002',
    deliveryId: '019ae3b2-7c00-7000-8000-000000000001',
    tenant: '05513000',
    service: 'sperrmuell',
    target: 'backoffice',
    attempt: 1,
  };
  const result = { outcome: 'delivered', durationMs: 12, httpStatus: 200, reference: 'AZ-000123' };
  await measure('log', "'delivered' line, child logger per delivery", () => logger.child(ids).info('delivered', { ...result }));
  await measure('log', "'delivered' line, one meta object", () => logger.info('delivered', { ...ids, ...result }));
  await measure('log', 'debug line below the level, meta built', () =>
    logger.debug('xml-http delivery accepted', { deliveryId: ids.deliveryId, attempt: 1, httpStatus: 200, durationMs: 12 }),
  );

  const metrics = createMetrics();
  await measure('metrics', 'attempts + attemptSeconds + finished + waitSeconds', () => {
    metrics.waitSeconds.observe({ target: 'backoffice' }, 0.2);
    metrics.attempts.inc({ target: 'backoffice', outcome: 'delivered' });
    metrics.attemptSeconds.observe({ target: 'backoffice' }, 0.012);
    metrics.finished.inc({ target: 'backoffice', outcome: 'delivered' });
  });
}

function table(): string {
  const head = ['shape', 'step', 'wall µs/op', 'cpu µs/op', 'ops/s'];
  const body = rows.map((r) => [r.shape, r.step, r.wallUs.toFixed(1), r.cpuUs.toFixed(1), Math.round(r.opsPerS).toLocaleString('en')]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

const backOffice = await startBackOffice();
try {
  // Everything twice, the first pass thrown away: a step measured first otherwise pays for the JIT and GC
  // settling of the whole process (the first HTTP row came out 2-3x the same row measured later).
  for (const pass of ['warm-up', 'measured']) {
    rows.length = 0;
    if (pass === 'warm-up') console.error('per-delivery: warm-up pass');
    for (const s of shapes()) await benchShape(s, backOffice.url);
    await benchLogAndMetrics();
  }
} finally {
  backOffice.stop();
}
console.log(`per-delivery: node ${process.version}, ${MS} ms per step, HTTP rows ${IN_FLIGHT} in flight`);
console.log(table());
