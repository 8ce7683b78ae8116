import type { Logger } from 'winston';
import type { AuditEntry, AuditTrail } from './trail.ts';

/**
 * An audit trail that writes each record as a log line (`audit` component): what the hub wires until the
 * store-backed, chained trail replaces it. Entries hold ids and counts only, so they are fit for the log.
 */
export function loggingAuditTrail(logger: Logger): AuditTrail {
  const log = logger.child({ component: 'audit' });
  return {
    async record(e: AuditEntry) {
      log.info(`audit: ${e.action}`, {
        actor: e.actor,
        action: e.action,
        ...(e.tenant ? { tenant: e.tenant } : {}),
        ...(e.subject ? { subject: e.subject } : {}),
        ...(e.detail ?? {}),
      });
    },
  };
}
