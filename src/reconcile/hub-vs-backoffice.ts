import type { Logger } from 'winston';
import type { TargetReconcileConfig } from '../config/schema.ts';
import type { AdapterInstance, CaseStatus } from '../sdk/types.ts';
import type { HubCase, ReconcileStore } from '../store/reconcile-store.ts';
import type { RecordedStatus, StatusSink } from '../core/status/types.ts';
import { statusKey } from '../core/status/mapping.ts';
import { BackofficeIndex } from './backoffice-index.ts';
import type { Discrepancy, DiscrepancyAction, ReportSink } from '../core/reconcile/types.ts';

/** Hub rows read per page: large enough to amortise the round trip, small enough to keep memory flat. */
export const HUB_PAGE = 5_000;

export interface TargetComparison {
  targetId: string;
  adapter: AdapterInstance;
  settings: Pick<TargetReconcileConfig, 'redeliver' | 'concurrency'>;
  /** Deliveries delivered at or after this (epoch ms), and the back office's cases since then. */
  since: number;
  /** Deliveries delivered after this are not expected in the back office yet (now − grace). */
  until: number;
  tenants?: readonly string[] | undefined;
}

export interface CompareContext {
  rstore: ReconcileStore;
  sink: ReportSink;
  status?: StatusSink | undefined;
  logger: Logger;
  runId: string;
  now: number;
  pageSize?: number;
  /**
   * Runs one read of the back office (the whole listing, or one status lookup) under the target's retry
   * policy; without it, once.
   */
  retry?: <T>(read: () => Promise<T>) => Promise<T>;
}

const once = <T>(read: () => Promise<T>): Promise<T> => read();

export interface ComparisonSummary {
  mode: 'list' | 'status';
  /** Hub cases compared. */
  hubCases: number;
  /** Back-office cases listed (list mode). */
  backofficeCases: number;
  /** Delivered cases without a reference, which status() cannot be asked about. */
  unchecked: number;
  redelivered: number;
  /** Bytes the back-office index held (list mode). */
  indexBytes: number;
}

/**
 * Compares what the hub delivered to one target with what its back office holds. With `list(since)` the back
 * office's cases are read once into a compact index and the hub's delivered cases are streamed past it in
 * key order; with only `status(reference)` each delivered case is asked about, a few at a time.
 */
export async function compareWithBackoffice(t: TargetComparison, ctx: CompareContext): Promise<ComparisonSummary> {
  if (t.adapter.list) return compareByListing(t, t.adapter.list.bind(t.adapter), ctx);
  if (t.adapter.status) return compareByStatus(t, t.adapter.status.bind(t.adapter), ctx);
  throw new Error(`target ${t.targetId}: its adapter offers neither list() nor status()`);
}

