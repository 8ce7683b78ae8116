/**
 * The operator console at scale (issue 11): the submissions search's first page, its grouped counts and the
 * overview over N submissions (default 1,000,000, seeded set-wise in SQL: one INSERT … SELECT per table), p50
 * and p99 in ms on SQLite and PostgreSQL; and the live log: lines/s the SSE stream carries to 10 clients.
 *
 *   node --import tsx bench/console.ts
 *   BENCH_CONSOLE=100000 BENCH_CONSOLE_DATABASES=sqlite node --import tsx bench/console.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { sql } from 'kysely';
import winston from 'winston';
import { LogTap } from '../src/console/log-tap.ts';
import { streamLog } from '../src/console/sse.ts';
import { OPERATOR_TOKEN_PRINCIPAL } from '../src/operator/principal.ts';
import { startOfDay } from '../src/store/console-overview.ts';
import { dropSchema, openStore, type Store } from '../src/store/index.ts';

const N = Number(process.env.BENCH_CONSOLE ?? 1_000_000);
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 40);
const PG_URL = process.env.BENCH_PG_URL ?? process.env.AMTSBOTE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DATABASES = (process.env.BENCH_CONSOLE_DATABASES ?? 'sqlite,postgres').split(',').filter(Boolean);
const TENANTS = ['05513000', '05512000', '05562014', '05562008', '05554000'];
/** The issue's goals. */
const GOAL_PAGE_MS = 200;
const GOAL_OVERVIEW_MS = 500;

async function seed(store: Store, dialect: 'sqlite' | 'postgres', base: number): Promise<number> {
  const t0 = performance.now();
  const hex = dialect === 'postgres' ? sql`lpad(to_hex(i), 12, '0')` : sql`printf('%012x', i)`;
  const series =
    dialect === 'postgres'
      ? sql`select i from generate_series(1, ${sql.lit(N)}) as g(i)`
      : sql`with recursive g(i) as (select 1 union all select i + 1 from g where i < ${sql.lit(N)}) select i from g`;
  const tenant = sql`case i % 5 ${sql.join(
    TENANTS.map((t, k) => sql`when ${sql.lit(k)} then ${sql.lit(t)}`),
    sql` `,
  )} end`;
  await sql`insert into submissions (id, portal_id, external_id, tenant, service, submitted_at, received_at, body_hash, content)
    select '01a30000-0000-7000-8000-' || ${hex}, 'portal-a', 'ext-' || i, ${tenant}, 'sperrmuell', '2026-11-24T09:30:00Z',
      ${sql.lit(base)} + i * 1000, 'h', '{}' from (${series}) s`.execute(store.db);
  const state = sql`case when i % 20 = 0 then 'failed' when i % 50 = 1 then 'queued' else 'delivered' end`;
  await sql`insert into deliveries (id, submission_id, route_id, target_id, mapping_id, idempotency_key, state, attempts, next_attempt_at,
      reference, last_error, last_error_kind, created_at, updated_at, delivered_at)
    select '01a40000-0000-7000-8000-' || ${hex}, '01a30000-0000-7000-8000-' || ${hex}, 'r', 't' || (i % 3), 'm',
      '01a40000-0000-7000-8000-' || ${hex}, ${state}, 1, ${sql.lit(base)} + i * 1000,
      case when i % 20 = 0 then null else 'AZ-' || i end,
      case when i % 20 = 0 then 'HTTP 400' else null end,
      case when i % 20 = 0 then (case when i % 40 = 0 then 'http-400' else 'timeout' end) else null end,
      ${sql.lit(base)} + i * 1000, ${sql.lit(base)} + i * 1000 + 500,
      case when i % 20 = 0 or i % 50 = 1 then null else ${sql.lit(base)} + i * 1000 + 500 end
    from (${series}) s`.execute(store.db);
  if (dialect === 'postgres') await sql`analyze`.execute(store.db);
  else await sql`analyze`.execute(store.db);
  return (performance.now() - t0) / 1000;
}

async function timed(fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]! * 10) / 10;
  return { p50: at(0.5), p99: at(0.99) };
}

