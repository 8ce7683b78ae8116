import type { RetentionConfig } from '../config/retention.ts';
import type { PurgeCutoff } from '../store/prune-store.ts';

const DAY_MS = 86_400_000;

/** The days of form data a pair keeps: its own rule, else the service's, else the tenant's, else the default. */
export function retentionDays(r: RetentionConfig, tenant: string, service: string): number | undefined {
  const rule =
    r.rules.find((x) => x.tenant === tenant && x.service === service) ??
    r.rules.find((x) => x.tenant === undefined && x.service === service) ??
    r.rules.find((x) => x.tenant === tenant && x.service === undefined);
  return rule?.formDataDays ?? r.formDataDays;
}

/** The cutoff of every pair that holds data and has a retention; pairs without one keep their data. */
export function purgeCutoffs(r: RetentionConfig, pairs: readonly { tenant: string; service: string }[], now: number): PurgeCutoff[] {
  return pairs.flatMap(({ tenant, service }) => {
    const days = retentionDays(r, tenant, service);
    return days === undefined ? [] : [{ tenant, service, days, before: now - days * DAY_MS }];
  });
}
