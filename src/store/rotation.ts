import { sql, type Kysely } from 'kysely';
import type { Database } from './tables.ts';
import { fields, sealedKid, type Binding, type Sealing } from './sealing.ts';

// Key rotation (`amtsbote keys rotate`, docs/keys.md): re-seals with the current data key whatever another key,
// or none (rows written in clear), sealed. Batch by batch, each batch its own short transaction, so the hub goes
// on beside it; every update names the value it replaces, so a row the hub changed meanwhile is left to it. A
// run that stops is resumed by running again: what is done no longer matches.

/** What one batch (or a whole run, summed) did. */
export interface RotationProgress {
  /** Rows re-sealed, by table. */
  resealed: Record<RotatedTable, number>;
  /** Rows that did not open (a key missing from the keyring, or altered): left as they are, by table. */
  failed: Record<RotatedTable, number>;
}

export type RotatedTable = 'submissions' | 'status_history' | 'delivery_status' | 'submission_status' | 'status_outbox' | 'events';
export const ROTATED_TABLES: readonly RotatedTable[] = [
  'submissions',
  'status_history',
  'delivery_status',
  'submission_status',
  'status_outbox',
  'events',
];

export function emptyProgress(): RotationProgress {
  const zero = () => Object.fromEntries(ROTATED_TABLES.map((t) => [t, 0])) as Record<RotatedTable, number>;
  return { resealed: zero(), failed: zero() };
}

/** Where a table's pass stands: the last key seen. A pass is done when its table says `done`. */
export type RotationCursor = Partial<Record<RotatedTable, string | number | 'done'>>;

