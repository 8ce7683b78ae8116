/**
 * Reconciliation at scale (issue 5): N hub deliveries against N back-office records, with P planted
 * discrepancies of each class the hub-vs-back-office comparison and the stuck check find. The back office's
 * listing is a generated async iterator standing in for an adapter's list(); the hub's deliveries are written
 * straight into the store's tables in large transactions.
 *
 * Each database gets two child processes: one seeds, one runs the reconciliation, so the peak RSS measured is
 * the run's alone. The run child checks that every planted discrepancy was found and nothing else.
 *
 *   node --import tsx bench/reconcile.ts               both databases (PostgreSQL when it answers)
 *   BENCH_RECONCILE=100000 node --import tsx bench/reconcile.ts
 *   BENCH_RECONCILE_DATABASES=sqlite                   only SQLite
 *   (`npm run bench` runs it as the `reconcile` scenario.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import winston from 'winston';
import { dropSchema, openStore } from '../src/store/index.ts';
import { runReconciliation } from '../src/reconcile/run.ts';
import type { CaseStatus } from '../src/sdk/types.ts';
import type { StatusSink } from '../src/core/status/types.ts';
import { seedCases, type SeedCase } from '../test/support/reconcile-seed.ts';
import { systemClock } from '../src/clock.ts';

const SELF = fileURLToPath(import.meta.url);
const TARGET = 'bench-office';
/** The goals for one run over a million cases. */
export const GOAL_SECONDS = 60;
export const GOAL_RSS_MB = 300;

