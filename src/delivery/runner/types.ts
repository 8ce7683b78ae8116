import type { AckResult, DeliveryMemo, DeliveryResult } from '../../sdk/types.ts';
import type { ClaimedDelivery, MessageSource } from '../../store/index.ts';

/**
 * A mapping that failed, as plain data: it crosses the thread boundary, where a MappingError would arrive as a
 * bare Error. It says how the delivery's failure is recorded (error, errorKind, the sync log's detail).
 */
export interface MappingFailure {
  mappingFailed: true;
  error: string;
  errorKind: string;
  detail: Record<string, unknown>;
}

/** What rendering and sending one message came to: the adapter's answer, or the mapping's failure before it. */
export type RunOutcome = DeliveryResult | MappingFailure;

export function isMappingFailure(o: RunOutcome): o is MappingFailure {
  return 'mappingFailed' in o;
}

/**
 * The CPU-heavy part of an attempt: render the message (mapping, XML, xdomea container) and hand it to the
 * target's adapter. The worker keeps everything around it (claim, policies, retry and breaker decisions,
 * recording, metrics, logs); a runner does this part on the event loop (in-process.ts) or on worker threads
 * (thread-pool.ts). A runner throws only for the hub's own failures (a thread that died): the worker retries
 * those as `internal`, with the same idempotency key.
 */
export interface AttemptRunner {
  /** Ready to run: the threads have built their adapters. Resolves at once when already open. */
  open(): Promise<void>;
  /** Renders `d`'s message from `src` and delivers it; `memo` is the delivery's durable notes (the store's). */
  run(d: ClaimedDelivery, src: MessageSource, memo: DeliveryMemo): Promise<RunOutcome>;
  /** A handed-over delivery (`d.ack`): has the back office confirmed it? */
  acknowledgement(d: ClaimedDelivery): Promise<AckResult>;
  /** Releases what the runner holds (threads); attempts still open fail as internal errors. */
  close(): Promise<void>;
}
