import { sql, type QueryCreator, type Transaction } from 'kysely';
import type { Database } from './tables.ts';
import { insertEvent } from './events.ts';
import type { StatusEffect } from './status-tables.ts';
import { StatusOutboxStore } from './status-outbox-store.ts';
import { fields } from './sealing.ts';
import type { PortalStatus, StatusSource } from '../core/status/types.ts';
import { combineStatuses } from '../core/status/combine.ts';
import type { JsonColumn } from './dialect.ts';
import { statusKey } from '../core/status/mapping.ts';

export * from './status-types.ts';
import type { FoundCase, StatusNews, StatusRecordResult, StatusRules, SubmissionStatusView } from './status-types.ts';

/** Records status news of cases in the delivery's transaction or its own, and reads a submission's status. */
export class StatusStore extends StatusOutboxStore {
  /** Records each piece of news in one transaction: all or nothing. Results in the order given. */
  recordAll(news: readonly StatusNews[], rules: StatusRules): Promise<StatusRecordResult[]> {
    return this.db.transaction().execute((trx) => this.recordWithin(trx, news, rules));
  }

  /** The same inside the caller's transaction (the worker's: a case is RECEIVED in the commit that delivered it). */
  async recordWithin(trx: Transaction<Database>, news: readonly StatusNews[], rules: StatusRules): Promise<StatusRecordResult[]> {
    if (this.dialect.rowLocks && news.length > 1) await this.lockCases(trx, news);
    const out: StatusRecordResult[] = [];
    for (const n of news) out.push(await this.recordOne(trx, n, rules));
    return out;
  }

  /**
   * Delivered cases become RECEIVED, unless they already have a status: what `recordWithin` does for news without
   * a word, written set-wise (a few statements for the whole batch), because it runs in every delivery's commit.
   */
  async recordReceived(
    trx: Transaction<Database>,
    delivered: readonly { deliveryId: string; at: number; source: StatusSource }[],
    rules: StatusRules,
  ): Promise<StatusRecordResult[]> {
    if (delivered.length === 0) return [];
    const { cases, inserted } = this.dialect.writesInOneStatement
      ? await this.receivedInOneStatement(trx, delivered, rules.now)
      : await this.receivedStepByStep(trx, delivered, rules.now);
    const byId = new Map(cases.map((c) => [c.id, c]));
    const applied = delivered.filter((d) => inserted.has(d.deliveryId));
    const changed = new Map<string, { sequence: number; forwarded: boolean }>();
    if (applied.length)
      for (const [id, change] of await this.recombineMany(
        trx,
        applied.map((d) => byId.get(d.deliveryId)!),
        rules,
      ))
        changed.set(id, change);
    return delivered.map((d): StatusRecordResult => {
      const c = byId.get(d.deliveryId);
      if (!c) return { recorded: false, outcome: 'unknown-case' };
      const base = caseOf(c);
      if (!inserted.has(d.deliveryId))
        return {
          ...base,
          recorded: false,
          outcome: c.portal_status === null ? 'duplicate' : 'unchanged',
          ...(c.portal_status ? { portalStatus: c.portal_status as PortalStatus } : {}),
        };
      const change = changed.get(c.submission_id);
      return {
        ...base,
        recorded: true,
        outcome: 'applied',
        portalStatus: 'RECEIVED',
        ...(change ? { forwarded: change.forwarded, sequence: change.sequence } : {}),
      };
    });
  }

