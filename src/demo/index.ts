// Back-office simulators for the Emscher-Lippe demo, started beside the hub from `demo.simulators`
// in hub.yaml. Real servers (HTTP, SOAP) and a real drop folder, so the hub's adapters are exercised
// exactly as in production.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import type { simulatorSchema } from './schema.ts';
import { CaseBook, type SimCase, type SimContext, type SimQuirks, type SimulatorKind } from './simulators/common.ts';
import { createWasteRestApp } from './simulators/waste-rest.ts';
import { createDogtaxRestApp } from './simulators/dogtax-rest.ts';
import { createDogtaxSoapServer, DEFAULT_PASSWORD, DEFAULT_USERNAME } from './simulators/dogtax-soap.ts';
import { createWasteXmlApp } from './simulators/waste-xml.ts';
import { startWasteBatch } from './simulators/waste-batch.ts';
import { startDmsXdomea } from './simulators/dms-xdomea.ts';
import { createPortal, type PortalControls } from './simulators/portal.ts';
import { startFitConnectDemo } from './simulators/fit-connect-demo.ts';
import { systemClock, type Clock } from '../clock.ts';

export type { SimCase, SimulatorKind } from './simulators/common.ts';
export type { PortalControls, PortalEnvelope, PortalSubmissionView, ReceivedStatus } from './simulators/portal.ts';

/** The back-office kinds, the citizen portal and the FIT-Connect platform. */
export type DemoSimulatorKind = SimulatorKind | 'portal' | 'fit-connect';

/** What hub.yaml's `demo.simulators` entries hold; fields with a default (failureRate, intervalMs, username, password) may be left out. */
export type SimulatorSpec = z.input<typeof simulatorSchema>;

export interface SimulatorOptions {
  /** Interface to listen on; default 127.0.0.1 (the demo never listens publicly). */
  host?: string;
  /** One line per filed case, with the reference only — never form data. */
  logger?: (msg: string) => void;
  /** Source of randomness for injected outages; default Math.random. */
  random?: () => number;
  /** How long each case status lasts before the next (angelegt → disponiert → erledigt); default 60 s. A spec's statusStepMs wins. */
  statusStepMs?: number;
  /**
   * The simulators' clock. They stand for back offices and a portal, which keep time of their own: the machine's
   * clock by default, not the hub's, even when the hub runs them. Tests move it to age cases without waiting.
   */
  now?: Clock;
}

export interface RunningSimulator {
  kind: DemoSimulatorKind;
  /**
   * Where the hub reaches it: http://127.0.0.1:PORT without a trailing slash; for waste-batch and dms-xdomea,
   * which have no port, the drop folder as a file:// URL.
   */
  url: string;
  /** The real port, also when the spec asked for port 0; 0 for waste-batch and dms-xdomea. */
  port: number;
  /** Stops serving (waste-batch: stops polling after the scan in progress). */
  close(): Promise<void>;
  /** Every case filed so far, lost ones included, for tests (the portal: none). */
  cases(): SimCase[];
  /** Only for kind portal: its submissions, the status updates it received, and how to steer it. */
  portal?: PortalControls;
}

