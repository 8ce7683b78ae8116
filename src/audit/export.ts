import type { AuditFilter, AuditRecord, AuditStore } from '../store/audit-store.ts';

/** One record as a line of the JSON-lines export: times in ISO 8601, hashes as stored, so a reader can re-check the chain. */
export function auditLine(r: AuditRecord): string {
  return JSON.stringify({
    seq: r.seq,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    tenant: r.tenant,
    subject: r.subject,
    detail: r.detail,
    prevHash: r.prevHash,
    hash: r.hash,
  });
}

/** The export as chunks of lines (for a stream to a file or an HTTP answer). */
export async function* auditLines(audit: AuditStore, f: AuditFilter): AsyncGenerator<string> {
  for await (const r of audit.records(f)) yield `${auditLine(r)}\n`;
}
