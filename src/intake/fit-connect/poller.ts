// Polling a FIT-Connect destination: first what is owed (stored but not accepted: accept-on-restart), then every
// submission waiting at the platform, one at a time, then the alert on pickups unaccepted for too long. One poll
// per destination at a time in this process; a request for another while one runs is kept and run after it,
// so a callback that arrives mid-poll is not lost.

import { Counter, Gauge } from 'prom-client';
import type { Logger } from 'winston';
import type { Metrics } from '../../operator/metrics.ts';
import type { Destination } from './destination.ts';
import { pickUp, type PickupDeps, type PickupOutcome } from './pickup.ts';

export interface PollReport {
  destination: string;
  listed: number;
  outcomes: Partial<Record<PickupOutcome, number>>;
  /** Pickups older than the alert threshold and not answered. */
  overdue: number;
  error?: string;
}

export interface PollerDeps extends PickupDeps {
  metrics: Metrics;
}

export class FitConnectPoller {
  private readonly byName = new Map<string, Destination>();
  private readonly running = new Map<string, Promise<PollReport>>();
  private readonly again = new Map<string, Promise<PollReport>>();
  /** Alerts already logged, so a poll every few minutes does not repeat them; the metric keeps counting. */
  private readonly alerted = new Set<string>();
  private readonly pickups: Counter<'destination' | 'outcome'>;

  constructor(
    readonly destinations: readonly Destination[],
    private readonly deps: PollerDeps,
  ) {
    for (const d of destinations) this.byName.set(d.config.name, d);
    const registers = [deps.metrics.registry];
    this.pickups = new Counter({
      name: 'amtsbote_fit_connect_pickups_total',
      help: 'FIT-Connect submissions handled per destination: accepted, rejected, held (cannot be taken in), failed (try again)',
      labelNames: ['destination', 'outcome'],
      registers,
    });
    const store = deps.store.fitConnect;
    const now = deps.now;
    new Gauge({
      name: 'amtsbote_fit_connect_unaccepted_overdue',
      help: 'FIT-Connect submissions first seen longer ago than the destination alertAfterHours and still not accepted nor rejected',
      labelNames: ['destination'],
      registers,
      async collect() {
        for (const d of destinations)
          this.set(
            { destination: d.config.name },
            (await store.unanswered(now() - d.config.alertAfterHours * 3_600_000, d.config.name)).length,
          );
      },
    });
  }

  get(name: string): Destination | undefined {
    return this.byName.get(name);
  }

  /** Polls one destination now, or right after the poll under way. */
  poll(name: string): Promise<PollReport> {
    const d = this.byName.get(name);
    if (!d) return Promise.reject(new Error(`no FIT-Connect destination ${name}`));
    const current = this.running.get(name);
    if (!current) return this.start(d);
    let next = this.again.get(name);
    if (!next) {
      next = current
        .catch(() => undefined)
        .then(() => {
          this.again.delete(name);
          return this.running.get(name) ?? this.start(d);
        });
      this.again.set(name, next);
    }
    return next;
  }

  private start(d: Destination): Promise<PollReport> {
    const p = this.run(d).finally(() => this.running.delete(d.config.name));
    this.running.set(d.config.name, p);
    return p;
  }

  private async run(d: Destination): Promise<PollReport> {
    const name = d.config.name;
    const log = this.deps.logger.child({ component: 'fit-connect', destination: name });
    const report: PollReport = { destination: name, listed: 0, outcomes: {}, overdue: 0 };
    const count = (o: PickupOutcome) => {
      report.outcomes[o] = (report.outcomes[o] ?? 0) + 1;
      this.pickups.inc({ destination: name, outcome: o });
    };
    const deps = { ...this.deps, logger: log };
    const done = new Set<string>();
    // What the hub holds but the platform has not heard accepted: first, so a restart answers it at once.
    for (const p of await this.deps.store.fitConnect.awaitingAccept(name)) {
      count(await pickUp(d, { destinationId: p.destinationId, submissionId: p.submissionId, caseId: p.caseId }, deps));
      done.add(p.submissionId);
    }
    const listed = await d.api.listSubmissions(d.config.destinationId);
    if (!listed.ok) {
      report.error = listed.error;
      log.warn('FIT-Connect listing failed; next poll tries again', { error: listed.error, errorKind: listed.errorKind });
    } else {
      report.listed = listed.value.length;
      for (const s of listed.value) {
        if (done.has(s.submissionId)) continue;
        // One broken submission must not stop the others.
        try {
          count(await pickUp(d, s, deps));
        } catch (e) {
          count('failed');
          log.error('FIT-Connect pickup failed', { fitConnectSubmission: s.submissionId, error: (e as Error).message });
        }
      }
    }
    report.overdue = await this.alert(d, log);
    return report;
  }

  /** Logs each pickup unaccepted past the threshold once; the platform escalates at 3 days and rejects at 14. */
  private async alert(d: Destination, log: Logger): Promise<number> {
    const hours = d.config.alertAfterHours;
    const overdue = await this.deps.store.fitConnect.unanswered(this.deps.now() - hours * 3_600_000, d.config.name);
    for (const p of overdue) {
      if (this.alerted.has(p.submissionId)) continue;
      this.alerted.add(p.submissionId);
      log.error('FIT-Connect submission not accepted in time', {
        alert: 'fit-connect-unaccepted',
        fitConnectSubmission: p.submissionId,
        caseId: p.caseId,
        state: p.state,
        firstSeenAt: new Date(p.firstSeenAt).toISOString(),
        hours,
        lastError: p.lastError,
      });
    }
    return overdue.length;
  }
}
