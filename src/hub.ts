import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import type winston from 'winston';
import type Transport from 'winston-transport';
import { loadConfig, type LoadedConfig } from './config/load.ts';
import { adapterRegistry } from './config/adapter-folders.ts';
import { builtinAdapters } from '../adapters/index.ts';
import { createAdapters } from './config/adapter-instances.ts';
import { Router } from './routing/router.ts';
import { createLogger } from './log/logger.ts';
import { openStore } from './store/index.ts';
import type { Store } from './store/index.ts';
import { DeliveryWorker } from './delivery/worker.ts';
import { InProcessRunner } from './delivery/runner/in-process.ts';
import { ThreadRunner } from './delivery/runner/thread-pool.ts';
import { intakeRoutes } from './intake/http.ts';
import { inboundRoutes } from './inbound/http.ts';
import { compileInbound } from './inbound/setup.ts';
import { registerXtaPolling, xtaReaders } from './inbound/xta-job.ts';
import { createHttpApp } from './http/app.ts';
import { answerParserErrors } from './http/client-error.ts';
import { openApiDocument } from './api-description.ts';
import { createMetrics, type Metrics } from './operator/metrics.ts';
import { healthRoutes } from './operator/health.ts';
import { operatorRoutes } from './operator/routes.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { registerReconciliation } from './reconcile/jobs.ts';
import { registerPrune } from './maintenance/prune-job.ts';
import { StatusRecorder } from './status/recorder.ts';
import { StatusOutboxWorker } from './status/outbox-worker.ts';
import { pushRoutes } from './status/push-routes.ts';
import { reconcileRoutes } from './reconcile/http.ts';
import { reconcilePortals, reconcileTargets } from './reconcile/sides.ts';
import { OPERATOR_TOKEN_ENV } from './operator/operator-auth.ts';
import { createOperatorAccess } from './operator/access/index.ts';
import { chain } from './operator/access/session-access.ts';
import type { OperatorAccess } from './operator/access.ts';
import { storeAuditTrail } from './audit/store-trail.ts';
import type { AuditTrail } from './audit/trail.ts';
import { registerTargetMetrics } from './operator/targets-api.ts';
import { systemClock, type Clock } from './clock.ts';
import { LogTap } from './console/log-tap.ts';
import { consoleApiRoutes } from './console/api.ts';
import { buildDestinations } from './intake/fit-connect/destination.ts';
import { FitConnectPoller } from './intake/fit-connect/poller.ts';
import { registerFitConnectPolls } from './intake/fit-connect/poll-job.ts';
import { fitConnectCallbackRoutes } from './intake/fit-connect/callback-route.ts';
import { hubKeys } from './security/hub-keys.ts';
import { withDatabasePassword } from './config/database-password.ts';
import { consolePages } from './console/pages/routes.ts';
import { portalGuards } from './intake/portal-guards.ts';

export interface HubOptions {
  configDir: string;
  dataDir: string;
  /** Overrides server.port from the configuration; 0 picks a free port. */
  port?: number | undefined;
  host?: string | undefined;
  /** Overrides database.url: postgres://… */
  databaseUrl?: string | undefined;
  /** `databaseUrl` came from `--database-url`: a password in it was visible in the process list (a warning says so). */
  databaseUrlOnCommandLine?: boolean;
  /** PostgreSQL schema (tests). */
  databaseSchema?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /**
   * What runs beside the hub (`amtsbote start` passes the demo simulators): started once the configuration is
   * loaded and the store is open, before the adapters and HTTP; closed after the hub.
   */
  alongside?: (config: LoadedConfig['hub'], logger: winston.Logger) => Promise<readonly { close(): Promise<unknown> }[]>;
  worker?: Partial<LoadedConfig['hub']['worker']>;
  /**
   * The hub's one clock, handed to every part that stamps or compares time (src/clock.ts); default the machine's.
   * Tests move it to a delivery window's edge, a breaker's cool-down or a retention's end.
   */
  clock?: Clock;
  log?: { console?: boolean; file?: boolean; transports?: Transport[] };
  /** How the operator area admits requests; default: the configured tokens, sessions and OIDC (src/operator/access/). */
  access?: OperatorAccess;
  /** Where features record operator and admin actions (src/audit/trail.ts); the retention purge records `purge`. */
  audit?: AuditTrail;
}

