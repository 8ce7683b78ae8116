// The store's data shapes: what goes in and comes out of the delivery queue. Rows stay inside store/.
import type { AttemptOutcome, DeliveryState } from './tables.ts';
import type { BackOfficeSignal, BreakerSettings, BreakerStatus, BreakerTransition } from '../core/policy/breaker.ts';
import type { RateSettings } from '../core/policy/rate-limit.ts';

export interface StoredAttachment {
  filename: string;
  mediaType: string;
  size: number;
  sha256: string;
  content: Buffer;
}

export interface NewSubmission {
  id: string;
  portalId: string;
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  receivedAt: number;
  bodyHash: string;
  /** JSON of applicant and data. */
  content: string;
  /** The document as an inbound channel received it; absent for an envelope. */
  original?: OriginalContent | undefined;
  attachments: StoredAttachment[];
  deliveries: { id: string; routeId: string; targetId: string; mappingId: string }[];
}

export type CreateResult = { outcome: 'created'; id: string } | { outcome: 'duplicate'; id: string; sameBody: boolean };

export interface ClaimedDelivery {
  id: string;
  submissionId: string;
  routeId: string;
  targetId: string;
  mappingId: string;
  idempotencyKey: string;
  tenant: string;
  service: string;
  /** The number of this attempt (1 for the first). */
  attempt: number;
  /** The attempt count at the last replay (0 if never replayed): the retry budget counts the attempts after it. */
  attemptBase?: number;
  leaseExpiresAt: number;
  /** The previous holder's lease ran out mid-attempt (crash, kill): this is a re-send. */
  resumed: boolean;
  /** Set when the message was handed over and the claim is to ask for the back office's acknowledgement. */
  ack?: { token: string; deadline: number };
  /** When the delivery was created (its submission received): retry.maxAgeMs counts from here. */
  createdAt?: number;
  /** When it fell due (before this claim). */
  dueAt?: number;
  /** This attempt probes a target whose circuit breaker was open. */
  probe?: boolean;
}

export interface AttemptResult {
  /** `handed-over`: awaiting the back office's acknowledgement; `ack-pending`: asked, not confirmed yet. */
  outcome: Exclude<AttemptOutcome, 'interrupted'> | 'ack-pending';
  finishedAt: number;
  error?: string | undefined;
  errorKind?: string | undefined;
  httpStatus?: number | undefined;
  reference?: string | null | undefined;
  /** For `retry`: when the next attempt is due; for `handed-over` and `ack-pending`: when to ask again. */
  nextAttemptAt?: number | undefined;
  /** For `handed-over`: how to ask, and until when. */
  ack?: { token: string; deadline: number } | undefined;
  /** Extra detail for the sync-log event (never form data). */
  detail?: Record<string, unknown>;
  /** What the attempt says about the back office, for its target's circuit breaker (absent: nothing). */
  breaker?: { signal: BackOfficeSignal; settings: BreakerSettings } | undefined;
}

/** One target's share of a claim, decided by the worker from the target's policy. */
export interface TargetGate {
  targetId: string;
  /** At most this many for the target in this claim (this worker's fair share; 0 while its window is closed). */
  room: number;
  /** Shared across instances: at most this many `sending` at once. */
  maxInFlight?: number | undefined;
  /** Shared across instances: a token bucket. */
  rate?: RateSettings | undefined;
  /** The target has a circuit breaker. */
  breaker?: boolean;
}

export interface ClaimBatch {
  claimed: ClaimedDelivery[];
  /** The earliest time a target held back by its breaker or rate limit may be claimed again. */
  wakeAt?: number;
  /** Each target held back by its breaker or rate limit, and until when (as this claim saw it). */
  blocked?: Map<string, number>;
  /** The mapping data of the claimed sends, by submission id, read with the claim. */
  sources?: Map<string, MessageSource>;
}

export interface TargetOverview {
  targetId: string;
  breaker: BreakerStatus;
  /** The rate bucket as last written (null: never used). */
  tokens: { tokens: number; at: number } | null;
  queue: {
    queued: number;
    waiting: number;
    sending: number;
    acknowledging: number;
    failed: number;
    due: number;
    oldestDueAt: number | null;
  };
}

/** A breaker changed state (reported after the commit). */
export interface BreakerChange {
  targetId: string;
  transition: BreakerTransition;
  status: BreakerStatus;
}

export interface SubmissionView {
  id: string;
  portalId: string;
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  receivedAt: number;
  /** When retention deleted its form data and attachments; null while held. */
  purgedAt: number | null;
  deliveries: DeliveryView[];
}

export interface DeliveryView {
  id: string;
  routeId: string;
  targetId: string;
  mappingId: string;
  idempotencyKey: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number;
  reference: string | null;
  lastError: string | null;
  lastErrorKind: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  attemptLog: AttemptView[];
}

export interface AttemptView {
  number: number;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  outcome: AttemptOutcome | null;
  error: string | null;
  errorKind: string | null;
  httpStatus: number | null;
  reference: string | null;
}

export interface EventView {
  id: number;
  at: number;
  submissionId: string;
  deliveryId: string | null;
  type: string;
  tenant: string;
  service: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}

export interface MessageSource {
  portalId: string;
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  receivedAt: number;
  /** Set when retention deleted the data: `content` is then `{}` and there are no attachments. */
  purgedAt: number | null;
  content: string;
  /** The inbound document, for the pass-through format; absent for an envelope. */
  original?: OriginalContent;
  attachments: StoredAttachment[];
}

/** A submission's primary content as it came in on an inbound channel: its bytes and media type. */
export interface OriginalContent {
  bytes: Buffer;
  mediaType: string;
}

/** Which failed deliveries to find; every given field must match. Times are epoch ms of the failure. */
export interface FailedFilter {
  targetId?: string | undefined;
  tenant?: string | undefined;
  /** Only deliveries of these tenants (an operator's scope); an empty list matches nothing. */
  tenants?: readonly string[] | undefined;
  errorKind?: string | undefined;
  /** Failed at or after. */
  since?: number | undefined;
  /** Failed before. */
  until?: number | undefined;
}

export interface FailedDelivery {
  id: string;
  submissionId: string;
  targetId: string;
  tenant: string;
  service: string;
  attempts: number;
  error: string | null;
  errorKind: string | null;
  /** When it failed (its last change). */
  failedAt: number;
}

/** An open delivery whose due time lies well in the past: nobody works on it. */
export interface OverdueDelivery {
  id: string;
  submissionId: string;
  state: DeliveryState;
  targetId: string;
  nextAttemptAt: number;
}

export type ReplayOutcome = 'replayed' | 'not-failed' | 'not-found';

export interface ReplayResult {
  id: string;
  outcome: ReplayOutcome;
  /** The state found, for `not-failed`. */
  state?: DeliveryState;
  /** For `replayed`: the error it failed with. */
  previousError?: string | null;
  attempts?: number;
}