  /** RECEIVED's rows, statement by statement (SQLite): the cases, their history lines, current statuses and sync-log lines. */
  private async receivedStepByStep(
    trx: Transaction<Database>,
    delivered: readonly { deliveryId: string; at: number; source: StatusSource }[],
    now: number,
  ): Promise<{ cases: ReceivedCase[]; inserted: Set<string> }> {
    const cases = await trx
      .selectFrom('deliveries as d')
      .innerJoin('submissions as s', 's.id', 'd.submission_id')
      .leftJoin('delivery_status as ds', 'ds.delivery_id', 'd.id')
      .select([
        'd.id',
        'd.submission_id',
        'd.target_id',
        'd.backoffice_status',
        'd.backoffice_status_at',
        's.portal_id',
        's.tenant',
        's.service',
        'ds.portal_status',
      ])
      .where(
        'd.id',
        'in',
        delivered.map((d) => d.deliveryId),
      )
      .execute();
    const byId = new Map(cases.map((c) => [c.id, c]));
    const fresh = delivered.filter((d) => byId.get(d.deliveryId) && byId.get(d.deliveryId)!.portal_status === null);
    const inserted = new Set<string>();
    if (fresh.length) {
      const rows = await trx
        .insertInto('status_history')
        .values(
          fresh.map((d) => ({
            submission_id: byId.get(d.deliveryId)!.submission_id,
            delivery_id: d.deliveryId,
            target_id: byId.get(d.deliveryId)!.target_id,
            source: d.source,
            backoffice_status: null,
            status_key: '',
            portal_status: 'RECEIVED',
            reason: null,
            at: d.at,
            recorded_at: now,
            effect: 'applied' as const,
          })),
        )
        .onConflict((oc) => oc.columns(['delivery_id', 'status_key', 'at']).doNothing())
        .returning('delivery_id')
        .execute();
      for (const r of rows) inserted.add(r.delivery_id);
    }
    const applied = fresh.filter((d) => inserted.has(d.deliveryId));
    if (applied.length) {
      await trx
        .insertInto('delivery_status')
        .values(
          applied.map((d) => ({
            delivery_id: d.deliveryId,
            submission_id: byId.get(d.deliveryId)!.submission_id,
            portal_status: 'RECEIVED',
            reason: null,
            at: d.at,
            updated_at: now,
          })),
        )
        .onConflict((oc) => oc.column('delivery_id').doNothing())
        .execute();
      const event = (d: (typeof applied)[number]) => {
        const c = byId.get(d.deliveryId)!;
        return {
          at: now,
          submission_id: c.submission_id,
          delivery_id: c.id,
          tenant: c.tenant,
          service: c.service,
          target: c.target_id,
          type: 'status.recorded',
          detail: JSON.stringify({ source: d.source, portalStatus: 'RECEIVED', at: new Date(d.at).toISOString(), effect: 'applied' }),
        };
      };
      await trx.insertInto('events').values(applied.map(event)).execute();
    }
    return { cases, inserted };
  }

  /**
   * The same in one statement (PostgreSQL's data-modifying WITH), one round trip instead of four: find the cases,
   * write RECEIVED's history line where a case has no status yet, its current status and its sync-log line.
   */
  private async receivedInOneStatement(
    trx: Transaction<Database>,
    delivered: readonly { deliveryId: string; at: number; source: StatusSource }[],
    now: number,
  ): Promise<{ cases: ReceivedCase[]; inserted: Set<string> }> {
    const rows = delivered.map((d, ord) => ({
      id: d.deliveryId,
      at: d.at,
      source: d.source,
      ord,
      detail: JSON.stringify({ source: d.source, portalStatus: 'RECEIVED', at: new Date(d.at).toISOString(), effect: 'applied' }),
    }));
    const { rows: found } = await sql<ReceivedCase & { inserted: boolean }>`
      with v as ${this.dialect.jsonRows(rows, RECEIVED_COLUMNS)},
      cases as (
        select d.id, d.submission_id, d.target_id, d.backoffice_status, d.backoffice_status_at, s.portal_id, s.tenant,
          s.service, ds.portal_status, v.at, v.source, v.ord, v.detail
        from v join deliveries d on d.id = v.id join submissions s on s.id = d.submission_id
        left join delivery_status ds on ds.delivery_id = d.id
      ), history as (
        insert into status_history (submission_id, delivery_id, target_id, source, backoffice_status, status_key,
          portal_status, reason, at, recorded_at, effect)
        select submission_id, id, target_id, source, null, '', 'RECEIVED', null, at, ${now}, 'applied'
        from cases where portal_status is null order by ord
        on conflict (delivery_id, status_key, at) do nothing
        returning delivery_id
      ), current as (
        insert into delivery_status (delivery_id, submission_id, portal_status, reason, at, updated_at)
        select c.id, c.submission_id, 'RECEIVED', null, c.at, ${now} from cases c join history h on h.delivery_id = c.id
        on conflict (delivery_id) do nothing
      ), logged as (
        insert into events (at, submission_id, delivery_id, tenant, service, target, type, detail)
        select ${now}, c.submission_id, c.id, c.tenant, c.service, c.target_id, 'status.recorded', c.detail
        from cases c join history h on h.delivery_id = c.id order by c.ord
      )
      select c.id, c.submission_id, c.target_id, c.backoffice_status, c.backoffice_status_at, c.portal_id, c.tenant,
        c.service, c.portal_status, h.delivery_id is not null as inserted
      from cases c left join history h on h.delivery_id = c.id`.execute(trx);
    return {
      cases: found.map(({ inserted: _, ...c }) => c),
      inserted: new Set(found.filter((c) => c.inserted).map((c) => c.id)),
    };
  }

