import type { z } from 'zod';
import type { Logger } from 'winston';
import type { Clock } from '../clock.ts';
export type { Clock } from '../clock.ts';

/** The message the mapping produced for one delivery, ready for an adapter to send. */
export interface OutboundMessage {
  /** `json`: `body` is the mapped value and `text` its JSON; `xml`: `text` is the XML document. */
  format: 'json' | 'xml';
  body: unknown;
  text: string;
  /** `application/json` or `application/xml; charset=utf-8`; for a pass-through, the original's media type. */
  contentType: string;
  /**
   * Format `original` (pass-through): the document exactly as the portal sent it. An adapter that sends the
   * message as a body sends these bytes rather than `text` encoded as UTF-8.
   */
  bytes?: Buffer;
  /**
   * Format `xdomea`: `bytes` are the standard's zip container, holding `text` (the message) and the primary
   * documents (the submission's attachments among them, so `attachments` is empty). An adapter that writes
   * files names the zip `name`; one that sends a payload sends `bytes` as `application/zip`.
   */
  container?: OutboundContainer;
  attachments: OutboundAttachment[];
}

export interface OutboundContainer {
  /** `{ProzessID}_{Nachrichtentyp}.zip`, e.g. `…_FVDaten.SGOAblegen.0605.zip`. */
  name: string;
  /** The message's entry in the zip: `{ProzessID}_{Nachrichtentyp}.xml`. */
  messageName: string;
  /** The other entries (primary documents), in zip order. */
  files: string[];
}

export interface OutboundAttachment {
  filename: string;
  mediaType: string;
  size: number;
  sha256: string;
  content: Buffer;
}

export interface DeliveryContext {
  deliveryId: string;
  /** Stable for the life of the delivery: the same on every attempt, replay included. */
  idempotencyKey: string;
  submissionId: string;
  tenant: string;
  service: string;
  attempt: number;
  /**
   * Durable notes of this delivery, kept across attempts, crashes and replays: what a protocol hands out before
   * the message is sent (XTA's message id from createMessageID) and must be reused on a retry. `remember`
   * resolves after the note is committed. Absent where no store backs the delivery (the conformance suite).
   */
  memo?: DeliveryMemo;
}

export interface DeliveryMemo {
  recall(key: string): Promise<string | undefined>;
  remember(key: string, value: string): Promise<void>;
}

export type DeliveryResult =
  | {
      ok: true;
      /** The back office's id for the case (Aktenzeichen); null when it gave none. */
      reference: string | null;
      httpStatus?: number;
      /** Something an operator should see although the delivery succeeded (e.g. no reference in the answer). */
      warning?: string;
      /**
       * The message was handed over, but the back office confirms it later (a batch job writing `.ok`/`.err`).
       * The hub then asks `acknowledgement(token)` until it is no longer pending or `timeoutMs` has passed.
       */
      awaitingAck?: { token: string; timeoutMs: number };
      detail?: Record<string, unknown>;
    }
  | {
      ok: false;
      retryable: boolean;
      error: string;
      /** A short machine-readable class: `network`, `timeout`, `http-503`, `soap-client-fault`, … */
      errorKind?: string;
      httpStatus?: number;
      retryAfterMs?: number;
    };

export type AckResult = { state: 'pending' } | { state: 'accepted'; reference: string | null } | { state: 'rejected'; error: string };

export interface CheckResult {
  ok: boolean;
  message: string;
  /**
   * With `ok: false`: the back office answered and refused the credentials (401/403, a WS-Security fault, an
   * SFTP login refused, a token endpoint refusing the client). `config check --connect` shows it as "refused"
   * rather than "unreachable".
   */
  refused?: boolean;
}

/** One case as the back office holds it, for status and reconciliation. */
export interface CaseStatus {
  /** The back office's id for the case (Aktenzeichen). */
  reference: string;
  /** The back office's own status word; each target's configuration maps it to the portal's vocabulary. */
  status: string;
  /** The idempotency key the case arrived with, when the back office keeps it: reconciliation matches by it. */
  idempotencyKey?: string;
  /** When the back office last changed the case (ISO 8601). */
  updatedAt?: string;
  /** A reason the back office gave with the status (e.g. why it rejected the case). No form data. */
  reason?: string;
  detail?: Record<string, unknown>;
}

export interface AdapterInstance {
  deliver(message: OutboundMessage, ctx: DeliveryContext): Promise<DeliveryResult>;
  /** Reachability and credentials, for `amtsbote check` and health. */
  check(): Promise<CheckResult>;
  /** Required when `deliver` can answer `awaitingAck`: has the back office confirmed the hand-over? */
  acknowledgement?(token: string): Promise<AckResult>;
  /** Optional: the back office's state of one case. */
  status?(reference: string): Promise<CaseStatus | null>;
  /** Optional: the back office's cases since a time, for reconciliation. */
  list?(since: Date): AsyncIterable<CaseStatus>;
  /** Optional: release sockets, clients, watchers. */
  close?(): Promise<void>;
}

export interface AdapterCreateContext {
  /** The target's id from config (`targets.<id>`). */
  targetId: string;
  /** A logger labelled with the target. Never log message bodies: they carry citizens' data. */
  logger: Logger;
  /** Per-attempt timeout the hub expects the adapter to honour. */
  timeoutMs: number;
  /** The hub's clock: for every time the adapter stamps or compares (file names, Retry-After dates, token expiry). */
  clock: Clock;
}

export interface AdapterDefinition<S extends z.ZodType = z.ZodType> {
  /** Used in config: `targets.<id>.adapter`. */
  type: string;
  version: string;
  description: string;
  /** The message format the adapter sends when the target does not say. */
  defaultFormat: 'json' | 'xml';
  /** Validated at start-up. Mark secret fields with `secret()` so they are masked wherever options are shown. */
  options: S;
  /**
   * Builds the instance from the options: reads its files (WSDL, XSD, certificates, keys), compiles what it
   * needs, and throws a clear Error (naming the file) when it cannot. It must not contact the back office:
   * `amtsbote config check` calls create() and close() for every target to find configuration errors without
   * a network; connect on the first deliver() or check().
   */
  create(options: z.output<S>, ctx: AdapterCreateContext): AdapterInstance | Promise<AdapterInstance>;
}