export class KeyRotation {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sealing: Sealing,
  ) {}

  /**
   * One batch of at most `limit` rows of the first table whose pass is not done, from `cursor` on; returns
   * what it did and moves the cursor. Call until `done(cursor)`.
   */
  async step(cursor: RotationCursor, limit: number): Promise<RotationProgress> {
    const kid = this.sealing.kid;
    if (kid === null) throw new Error('no data key is configured: nothing to rotate to (docs/keys.md)');
    const progress = emptyProgress();
    const table = ROTATED_TABLES.find((t) => cursor[t] !== 'done');
    if (!table) return progress;
    const after = cursor[table];
    const next =
      table === 'submissions'
        ? await this.submissions(kid, after as string | undefined, limit, progress)
        : table === 'events'
          ? await this.events(kid, after as number | undefined, limit, progress)
          : await this.reasons(table, kid, after, limit, progress);
    cursor[table] = next ?? 'done';
    return progress;
  }

  /** Submissions whose data another key (or none) sealed: content, original and attachments together. */
  private async submissions(kid: string, after: string | undefined, limit: number, p: RotationProgress): Promise<string | undefined> {
    let q = this.db
      .selectFrom('submissions')
      .select('id')
      .where((eb) => eb.or([eb('data_kid', 'is', null), eb('data_kid', '<>', kid)]))
      .orderBy('id')
      .limit(limit);
    if (after !== undefined) q = q.where('id', '>', after);
    const ids = (await q.execute()).map((r) => r.id);
    if (ids.length === 0) return undefined;
    for (const id of ids) {
      const ok = await this.db.transaction().execute(async (trx) => {
        const s = await trx
          .selectFrom('submissions')
          .select(['tenant', 'content', 'original', 'data_kid', 'body_hash'])
          .where('id', '=', id)
          .executeTakeFirst();
        if (!s || s.data_kid === kid) return undefined;
        const b = (field: string): Binding => ({ tenant: s.tenant, submissionId: id, field });
        try {
          const content = this.sealing.text(this.sealing.openRowText(s.content, s.data_kid, b(fields.content)), b(fields.content));
          const original =
            s.original === null
              ? null
              : this.sealing.bytes(this.sealing.openRowBytes(s.original, s.data_kid, b(fields.original)), b(fields.original));
          const attachments = await trx
            .selectFrom('attachments')
            .select(['position', 'filename', 'sha256', 'content'])
            .where('submission_id', '=', id)
            .execute();
          const sealed = attachments.map((a) => {
            const again = (v: string, field: string) => this.sealing.text(this.sealing.openRowText(v, s.data_kid, b(field)), b(field));
            return {
              position: a.position,
              filename: again(a.filename, fields.attachmentName(a.position)),
              sha256: again(a.sha256, fields.attachmentHash(a.position)),
              content: this.sealing.bytes(
                this.sealing.openRowBytes(a.content, s.data_kid, b(fields.attachmentContent(a.position))),
                b(fields.attachmentContent(a.position)),
              ),
            };
          });
          // A hash from before encryption is the bare SHA-256 the intake computes: it can be keyed now.
          const bodyHash = s.body_hash.includes('.') ? s.body_hash : this.sealing.bodyHash(s.body_hash);
          let u = trx.updateTable('submissions').set({ content, original, data_kid: kid, body_hash: bodyHash }).where('id', '=', id);
          u = s.data_kid === null ? u.where('data_kid', 'is', null) : u.where('data_kid', '=', s.data_kid);
          const done = await u.executeTakeFirst();
          if (Number(done.numUpdatedRows) === 0) return undefined;
          for (const a of sealed)
            await trx
              .updateTable('attachments')
              .set({ filename: a.filename, sha256: a.sha256, content: a.content })
              .where('submission_id', '=', id)
              .where('position', '=', a.position)
              .execute();
          return true;
        } catch (e) {
          if ((e as Error).name === 'FieldCryptoError') return false;
          throw e;
        }
      });
      if (ok === true) p.resealed.submissions++;
      if (ok === false) p.failed.submissions++;
    }
    return ids[ids.length - 1];
  }

  /** A status table's reasons not sealed with the current key (plain ones included). */
  private async reasons(
    table: 'status_history' | 'delivery_status' | 'submission_status' | 'status_outbox',
    kid: string,
    after: string | number | undefined,
    limit: number,
    p: RotationProgress,
  ): Promise<string | number | undefined> {
    const prefix = `v1.${kid}.`;
    const pk = table === 'delivery_status' ? 'delivery_id' : table === 'submission_status' ? 'submission_id' : 'id';
    // biome-ignore lint/suspicious/noExplicitAny: one query over four tables that share the columns it names
    const db = this.db as unknown as Kysely<any>;
    let q = db
      .selectFrom(`${table} as r`)
      .innerJoin('submissions as s', 's.id', 'r.submission_id')
      .select([`r.${pk} as pk`, 'r.submission_id', 's.tenant', 'r.reason'])
      .where('r.reason', 'is not', null)
      .where(sql`substr(r.reason, 1, ${prefix.length})`, '<>', prefix)
      .orderBy(`r.${pk}`)
      .limit(limit);
    if (table === 'status_history') q = q.select(['r.delivery_id', 'r.status_key', 'r.at']);
    if (after !== undefined) q = q.where(`r.${pk}`, '>', after);
    const rows = (await q.execute()) as {
      pk: string | number;
      submission_id: string;
      tenant: string;
      reason: string;
      delivery_id?: string;
      status_key?: string;
      at?: number;
    }[];
    if (rows.length === 0) return undefined;
    for (const r of rows) {
      const field =
        table === 'status_history'
          ? fields.historyReason(r.delivery_id!, r.status_key!, Number(r.at))
          : table === 'delivery_status'
            ? fields.deliveryReason(String(r.pk))
            : table === 'submission_status'
              ? fields.submissionReason
              : fields.outboxReason(String(r.pk));
      const b: Binding = { tenant: r.tenant, submissionId: r.submission_id, field };
      let sealed: string;
      try {
        sealed = this.sealing.text(this.sealing.openText(r.reason, b), b);
      } catch (e) {
        if ((e as Error).name !== 'FieldCryptoError') throw e;
        p.failed[table]++;
        continue;
      }
      const done = await db
        .updateTable(table)
        .set({ reason: sealed })
        .where(pk, '=', r.pk)
        .where('reason', '=', r.reason)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) > 0) p.resealed[table]++;
    }
    return rows[rows.length - 1]!.pk;
  }

  /** Status events whose detail carries a reason another key (or none) sealed. */
  private async events(kid: string, after: number | undefined, limit: number, p: RotationProgress): Promise<number | undefined> {
    let q = this.db
      .selectFrom('events')
      .select(['id', 'submission_id', 'delivery_id', 'tenant', 'detail'])
      .where('type', '=', 'status.recorded')
      .where('detail', 'like', '%"reason":%')
      .orderBy('id')
      .limit(limit);
    if (after !== undefined) q = q.where('id', '>', after);
    const rows = await q.execute();
    if (rows.length === 0) return undefined;
    for (const r of rows) {
      const d = JSON.parse(r.detail!) as Record<string, unknown>;
      if (typeof d.reason !== 'string' || typeof d.at !== 'string' || sealedKid(d.reason) === kid) continue;
      const b: Binding = { tenant: r.tenant, submissionId: r.submission_id, field: fields.eventReason(r.delivery_id, d.at) };
      try {
        d.reason = this.sealing.text(this.sealing.openText(d.reason, b), b);
      } catch (e) {
        if ((e as Error).name !== 'FieldCryptoError') throw e;
        p.failed.events++;
        continue;
      }
      const done = await this.db
        .updateTable('events')
        .set({ detail: JSON.stringify(d) })
        .where('id', '=', r.id)
        .where('detail', '=', r.detail)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) > 0) p.resealed.events++;
    }
    return Number(rows[rows.length - 1]!.id);
  }
}