export interface Hub {
  url: string;
  port: number;
  config: LoadedConfig;
  router: Router;
  store: Store;
  worker: DeliveryWorker | undefined;
  logger: winston.Logger;
  metrics: Metrics;
  scheduler: Scheduler;
  /** The status back-channel's StatusSink: the worker and reconciliation report back-office status here. */
  statusRecorder: StatusRecorder;
  statusOutbox: StatusOutboxWorker | undefined;
  /** How the operator area admits requests: tokens, sessions, OIDC (the console's pages use it too). */
  access: OperatorAccess;
  /** The audit trail of operator and admin actions. */
  audit: AuditTrail;
  /** The live sync log the console streams: the last lines and every new one. */
  logTap: LogTap;
  /** The FIT-Connect subscriber: its destinations and their polls. */
  fitConnect: FitConnectPoller;
  close(): Promise<void>;
}

/** Loads and checks the configuration, opens the store, starts what runs alongside, adapters, worker, schedules and HTTP. */
export async function startHub(opts: HubOptions): Promise<Hub> {
  const config = loadConfig(opts.configDir, {
    adapters: await adapterRegistry(opts.configDir, builtinAdapters),
    env: opts.env ?? process.env,
  });
  const router = new Router(config);
  const inbound = compileInbound(config);
  const hub = config.hub;
  const clock = opts.clock ?? systemClock;
  const logTap = new LogTap();
  const logger = createLogger({
    level: hub.log.level,
    console: opts.log?.console ?? hub.log.console,
    dir: (opts.log?.file ?? hub.log.file) ? path.join(opts.dataDir, 'logs') : undefined,
    transports: [...(opts.log?.transports ?? []), logTap],
  });
  const cleanup: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const c of cleanup.reverse()) await c().catch((e: Error) => logger.error('shutdown step failed', { error: e.message }));
  };
  try {
    // The password from AMTSBOTE_DATABASE_PASSWORD(_FILE), so it never needs the command line (database-password.ts).
    const { url: databaseUrl, warnings: urlWarnings } = withDatabasePassword(
      opts.databaseUrl ?? hub.database.url,
      opts.env ?? process.env,
      Boolean(opts.databaseUrl && opts.databaseUrlOnCommandLine),
    );
    for (const w of urlWarnings) logger.warn(w);
    const keys = hubKeys({ env: opts.env ?? process.env, dataDir: opts.dataDir, postgres: Boolean(databaseUrl), logger });
    cleanup.push(async () => keys?.close());
    const store = await openStore({
      keys,
      url: databaseUrl || undefined,
      sqliteFile: path.join(opts.dataDir, 'amtsbote.sqlite'),
      exclusive: true,
      ...(opts.databaseSchema ? { schema: opts.databaseSchema } : {}),
    });
    cleanup.push(() => store.close());
    logger.info('store ready', { database: store.dialect.name });
    for (const w of await store.maintenanceWarnings()) logger.warn(w);

    const beside = opts.alongside ? await opts.alongside(hub, logger) : [];
    cleanup.push(() => Promise.all(beside.map((s) => s.close())));

    // The same build `amtsbote config check` runs: what fails here fails there first.
    const adapters = await createAdapters(config, (t) => logger.child({ target: t.id, adapter: t.adapter.type }), clock);
    cleanup.push(() => Promise.all([...adapters.values()].map((a) => a.close?.())));

    const metrics = createMetrics(() => store.deliveryCounts());
    registerTargetMetrics(metrics, store, clock);

    const workerCfg = { ...hub.worker, ...opts.worker };
    // Status updates to portals go out with the deliveries: an intake-only instance (worker disabled) sends none.
    const statusOutbox: StatusOutboxWorker | undefined = workerCfg.enabled
      ? new StatusOutboxWorker({
          statusStore: store.status,
          portals: hub.portals,
          logger: logger.child({ component: 'status-outbox' }),
          metrics,
          pollIntervalMs: workerCfg.pollIntervalMs,
          leaseMs: workerCfg.leaseMs,
          shutdownGraceMs: workerCfg.shutdownGraceMs,
          now: clock,
        })
      : undefined;
    const statusRecorder: StatusRecorder = new StatusRecorder({
      store,
      config: hub,
      logger: logger.child({ component: 'status' }),
      metrics,
      onQueued: () => statusOutbox?.wake(),
      now: clock,
    });
    // A delivered case is RECEIVED for the portal, in the same commit.
    store.onDelivered(statusRecorder.deliveredHook());
    // Rendering and sending, on the event loop or on delivery threads that build their own adapters from the same
    // folder. The threads report ready before HTTP opens and the worker claims; they close before the adapters.
    const runner =
      workerCfg.enabled && workerCfg.threads > 0
        ? new ThreadRunner({
            threads: workerCfg.threads,
            configDir: opts.configDir,
            env: opts.env ?? process.env,
            router,
            logger,
            now: clock,
          })
        : new InProcessRunner({ router, adapters });
    cleanup.push(() => runner.close());
    if (workerCfg.enabled) await runner.open();
    const worker = workerCfg.enabled
      ? new DeliveryWorker({
          store,
          router,
          adapters,
          runner,
          logger,
          metrics,
          concurrency: workerCfg.concurrency,
          pollIntervalMs: workerCfg.pollIntervalMs,
          leaseMs: workerCfg.leaseMs,
          shutdownGraceMs: workerCfg.shutdownGraceMs,
          ackPollMs: workerCfg.ackPollMs,
          now: clock,
        })
      : undefined;

    // Created before HTTP (the operator API runs reconciliations on demand), started after it.
    const scheduler = new Scheduler({ lock: store.reconcile, logger, now: clock });
    const reconciliation = registerReconciliation(scheduler, hub.schedules, {
      rstore: store.reconcile,
      targets: reconcileTargets(config, adapters),
      portals: reconcilePortals(hub.portals, { store, router, logger, now: clock, onAccepted: () => worker?.wake() }),
      status: statusRecorder,
      metrics,
      logger,
      onRedelivered: () => worker?.wake(),
      now: clock,
    });
    const audit = opts.audit ?? storeAuditTrail(store.audit, clock);
    registerPrune(scheduler, hub.schedules, { prune: store.prune, metrics, now: clock, retention: hub.retention, audit });
    // XTA message boxes the hub reads (docs/xta2.md); their sockets close with the hub.
    const readers = xtaReaders(config, inbound, { store, router, logger, now: clock, onAccepted: () => worker?.wake() });
    cleanup.push(async () => {
      for (const r of readers) r.close();
    });
    registerXtaPolling(scheduler, readers);
    const operatorAccess = createOperatorAccess({
      config: hub.access,
      serverHost: opts.host ?? hub.server.host,
      tenants: hub.tenants,
      store,
      audit,
      env: opts.env ?? process.env,
      logger: logger.child({ component: 'access' }),
      now: clock,
    });
    // A test may hand in its own access (e.g. a fixed principal); the hub's is tokens, sessions and OIDC.
    const access = opts.access ?? operatorAccess.access;
    const authenticate = access.api;
    // Changes need a session's CSRF token and at least the role operator; reading needs a viewer.
    const operate = chain(access.api, access.csrf, access.requireRole('operator'));
    // After what runs alongside: the demo's FIT-Connect simulator writes the destination's keys on its first start.
    const fitConnect = new FitConnectPoller(await buildDestinations(config, router, inbound, clock), {
      store,
      router,
      serviceSchemas: inbound.serviceSchemas,
      logger: logger.child({ component: 'fit-connect' }),
      metrics,
      now: clock,
      onStored: () => worker?.wake(),
    });
    const fitConnectPolls = registerFitConnectPolls(scheduler, fitConnect, { logger, now: clock });

    // One rate budget and replay memory per portal for the envelope intake and the inbound channels.
    const guards = portalGuards(clock);
    const openApi = express.Router().get('/openapi.json', (_req, res) => res.json(openApiDocument));
    const app = createHttpApp({
      logger,
      mounts: [
        {
          path: '/api/v1',
          router: intakeRoutes({
            store,
            router,
            logger,
            metrics,
            bodyLimit: hub.server.bodyLimit,
            attachmentLimits: hub.intake.attachments,
            now: clock,
            guards,
            onAccepted: () => worker?.wake(),
            serviceSchemas: inbound.serviceSchemas,
          }),
        },
        {
          path: '/api/v1',
          router: inboundRoutes({
            store,
            router,
            inbound,
            logger,
            metrics,
            bodyLimit: hub.server.bodyLimit,
            now: clock,
            guards,
            onAccepted: () => worker?.wake(),
          }),
        },
        { path: '/api/v1', router: pushRoutes({ recorder: statusRecorder, targets: hub.targets, now: clock }) },
        {
          path: '/api/v1',
          router: operatorRoutes({
            store,
            config,
            logger,
            token: (opts.env ?? process.env)[OPERATOR_TOKEN_ENV],
            authenticate,
            operate,
            audit,
            now: clock,
            onReplayed: () => worker?.wake(),
          }),
        },
        {
          path: '/api/v1',
          router: reconcileRoutes({
            rstore: store.reconcile,
            reconciliation,
            knownTargets: [...config.targets.keys()],
            authenticate,
            operate,
            audit,
            logger,
            now: clock,
            onRedelivered: () => worker?.wake(),
          }),
        },
        { path: '/api/v1', router: consoleApiRoutes({ store, access, audit, logTap, now: clock }) },
        {
          path: '/api/v1',
          router: fitConnectCallbackRoutes({ poller: fitConnect, trigger: fitConnectPolls.trigger, logger, now: clock }),
        },
        { path: '/api/v1', router: openApi },
        { path: '/', router: operatorAccess.routes },
        {
          path: '/',
          router: consolePages({
            store,
            config,
            adapters,
            access,
            audit,
            logTap,
            logger,
            now: clock,
            onReplayed: () => worker?.wake(),
          }),
        },
        { path: '/', router: healthRoutes({ store, metrics, worker: () => Boolean(worker) }) },
      ],
    });

    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(opts.port ?? hub.server.port, opts.host ?? hub.server.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    server.keepAliveTimeout = 65_000;
    answerParserErrors(server);
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Live-log streams stay open until told: end them so the server can close.
          logTap.endAll();
          server.closeIdleConnections();
        }),
    );
    // Stop claiming first on shutdown (pushed last, runs first).
    worker?.start();
    statusOutbox?.start();
    cleanup.push(async () => statusOutbox?.stop());
    cleanup.push(async () => worker?.stop());

    void reconciliation
      .closeAbandoned()
      .catch((e: Error) => logger.warn('could not close abandoned reconciliation runs', { error: e.message }));
    scheduler.start();
    cleanup.push(() => scheduler.stop());
    // Accept-on-restart: what was stored but not accepted before a stop or crash is answered now, not at the next firing.
    for (const d of fitConnect.destinations) fitConnectPolls.trigger(d.config.name);

    const { port } = server.address() as AddressInfo;
    const host = opts.host ?? hub.server.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    logger.info('hub started', { url, targets: config.targets.size, routes: hub.routes.length, worker: Boolean(worker) });
    let closed: Promise<void> | undefined;
    return {
      url,
      port,
      config,
      router,
      store,
      worker,
      logger,
      metrics,
      scheduler,
      statusRecorder,
      statusOutbox,
      access,
      audit,
      logTap,
      fitConnect,
      close: () =>
        (closed ??= closeAll().then(() => {
          logger.info('hub stopped');
        })),
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
