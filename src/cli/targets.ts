import { loadConfigIfPresent, openConfiguredStore, type DatabaseCommandOptions } from './database.ts';
import { describeTargets, type describeTarget } from '../operator/targets-api.ts';
import { systemClock } from '../clock.ts';

type TargetView = ReturnType<typeof describeTarget>;

/**
 * `amtsbote targets [id]`: every target's breaker, rate bucket, window and queue, across all instances, read from
 * the database: what `GET /api/v1/targets` answers, for an operator at a shell during an outage.
 */
export async function targets(id: string | undefined, o: DatabaseCommandOptions & { json?: boolean }): Promise<void> {
  const config = await loadConfigIfPresent(o);
  if (!config) throw new Error(`no configuration at ${o.config}: the targets and their policies come from it`);
  const store = await openConfiguredStore(o, config);
  try {
    // A process of its own: its one reading of the machine's clock.
    const targets = await describeTargets(store, config, systemClock(), id);
    if (id !== undefined && targets.length === 0) {
      console.error(`no target ${id}; configured: ${[...config.targets.keys()].sort().join(', ')}`);
      process.exitCode = 2;
      return;
    }
    console.log(o.json ? JSON.stringify(id === undefined ? { targets } : targets[0], null, 2) : formatTargets(targets).join('\n'));
  } finally {
    await store.close();
  }
}

/** One line per target; the columns an operator scans first during an outage. */
export function formatTargets(targets: readonly TargetView[]): string[] {
  const head = ['target', 'breaker', 'due', 'waiting', 'sending', 'ack', 'failed', 'oldest due', 'rate', 'window'];
  const rows = targets.map((t) => {
    const b = t.breaker;
    const breaker = !b.enabled ? 'off' : b.state === 'closed' ? 'closed' : `${b.state} until ${b.retryAt ?? '?'}`;
    const r = t.rateLimit;
    const rate =
      [r.perMinute !== null ? `${r.perMinute}/min, ${r.tokens} tokens` : '', r.maxInFlight !== null ? `max ${r.maxInFlight} in flight` : '']
        .filter(Boolean)
        .join('; ') || '-';
    const window = t.window === null ? '-' : t.window.open ? 'open' : `closed until ${t.window.nextOpening ?? '?'}`;
    const q = t.queue;
    return [
      t.configured ? t.id : `${t.id} (not configured)`,
      breaker,
      String(q.due),
      String(q.waiting),
      String(q.sending),
      String(q.acknowledging),
      String(q.failed),
      q.oldestDueAt ?? '-',
      rate,
      window,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(head), ...rows.map(line)];
  // Why a breaker is open is the first question; the last error answers it.
  for (const t of targets) if (t.breaker.state !== 'closed' && t.breaker.lastError) out.push(`${t.id}: last error: ${t.breaker.lastError}`);
  return out;
}
