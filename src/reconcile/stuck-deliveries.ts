import type { Logger } from 'winston';
import type { Store } from '../store/store.ts';

/**
 * Reports deliveries that are due but have not been picked up for a while: no worker running, a worker
 * overloaded, or leases that keep running out. Expired leases need no release: they are due again by design.
 */
export async function stuckDeliveries(store: Store, options: { olderThanMinutes: number }, logger: Logger): Promise<Record<string, unknown>> {
  const minutes = options.olderThanMinutes;
  const overdue = await store.overdue(Date.now(), minutes * 60_000, 1000);
  if (overdue.length) {
    const byTarget: Record<string, number> = {};
    for (const d of overdue) byTarget[d.targetId] = (byTarget[d.targetId] ?? 0) + 1;
    logger.warn('deliveries overdue', { count: overdue.length, olderThanMinutes: minutes, byTarget, oldest: overdue[0]!.id });
  }
  return { overdue: overdue.length };
}