  private async recordOne(trx: Transaction<Database>, n: StatusNews, rules: StatusRules): Promise<StatusRecordResult> {
    const c = await this.findCase(trx, n);
    if (!c) return { recorded: false, outcome: 'unknown-case' };
    const base = caseOf(c);
    const bind = (field: string) => ({ tenant: c.tenant, submissionId: c.submission_id, field });
    const currentRow = await trx
      .selectFrom('delivery_status')
      .select(['portal_status', 'reason'])
      .where('delivery_id', '=', c.id)
      .executeTakeFirst();
    const current = currentRow && {
      portal_status: currentRow.portal_status,
      reason: this.sealing.openTextOrNull(currentRow.reason, bind(fields.deliveryReason(c.id))),
    };
    const key = n.word === null ? '' : statusKey(n.word);
    const portal = n.word === null ? 'RECEIVED' : rules.map(c.target_id, n.word);
    // The hub's own delivery only sets the floor: a case the back office already reported on keeps its status.
    if (n.word === null && current)
      return { ...base, recorded: false, outcome: 'unchanged', portalStatus: current.portal_status as PortalStatus };
    const seen = await trx
      .selectFrom('status_history')
      .select('id')
      .where('delivery_id', '=', c.id)
      .where('status_key', '=', key)
      .where('at', '=', n.at)
      .executeTakeFirst();
    if (seen) return { ...base, recorded: false, outcome: 'duplicate' };
    const older = n.word !== null && c.backoffice_status_at !== null && n.at < c.backoffice_status_at;
    const sameWord = n.word !== null && c.backoffice_status !== null && statusKey(c.backoffice_status) === key;
    if (!older && sameWord && (portal === null || (current?.portal_status === portal && (current.reason ?? null) === n.reason))) {
      // Still the word it was, but said later: news from between the two times that arrives now is older news.
      if (n.at > (c.backoffice_status_at ?? -Infinity))
        await trx.updateTable('deliveries').set({ backoffice_status_at: n.at }).where('id', '=', c.id).execute();
      return { ...base, recorded: false, outcome: 'unchanged', ...(portal ? { portalStatus: portal } : {}) };
    }
    const effect: StatusEffect = older ? 'older' : portal === null ? 'unmapped' : 'applied';
    const inserted = await trx
      .insertInto('status_history')
      .values({
        submission_id: c.submission_id,
        delivery_id: c.id,
        target_id: c.target_id,
        source: n.source,
        backoffice_status: n.word,
        status_key: key,
        portal_status: portal,
        reason: this.sealing.textOrNull(n.reason, bind(fields.historyReason(c.id, key, n.at))),
        at: n.at,
        recorded_at: rules.now,
        effect,
      })
      .onConflict((oc) => oc.columns(['delivery_id', 'status_key', 'at']).doNothing())
      .returning('id')
      .execute();
    if (inserted.length === 0) return { ...base, recorded: false, outcome: 'duplicate' };
    if (!older && n.word !== null) {
      await trx.updateTable('deliveries').set({ backoffice_status: n.word, backoffice_status_at: n.at }).where('id', '=', c.id).execute();
    }
    if (effect === 'applied') {
      const reason = this.sealing.textOrNull(n.reason, bind(fields.deliveryReason(c.id)));
      await trx
        .insertInto('delivery_status')
        .values({
          delivery_id: c.id,
          submission_id: c.submission_id,
          portal_status: portal!,
          reason,
          at: n.at,
          updated_at: rules.now,
        })
        .onConflict((oc) => oc.column('delivery_id').doUpdateSet({ portal_status: portal!, reason, at: n.at, updated_at: rules.now }))
        .execute();
    }
    const at = new Date(n.at).toISOString();
    await insertEvent(trx, c, rules.now, 'status.recorded', {
      source: n.source,
      ...(n.word !== null ? { backofficeStatus: n.word } : {}),
      portalStatus: portal,
      at,
      effect,
      ...(n.reason ? { reason: this.sealing.text(n.reason, bind(fields.eventReason(c.id, at))) } : {}),
    });
    const result: StatusRecordResult = { ...base, recorded: true, outcome: effect, ...(portal ? { portalStatus: portal } : {}) };
    if (effect !== 'applied') return result;
    const change = await this.recombine(trx, c, rules);
    return change ? { ...result, forwarded: change.forwarded, sequence: change.sequence } : result;
  }

