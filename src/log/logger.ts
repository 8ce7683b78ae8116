import path from 'node:path';
import { mkdirSync } from 'node:fs';
import winston from 'winston';
import type Transport from 'winston-transport';

/**
 * Keys that carry citizens' data or secrets. The hub never passes them to the logger; this is the safety net
 * in case a future line does.
 */
const REDACTED_KEYS = new Set([
  'applicant',
  'data',
  'attachments',
  'content',
  'body',
  'text',
  'password',
  'token',
  'secret',
  'authorization',
]);

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) if (REDACTED_KEYS.has(key.toLowerCase())) info[key] = '[redacted]';
  return info;
});

export interface LoggerOptions {
  level: string;
  console: boolean;
  /** The folder for amtsbote.log; none for no file. */
  dir?: string | undefined;
  /** Extra transports (tests capture lines with a stream). */
  transports?: Transport[];
}

/**
 * The sync log: JSON lines on stdout and in <data>/logs/amtsbote.log. Lines about a delivery carry
 * submissionId, deliveryId, tenant, service and target (see `deliveryLogger`).
 */
export function createLogger(opts: LoggerOptions): winston.Logger {
  const transports: Transport[] = [...(opts.transports ?? [])];
  if (opts.console) transports.push(new winston.transports.Console());
  if (opts.dir) {
    mkdirSync(opts.dir, { recursive: true });
    transports.push(
      new winston.transports.File({
        filename: path.join(opts.dir, 'amtsbote.log'),
        maxsize: 50 * 1024 * 1024,
        maxFiles: 5,
        tailable: true,
      }),
    );
  }
  if (transports.length === 0) transports.push(new winston.transports.Console({ silent: true }));
  return winston.createLogger({
    level: opts.level,
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
    transports,
  });
}
