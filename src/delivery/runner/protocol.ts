import type { AckResult } from '../../sdk/types.ts';
import type { ClaimedDelivery, MessageSource } from '../../store/index.ts';
import type { RunOutcome } from './types.ts';

// The messages between the worker (main thread) and a delivery thread. Requests carry an id the answer
// repeats; `now` is the main thread's clock at the request (see thread-main.ts for what the thread makes of it).

/** What a delivery thread is started with (its workerData). */
export interface ThreadData {
  configDir: string;
  /** The main thread's now() as it starts the thread: the thread's clock until the first request. */
  now: number;
}

export type ToThread =
  | { type: 'run'; id: number; now: number; delivery: ClaimedDelivery; source: MessageSource }
  | { type: 'ack'; id: number; now: number; delivery: ClaimedDelivery }
  | { type: 'memo-answer'; call: number; value?: string | undefined; error?: string }
  | { type: 'close' };

export type FromThread =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'ran'; id: number; outcome: RunOutcome }
  | { type: 'acked'; id: number; ack: AckResult }
  /** The runner threw: the hub's own failure, retried as internal. */
  | { type: 'threw'; id: number; error: string }
  /** The adapter of request `id` reads or writes its delivery's memo: the main thread's store answers. */
  | { type: 'memo'; call: number; id: number; op: 'recall' | 'remember'; key: string; value?: string }
  | { type: 'log'; level: string; message: string; meta: Record<string, unknown> };

/** Structured cloning delivers a Buffer as a plain Uint8Array: make the source's bytes Buffers again (no copy). */
export function reviveSource(src: MessageSource): MessageSource {
  const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return {
    ...src,
    attachments: src.attachments.map((a) => ({ ...a, content: buf(a.content) })),
    ...(src.original ? { original: { ...src.original, bytes: buf(src.original.bytes) } } : {}),
  };
}