export interface ReconcileBenchResult {
  id: 'reconcile';
  kind: 'reconcile';
  label: string;
  database: 'sqlite' | 'postgres';
  count: number;
  plantedPerClass: number;
  seedSeconds: number;
  runSeconds: number;
  peakRssMb: number;
  /** RSS of the run's process before the run: node, tsx and the modules loaded. */
  rssBeforeMb: number;
  /** V8's heap and the memory outside it (buffers, typed arrays) when RSS peaked. */
  atPeakMb: { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  /** Every planted discrepancy found, nothing else. */
  ok: boolean;
  problems: string[];
  counts: Record<string, number>;
  matched: number;
}

/** How many of each class are planted among `count` cases. */
export function plantedPerClass(count: number): number {
  return Math.max(1, Math.min(1000, Math.floor(count / 20)));
}

const key = (i: number) => `01a20000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
const ref = (i: number) => `AZ-${i}`;
const SAME = 'eingegangen';

/** The hub's side: N delivered cases, plus P queued deliveries nobody claimed. */
async function seed(dbOptions: Parameters<typeof openStore>[0], count: number): Promise<void> {
  const store = await openStore(dbOptions);
  const p = plantedPerClass(count);
  const now = Date.now();
  const chunk = 50_000;
  try {
    for (let start = 0; start < count; start += chunk) {
      const cases: SeedCase[] = [];
      for (let i = start; i < Math.min(count, start + chunk); i++) {
        cases.push({
          id: key(i),
          targetId: TARGET,
          reference: ref(i),
          backofficeStatus: SAME,
          createdAt: now - 3_600_000,
          deliveredAt: now - 3_599_000,
        });
      }
      await seedCases(store, cases, now);
    }
    const stuck: SeedCase[] = [];
    for (let j = 0; j < p; j++)
      stuck.push({ id: `stuck-${j}`, targetId: TARGET, state: 'queued', createdAt: now - 7_200_000, nextAttemptAt: now - 7_200_000 });
    await seedCases(store, stuck, now);
  } finally {
    await store.close();
  }
}

/**
 * The back office's listing, generated: every hub case but the P missing ones, the P duplicated ones twice, P
 * with another status, and P the hub never sent; in a scrambled order, as a back office sorts by its own time.
 */
async function* listing(count: number): AsyncGenerator<CaseStatus> {
  const p = plantedPerClass(count);
  const total = count + p;
  const stride = 1_000_003;
  for (let n = 0; n < total; n++) {
    const i = (n * stride) % total;
    if (i < p) continue; // missing in the back office
    if (i >= count) {
      yield { reference: `AZ-U-${i}`, status: SAME, idempotencyKey: key(i) }; // unknown to the hub
      continue;
    }
    if (i < 2 * p) yield { reference: `${ref(i)}-dup`, status: SAME, idempotencyKey: key(i) };
    yield { reference: ref(i), status: i >= 2 * p && i < 3 * p ? 'in Bearbeitung' : SAME, idempotencyKey: key(i) };
  }
}

async function run(
  dbOptions: Parameters<typeof openStore>[0],
  count: number,
  database: 'sqlite' | 'postgres',
): Promise<ReconcileBenchResult> {
  const store = await openStore(dbOptions);
  const p = plantedPerClass(count);
  const rstore = store.reconcile;
  const logger = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
  const status: StatusSink = { record: async (c) => ({ recorded: true, deliveryId: c.deliveryId }) };
  const adapter = {
    deliver: async () => ({ ok: true as const, reference: null }),
    check: async () => ({ ok: true, message: '' }),
    list: () => listing(count),
  };
  let peak = process.memoryUsage().rss;
  const before = peak;
  let atPeak = process.memoryUsage();
  const sample = () => {
    const m = process.memoryUsage();
    if (m.rss > peak) [peak, atPeak] = [m.rss, m];
  };
  const sampler = setInterval(sample, 20);
  const started = performance.now();
  try {
    const r = (await runReconciliation(
      {
        rstore,
        targets: new Map([
          [
            TARGET,
            {
              id: TARGET,
              adapter,
              reconcile: { timezone: 'Europe/Berlin', graceMinutes: 15, lookbackDays: 7, concurrency: 4, redeliver: 'auto' },
            },
          ],
        ]),
        status,
        logger,
        now: systemClock,
      },
      { job: 'reconcile', scheduleId: 'on-demand', targets: [TARGET], stuckAfterMinutes: 15 },
    ))!;
    const runSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    sample();
    // Found exactly what was planted: by class, the ids each class must name.
    const problems: string[] = [];
    const expected: Record<string, (d: { deliveryId?: string; idempotencyKey?: string; action: string }) => boolean> = {
      'missing-in-backoffice': (d) => idx(d.deliveryId) < p && d.action === 'redelivered',
      'duplicated-in-backoffice': (d) => idx(d.deliveryId) >= p && idx(d.deliveryId) < 2 * p,
      'status-changed': (d) => idx(d.deliveryId) >= 2 * p && idx(d.deliveryId) < 3 * p,
      'unknown-to-hub': (d) => idx(d.idempotencyKey) >= count && d.deliveryId === undefined,
      'stuck-delivery': (d) => d.deliveryId?.startsWith('stuck-') === true,
    };
    const seen = new Set<string>();
    for await (const d of rstore.discrepancies(r.id)) {
      const check = expected[d.class];
      const id = `${d.class}:${d.deliveryId ?? d.idempotencyKey}`;
      if (!check?.(d) || seen.has(id)) problems.push(`invented or repeated: ${id} (${d.action})`);
      seen.add(id);
      if (problems.length > 10) break;
    }
    for (const c of Object.keys(expected))
      if (r.counts[c as keyof typeof r.counts] !== p) problems.push(`${c}: found ${r.counts[c as keyof typeof r.counts] ?? 0} of ${p}`);
    if (r.matched !== count - 3 * p) problems.push(`matched ${r.matched}, expected ${count - 3 * p}`);
    if (r.state !== 'finished') problems.push(`run ${r.state}: ${r.error}`);
    return {
      id: 'reconcile',
      kind: 'reconcile',
      label: `reconciliation, ${database === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
      database,
      count,
      plantedPerClass: p,
      seedSeconds: 0,
      runSeconds: round(runSeconds),
      peakRssMb: Math.round(peak / 1024 / 1024),
      rssBeforeMb: Math.round(before / 1024 / 1024),
      atPeakMb: {
        heapUsed: mb(atPeak.heapUsed),
        heapTotal: mb(atPeak.heapTotal),
        external: mb(atPeak.external),
        arrayBuffers: mb(atPeak.arrayBuffers),
      },
      ok: problems.length === 0,
      problems,
      counts: r.counts as Record<string, number>,
      matched: r.matched,
    };
  } finally {
    clearInterval(sampler);
    await store.close();
  }
}

