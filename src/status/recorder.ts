import type { Logger } from 'winston';
import type { HubConfig } from '../config/schema.ts';
import type { Metrics } from '../operator/metrics.ts';
import type { DeliveredCase, DeliveredHook, Store } from '../store/index.ts';
import type { StatusNews, StatusRecordResult, StatusRules, StatusStore } from '../store/status-store.ts';
import { uuidv7 } from '../store/ids.ts';
import { StatusMap } from '../core/status/mapping.ts';
import type { BackofficeStatusChange, RecordedStatusDetail, StatusSink } from '../core/status/types.ts';
import type { Clock } from '../clock.ts';

/** Longest reason kept: a reason is a sentence for the citizen, not a document. */
export const MAX_REASON_LENGTH = 500;

export interface StatusRecorderOptions {
  store: Pick<Store, 'status'>;
  config: Pick<HubConfig, 'targets' | 'portals'>;
  logger: Logger;
  metrics?: Pick<Metrics, 'statusRecorded'>;
  /** Called after an update was queued for a portal, so the outbox worker sends it now rather than at its next poll. */
  onQueued?: () => void;
  /** The hub's clock. */
  now: Clock;
}

/**
 * The status back-channel's entry: finds the case, maps the back office's word to the portal's vocabulary, writes
 * the history and the current status, and queues the portal's update, all in one transaction (StatusStore).
 */
export class StatusRecorder implements StatusSink {
  readonly statusStore: StatusStore;
  private readonly maps = new Map<string, StatusMap>();
  private readonly callbacks: Set<string>;
  private readonly now: Clock;
  private readonly fallbackMap = new StatusMap();

  constructor(private readonly o: StatusRecorderOptions) {
    this.statusStore = o.store.status;
    for (const [id, t] of Object.entries(o.config.targets)) this.maps.set(id, new StatusMap(t.status));
    this.callbacks = new Set(o.config.portals.filter((p) => p.statusCallback).map((p) => p.id));
    this.now = o.now;
  }

  /** The target's map (the built-in one for a target no longer configured). */
  mapFor(targetId: string): StatusMap {
    return this.maps.get(targetId) ?? this.fallbackMap;
  }

  record(change: BackofficeStatusChange): Promise<RecordedStatusDetail> {
    return this.recordAll([change]).then((r) => r[0]!);
  }

  /**
   * Several changes in one transaction (a pushed batch): all are written or none. `targetIds` widens the search to
   * every target a push token stands for; by default each change looks in its own target.
   */
  async recordAll(
    changes: readonly BackofficeStatusChange[],
    targetIds?: (c: BackofficeStatusChange, index: number) => readonly string[],
  ): Promise<StatusRecordResult[]> {
    const news = changes.map(
      (c, i): StatusNews => ({
        targetIds: targetIds?.(c, i) ?? [c.targetId],
        deliveryId: c.deliveryId,
        reference: c.reference,
        idempotencyKey: c.idempotencyKey,
        word: c.status,
        reason: c.reason ? c.reason.slice(0, MAX_REASON_LENGTH) : null,
        at: c.at,
        source: c.source,
      }),
    );
    return this.write(news);
  }

  /** A delivery reached its back office (delivered, or a file drop acknowledged): RECEIVED, unless it has a status. */
  recordDelivered(d: DeliveredCase): Promise<RecordedStatusDetail> {
    return this.write([{ targetIds: [], deliveryId: d.deliveryId, word: null, reason: null, at: d.at, source: d.source }]).then(
      (r) => r[0]!,
    );
  }

  /**
   * For the store's completions: delivered cases become RECEIVED in the very transaction that records the delivery,
   * so no crash can fall between the two, and they share its commit (StatusStore.recordReceived, in Store.writeCompletions). A failure
   * there is logged and costs the delivery nothing.
   */
  deliveredHook(): DeliveredHook {
    const news = (delivered: readonly DeliveredCase[]) =>
      delivered.map((d): StatusNews => ({ targetIds: [], deliveryId: d.deliveryId, word: null, reason: null, at: d.at, source: d.source }));
    return {
      rules: () => this.rules(),
      recorded: (delivered, results) => this.reportAll(news(delivered), results),
      failed: (delivered, error) =>
        this.o.logger.error('could not record delivered cases as received', { count: delivered.length, error: error.message }),
    };
  }

  private rules(): StatusRules {
    const now = this.now();
    return {
      map: (targetId, word) => this.mapFor(targetId).map(word),
      forwards: (portalId) => this.callbacks.has(portalId),
      newId: () => uuidv7(now),
      now,
    };
  }

  private async write(news: StatusNews[]): Promise<StatusRecordResult[]> {
    const results = await this.statusStore.recordAll(news, this.rules());
    this.reportAll(news, results);
    return results;
  }

  private reportAll(news: StatusNews[], results: StatusRecordResult[]): void {
    news.forEach((n, i) => {
      this.report(n, results[i]!);
    });
    if (results.some((r) => r.forwarded)) this.o.onQueued?.();
  }

  private report(n: StatusNews, r: StatusRecordResult): void {
    const target = r.targetId ?? n.targetIds[0] ?? 'unknown';
    this.o.metrics?.statusRecorded.inc({ target, source: n.source, outcome: r.outcome });
    if (r.outcome === 'duplicate' || r.outcome === 'unchanged') return;
    // The reason stays out of the log: it is for the citizen and may name personal circumstances.
    const meta = {
      submissionId: r.submissionId,
      deliveryId: r.deliveryId,
      target,
      source: n.source,
      backofficeStatus: n.word,
      portalStatus: r.portalStatus ?? null,
      outcome: r.outcome,
      ...(r.sequence ? { sequence: r.sequence } : {}),
    };
    if (r.outcome === 'unknown-case')
      this.o.logger.warn('status for a case the hub does not know', {
        target,
        source: n.source,
        backofficeStatus: n.word,
        ...(n.reference ? { reference: n.reference } : {}),
        ...(n.idempotencyKey ? { idempotencyKey: n.idempotencyKey } : {}),
      });
    else if (r.outcome === 'unmapped')
      this.o.logger.warn(`the target's status map has no portal status for "${n.word}"; recorded, not forwarded`, meta);
    else this.o.logger.info('status recorded', meta);
  }
}
