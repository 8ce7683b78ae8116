import type { Store, Timeline } from '../store/index.ts';

/**
 * A submission named by its hub id or its external id, within `tenants`: the newest match's timeline and the
 * other matches (one external id can come from several portals). Undefined when none is visible.
 */
export async function lookupTimeline(
  store: Store,
  ref: string,
  tenants: readonly string[] | undefined,
): Promise<{ timeline: Timeline; otherMatches: string[] } | undefined> {
  const [first, ...rest] = await store.console.resolve(ref, tenants);
  const timeline = first ? await store.console.timeline(first, tenants) : undefined;
  return timeline && { timeline, otherMatches: rest };
}
