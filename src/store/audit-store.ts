import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { lockKey, type Dialect } from './dialect.ts';
import type { Database } from './tables.ts';
import type { AuditTrailTable } from './access-tables.ts';

/** What the trail is asked to append (the port's AuditEntry, in store terms). */
export interface AuditInput {
  actor: string;
  action: string;
  tenant?: string | undefined;
  subject?: string | undefined;
  detail?: Readonly<Record<string, string | number | boolean | null>> | undefined;
}

/** One stored record, as exported. */
export interface AuditRecord {
  seq: number;
  at: number;
  actor: string;
  action: string;
  tenant: string | null;
  subject: string | null;
  detail: Record<string, string | number | boolean | null> | null;
  prevHash: string;
  hash: string;
}

export type AuditVerdict =
  | { ok: true; records: number; head: string }
  | { ok: false; records: number; seq: number; reason: 'hash-mismatch' | 'previous-hash-mismatch' | 'gap' };

export interface AuditFilter {
  /** Only these tenants' records (a scoped export); undefined: all, including those without a tenant. */
  tenants?: readonly string[] | undefined;
  /** At or after (epoch ms). */
  since?: number | undefined;
  /** Before (epoch ms). */
  until?: number | undefined;
}

/** The hash the first record chains to. */
export const GENESIS_HASH = '0'.repeat(64);

const PAGE = 1000;

/**
 * The audit trail's SQL. Appends take turns across every instance (a transaction-scoped advisory lock on
 * PostgreSQL; SQLite's transactions take the write lock first anyway), read the last record's hash and number,
 * and insert the next one: the chain never forks, and `seq` stays contiguous, so a removed record is a gap.
 * Nothing here updates or deletes (the tables refuse it by trigger as well).
 */
export class AuditStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
  ) {}

  async append(e: AuditInput, at: number): Promise<AuditRecord> {
    return this.db.transaction().execute(async (trx) => {
      await this.dialect.onPostgres(() => sql`select pg_advisory_xact_lock(${lockKey('audit_trail')}::bigint)`.execute(trx));
      const last = await trx.selectFrom('audit_trail').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const seq = Number(last?.seq ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS_HASH;
      const body = {
        seq,
        at,
        actor: e.actor,
        action: e.action,
        tenant: e.tenant ?? null,
        subject: e.subject ?? null,
        detail: e.detail ? { ...e.detail } : null,
      };
      const hash = chainHash(prevHash, body);
      await trx
        .insertInto('audit_trail')
        .values({ ...body, detail: body.detail ? canonicalJson(body.detail) : null, prev_hash: prevHash, hash })
        .execute();
      return { ...body, prevHash, hash };
    });
  }

  /** Walks the whole chain in order; the first record whose link does not hold, if any. */
  async verify(): Promise<AuditVerdict> {
    let prev = GENESIS_HASH;
    let expected = 1;
    let records = 0;
    for (;;) {
      const rows = await this.db.selectFrom('audit_trail').selectAll().where('seq', '>=', expected).orderBy('seq').limit(PAGE).execute();
      for (const row of rows) {
        const r = toRecord(row);
        if (r.seq !== expected) return { ok: false, records, seq: expected, reason: 'gap' };
        if (r.prevHash !== prev) return { ok: false, records, seq: r.seq, reason: 'previous-hash-mismatch' };
        if (chainHash(r.prevHash, bodyOf(r)) !== r.hash) return { ok: false, records, seq: r.seq, reason: 'hash-mismatch' };
        prev = r.hash;
        expected++;
        records++;
      }
      if (rows.length < PAGE) return { ok: true, records, head: prev };
    }
  }

  /** The records matching the filter, oldest first, page by page. */
  async *records(f: AuditFilter = {}): AsyncGenerator<AuditRecord> {
    if (f.tenants && f.tenants.length === 0) return;
    let after = 0;
    for (;;) {
      let q = this.db.selectFrom('audit_trail').selectAll().where('seq', '>', after);
      if (f.tenants) q = q.where('tenant', 'in', [...f.tenants]);
      if (f.since !== undefined) q = q.where('at', '>=', f.since);
      if (f.until !== undefined) q = q.where('at', '<', f.until);
      const rows = await q.orderBy('seq').limit(PAGE).execute();
      for (const row of rows) yield toRecord(row);
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }
}

function toRecord(row: AuditTrailTable): AuditRecord {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    actor: row.actor,
    action: row.action,
    tenant: row.tenant,
    subject: row.subject,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as AuditRecord['detail']),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function bodyOf(r: AuditRecord) {
  return { seq: r.seq, at: r.at, actor: r.actor, action: r.action, tenant: r.tenant, subject: r.subject, detail: r.detail };
}

/** SHA-256 (hex) over the previous record's hash and the canonical JSON of this record. */
export function chainHash(prevHash: string, body: ReturnType<typeof bodyOf>): string {
  return createHash('sha256').update(prevHash).update(canonicalJson(body)).digest('hex');
}

/** JSON with object keys sorted at every level: one text per value, whatever the order it was built in. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}
