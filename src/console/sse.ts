import type { Request, Response } from 'express';
import { type LogFilter, type LogLine, type LogTap, lineVisible } from './log-tap.ts';
import type { Principal } from '../operator/principal.ts';

/** How often an idle stream sends a comment, so proxies keep it open and a gone client is noticed. */
const HEARTBEAT_MS = 15_000;

/**
 * Streams the live log to one client as server-sent events (`event: line`, JSON data): the kept lines first,
 * then each new one, filtered by what `principal` may see and `filter`, until the client goes.
 */
export function streamLog(_req: Request, res: Response, tap: LogTap, principal: Principal, filter: LogFilter, backlog = 100): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Accel-Buffering', 'no');
  // The socket ends with the stream, so a stopping hub's server is not held open by it.
  res.setHeader('Connection', 'close');
  res.flushHeaders();
  const socket = res.socket;
  const send = (l: LogLine) => {
    if (lineVisible(l, principal, filter)) res.write(`event: line\ndata: ${JSON.stringify(l)}\n\n`);
  };
  for (const l of tap
    .backlog()
    .filter((x) => lineVisible(x, principal, filter))
    .slice(-backlog))
    send(l);
  res.write(': live\n\n');
  // At shutdown: end the stream and its socket (a client that cancelled may leave it half open).
  const unsubscribe = tap.subscribe(send, () => {
    res.end();
    socket?.destroy();
  });
  const beat = setInterval(() => res.write(': beat\n\n'), HEARTBEAT_MS);
  beat.unref();
  const end = () => {
    clearInterval(beat);
    unsubscribe();
    // A stream's socket is never reused: let it go with the stream, or a stopping server waits for it.
    socket?.destroy();
  };
  // The response's close: the client went (a request's own close fires once its body is read).
  res.on('close', end);
}

/** The live log's filter from query parameters; undefined fields when absent or empty. */
export function logFilterOf(q: Record<string, unknown>): LogFilter {
  const s = (k: string) => (typeof q[k] === 'string' && q[k] !== '' ? (q[k] as string) : undefined);
  return { tenant: s('tenant'), target: s('target'), level: s('level') };
}