async function compareByListing(
  t: TargetComparison,
  list: (since: Date) => AsyncIterable<CaseStatus>,
  ctx: CompareContext,
): Promise<ComparisonSummary> {
  // A listing that fails half-way is read again from its start, into a fresh index: an adapter's list() cannot
  // resume at a page, and nothing is compared before the whole listing is in.
  const index = await (ctx.retry ?? once)(async () => {
    const fresh = new BackofficeIndex();
    for await (const c of list(new Date(t.since))) fresh.add(c);
    return fresh;
  });
  const outcome = new Outcomes(t, ctx);
  let hubCases = 0;
  for await (const page of deliveredPages(t, ctx)) {
    hubCases += page.length;
    for (const h of page) {
      let i = index.findByKey(h.idempotencyKey);
      if (i < 0 && h.reference !== null) i = index.findByReference(h.reference);
      if (i < 0) {
        outcome.missing(h);
        continue;
      }
      index.markSeen(i);
      await outcome.found(h, index, i);
    }
    await outcome.flushMissing();
  }
  // What the back office holds and this window did not claim: unknown to the hub, unless the hub has it outside
  // the window (delivered before `since`, within the grace period, or in another state).
  const batch: number[] = [];
  const sweep = async () => {
    const keys = batch.map((i) => index.key(i)).filter((k): k is string => k !== undefined);
    const known = await ctx.rstore.findCases(
      t.targetId,
      keys,
      batch.map((i) => index.reference(i)),
    );
    const byKey = new Map(known.map((h) => [h.idempotencyKey, h]));
    const byRef = new Map(known.filter((h) => h.targetId === t.targetId && h.reference !== null).map((h) => [h.reference!, h]));
    for (const i of batch) {
      const key = index.key(i);
      const h = (key !== undefined ? byKey.get(key) : undefined) ?? byRef.get(index.reference(i));
      if (h?.state === 'delivered' && h.targetId === t.targetId) await outcome.found(h, index, i);
      else if (h)
        continue; // the hub has it in another state (being sent again, failed): not unknown to it
      else await outcome.unknown(index, i);
    }
    batch.length = 0;
  };
  for (const i of index.unseen()) {
    batch.push(i);
    if (batch.length === 500) await sweep();
  }
  if (batch.length) await sweep();
  return { mode: 'list', hubCases, backofficeCases: index.size, unchecked: 0, redelivered: outcome.redelivered, indexBytes: index.bytes };
}

async function compareByStatus(
  t: TargetComparison,
  status: (reference: string) => Promise<CaseStatus | null>,
  ctx: CompareContext,
): Promise<ComparisonSummary> {
  const outcome = new Outcomes(t, ctx);
  let hubCases = 0;
  let unchecked = 0;
  const limit = t.settings.concurrency ?? 4;
  for await (const page of deliveredPages(t, ctx)) {
    hubCases += page.length;
    const asked = page.filter((h) => h.reference !== null);
    unchecked += page.length - asked.length;
    const answers = await mapLimit(asked, limit, (h) => (ctx.retry ?? once)(() => status(h.reference!)));
    for (let k = 0; k < asked.length; k++) {
      const h = asked[k]!;
      const c = answers[k]!;
      if (c === null) outcome.missing(h);
      else await outcome.compareStatus(h, c.status, c.reason);
    }
    await outcome.flushMissing();
  }
  return { mode: 'status', hubCases, backofficeCases: 0, unchecked, redelivered: outcome.redelivered, indexBytes: 0 };
}

async function* deliveredPages(t: TargetComparison, ctx: CompareContext): AsyncGenerator<HubCase[]> {
  const limit = ctx.pageSize ?? HUB_PAGE;
  for (let afterKey: string | undefined; ; ) {
    const page = await ctx.rstore.deliveredPage({
      targetId: t.targetId,
      since: t.since,
      until: t.until,
      tenants: t.tenants,
      afterKey,
      limit,
    });
    if (page.length) yield page;
    if (page.length < limit) return;
    afterKey = page[page.length - 1]!.idempotencyKey;
  }
}

/** What each comparison does with a finding: classify, act under the target's policy, report. */
class Outcomes {
  redelivered = 0;
  private pendingMissing: HubCase[] = [];

  constructor(
    private readonly t: TargetComparison,
    private readonly ctx: CompareContext,
  ) {}

  missing(h: HubCase): void {
    this.pendingMissing.push(h);
  }

  /** Acts on the missing cases of one page together: one transaction re-delivers them all. */
  async flushMissing(): Promise<void> {
    const cases = this.pendingMissing;
    if (!cases.length) return;
    this.pendingMissing = [];
    const policy = this.t.settings.redeliver;
    const outcomes = new Map<string, string>();
    if (policy === 'auto') {
      const reason = 'reconciliation: delivered by the hub but not in the back office';
      for (const r of await this.ctx.rstore.redeliver(
        cases.map((h) => h.deliveryId),
        'reconciliation',
        reason,
        this.ctx.now,
        { runId: this.ctx.runId },
      ))
        outcomes.set(r.id, r.outcome);
    }
    for (const h of cases) {
      const o = outcomes.get(h.deliveryId);
      const action: DiscrepancyAction = policy === 'ask' ? 'awaiting-operator' : o === 'redelivered' ? 'redelivered' : 'flagged';
      if (action === 'redelivered') this.redelivered++;
      await this.add({
        ...caseFields(h),
        class: 'missing-in-backoffice',
        action,
        detail: { deliveredAt: iso(h.deliveredAt), ...(o && o !== 'redelivered' ? { redelivery: o } : {}) },
      });
    }
  }