async function database(kind: 'sqlite' | 'postgres'): Promise<string[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-bench-console-'));
  const schema = `bench_console_${process.pid}`;
  const store = await openStore(kind === 'sqlite' ? { sqliteFile: path.join(dir, 'a.sqlite') } : { url: PG_URL, schema });
  try {
    const base = 1_700_000_000_000;
    const seconds = await seed(store, kind, base);
    const now = base + (N + 60) * 1000;
    const ge = ['05513000'];
    const rows: [string, () => Promise<unknown>, number][] = [
      ['search: first page, no filter', () => store.console.search({ tenants: undefined }, 50), GOAL_PAGE_MS],
      ['search: first page, one tenant (scoped)', () => store.console.search({ tenants: ge }, 50), GOAL_PAGE_MS],
      ['search: by external id', () => store.console.search({ tenants: undefined, externalId: `ext-${N >> 1}` }, 50), GOAL_PAGE_MS],
      ['search: by reference', () => store.console.search({ tenants: undefined, reference: `AZ-${(N >> 1) + 1}` }, 50), GOAL_PAGE_MS],
      ['search: failed, one tenant', () => store.console.search({ tenants: ge, state: 'failed' }, 50), GOAL_PAGE_MS],
      ['grouped counts: failed, all', () => store.console.groupedCounts({ tenants: undefined }), GOAL_OVERVIEW_MS],
      ['overview: all tenants', () => store.console.overview(undefined, startOfDay(now)), GOAL_OVERVIEW_MS],
      ['overview: one tenant', () => store.console.overview(ge, startOfDay(now)), GOAL_OVERVIEW_MS],
    ];
    const out = [`${kind}: ${N.toLocaleString('en')} submissions seeded in ${seconds.toFixed(1)} s`];
    for (const [name, fn, goal] of rows) {
      const r = await timed(fn);
      out.push(`| ${kind} | ${name} | ${r.p50} | ${r.p99} | ${goal} | ${r.p99 <= goal ? 'yes' : 'NO'} |`);
      console.error(out[out.length - 1]);
    }
    return out;
  } finally {
    await store.close();
    if (kind === 'postgres') await dropSchema(PG_URL, schema);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines/s through the live log to 10 SSE clients: the hub's logger with the tap, a real HTTP server, fetch clients. */
async function sse(lines = Number(process.env.BENCH_CONSOLE_LINES ?? 50_000), clients = 10): Promise<string> {
  const tap = new LogTap();
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [tap],
  });
  const app = express();
  app.get('/log', (req, res) => streamLog(req, res, tap, OPERATOR_TOKEN_PRINCIPAL, {}, 0));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log`;
  const received = Array.from({ length: clients }, () => 0);
  const readers = await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      const res = await fetch(url);
      const reader = res.body!.getReader();
      await reader.read(); // the ": live" comment: subscribed
      // Wrapped: an async function returning a promise would adopt it, and this await would wait for the end.
      const done = (async () => {
        const dec = new TextDecoder();
        let rest = '';
        while (received[k]! < lines) {
          const { value, done } = await reader.read();
          if (done) break;
          const text = rest + dec.decode(value, { stream: true });
          const parts = text.split('\n\n');
          rest = parts.pop()!;
          received[k]! += parts.filter((p) => p.startsWith('event: line')).length;
        }
      })();
      return { done };
    }),
  );
  const t0 = performance.now();
  for (let i = 0; i < lines; i++) {
    logger.info('delivered', {
      submissionId: `s-${i}`,
      deliveryId: `d-${i}`,
      tenant: TENANTS[i % 5],
      target: 't1',
      attempt: 1,
      durationMs: 12,
    });
    if (i % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(readers.map((r) => r.done));
  const seconds = (performance.now() - t0) / 1000;
  tap.endAll();
  server.closeAllConnections();
  server.close();
  return `| live log (SSE) | ${lines.toLocaleString('en')} lines to ${clients} clients | ${Math.round(lines / seconds).toLocaleString('en')} lines/s per client (${Math.round((lines * clients) / seconds).toLocaleString('en')} lines/s in all) |`;
}

const out: string[] = ['| database | query | p50 ms | p99 ms | goal ms | met |', '|---|---|---|---|---|---|'];
const notes: string[] = [];
for (const d of DATABASES) {
  const [note, ...rows] = await database(d as 'sqlite' | 'postgres');
  notes.push(note!);
  out.push(...rows);
}
console.log([...notes, '', ...out, '', await sse()].join('\n'));
