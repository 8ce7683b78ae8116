// XTA's transport report: the server's account of one message, read for the delivery's final state and for
// reconciliation. Status 0 = open (still in transport), 1 = green, 2 = yellow (warnings), 3 = red (failed).

import { oneLine } from '../../src/sdk/index.ts';
import { text } from './client.ts';

export interface TransportReport {
  status: 0 | 1 | 2 | 3;
  /** The reasons the server gave with errors (red) or warnings (yellow), one line, without the message. */
  reasons: string[];
  reportTime?: string;
}

export const STATUS_WORDS = ['open', 'green', 'yellow', 'red'] as const;

/** The TransportReport element of a getTransportReport answer's body; undefined when it is not there. */
export function readTransportReport(body: Record<string, unknown>): TransportReport | undefined {
  const r = body.TransportReport as Record<string, unknown> | undefined;
  if (!r || typeof r !== 'object') return undefined;
  const ms = r.MessageStatus as Record<string, unknown> | undefined;
  const status = Number(text(ms?.Status));
  if (![0, 1, 2, 3].includes(status)) return undefined;
  const reasons: string[] = [];
  for (const [list, item] of [
    ['ErrorList', 'Error'],
    ['WarnList', 'Warning'],
  ] as const) {
    const entries = (ms?.[list] as Record<string, unknown> | undefined)?.[item];
    for (const e of Array.isArray(entries) ? entries : entries ? [entries] : []) {
      const reason = text((e as Record<string, unknown>).Reason);
      if (reason) reasons.push(oneLine(reason, 200));
    }
  }
  const reportTime = text(r.ReportTime);
  return { status: status as TransportReport['status'], reasons, ...(reportTime ? { reportTime } : {}) };
}
