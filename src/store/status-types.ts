// The data shapes of the status back-channel's store (status-store.ts records, status-outbox-store.ts sends).
import type { CaseStatus } from '../core/status/combine.ts';
import type { PortalStatus, RecordedStatusDetail, StatusSource } from '../core/status/types.ts';
import type { StatusEffect } from './status-tables.ts';

/** One piece of news about a case, before the case is found. */
export interface StatusNews {
  /** Targets the case may belong to: one, or those sharing a push token. Empty: any (a delivery id is given). */
  targetIds: readonly string[];
  deliveryId?: string | undefined;
  reference?: string | undefined;
  idempotencyKey?: string | undefined;
  /** The back office's word; null: the hub delivered it (RECEIVED, unless the case already has a status). */
  word: string | null;
  reason: string | null;
  at: number;
  source: StatusSource;
}

/** What the store needs from configuration while it records. */
export interface StatusRules {
  /** The target's map; null for a word it does not know. */
  map(targetId: string, word: string): PortalStatus | null;
  /** Whether the portal has a status callback (else nothing is queued for it). */
  forwards(portalId: string): boolean;
  newId(): string;
  now: number;
}

export interface StatusRecordResult extends RecordedStatusDetail {
  targetId?: string;
  portalId?: string;
  tenant?: string;
  service?: string;
}

export interface ClaimedStatusUpdate {
  id: string;
  submissionId: string;
  portalId: string;
  externalId: string;
  tenant: string;
  service: string;
  sequence: number;
  status: PortalStatus;
  reason: string | null;
  at: number;
  attempt: number;
  createdAt: number;
}

export interface StatusUpdateResult {
  outcome: 'delivered' | 'retry' | 'failed';
  finishedAt: number;
  error?: string | undefined;
  errorKind?: string | undefined;
  httpStatus?: number | undefined;
  /** For `retry`. */
  nextAttemptAt?: number | undefined;
}

export interface StatusHistoryEntry {
  at: number;
  recordedAt: number;
  source: string;
  targetId: string;
  deliveryId: string;
  backofficeStatus: string | null;
  portalStatus: PortalStatus | null;
  reason: string | null;
  effect: StatusEffect;
}

export interface SubmissionStatusView {
  current: (CaseStatus & { sequence: number }) | null;
  history: StatusHistoryEntry[];
}

export interface FoundCase {
  id: string;
  submission_id: string;
  target_id: string;
  backoffice_status: string | null;
  backoffice_status_at: number | null;
  portal_id: string;
  tenant: string;
  service: string;
}

/** A case the delivery worker handed to its back office: it stands at RECEIVED (docs/status.md). */
export interface DeliveredCase {
  deliveryId: string;
  /** When the back office took it (the attempt's or the acknowledgement's end). */
  at: number;
  source: 'delivery' | 'acknowledgement';
}

/**
 * The status back-channel's part in the commit that records deliveries as delivered: the store records the cases
 * as RECEIVED in that very transaction (StatusStore.recordReceived, in Store.writeCompletions), so no crash falls between the two.
 */
export interface DeliveredHook {
  /** The rules to record with, asked inside the transaction. */
  rules(): StatusRules;
  /** After the commit: what was recorded. */
  recorded(delivered: readonly DeliveredCase[], results: StatusRecordResult[]): void;
  /** Recording failed and was rolled back to its savepoint; the deliveries commit all the same. */
  failed(delivered: readonly DeliveredCase[], error: Error): void;
}

/** SQL of the status back-channel: history, current statuses and the portal outbox. */