/** What starting one kind yields, before the common parts are added. */
interface Started {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const SIMULATOR_KINDS: readonly DemoSimulatorKind[] = [
  'waste-rest',
  'dogtax-rest',
  'dogtax-soap',
  'waste-xml',
  'waste-batch',
  'dms-xdomea',
  'portal',
  'fit-connect',
];

type BackOfficeSpec = Exclude<SimulatorSpec, { kind: 'portal' | 'fit-connect' }>;

async function startKind(spec: BackOfficeSpec, ctx: SimContext, host: string): Promise<Started> {
  switch (spec.kind) {
    case 'waste-rest':
      return serve(createServer(createWasteRestApp(ctx)), spec.port, host, spec.kind);
    case 'dogtax-rest':
      return serve(createServer(createDogtaxRestApp(ctx)), spec.port, host, spec.kind);
    case 'dogtax-soap': {
      const server = await createDogtaxSoapServer(ctx, {
        username: spec.username ?? DEFAULT_USERNAME,
        password: spec.password ?? DEFAULT_PASSWORD,
      });
      return serve(server, spec.port, host, spec.kind);
    }
    case 'waste-xml': {
      const { app, dispose } = createWasteXmlApp(ctx);
      try {
        return await serve(createServer(app), spec.port, host, spec.kind, dispose);
      } catch (e) {
        dispose();
        throw e;
      }
    }
    case 'waste-batch': {
      const intervalMs = spec.intervalMs ?? 2000;
      if (!(Number.isInteger(intervalMs) && intervalMs >= 10))
        throw new Error('waste-batch: intervalMs must be a whole number of at least 10');
      const batch = await startWasteBatch(ctx, { directory: spec.directory, intervalMs });
      return { url: batch.url, port: 0, close: () => batch.close() };
    }
    case 'dms-xdomea': {
      const intervalMs = spec.intervalMs ?? 2000;
      if (!(Number.isInteger(intervalMs) && intervalMs >= 10))
        throw new Error('dms-xdomea: intervalMs must be a whole number of at least 10');
      const dms = await startDmsXdomea(ctx, { directory: spec.directory, intervalMs });
      return { url: dms.url, port: 0, close: () => dms.close() };
    }
    default: {
      // Specs that bypassed the schema (tests, scripts) may name anything.
      const kind: unknown = (spec as { kind: unknown }).kind;
      throw new Error(`unknown simulator kind "${String(kind)}"; known: ${SIMULATOR_KINDS.join(', ')}`);
    }
  }
}

export async function startSimulator(spec: SimulatorSpec, opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  if (!SIMULATOR_KINDS.includes(spec.kind)) {
    throw new Error(`unknown simulator kind "${String(spec.kind)}"; known: ${SIMULATOR_KINDS.join(', ')}`);
  }
  const host = opts.host ?? '127.0.0.1';
  if (spec.kind === 'portal') return startPortal(spec, opts, host);
  if (spec.kind === 'fit-connect') {
    const fc = await startFitConnectDemo(
      { ...spec, submissions: spec.submissions ?? 6, submitEveryMs: spec.submitEveryMs ?? 15_000 },
      { log: opts.logger ?? (() => {}), now: opts.now ?? systemClock },
      host,
    );
    return { kind: 'fit-connect', url: fc.url, port: fc.port, cases: () => [], close: fc.close };
  }
  const failureRate = spec.failureRate ?? 0;
  if (!(failureRate >= 0 && failureRate <= 1)) throw new Error(`${spec.kind}: failureRate must be between 0 and 1`);
  const now = opts.now ?? systemClock;
  const life: SimQuirks & { statusStepMs?: number | undefined } = spec.kind === 'waste-rest' || spec.kind === 'dogtax-rest' ? spec : {};
  const statusStepMs = life.statusStepMs ?? opts.statusStepMs ?? 60_000;
  const ctx: SimContext = {
    kind: spec.kind,
    failureRate,
    random: opts.random ?? Math.random,
    log: opts.logger ?? (() => {}),
    statusStepMs,
    now,
    book: new CaseBook({
      statusStepMs,
      now,
      quirks: { loseEvery: life.loseEvery, duplicateCase: life.duplicateCase, rejectEvery: life.rejectEvery },
    }),
  };
  const started = await startKind(spec, ctx, host);
  let closing: Promise<void> | undefined;
  return {
    kind: spec.kind,
    url: started.url,
    port: started.port,
    cases: () => ctx.book.list(),
    close() {
      closing ??= started.close();
      return closing;
    },
  };
}

async function startPortal(
  spec: Extract<SimulatorSpec, { kind: 'portal' }>,
  opts: SimulatorOptions,
  host: string,
): Promise<RunningSimulator> {
  const { app, controls, timer } = createPortal(spec, opts.logger ?? (() => {}), opts.now ?? systemClock);
  const started = await serve(createServer(app), spec.port, host, spec.kind);
  const stop = timer();
  let closing: Promise<void> | undefined;
  return {
    kind: 'portal',
    url: started.url,
    port: started.port,
    cases: () => [],
    portal: controls,
    close() {
      stop();
      closing ??= started.close();
      return closing;
    },
  };
}

/** Listens and returns how to reach and stop the server; `dispose` releases what the server held once it is closed. */
async function serve(server: Server, port: number, host: string, kind: string, dispose?: () => void): Promise<Started> {
  await listen(server, port, host, kind);
  const real = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${real}`,
    port: real,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          dispose?.();
          if (err) reject(err);
          else resolve();
        });
        // Keep-alive sockets would hold close() open for seconds; the simulator has no work to finish.
        server.closeAllConnections();
      }),
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
