/**
 * The console JSON API's answers: zod schemas (the OpenAPI description is generated from them) and the functions
 * turning the store's shapes into them — times as ISO 8601. `amtsbote submissions … --json` prints the same.
 */
import { z } from 'zod';
import { DELIVERY_STATES } from '../core/states.ts';
import type { GroupCount, Overview, SearchPage, Timeline } from '../store/index.ts';
import { encodeCursor } from './search-query.ts';

const iso = (t: number) => new Date(t).toISOString();
const isoOrNull = (t: number | null) => (t === null ? null : iso(t));
const time = z.iso.datetime();
const timeOrNull = time.nullable();

export const searchAnswer = z.strictObject({
  submissions: z.array(
    z.strictObject({
      id: z.guid(),
      portalId: z.string(),
      externalId: z.string(),
      tenant: z.string(),
      service: z.string(),
      receivedAt: time,
      deliveries: z.array(
        z.strictObject({
          id: z.guid(),
          target: z.string(),
          state: z.enum(DELIVERY_STATES),
          attempts: z.int().min(0),
          reference: z.string().nullable(),
          errorKind: z.string().nullable(),
        }),
      ),
    }),
  ),
  next: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }),
});

export const countsAnswer = z.strictObject({
  groups: z.array(z.strictObject({ target: z.string(), errorKind: z.string().nullable(), count: z.int().min(1) })),
});

export const overviewAnswer = z.strictObject({
  dayStart: time.meta({ description: 'Where "today" begins (local midnight, Europe/Berlin).' }),
  rows: z.array(
    z.strictObject({
      tenant: z.string(),
      target: z.string(),
      receivedToday: z.int().min(0),
      deliveredToday: z.int().min(0),
      waiting: z.int().min(0).meta({ description: 'Open deliveries: queued, waiting for a retry, sending, acknowledging.' }),
      failed: z.int().min(0),
      oldestWaitingAt: timeOrNull,
    }),
  ),
  breakers: z.array(
    z.strictObject({
      target: z.string(),
      state: z.enum(['closed', 'open', 'half-open']),
      consecutiveFailures: z.int().min(0),
      openedAt: timeOrNull,
      retryAt: timeOrNull,
      lastError: z.string().nullable(),
    }),
  ),
  lastReconciliation: z
    .strictObject({
      id: z.guid(),
      startedAt: time,
      finishedAt: timeOrNull,
      state: z.string(),
      findings: z.array(z.strictObject({ target: z.string().nullable(), class: z.string(), count: z.int().min(1) })),
    })
    .nullable(),
});

export const timelineAnswer = z.strictObject({
  submission: z.strictObject({
    id: z.guid(),
    portalId: z.string(),
    externalId: z.string(),
    tenant: z.string(),
    service: z.string(),
    submittedAt: z.string(),
    receivedAt: time,
    deliveries: z.array(
      z.strictObject({
        id: z.guid(),
        target: z.string(),
        state: z.enum(DELIVERY_STATES),
        attempts: z.int().min(0),
        reference: z.string().nullable(),
        lastError: z.string().nullable(),
        lastErrorKind: z.string().nullable(),
        deliveredAt: timeOrNull,
      }),
    ),
  }),
  portalStatus: z.strictObject({ status: z.string(), reason: z.string().nullable(), at: time }).nullable(),
  entries: z.array(
    z
      .looseObject({ at: time, kind: z.enum(['received', 'event', 'attempt', 'status', 'portal']) })
      .meta({ description: 'One step; the other fields depend on `kind` (docs/console.md).' }),
  ),
  otherMatches: z.array(z.guid()).meta({ description: 'Other submissions with this external id (from other portals).' }),
});

export const formDataAnswer = z.strictObject({
  submissionId: z.guid(),
  content: z.unknown().meta({ description: 'Applicant and data as the portal sent them.' }),
});

export function searchJson(p: SearchPage): z.output<typeof searchAnswer> {
  return {
    submissions: p.rows.map((r) => ({ ...r, receivedAt: iso(r.receivedAt) })),
    next: p.next ? encodeCursor(p.next) : null,
  };
}

export function countsJson(groups: GroupCount[]): z.output<typeof countsAnswer> {
  return { groups };
}

export function overviewJson(o: Overview): z.output<typeof overviewAnswer> {
  const r = o.lastReconciliation;
  return {
    dayStart: iso(o.dayStart),
    rows: o.rows.map((x) => ({ ...x, oldestWaitingAt: isoOrNull(x.oldestWaitingAt) })),
    breakers: o.breakers.map((b) => ({
      target: b.target,
      state: b.breaker.state,
      consecutiveFailures: b.breaker.consecutiveFailures,
      openedAt: isoOrNull(b.breaker.openedAt),
      retryAt: isoOrNull(b.breaker.retryAt),
      lastError: b.breaker.lastError,
    })),
    lastReconciliation: r ? { ...r, startedAt: iso(r.startedAt), finishedAt: isoOrNull(r.finishedAt) } : null,
  };
}

export function timelineJson(t: Timeline, otherMatches: string[]): z.output<typeof timelineAnswer> {
  const s = t.submission;
  return {
    submission: {
      id: s.id,
      portalId: s.portalId,
      externalId: s.externalId,
      tenant: s.tenant,
      service: s.service,
      submittedAt: s.submittedAt,
      receivedAt: iso(s.receivedAt),
      deliveries: s.deliveries.map((d) => ({
        id: d.id,
        target: d.targetId,
        state: d.state,
        attempts: d.attempts,
        reference: d.reference,
        lastError: d.lastError,
        lastErrorKind: d.lastErrorKind,
        deliveredAt: isoOrNull(d.deliveredAt),
      })),
    },
    portalStatus: t.portalStatus ? { ...t.portalStatus, at: iso(t.portalStatus.at) } : null,
    entries: t.entries.map((e) => ({
      ...e,
      at: iso(e.at),
      ...('deliveredAt' in e ? { deliveredAt: isoOrNull(e.deliveredAt) } : {}),
    })),
    otherMatches,
  };
}
