import type { Kysely, Selectable } from 'kysely';
import type { Database, Db, SubmissionsTable } from './tables.ts';
import type { CreateResult, MessageSource, NewSubmission, SubmissionView } from './types.ts';
import { chunks } from './chunks.ts';
import { fields, type Sealing } from './sealing.ts';

// Submissions in and out: intake's batched write (deduplicated by portal and external id), the data a mapping
// reads, and the operator's view of a submission with its deliveries and attempts.

/**
 * One transaction for a batch of submissions, written as a few multi-row statements. Personal values are sealed
 * before the transaction begins, so the write lock is not held while they are encrypted.
 */
export function writeSubmissions(db: Kysely<Database>, sealing: Sealing, batch: NewSubmission[]): Promise<CreateResult[]> {
  const kid = sealing.kid;
  const rowsOf = new Map(
    batch.map((s) => {
      const b = (field: string) => ({ tenant: s.tenant, submissionId: s.id, field });
      return [
        s.id,
        {
          row: {
            id: s.id,
            portal_id: s.portalId,
            external_id: s.externalId,
            tenant: s.tenant,
            service: s.service,
            submitted_at: s.submittedAt,
            received_at: s.receivedAt,
            body_hash: sealing.bodyHash(s.bodyHash),
            content: sealing.text(s.content, b(fields.content)),
            original: s.original ? sealing.bytes(s.original.bytes, b(fields.original)) : null,
            original_media_type: s.original?.mediaType ?? null,
            data_kid: kid,
          },
          attachments: s.attachments.map((a, position) => ({
            submission_id: s.id,
            position,
            filename: sealing.text(a.filename, b(fields.attachmentName(position))),
            media_type: a.mediaType,
            size: a.size,
            sha256: sealing.text(a.sha256, b(fields.attachmentHash(position))),
            content: sealing.bytes(a.content, b(fields.attachmentContent(position))),
          })),
        },
      ];
    }),
  );
  return db.transaction().execute(async (trx) => {
    const inserted = new Set<string>();
    for (const rows of chunks(batch, 500)) {
      const ids = await trx
        .insertInto('submissions')
        .values(rows.map((s) => rowsOf.get(s.id)!.row))
        .onConflict((oc) => oc.columns(['portal_id', 'external_id']).doNothing())
        .returning('id')
        .execute();
      for (const r of ids) inserted.add(r.id);
    }
    // Not inserted: the (portal, external id) exists, from earlier or from this very batch.
    const repeats = batch.filter((s) => !inserted.has(s.id));
    const firsts = new Map<string, { id: string; body_hash: string }>();
    for (const rows of chunks(repeats, 200)) {
      const found = await trx
        .selectFrom('submissions')
        .select(['id', 'body_hash', 'portal_id', 'external_id'])
        .where((eb) => eb.or(rows.map((s) => eb.and([eb('portal_id', '=', s.portalId), eb('external_id', '=', s.externalId)]))))
        .execute();
      for (const f of found) firsts.set(`${f.portal_id}\u0000${f.external_id}`, f);
    }
    const created = batch.filter((s) => inserted.has(s.id));
    const attachments = created.flatMap((s) => rowsOf.get(s.id)!.attachments);
    for (const rows of chunks(attachments, 100)) await trx.insertInto('attachments').values(rows).execute();
    const deliveries = created.flatMap((s) =>
      s.deliveries.map((d) => ({
        id: d.id,
        submission_id: s.id,
        route_id: d.routeId,
        target_id: d.targetId,
        mapping_id: d.mappingId,
        idempotency_key: d.id,
        state: 'queued' as const,
        attempts: 0,
        next_attempt_at: s.receivedAt,
        created_at: s.receivedAt,
        updated_at: s.receivedAt,
      })),
    );
    for (const rows of chunks(deliveries, 500)) await trx.insertInto('deliveries').values(rows).execute();
    const events = created.flatMap((s) => {
      const base = { at: s.receivedAt, submission_id: s.id, tenant: s.tenant, service: s.service };
      return [
        {
          ...base,
          delivery_id: null,
          target: null,
          type: 'submission.received',
          detail: JSON.stringify({ portal: s.portalId, externalId: s.externalId, attachments: s.attachments.length }),
        },
        ...s.deliveries.map((d) => ({
          ...base,
          delivery_id: d.id,
          target: d.targetId,
          type: 'delivery.queued',
          detail: JSON.stringify({ route: d.routeId, mapping: d.mappingId }),
        })),
      ];
    });
    for (const rows of chunks(events, 500)) await trx.insertInto('events').values(rows).execute();
    return batch.map((s): CreateResult => {
      if (inserted.has(s.id)) return { outcome: 'created', id: s.id };
      const first = firsts.get(`${s.portalId}\u0000${s.externalId}`);
      if (!first) throw new Error(`submission ${s.portalId}/${s.externalId} was neither inserted nor found`);
      return { outcome: 'duplicate', id: first.id, sameBody: sealing.sameBody(first.body_hash, s.bodyHash) };
    });
  });
}

/** The data a mapping reads for one submission; `messageSources` for several. */
export async function messageSource(db: Db, sealing: Sealing, submissionId: string): Promise<MessageSource | undefined> {
  return (await messageSources(db, sealing, [submissionId])).get(submissionId);
}

