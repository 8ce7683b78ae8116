import type { AuditStore } from '../store/audit-store.ts';
import type { Clock } from '../clock.ts';
import type { AuditEntry, AuditTrail } from './trail.ts';

/** The audit trail in the hub's database, stamped by the hub's clock. */
export function storeAuditTrail(audit: AuditStore, now: Clock): AuditTrail {
  return {
    async record(entry: AuditEntry) {
      await audit.append(entry, now());
    },
  };
}
