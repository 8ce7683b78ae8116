/** The portal's vocabulary for where a case stands: the states of the citizen's mailbox. */
export const PORTAL_STATUSES = ['RECEIVED', 'PROCESSING', 'ACTION_REQUIRED', 'COMPLETED', 'REJECTED'] as const;
export type PortalStatus = (typeof PORTAL_STATUSES)[number];

/** How a back office's status reached the hub. */
export type StatusSource = 'delivery' | 'push' | 'poll' | 'acknowledgement' | 'reconciliation';

/** A back office's status for one case, in its own words, before mapping to the portal's vocabulary. */
export interface BackofficeStatusChange {
  targetId: string;
  /** At least one of deliveryId, reference and idempotencyKey identifies the case. */
  deliveryId?: string;
  reference?: string;
  idempotencyKey?: string;
  /** The back office's own status word (mapped per target to a PortalStatus). */
  status: string;
  /** Why, when the back office says (e.g. a rejection). Never form data. */
  reason?: string;
  /** When the back office changed it (epoch ms); the hub's clock when unknown. */
  at: number;
  source: StatusSource;
}

export interface RecordedStatus {
  /** false when the case is unknown or the status is the one already recorded. */
  recorded: boolean;
  submissionId?: string;
  deliveryId?: string;
  portalStatus?: PortalStatus;
}

/** Where reconciliation and the worker hand status changes; the status back-channel implements it. */
export interface StatusSink {
  record(change: BackofficeStatusChange): Promise<RecordedStatus>;
}

/**
 * What became of a recorded change (added by the status back-channel; `recorded` above stays the summary):
 * - `applied`: the case's current status moved (the submission's portal status may have changed with it);
 * - `older`: older than the case's current status: kept in the history only;
 * - `unmapped`: the target's map has no portal status for the word: kept in the history (portalStatus null);
 * - `unchanged`: the case already stands there: nothing written;
 * - `duplicate`: this (case, status, at) was recorded before: nothing written;
 * - `unknown-case`: no delivery matches: nothing written.
 */
export type RecordOutcome = 'applied' | 'older' | 'unmapped' | 'unchanged' | 'duplicate' | 'unknown-case';

export interface RecordedStatusDetail extends RecordedStatus {
  outcome: RecordOutcome;
  /** The submission's portal-facing status changed and an update was queued for the portal (when it has a callback). */
  forwarded?: boolean;
  /** The submission's status sequence number after this change. */
  sequence?: number;
}
