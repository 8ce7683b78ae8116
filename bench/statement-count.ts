/**
 * BENCH_COUNT_SQL=1: counts the statements the hub process sends (pg queries, better-sqlite3 statement runs), by
 * their first 90 characters, and prints them on stderr at shutdown (read with BENCH_VERBOSE=1). For working out
 * statements per claim and per result; slows the process a little, so leave it off for figures.
 */
import SQLite from 'better-sqlite3';
import pg from 'pg';

const counts = new Map<string, number>();
const count = (text: unknown) => {
  const key = String(text)
    .replace(/\s+/g, ' ')
    .replace(/\$\d+|\?/g, '?')
    .slice(0, 90);
  counts.set(key, (counts.get(key) ?? 0) + 1);
};

export function countStatements(): () => string {
  const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
    const q = a[0];
    count(typeof q === 'string' ? q : (q as { text?: string }).text);
    return query.apply(this, a);
  } as typeof pg.Client.prototype.query;
  const probe = new SQLite(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
  probe.close();
  for (const m of ['run', 'all', 'get', 'iterate'] as const) {
    const orig = proto[m]!;
    proto[m] = function (this: { source: string }, ...a: unknown[]) {
      count(this.source);
      return orig.apply(this, a);
    };
  }
  return () =>
    [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${String(n).padStart(8)}  ${k}`)
      .join('\n');
}
