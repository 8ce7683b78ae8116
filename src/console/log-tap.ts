import Transport from 'winston-transport';
import { type Principal, seesTenant } from '../operator/principal.ts';

/**
 * The live sync log: a winston transport that keeps the last lines and hands each new one to the console's
 * subscribers (server-sent events). A line keeps only its scalar fields — ids, states, errors, counts — and never a
 * redacted key, so form values cannot reach a browser even if a future log line carried them.
 */

export interface LogLine {
  at: string;
  level: string;
  message: string;
  tenant?: string;
  target?: string;
  submissionId?: string;
  deliveryId?: string;
  /** The line's other scalar fields. */
  fields: Record<string, string | number | boolean | null>;
}

export interface LogFilter {
  tenant?: string | undefined;
  target?: string | undefined;
  /** The least severe level shown (npm levels: error, warn, info, http, verbose, debug, silly). */
  level?: string | undefined;
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
const RANK = new Map<string, number>(LOG_LEVELS.map((l, i) => [l, i]));
const KNOWN = new Set(['level', 'message', 'timestamp', 'tenant', 'target', 'submissionId', 'deliveryId']);

/** Whether `p` may see the line and it passes `f`: a scoped principal sees only lines of its tenants. */
export function lineVisible(line: LogLine, p: Principal, f: LogFilter): boolean {
  if (p.tenants !== 'all' && (line.tenant === undefined || !seesTenant(p, line.tenant))) return false;
  if (f.tenant !== undefined && line.tenant !== f.tenant) return false;
  if (f.target !== undefined && line.target !== f.target) return false;
  if (f.level !== undefined && (RANK.get(line.level) ?? 99) > (RANK.get(f.level) ?? 99)) return false;
  return true;
}

export class LogTap extends Transport {
  private readonly recent: LogLine[] = [];
  private readonly subscribers = new Map<(l: LogLine) => void, () => void>();

  constructor(private readonly keep = 500) {
    super({ level: 'debug' });
  }

  override log(info: Record<string, unknown>, next: () => void): void {
    const line = toLine(info);
    this.recent.push(line);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const l of this.subscribers.keys()) l(line);
    next();
  }

  /** The lines kept so far, oldest first. */
  backlog(): readonly LogLine[] {
    return this.recent;
  }

  /**
   * Calls `listener` with every new line until the returned function is called; `onEnd` when the hub stops
   * (an open stream would keep the HTTP server from closing).
   */
  subscribe(listener: (l: LogLine) => void, onEnd: () => void = () => undefined): () => void {
    this.subscribers.set(listener, onEnd);
    return () => this.subscribers.delete(listener);
  }

  /** Ends every subscription (shutdown). */
  endAll(): void {
    const ends = [...this.subscribers.values()];
    this.subscribers.clear();
    for (const end of ends) end();
  }
}

function toLine(info: Record<string, unknown>): LogLine {
  const str = (k: string) => (typeof info[k] === 'string' ? (info[k] as string) : undefined);
  const fields: LogLine['fields'] = {};
  for (const [k, v] of Object.entries(info)) {
    if (KNOWN.has(k) || v === '[redacted]') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) fields[k] = v;
  }
  const line: LogLine = {
    at: str('timestamp') ?? '',
    level: String(info.level ?? 'info'),
    message: String(info.message ?? ''),
    fields,
  };
  for (const k of ['tenant', 'target', 'submissionId', 'deliveryId'] as const) {
    const v = str(k);
    if (v !== undefined) line[k] = v;
  }
  return line;
}
