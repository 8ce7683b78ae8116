// Back-office simulators for the Emscher-Lippe demo, started beside the hub from `demo.simulators`
// in hub.yaml. Real HTTP servers, so the hub's REST adapter is exercised exactly as in production.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import type { simulatorSchema } from '../config/schema.ts';
import { CaseBook, type SimCase, type SimContext, type SimulatorKind } from './simulators/common.ts';
import { createWasteRestApp } from './simulators/waste-rest.ts';
import { createDogtaxRestApp } from './simulators/dogtax-rest.ts';

export type { SimCase, SimulatorKind } from './simulators/common.ts';

/** What hub.yaml's `demo.simulators` entries hold (failureRate may be left to its default, 0). */
export type SimulatorSpec = Omit<z.output<typeof simulatorSchema>, 'failureRate'> & { failureRate?: number };

export interface SimulatorOptions {
  /** Interface to listen on; default 127.0.0.1 (the demo never listens publicly). */
  host?: string;
  /** One line per filed case, with the reference only — never form data. */
  logger?: (msg: string) => void;
  /** Source of randomness for injected outages; default Math.random. */
  random?: () => number;
  /** How long each case status lasts before the next (angelegt → disponiert → erledigt); default 60 s. */
  statusStepMs?: number;
}

export interface RunningSimulator {
  kind: SimulatorKind;
  /** http://127.0.0.1:PORT, without a trailing slash. */
  url: string;
  /** The real port, also when the spec asked for port 0. */
  port: number;
  close(): Promise<void>;
  /** Every case filed so far, for tests. */
  cases(): SimCase[];
}

const factories: Record<SimulatorKind, (ctx: SimContext) => ReturnType<typeof createWasteRestApp>> = {
  'waste-rest': createWasteRestApp,
  'dogtax-rest': createDogtaxRestApp,
};

export async function startSimulator(spec: SimulatorSpec, opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const factory = factories[spec.kind] as (typeof factories)[SimulatorKind] | undefined;
  if (!factory) throw new Error(`unknown simulator kind "${String(spec.kind)}"; known: ${Object.keys(factories).join(', ')}`);
  const failureRate = spec.failureRate ?? 0;
  if (!(failureRate >= 0 && failureRate <= 1)) throw new Error(`${spec.kind}: failureRate must be between 0 and 1`);
  const host = opts.host ?? '127.0.0.1';
  const now = () => Date.now();
  const statusStepMs = opts.statusStepMs ?? 60_000;
  const ctx: SimContext = {
    kind: spec.kind,
    failureRate,
    random: opts.random ?? Math.random,
    log: opts.logger ?? (() => {}),
    statusStepMs,
    now,
    book: new CaseBook({ statusStepMs, now }),
  };
  const server = createServer(factory(ctx));
  await listen(server, spec.port, host, spec.kind);
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    kind: spec.kind,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    cases: () => ctx.book.list(),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets would hold close() open for seconds; the simulator has no work to finish.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string, kind: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`${kind} simulator: port ${port} on ${host} is already in use (change demo.simulators in hub.yaml)`)
          : err,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Starts every simulator or none: if one fails, those already started are closed again. */
export async function startSimulators(specs: readonly SimulatorSpec[], opts: SimulatorOptions = {}): Promise<RunningSimulator[]> {
  const started: RunningSimulator[] = [];
  try {
    for (const spec of specs) started.push(await startSimulator(spec, opts));
  } catch (e) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw e;
  }
  return started;
}
