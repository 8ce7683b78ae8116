import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { BreakerState } from '../core/policy/breaker.ts';
import type { DeliveryState } from '../core/states.ts';
import type { ReconcileDatabase } from './reconcile-tables.ts';
import type { StatusDatabase } from './status-tables.ts';
import type { AccessDatabase } from './access-tables.ts';
import type { FitConnectDatabase } from './fit-connect-tables.ts';

// Times are epoch milliseconds (bigint in PostgreSQL, integer in SQLite): one type on both, cheap to compare.

export interface SubmissionsTable {
  id: string;
  portal_id: string;
  external_id: string;
  tenant: string;
  service: string;
  submitted_at: string;
  received_at: number;
  /** SHA-256 of the canonical envelope: tells a resubmission from a different body under the same external id. */
  body_hash: string;
  /** JSON: applicant and data as the portal sent them. Never logged. */
  content: string;
  /** An inbound channel's document exactly as sent (docs/inbound.md); null for an envelope. Never logged. */
  original: Buffer | null;
  original_media_type: string | null;
  /** The data key that sealed content, original and attachments (docs/keys.md); null: written in clear. */
  data_kid: string | null;
  /** When retention deleted the form data and attachments (content is then `{}`); null while they are held. */
  purged_at: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface AttachmentsTable {
  submission_id: string;
  position: number;
  filename: string;
  media_type: string;
  size: number;
  sha256: string;
  content: Buffer;
}

export type { DeliveryState };

export interface DeliveriesTable {
  id: string;
  submission_id: string;
  route_id: string;
  target_id: string;
  mapping_id: string;
  idempotency_key: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  reference: string | null;
  last_error: string | null;
  last_error_kind: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
  /** The adapter's token for asking whether the back office confirmed the hand-over. */
  ack_token: string | null;
  /** When an unconfirmed hand-over counts as failed. */
  ack_deadline: number | null;
  /** `attempts` when the delivery was last replayed (0 if never): the retry budget counts from here. */
  attempt_base: Generated<number>;
  /** The back office's own status word for the case, as last seen, and when it changed. */
  backoffice_status: string | null;
  backoffice_status_at: number | null;
}

/** `handed-over`: the back office took the message and will confirm it later (see `acknowledging`). */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'interrupted' | 'handed-over';

export interface AttemptsTable {
  delivery_id: string;
  number: number;
  owner: string;
  started_at: number;
  finished_at: number | null;
  duration_ms: number | null;
  outcome: AttemptOutcome | null;
  error: string | null;
  error_kind: string | null;
  http_status: number | null;
  reference: string | null;
}

export interface EventsTable {
  id: Generated<number>;
  at: number;
  submission_id: string;
  delivery_id: string | null;
  type: string;
  tenant: string;
  service: string;
  target: string | null;
  /** JSON with ids, states, errors; never form data. */
  detail: string | null;
}

export type { BreakerState };

/** Per-target policy state shared by all instances: circuit breaker and rate-limit bucket. */
export interface TargetStateTable {
  target_id: string;
  breaker: ColumnType<BreakerState, BreakerState | undefined, BreakerState>;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  opened_at: number | null;
  /** open: when the cool-down ends; half-open: when the probe's lease runs out. */
  retry_at: number | null;
  probe_delivery_id: string | null;
  last_error: string | null;
  tokens: ColumnType<number, number | undefined, number>;
  tokens_at: number | null;
  updated_at: number;
}

/** An adapter's durable note about one delivery (DeliveryContext.memo), e.g. XTA's message id. */
export interface DeliveryMemosTable {
  delivery_id: string;
  key: string;
  value: string;
  created_at: number;
}

export interface Database extends ReconcileDatabase, StatusDatabase, AccessDatabase, FitConnectDatabase {
  submissions: SubmissionsTable;
  attachments: AttachmentsTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  events: EventsTable;
  target_state: TargetStateTable;
  delivery_memos: DeliveryMemosTable;
}

/** The database, or a transaction on it: what a store function runs its statements on. */
export type Db = Kysely<Database> | Transaction<Database>;
export type Trx = Transaction<Database>;
