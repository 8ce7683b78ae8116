import type { LoadedConfig } from '../config/load.ts';
import type { PortalConfig } from '../config/schema.ts';
import type { AdapterInstance } from '../sdk/types.ts';
import { portalComparison, type PortalComparisonDeps } from './portal-vs-hub.ts';
import type { PortalComparison, ReconcileTarget } from './run.ts';

/** Every configured target with its reconcile settings and its running adapter, as runs look them up. */
export function reconcileTargets(
  config: Pick<LoadedConfig, 'targets'>,
  adapters: ReadonlyMap<string, AdapterInstance>,
): Map<string, ReconcileTarget> {
  return new Map(
    [...config.targets.values()].map((t) => [
      t.id,
      {
        id: t.id,
        reconcile: t.config.reconcile,
        adapter: adapters.get(t.id),
        windows: t.config.policy.windows,
        retry: t.config.policy.retry,
      },
    ]),
  );
}

/** The portals with a listing API, each as the comparison a run calls (src/reconcile/portal-vs-hub.ts). */
export function reconcilePortals(portals: readonly PortalConfig[], deps: PortalComparisonDeps): Map<string, PortalComparison> {
  const out = new Map<string, PortalComparison>();
  for (const p of portals) {
    const compare = portalComparison(p, deps);
    if (compare) out.set(p.id, compare);
  }
  return out;
}