  async found(h: HubCase, index: BackofficeIndex, i: number): Promise<void> {
    const dups = index.duplicates(i);
    if (dups) {
      await this.add({
        ...caseFields(h),
        class: 'duplicated-in-backoffice',
        action: 'flagged',
        detail: { references: [index.reference(i), ...dups] },
      });
      return;
    }
    await this.compareStatus(h, index.status(i), index.reason(i), index.reference(i));
  }

  async compareStatus(h: HubCase, word: string, reason: string | undefined, reference = h.reference ?? undefined): Promise<void> {
    // Spelling differences ("In Bearbeitung", "IN_BEARBEITUNG") are one word, as the status back-channel compares them.
    if (word === h.backofficeStatus || (h.backofficeStatus !== null && statusKey(word) === statusKey(h.backofficeStatus))) {
      this.ctx.sink.matched(1);
      return;
    }
    if (h.backofficeStatus === null) {
      // The hub has no word for the case yet: it learns the first one. The sides agree; nothing to report.
      await this.record(h, word, reason, reference);
      this.ctx.sink.matched(1);
      return;
    }
    const r = await this.record(h, word, reason, reference);
    const action: DiscrepancyAction = !r ? 'reported' : r.forwarded ? 'forwarded' : r.recorded ? 'recorded' : 'reported';
    await this.add({
      ...caseFields(h),
      ...(reference !== undefined ? { reference } : {}),
      class: 'status-changed',
      action,
      detail: { from: h.backofficeStatus, to: word },
    });
  }

  /** Hands the back office's word to the status back-channel, which records it and forwards it to the portal. */
  private async record(
    h: HubCase,
    word: string,
    reason: string | undefined,
    reference: string | undefined,
  ): Promise<(RecordedStatus & { forwarded?: boolean }) | undefined> {
    if (!this.ctx.status) return undefined;
    return this.ctx.status.record({
      targetId: this.t.targetId,
      deliveryId: h.deliveryId,
      idempotencyKey: h.idempotencyKey,
      ...(reference !== undefined ? { reference } : {}),
      status: word,
      ...(reason ? { reason } : {}),
      at: this.ctx.now,
      source: 'reconciliation',
    });
  }

  async unknown(index: BackofficeIndex, i: number): Promise<void> {
    const key = index.key(i);
    const dups = index.duplicates(i);
    await this.add({
      class: dups ? 'duplicated-in-backoffice' : 'unknown-to-hub',
      action: dups ? 'flagged' : 'reported',
      targetId: this.t.targetId,
      reference: index.reference(i),
      ...(key !== undefined ? { idempotencyKey: key } : {}),
      detail: { status: index.status(i), ...(dups ? { references: [index.reference(i), ...dups], knownToHub: false } : {}) },
    });
  }

  private add(d: Discrepancy): Promise<void> {
    return this.ctx.sink.add(d);
  }
}

function caseFields(h: HubCase): Omit<Discrepancy, 'class' | 'action'> {
  return {
    submissionId: h.submissionId,
    deliveryId: h.deliveryId,
    targetId: h.targetId,
    portalId: h.portalId,
    tenant: h.tenant,
    idempotencyKey: h.idempotencyKey,
    externalId: h.externalId,
    ...(h.reference !== null ? { reference: h.reference } : {}),
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. The first failure stops the rest. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (next < items.length && !failed) {
      const k = next++;
      try {
        out[k] = await fn(items[k]!);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
