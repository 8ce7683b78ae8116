// Tables of the status back-channel (migration 0006-status-channel). Times are epoch milliseconds.

import type { Generated } from 'kysely';

/** What a history row did to its case: moved it, came too late, or named a word the target's map lacks. */
export type StatusEffect = 'applied' | 'older' | 'unmapped';

/** Every status the hub heard for a case (a delivery), in the back office's words and mapped. */
export interface StatusHistoryTable {
  id: Generated<number>;
  submission_id: string;
  delivery_id: string;
  target_id: string;
  /** delivery | acknowledgement | push | poll | reconciliation */
  source: string;
  /** The back office's own word; null when the hub's own delivery stands for RECEIVED. */
  backoffice_status: string | null;
  /** The word normalised (lower case, umlauts spelled out); '' for a delivery. Unique with delivery and `at`. */
  status_key: string;
  portal_status: string | null;
  reason: string | null;
  /** When the back office changed it. */
  at: number;
  recorded_at: number;
  effect: StatusEffect;
}

/** The current portal status of each delivery that has one. */
export interface DeliveryStatusTable {
  delivery_id: string;
  submission_id: string;
  portal_status: string;
  reason: string | null;
  at: number;
  updated_at: number;
}

/** The portal-facing status of a submission: its deliveries' statuses combined; `sequence` counts its changes. */
export interface SubmissionStatusTable {
  submission_id: string;
  status: string;
  reason: string | null;
  at: number;
  sequence: number;
  updated_at: number;
}

export type OutboxState = 'pending' | 'sending' | 'delivered' | 'failed';

/** Status updates on their way to a portal's status callback, sent in `sequence` order per submission. */
export interface StatusOutboxTable {
  /** UUIDv7; also the Idempotency-Key the portal sees. */
  id: string;
  submission_id: string;
  portal_id: string;
  sequence: number;
  status: string;
  reason: string | null;
  at: number;
  state: OutboxState;
  attempts: number;
  /** pending: when due; sending: when the lease runs out. */
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  last_error_kind: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface StatusDatabase {
  status_history: StatusHistoryTable;
  delivery_status: DeliveryStatusTable;
  submission_status: SubmissionStatusTable;
  status_outbox: StatusOutboxTable;
}
