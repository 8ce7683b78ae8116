// The tables of the operator area's access and audit (migration 0010).

export interface AuditTrailTable {
  seq: number;
  at: number;
  actor: string;
  action: string;
  tenant: string | null;
  subject: string | null;
  /** JSON of ids, counts and flags; never a citizen's value or a secret. */
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export interface OperatorAccountsTable {
  name: string;
  /** `scrypt$N$r$p$<salt b64>$<hash b64>`. */
  password_hash: string;
  role: string;
  /** JSON array of tenant keys as configured. */
  tenants: string;
  created_at: number;
  updated_at: number;
}

export interface OperatorSessionsTable {
  id_hash: string;
  principal_id: string;
  via: string;
  account: string | null;
  display_name: string;
  role: string;
  /** JSON array of tenant keys, or the string "all". */
  tenants: string;
  created_at: number;
  seen_at: number;
}

export interface LoginThrottleTable {
  key: string;
  failures: number;
  last_failure_at: number;
}

export interface AccessDatabase {
  audit_trail: AuditTrailTable;
  operator_accounts: OperatorAccountsTable;
  operator_sessions: OperatorSessionsTable;
  login_throttle: LoginThrottleTable;
}