/** The columns of a submission a mapping reads, as stored (sealed); `openSources` opens them. */
export const SOURCE_COLUMNS = [
  'id',
  'portal_id',
  'external_id',
  'tenant',
  'service',
  'submitted_at',
  'received_at',
  'content',
  'original',
  'original_media_type',
  'data_kid',
  'purged_at',
] as const;

/** A submission's row as SOURCE_COLUMNS reads it; `has_attachments` false spares the read of its attachments. */
export type SourceRow = Selectable<Pick<SubmissionsTable, (typeof SOURCE_COLUMNS)[number]>> & { has_attachments?: boolean | number };

/**
 * The data mappings read, for the submissions of a claimed batch at once: two statements whatever the batch
 * size (one per delivery was a round trip each on PostgreSQL). Submissions not found are missing from the map.
 */
export async function messageSources(db: Db, sealing: Sealing, submissionIds: readonly string[]): Promise<Map<string, MessageSource>> {
  const ids = [...new Set(submissionIds)];
  if (ids.length === 0) return new Map();
  const subs = await db.selectFrom('submissions').select(SOURCE_COLUMNS).where('id', 'in', ids).execute();
  return openSources(db, sealing, subs);
}

/** Submission rows already read (by the claim itself) opened into mapping data, with their attachments. */
export async function openSources(db: Db, sealing: Sealing, subs: readonly SourceRow[]): Promise<Map<string, MessageSource>> {
  const out = new Map<string, MessageSource>();
  const withAttachments = subs.filter((s) => s.has_attachments === undefined || Boolean(s.has_attachments)).map((s) => s.id);
  const attachments = withAttachments.length
    ? await db
        .selectFrom('attachments')
        .select(['submission_id', 'position', 'filename', 'media_type', 'size', 'sha256', 'content'])
        .where('submission_id', 'in', withAttachments)
        .orderBy('submission_id')
        .orderBy('position')
        .execute()
    : [];
  const attachmentsOf = new Map<string, typeof attachments>();
  for (const a of attachments) {
    const list = attachmentsOf.get(a.submission_id);
    if (list) list.push(a);
    else attachmentsOf.set(a.submission_id, [a]);
  }
  for (const s of subs) {
    const b = (field: string) => ({ tenant: s.tenant, submissionId: s.id, field });
    const kid = s.data_kid;
    out.set(s.id, {
      portalId: s.portal_id,
      externalId: s.external_id,
      tenant: s.tenant,
      service: s.service,
      submittedAt: s.submitted_at,
      receivedAt: s.received_at,
      purgedAt: s.purged_at,
      // Retention leaves `{}` in clear (data_kid null) where the form data was.
      content: sealing.openRowText(s.content, kid, b(fields.content)),
      ...(s.original && s.original_media_type !== null
        ? { original: { bytes: sealing.openRowBytes(s.original, kid, b(fields.original)), mediaType: s.original_media_type } }
        : {}),
      attachments: (attachmentsOf.get(s.id) ?? []).map((a) => ({
        filename: sealing.openRowText(a.filename, kid, b(fields.attachmentName(a.position))),
        mediaType: a.media_type,
        size: a.size,
        sha256: sealing.openRowText(a.sha256, kid, b(fields.attachmentHash(a.position))),
        content: sealing.openRowBytes(a.content, kid, b(fields.attachmentContent(a.position))),
      })),
    });
  }
  return out;
}

/** A submission with its deliveries and their attempts; no form data. */
export async function getSubmission(db: Db, id: string): Promise<SubmissionView | undefined> {
  const s = await db
    .selectFrom('submissions')
    .select(['id', 'portal_id', 'external_id', 'tenant', 'service', 'submitted_at', 'received_at', 'purged_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!s) return undefined;
  const deliveries = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('submission_id', '=', id)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const attempts = deliveries.length
    ? await db
        .selectFrom('attempts')
        .selectAll()
        .where(
          'delivery_id',
          'in',
          deliveries.map((d) => d.id),
        )
        .orderBy('number')
        .execute()
    : [];
  return {
    id: s.id,
    portalId: s.portal_id,
    externalId: s.external_id,
    tenant: s.tenant,
    service: s.service,
    submittedAt: s.submitted_at,
    receivedAt: s.received_at,
    purgedAt: s.purged_at,
    deliveries: deliveries.map((d) => ({
      id: d.id,
      routeId: d.route_id,
      targetId: d.target_id,
      mappingId: d.mapping_id,
      idempotencyKey: d.idempotency_key,
      state: d.state,
      attempts: d.attempts,
      nextAttemptAt: d.next_attempt_at,
      reference: d.reference,
      lastError: d.last_error,
      lastErrorKind: d.last_error_kind,
      createdAt: d.created_at,
      updatedAt: d.updated_at,
      deliveredAt: d.delivered_at,
      attemptLog: attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => ({
          number: a.number,
          startedAt: a.started_at,
          finishedAt: a.finished_at,
          durationMs: a.duration_ms,
          outcome: a.outcome,
          error: a.error,
          errorKind: a.error_kind,
          httpStatus: a.http_status,
          reference: a.reference,
        })),
    })),
  };
}
