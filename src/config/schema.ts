import { z } from 'zod';
import { validate as validCron } from 'node-cron';

// One schema for the whole configuration. The folder's YAML files are merged by top-level key
// (hub.yaml holds server/database/worker/…, tenants.yaml holds `tenants`, and so on).

export const tenantKey = z
  .string()
  .regex(/^\d{5}(\d{3})?$/, 'an official key: 8-digit AGS of a municipality or 5-digit key of a district');

export const durationMs = z.number().int().nonnegative();

export const retryPolicy = z
  .object({
    baseDelayMs: durationMs.default(2_000).describe('delay before the 2nd attempt; doubles each time'),
    maxDelayMs: durationMs.default(15 * 60_000).describe('cap of the exponential back-off'),
    maxAttempts: z.number().int().min(1).max(1000).default(10),
    jitter: z.number().min(0).max(1).default(0.2).describe('fraction of each delay drawn at random, so retries spread'),
  })
  .strict();

export const tenantSchema = z
  .object({
    key: tenantKey,
    name: z.string().min(1),
    parent: tenantKey.optional().describe('the district a municipality belongs to'),
  })
  .strict();

export const serviceSchema = z
  .object({
    slug: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    leika: z.string().regex(/^\d{14}$/, 'a 14-digit LeiKa key'),
    name: z.string().min(1),
  })
  .strict();

export const portalSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    name: z.string().min(1),
    token: z.string().min(16).optional().describe('the bearer token, written ${env:NAME}; only its hash is kept in memory'),
    tokenHash: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>')
      .optional()
      .describe('the SHA-256 of the bearer token, for configurations that must not hold the token'),
    tenants: z.array(z.union([tenantKey, z.literal('*')])).min(1).describe('tenants this portal may submit for; a district key includes its municipalities'),
  })
  .strict()
  .refine((p) => (p.token ? 1 : 0) + (p.tokenHash ? 1 : 0) === 1, {
    message: 'give exactly one of token or tokenHash',
    path: ['token'],
  });

export const targetSchema = z
  .object({
    adapter: z.string().min(1).describe('the adapter type, e.g. rest'),
    description: z.string().optional(),
    format: z.enum(['json', 'xml']).optional().describe("the message format; default: the adapter's"),
    timeoutMs: durationMs.min(100).default(30_000),
    options: z.record(z.string(), z.unknown()).default({}),
    policy: z
      .object({ retry: retryPolicy.prefault({}) })
      .strict()
      .prefault({}),
    xml: z
      .object({
        declaration: z.boolean().default(true),
        indent: z.boolean().default(false),
      })
      .strict()
      .prefault({})
      .describe('how a mapping result is written as XML for this target'),
  })
  .strict();

