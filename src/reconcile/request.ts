/** An on-demand run as the CLI and the operator API take it: strings as typed. */
export interface RunFilterInput {
  target?: unknown;
  tenant?: unknown;
  since?: unknown;
}

export interface RunFilters {
  targets?: string[];
  tenants?: string[];
  since?: number;
}

/** Checks the filters of an on-demand run; `knownTargets` names the targets that exist. */
export function parseRunFilters(
  input: RunFilterInput,
  knownTargets: readonly string[],
): { ok: true; filters: RunFilters } | { ok: false; problems: { field: string; detail: string }[] } {
  const problems: { field: string; detail: string }[] = [];
  const filters: RunFilters = {};
  if (input.target !== undefined) {
    if (typeof input.target !== 'string' || !knownTargets.includes(input.target))
      problems.push({ field: 'target', detail: `expected one of the configured targets: ${knownTargets.join(', ')}` });
    else filters.targets = [input.target];
  }
  if (input.tenant !== undefined) {
    if (typeof input.tenant !== 'string' || !/^\d{5}(\d{3})?$/.test(input.tenant))
      problems.push({ field: 'tenant', detail: 'expected an official key: an 8-digit AGS or a 5-digit district key' });
    else filters.tenants = [input.tenant];
  }
  if (input.since !== undefined) {
    const ms =
      typeof input.since === 'string' && /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(input.since)
        ? Date.parse(input.since)
        : NaN;
    if (Number.isNaN(ms)) problems.push({ field: 'since', detail: 'expected an ISO 8601 date or date-time, e.g. 2026-11-24T08:00:00Z' });
    else filters.since = ms;
  }
  return problems.length ? { ok: false, problems } : { ok: true, filters };
}
