import type { FailedDelivery, FailedFilter, ReplayResult, Store } from '../store/index.ts';

/** The most deliveries one replay by filter touches; narrow the filter (or run again) for more. */
export const REPLAY_MAX = 10_000;
const PAGE = 500;

/** A replay by filter as the CLI and the operator API take it: strings as typed, times as ISO 8601. */
export interface ReplayFilterInput {
  target?: unknown;
  tenant?: unknown;
  errorKind?: unknown;
  since?: unknown;
  until?: unknown;
}

export interface FilterProblem {
  /** The field at fault; `''` for the filter as a whole. */
  field: string;
  detail: string;
}

/** Checks a filter and turns it into the store's form; at least one field must be given. */
export function parseReplayFilter(input: ReplayFilterInput): { ok: true; filter: FailedFilter } | { ok: false; problems: FilterProblem[] } {
  const problems: FilterProblem[] = [];
  const filter: FailedFilter = {};
  const text = (field: 'target' | 'tenant' | 'errorKind'): string | undefined => {
    const v = input[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      problems.push({ field, detail: 'expected a non-empty string' });
      return undefined;
    }
    return v;
  };
  const time = (field: 'since' | 'until'): number | undefined => {
    const v = input[field];
    if (v === undefined) return undefined;
    const ms = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(ms)) {
      problems.push({ field, detail: 'expected an ISO 8601 date or date-time, e.g. 2026-11-24T08:00:00Z' });
      return undefined;
    }
    return ms;
  };
  filter.targetId = text('target');
  filter.tenant = text('tenant');
  filter.errorKind = text('errorKind');
  filter.since = time('since');
  filter.until = time('until');
  for (const k of Object.keys(filter) as (keyof FailedFilter)[]) if (filter[k] === undefined) delete filter[k];
  if (problems.length === 0 && filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    problems.push({ field: 'until', detail: 'must be later than since' });
  }
  if (problems.length === 0 && Object.keys(filter).length === 0) {
    problems.push({ field: '', detail: 'give at least one of target, tenant, errorKind, since, until' });
  }
  return problems.length ? { ok: false, problems } : { ok: true, filter };
}

export interface FilterReplayReport {
  dryRun: boolean;
  /** Failed deliveries that matched (up to REPLAY_MAX). */
  matched: FailedDelivery[];
  /** True when more matched than REPLAY_MAX: run again for the rest. */
  truncated: boolean;
  /** Empty on a dry run. */
  results: ReplayResult[];
}

/** Finds the failed deliveries a filter matches, page by page, and (unless a dry run) replays them. */
export async function replayByFilter(
  store: Store,
  filter: FailedFilter,
  o: { dryRun: boolean; by: string; reason?: string | undefined; now: number; max?: number },
): Promise<FilterReplayReport> {
  const max = o.max ?? REPLAY_MAX;
  const matched: FailedDelivery[] = [];
  let truncated = false;
  // Keyset pagination over a snapshot of "failed before now": what fails from here on is not ours to replay.
  const bounded: FailedFilter = { ...filter, until: Math.min(filter.until ?? Infinity, o.now + 1) };
  for (let after: { failedAt: number; id: string } | undefined; ; ) {
    const page = await store.findFailed(bounded, Math.min(PAGE, max + 1 - matched.length), after);
    matched.push(...page);
    if (matched.length > max) {
      matched.length = max;
      truncated = true;
      break;
    }
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    after = { failedAt: last.failedAt, id: last.id };
  }
  if (o.dryRun) return { dryRun: true, matched, truncated, results: [] };
  const results: ReplayResult[] = [];
  for (let i = 0; i < matched.length; i += PAGE) {
    results.push(
      ...(await store.replay(
        matched.slice(i, i + PAGE).map((d) => d.id),
        o.by,
        o.reason,
        o.now,
        filter.tenants,
      )),
    );
  }
  return { dryRun: false, matched, truncated, results };
}
