import type { MessagePort } from 'node:worker_threads';
import Transport from 'winston-transport';
import type { FromThread } from './protocol.ts';

/**
 * A delivery thread's only log transport: every line goes to the main thread, which logs it with its own
 * logger (thread-pool.ts), so the console's live log and the log file see the adapters' lines as before.
 * The line's meta (the adapter's child labels `target` and `adapter` included) travels as JSON: what a
 * transport would write anyway, and it drops what cannot be cloned (functions, sockets in an error's cause).
 */
export class LogRelay extends Transport {
  constructor(private readonly port: MessagePort) {
    super();
  }

  override log(info: { level: string; message: unknown; [key: string]: unknown }, next: () => void): void {
    const { level, message, ...rest } = info;
    let meta: Record<string, unknown>;
    try {
      meta = JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
    } catch {
      meta = { relayError: 'the line carried meta that is not JSON' };
    }
    const line: FromThread = { type: 'log', level, message: String(message), meta };
    this.port.postMessage(line);
    next();
  }
}