  /**
   * Locks every case a batch is about, in one order (by delivery id), before any is changed. Taken one by one in
   * the batch's order, two batches naming the same cases in opposite orders would each hold one and wait for the
   * other, and PostgreSQL would abort one of them.
   */
  private async lockCases(trx: Transaction<Database>, news: readonly StatusNews[]): Promise<void> {
    const ids = new Set<string>();
    for (const n of news) {
      const c = await this.findCase(trx, n, false);
      if (c) ids.add(c.id);
    }
    if (ids.size < 2) return;
    // Only the locks are taken here: recordOne reads each case again under its lock, since what was read above,
    // before any lock, may have changed meanwhile.
    await trx
      .selectFrom('deliveries as d')
      .innerJoin('submissions as s', 's.id', 'd.submission_id')
      .select('d.id')
      .where('d.id', 'in', [...ids])
      .orderBy('d.id')
      .forUpdate()
      .execute();
  }

  /** By delivery id, else by reference, else by idempotency key, among the given targets; the newest match wins. */
  private async findCase(trx: Transaction<Database>, n: StatusNews, lock = true): Promise<FoundCase | undefined> {
    let q = trx
      .selectFrom('deliveries as d')
      .innerJoin('submissions as s', 's.id', 'd.submission_id')
      .select([
        'd.id',
        'd.submission_id',
        'd.target_id',
        'd.backoffice_status',
        'd.backoffice_status_at',
        's.portal_id',
        's.tenant',
        's.service',
      ]);
    if (n.targetIds.length) q = q.where('d.target_id', 'in', n.targetIds);
    if (n.deliveryId !== undefined) q = q.where('d.id', '=', n.deliveryId);
    else if (n.reference !== undefined) q = q.where('d.reference', '=', n.reference);
    else if (n.idempotencyKey !== undefined) q = q.where('d.idempotency_key', '=', n.idempotencyKey);
    else return undefined;
    q = q.orderBy('d.created_at', 'desc').limit(1);
    // Changes to one submission take turns: its status and sequence are read and written below.
    if (lock) q = this.dialect.lockRows(q);
    return q.executeTakeFirst();
  }

  /** Combines the submission's delivery statuses; on a change, bumps the sequence and queues the portal's update. */
  private async recombine(
    trx: Transaction<Database>,
    c: FoundCase,
    rules: StatusRules,
  ): Promise<{ sequence: number; forwarded: boolean } | undefined> {
    return (await this.recombineMany(trx, [c], rules)).get(c.submission_id);
  }