function idx(k: string | undefined): number {
  return k?.startsWith('01a20000-') ? parseInt(k.slice(24), 16) : -1;
}

function mb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function child(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) =>
      code === 0 ? resolve(out.trim().split('\n').pop() ?? '') : reject(new Error(`bench/reconcile.ts ${args[0]} exited with ${code}`)),
    );
  });
}

/** Seeds and reconciles on each database, each step in a child process of its own. */
export async function runReconcileBench(o: {
  count: number;
  pgUrl: string;
  pgProblem?: string | undefined;
  databases?: readonly ('sqlite' | 'postgres')[];
  log: (m: string) => void;
}): Promise<ReconcileBenchResult[]> {
  const results: ReconcileBenchResult[] = [];
  for (const database of o.databases ?? (['sqlite', 'postgres'] as const)) {
    if (database === 'postgres' && o.pgProblem) {
      o.log(`reconciliation on PostgreSQL skipped: ${o.pgProblem}`);
      continue;
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-bench-reconcile-'));
    const schema = `amtsbote_bench_reconcile_${process.pid}`;
    const spec =
      database === 'sqlite' ? JSON.stringify({ sqliteFile: path.join(dir, 'amtsbote.sqlite') }) : JSON.stringify({ url: o.pgUrl, schema });
    try {
      o.log(`reconciliation on ${database}: seeding ${o.count.toLocaleString('en')} deliveries`);
      const seeded = performance.now();
      await child(['seed', spec, String(o.count)]);
      const seedSeconds = round((performance.now() - seeded) / 1000);
      o.log(`reconciliation on ${database}: seeded in ${seedSeconds} s; running`);
      const r = JSON.parse(await child(['run', spec, String(o.count), database])) as ReconcileBenchResult;
      r.seedSeconds = seedSeconds;
      o.log(
        `reconciliation on ${database}: ${r.runSeconds} s, peak RSS ${r.peakRssMb} MB, ${r.ok ? 'all planted found, none invented' : r.problems.join('; ')}`,
      );
      results.push(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (database === 'postgres') await dropSchema(o.pgUrl, schema).catch(() => undefined);
    }
  }
  return results;
}

export function reconcileTable(results: readonly ReconcileBenchResult[]): string {
  const rows = [
    [
      'reconciliation',
      'cases',
      'planted/class',
      'seed',
      'run',
      `goal < ${GOAL_SECONDS} s`,
      'peak RSS (before run)',
      `goal < ${GOAL_RSS_MB} MB`,
      'found',
    ],
  ];
  for (const r of results) {
    rows.push([
      r.label,
      r.count.toLocaleString('en'),
      String(r.plantedPerClass),
      `${r.seedSeconds} s`,
      `${r.runSeconds} s`,
      r.runSeconds < GOAL_SECONDS ? 'met' : 'missed',
      `${r.peakRssMb} MB (${r.rssBeforeMb} MB)`,
      r.peakRssMb < GOAL_RSS_MB ? 'met' : 'missed',
      r.ok ? 'all, none invented' : r.problems.join('; '),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

if (process.argv[1] === SELF) {
  const [mode, spec, count, database] = process.argv.slice(2);
  if (mode === 'seed') {
    await seed(JSON.parse(spec!) as Parameters<typeof openStore>[0], Number(count));
  } else if (mode === 'run') {
    console.log(
      JSON.stringify(await run(JSON.parse(spec!) as Parameters<typeof openStore>[0], Number(count), database as 'sqlite' | 'postgres')),
    );
  } else {
    const n = Number(process.env.BENCH_RECONCILE ?? 1_000_000);
    if (!Number.isInteger(n) || n < 20) throw new Error('BENCH_RECONCILE must be an integer ≥ 20');
    const databases = (process.env.BENCH_RECONCILE_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim()) as (
      | 'sqlite'
      | 'postgres'
    )[];
    const pgUrl = process.env.BENCH_PG_URL || process.env.AMTSBOTE_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
    const results = await runReconcileBench({ count: n, pgUrl, databases, log: (m) => console.error(m) });
    console.log(reconcileTable(results));
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  }
}
