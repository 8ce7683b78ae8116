// Shared by this adapter's tests (not a test file itself): real servers on 127.0.0.1 and a log to search.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import winston from 'winston';
import type { DeliveryContext, DeliveryResult, OutboundMessage } from '../../src/sdk/index.ts';

/** A logger whose every line, down to debug, lands in `lines`. */
export function capturingLogger(lines: string[]): winston.Logger {
  return winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _enc, done) {
            lines.push(chunk.toString());
            done();
          },
        }),
      }),
    ],
  });
}

/** Starts `server` on an ephemeral port of 127.0.0.1 and gives its port. */
export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

let counter = 0;
export function dctx(prefix = 'g'): DeliveryContext {
  counter += 1;
  return {
    deliveryId: `dlv-${prefix}-${counter}`,
    idempotencyKey: `idem-${prefix}-${counter}`,
    submissionId: 'sub-1',
    tenant: '05513000',
    service: 'hundeanmeldung',
    attempt: 1,
  };
}

export function jsonMessage(body: unknown): OutboundMessage {
  return { format: 'json', body, text: JSON.stringify(body), contentType: 'application/json', attachments: [] };
}

export function failure(r: DeliveryResult): Extract<DeliveryResult, { ok: false }> {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

/** Lets winston's streams flush before the captured lines are read. */
export const flushLogs = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