  /** `recombine` for several submissions at once, in a handful of statements (one case of each is enough). */
  private async recombineMany(
    trx: Transaction<Database>,
    cases: readonly FoundCase[],
    rules: StatusRules,
  ): Promise<Map<string, { sequence: number; forwarded: boolean }>> {
    const out = new Map<string, { sequence: number; forwarded: boolean }>();
    const bySubmission = new Map(cases.map((c) => [c.submission_id, c]));
    if (bySubmission.size === 0) return out;
    // In one order, so concurrent batches upsert their submissions' statuses without waiting on each other in a cycle.
    const ids = [...bySubmission.keys()].sort();
    const bind = (submissionId: string, field: string) => ({ tenant: bySubmission.get(submissionId)!.tenant, submissionId, field });
    // Each delivery's status and, beside it, its submission's status so far: one read for both.
    const read = await trx
      .selectFrom('deliveries as d')
      .leftJoin('delivery_status as ds', 'ds.delivery_id', 'd.id')
      .leftJoin('submission_status as ss', 'ss.submission_id', 'd.submission_id')
      .select([
        'd.id',
        'd.submission_id',
        'ds.portal_status',
        'ds.reason',
        'ds.at',
        'ss.status as before_status',
        'ss.reason as before_reason',
        'ss.sequence as before_sequence',
      ])
      .where('d.submission_id', 'in', ids)
      .execute();
    const rows = read.map((r) => ({
      ...r,
      reason: this.sealing.openTextOrNull(r.reason, bind(r.submission_id, fields.deliveryReason(r.id))),
    }));
    const befores = new Map<string, { status: string; reason: string | null; sequence: number }>();
    for (const r of read)
      if (r.before_status !== null && r.before_sequence !== null && !befores.has(r.submission_id))
        befores.set(r.submission_id, {
          status: r.before_status,
          reason: this.sealing.openTextOrNull(r.before_reason, bind(r.submission_id, fields.submissionReason)),
          sequence: r.before_sequence,
        });
    const updates: {
      submission_id: string;
      status: PortalStatus;
      reason: string | null;
      at: number;
      sequence: number;
      updated_at: number;
    }[] = [];
    for (const id of ids) {
      const mine = rows.filter((r) => r.submission_id === id);
      const combined = combineStatuses(
        mine.map((r) => (r.portal_status === null ? null : { status: r.portal_status as PortalStatus, reason: r.reason, at: r.at! })),
      );
      if (!combined) continue;
      const before = befores.get(id);
      if (before && before.status === combined.status && before.reason === combined.reason) continue;
      updates.push({
        submission_id: id,
        status: combined.status,
        reason: combined.reason,
        at: combined.at,
        sequence: (before?.sequence ?? 0) + 1,
        updated_at: rules.now,
      });
    }
    if (updates.length === 0) return out;
    const upsert = (qc: QueryCreator<Database>) =>
      qc
        .insertInto('submission_status')
        .values(updates.map((u) => ({ ...u, reason: this.sealing.textOrNull(u.reason, bind(u.submission_id, fields.submissionReason)) })))
        .onConflict((oc) =>
          oc.column('submission_id').doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            reason: eb.ref('excluded.reason'),
            at: eb.ref('excluded.at'),
            sequence: eb.ref('excluded.sequence'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        );
    const forwarded = updates.filter((u) => rules.forwards(bySubmission.get(u.submission_id)!.portal_id));
    const outbox = (qc: QueryCreator<Database>) =>
      qc.insertInto('status_outbox').values(
        forwarded.map((u) => {
          const id = rules.newId();
          return {
            id,
            submission_id: u.submission_id,
            portal_id: bySubmission.get(u.submission_id)!.portal_id,
            sequence: u.sequence,
            status: u.status,
            reason: this.sealing.textOrNull(u.reason, bind(u.submission_id, fields.outboxReason(id))),
            at: u.at,
            state: 'pending' as const,
            attempts: 0,
            next_attempt_at: rules.now,
            created_at: rules.now,
            updated_at: rules.now,
          };
        }),
      );
    const events = (qc: QueryCreator<Database>) =>
      qc.insertInto('events').values(
        updates.map((u) => {
          const c = bySubmission.get(u.submission_id)!;
          const before = befores.get(u.submission_id);
          const queued = rules.forwards(c.portal_id);
          out.set(u.submission_id, { sequence: u.sequence, forwarded: queued });
          return {
            at: rules.now,
            submission_id: u.submission_id,
            delivery_id: null,
            tenant: c.tenant,
            service: c.service,
            target: c.target_id,
            type: 'status.changed',
            detail: JSON.stringify({ status: u.status, ...(before ? { previous: before.status } : {}), sequence: u.sequence, queued }),
          };
        }),
      );
    if (this.dialect.writesInOneStatement) {
      // One round trip for the three writes (data-modifying WITH).
      // The CTEs' names widen the creator's type, which the three builders need not know about.
      const widened = (qc: unknown) => qc as QueryCreator<Database>;
      const withStatus = widened(trx.with('status_now', upsert));
      await events(forwarded.length ? widened(withStatus.with('queued_updates', outbox)) : withStatus).execute();
    } else {
      await upsert(trx).execute();
      if (forwarded.length) await outbox(trx).execute();
      await events(trx).execute();
    }
    return out;
  }

  /** The submission's current portal status and its history, oldest news first. */
  async view(submissionId: string): Promise<SubmissionStatusView> {
    const tenant = await this.tenantOf(submissionId);
    const open = (reason: string | null, field: string) => this.sealing.openTextOrNull(reason, { tenant, submissionId, field });
    const current = await this.db.selectFrom('submission_status').selectAll().where('submission_id', '=', submissionId).executeTakeFirst();
    const history = await this.db
      .selectFrom('status_history')
      .selectAll()
      .where('submission_id', '=', submissionId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return {
      current: current
        ? {
            status: current.status as PortalStatus,
            reason: open(current.reason, fields.submissionReason),
            at: current.at,
            sequence: current.sequence,
          }
        : null,
      history: history.map((h) => ({
        at: h.at,
        recordedAt: h.recorded_at,
        source: h.source,
        targetId: h.target_id,
        deliveryId: h.delivery_id,
        backofficeStatus: h.backoffice_status,
        portalStatus: h.portal_status as PortalStatus | null,
        reason: open(h.reason, fields.historyReason(h.delivery_id, h.status_key, h.at)),
        effect: h.effect,
      })),
    };
  }

  /** A portal's outbox rows for one submission, in order, reasons opened (tests, operators). */
  async outbox(submissionId: string) {
    const tenant = await this.tenantOf(submissionId);
    const rows = await this.db
      .selectFrom('status_outbox')
      .selectAll()
      .where('submission_id', '=', submissionId)
      .orderBy('sequence')
      .execute();
    return rows.map((r) => ({
      ...r,
      reason: this.sealing.openTextOrNull(r.reason, { tenant, submissionId, field: fields.outboxReason(r.id) }),
    }));
  }

  /** The tenant a submission's sealed values are bound to ('' for an unknown one: it has no rows to open). */
  private async tenantOf(submissionId: string): Promise<string> {
    const s = await this.db.selectFrom('submissions').select('tenant').where('id', '=', submissionId).executeTakeFirst();
    return s?.tenant ?? '';
  }
}

/** A delivered case as RECEIVED finds it: where it is filed, and its portal status so far. */
type ReceivedCase = FoundCase & { portal_status: string | null };

const RECEIVED_COLUMNS: readonly JsonColumn[] = [
  ['id', 'text'],
  ['at', 'bigint'],
  ['source', 'text'],
  ['ord', 'integer'],
  ['detail', 'text'],
];

/** Where a found case is filed, as every StatusRecordResult about it says. */
function caseOf(c: FoundCase) {
  return {
    submissionId: c.submission_id,
    deliveryId: c.id,
    targetId: c.target_id,
    portalId: c.portal_id,
    tenant: c.tenant,
    service: c.service,
  };
}
