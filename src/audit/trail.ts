/**
 * The audit trail's port: what operators and admins did, append-only and chained (each record carries the hash of
 * the one before, so a changed or removed record breaks the chain). Features record through this interface; the
 * store-backed implementation lives beside it. Details hold ids and counts, never form values.
 */

export type AuditAction =
  | 'login'
  | 'login-failed'
  | 'logout'
  | 'account-changed'
  | 'form-data-viewed'
  | 'replay'
  | 'reconcile-confirm'
  | 'reconcile-dismiss'
  | 'check-connection'
  | 'config-check-connect'
  | 'key-rotation'
  | 'purge'
  | 'export';

export interface AuditEntry {
  /** The Principal's id (`account:…`, `oidc:…`, `token:operator`) or `cli:<os user>` for shell commands. */
  actor: string;
  action: AuditAction;
  /** The tenant the action concerned, where there is one (scoped exports filter on it). */
  tenant?: string | undefined;
  /** What was acted on: a submission id, a delivery id, a reconciliation finding, a target id. */
  subject?: string | undefined;
  /** Ids, counts and flags only; never a citizen's value or a secret. */
  detail?: Readonly<Record<string, string | number | boolean | null>> | undefined;
}

export interface AuditTrail {
  record(entry: AuditEntry): Promise<void>;
}