export const routeSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).describe('stable id, shown in logs and the sync log'),
    tenants: z.array(tenantKey).min(1),
    service: z.string().min(1).describe('service slug or LeiKa key'),
    targets: z
      .array(
        z
          .object({
            target: z.string().min(1),
            mapping: z.string().regex(/\.jsonata$/, 'a .jsonata file, relative to the mappings folder'),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

const scheduleBase = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  cron: z.string().refine((c) => validCron(c), 'a cron expression with five or six fields, e.g. */5 * * * *').describe('cron expression with five or six fields'),
  timezone: z
    .string()
    .refine((tz) => Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC', 'an IANA time zone such as Europe/Berlin')
    .default('Europe/Berlin'),
};

/** Each job with its own options, so a typo in an option fails at start-up. */
export const scheduleSchema = z.discriminatedUnion('job', [
  z
    .object({
      ...scheduleBase,
      job: z.literal('stuck-deliveries').describe('reports open deliveries that are overdue'),
      options: z
        .object({ olderThanMinutes: z.number().int().min(1).default(15).describe('how long past due counts as stuck') })
        .strict()
        .prefault({}),
    })
    .strict(),
]);

const simulatorPort = z.number().int().min(1).max(65535).describe('port on 127.0.0.1');
const simulatorFailureRate = (what: string) => z.number().min(0).max(1).default(0).describe(what);

/** One entry of demo.simulators; each kind with its own fields, so a typo fails at start-up. */
export const simulatorSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('waste-rest').describe('GELSENDIENSTE (Gelsenkirchen), BEST (Bottrop), Kreis Recklinghausen: JSON over HTTP'),
      port: simulatorPort,
      failureRate: simulatorFailureRate('share of requests answered 503'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('dogtax-rest').describe('the dog-tax offices of Gelsenkirchen, Bottrop and the Kreis towns: JSON over HTTP'),
      port: simulatorPort,
      failureRate: simulatorFailureRate('share of requests answered 503'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('dogtax-soap').describe("Bottrop's dog-tax office: SOAP 1.1 at /hundesteuer, config/wsdl/hundesteuer-bottrop.wsdl"),
      port: simulatorPort,
      failureRate: simulatorFailureRate('share of requests answered with a soap:Server fault'),
      username: z.string().min(1).default('demo-bottrop').describe('WS-Security UsernameToken user the service accepts'),
      password: z.string().min(1).default('demo-password').describe('the password behind the PasswordDigest the service accepts (demo only)'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('waste-xml').describe("Herten's and Marl's waste office: XML over HTTP, config/xsd/sperrmuell-auftrag.xsd"),
      port: simulatorPort,
      failureRate: simulatorFailureRate('share of requests answered 503'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('waste-batch').describe("Dorsten's legacy waste system: a batch job polling a drop folder, answering <file>.ok / <file>.err"),
      directory: z.string().min(1).describe('the drop folder; relative paths resolve against the working directory; created if missing'),
      intervalMs: z.number().int().min(10).default(2000).describe('how often the job looks for new files'),
      failureRate: simulatorFailureRate('share of files answered with .err "Verarbeitungsfehler im Nachtlauf"'),
    })
    .strict(),
]);

export const hubSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(3000),
        bodyLimit: z
          .string()
          .regex(/^\d+(kb|mb)$/i, 'a size like 25mb or 512kb')
          .default('25mb'),
      })
      .strict()
      .prefault({}),
    database: z
      .object({
        url: z.string().optional().describe('postgres://… for PostgreSQL; empty for SQLite in the data folder'),
      })
      .strict()
      .prefault({}),
    paths: z
      .object({
        mappings: z.string().default('mappings').describe('the mappings folder, relative to the config folder'),
        adapters: z
          .array(z.string().min(1))
          .default([])
          .describe('folders with more adapters, relative to the config folder: each subfolder whose index.ts (or index.js) default-exports defineAdapter(...)'),
      })
      .strict()
      .prefault({}),
    worker: z
      .object({
        enabled: z.boolean().default(true),
        concurrency: z.number().int().min(1).max(256).default(8),
        pollIntervalMs: durationMs.min(10).default(500),
        leaseMs: durationMs.min(1000).default(120_000),
        shutdownGraceMs: durationMs.default(10_000),
        ackPollMs: durationMs.min(10).default(5_000).describe('how often to ask a back office whether it acknowledged a hand-over'),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
        file: z.boolean().default(true).describe('also write JSON lines to <data>/logs/amtsbote.log'),
        console: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    demo: z
      .object({ simulators: z.array(simulatorSchema).default([]) })
      .strict()
      .optional()
      .describe('back-office simulators started beside the hub'),
  })
  .strict();

export const configSchema = hubSchema.extend({
  tenants: z.array(tenantSchema).default([]),
  services: z.array(serviceSchema).default([]),
  portals: z.array(portalSchema).default([]),
  targets: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case id'), targetSchema).default({}),
  routes: z.array(routeSchema).default([]),
  schedules: z.array(scheduleSchema).default([]),
});

export type ConfigInput = z.input<typeof configSchema>;
export type HubConfig = z.output<typeof configSchema>;
export type TenantConfig = z.output<typeof tenantSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type PortalConfig = z.output<typeof portalSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type RetryPolicy = z.output<typeof retryPolicy>;
export type ScheduleConfig = z.output<typeof scheduleSchema>;
