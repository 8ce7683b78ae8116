import type { Generated } from 'kysely';

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

/** `acknowledging`: handed over; the back office confirms later (e.g. a batch job's `.ok` file). */
export type DeliveryState = 'queued' | 'sending' | 'waiting' | 'acknowledging' | 'delivered' | 'failed';

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

export interface Database {
  submissions: SubmissionsTable;
  attachments: AttachmentsTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  events: EventsTable;
}
