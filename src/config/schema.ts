import { createHash } from 'node:crypto';
import { z } from 'zod';
import { validate as validCron } from 'node-cron';
import { parseWindow } from '../core/policy/window.ts';
import type { RetryPolicy } from '../core/policy/retry.ts';
import { PORTAL_STATUSES } from '../core/status/types.ts';
// The demo section's schema is the demo's own (a zod-only leaf); config validates it with the rest.
import { demoSchema } from '../demo/schema.ts';
// Likewise the inbound channel's schema: a zod-only leaf; compiling a channel happens outside config.
import { inboundChannelSchema } from '../inbound/channel-schema.ts';
import { accessSchema } from './access-schema.ts';
import { xtaMailboxSchema } from '../inbound/xta-mailbox-schema.ts';
import { fitConnectSchema } from './fit-connect-schema.ts';
import { retentionSchema } from './retention.ts';
import { attachmentLimitsSchema } from './intake-limits.ts';

// One schema for the whole configuration. The folder's YAML files are merged by top-level key
// (hub.yaml holds server/database/worker/…, tenants.yaml holds `tenants`, and so on).

export const tenantKey = z.string().regex(/^\d{5}(\d{3})?$/, 'an official key: 8-digit AGS of a municipality or 5-digit key of a district');

export const durationMs = z.number().int().nonnegative();

export const retryPolicy = z
  .object({
    baseDelayMs: durationMs.default(2_000).describe('delay before the 2nd attempt; doubles each time'),
    maxDelayMs: durationMs.default(15 * 60_000).describe('cap of the exponential back-off'),
    maxAttempts: z.number().int().min(1).max(1000).default(10),
    jitter: z.number().min(0).max(1).default(0.2).describe('fraction of each delay drawn at random, so retries spread'),
    maxAgeMs: durationMs
      .min(1000)
      .optional()
      .describe('give up retrying once a delivery is this old (from its submission), whatever the attempts'),
  })
  .strict() satisfies z.ZodType<RetryPolicy>;

export const breakerPolicy = z
  .object({
    enabled: z.boolean().default(true),
    failureThreshold: z.number().int().min(1).max(1000).default(5).describe('consecutive retryable failures that open the breaker'),
    cooldownMs: durationMs.min(100).default(30_000).describe('how long the breaker stays open before one delivery probes the back office'),
  })
  .strict();

export const rateLimitPolicy = z
  .object({
    maxInFlight: z.number().int().min(1).max(1000).optional().describe('at most this many attempts at once, across all hub instances'),
    perMinute: z
      .number()
      .min(0.01)
      .max(1_000_000)
      .optional()
      .describe('at most this many attempts started per minute, across all hub instances'),
    burst: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(1)
      .describe('attempts that may start at once after a quiet spell; the rest are spaced 60/perMinute seconds apart'),
  })
  .strict();

function checkWindow(text: string, ctx: z.RefinementCtx): void {
  const parsed = parseWindow(text);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
}

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
    dataSchema: z
      .string()
      .min(1)
      .optional()
      .describe("a JSON Schema for the submission's data, relative to the configuration folder; bad data is refused with 422 at intake"),
  })
  .strict();

/** The portal's vocabulary for where a case stands (src/core/status/types.ts). */
const portalStatusWord = z.enum(PORTAL_STATUSES);

/** Where the hub sends a portal its submissions' status changes (docs/status.md). */
export const statusCallbackSchema = z
  .object({
    url: z
      .string()
      .regex(/^https?:\/\//, 'an http(s) URL')
      .describe('POSTed one JSON status update at a time, in order per submission'),
    token: z.string().min(16).optional().describe('sent as Authorization: Bearer; write ${env:NAME}, never logged'),
    timeoutMs: durationMs.min(100).default(10_000),
    retry: z
      .object({ ...retryPolicy.shape, maxAttempts: z.number().int().min(1).max(1000).default(100) })
      .strict()
      .prefault({})
      .describe('back-off between tries; after maxAttempts (or a 4xx other than 408/429) the update is dropped as failed'),
  })
  .strict();

/** How a target's back office reports status (docs/status.md). */
export const targetStatusSchema = z
  .object({
    map: z
      .record(z.string().min(1), portalStatusWord)
      .default({})
      .describe("the back office's status words (case-insensitive) → RECEIVED, PROCESSING, ACTION_REQUIRED, COMPLETED or REJECTED"),
    defaults: z.boolean().default(true).describe('also use the built-in map of common German and English words (after `map`)'),
    push: z
      .object({
        token: z
          .string()
          .min(16)
          .optional()
          .describe('bearer token for POST /api/v1/backoffice-events, written ${env:NAME}; only its hash is kept'),
        tokenHash: z
          .string()
          .regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>')
          .optional(),
      })
      .strict()
      .refine((p) => (p.token ? 1 : 0) + (p.tokenHash ? 1 : 0) === 1, {
        message: 'give exactly one of token or tokenHash',
        path: ['token'],
      })
      // The token leaves memory here: only its hash is kept.
      .transform((p) => ({ tokenHash: p.tokenHash ?? 'sha256:' + createHash('sha256').update(p.token!, 'utf8').digest('hex') }))
      .optional()
      .describe('lets the back office push status to POST /api/v1/backoffice-events'),
  })
  .strict();

/** A portal's listing API: GET <url>?since=…&cursor=… and GET <url>/<externalId> (docs/reconciliation-portal.md). */
export const portalListingSchema = z
  .object({
    url: z
      .string()
      .regex(/^https?:\/\/[^/@\s]+(\/[^?#\s]*)?$/, 'an http(s) URL without credentials, query or fragment')
      .describe('the submissions collection'),
    token: z.string().min(16).optional().describe('sent as Authorization: Bearer; write ${env:NAME}, never logged'),
    fetchMissing: z
      .enum(['auto', 'flag'])
      .default('flag')
      .describe('a submission the portal has and the hub lacks: auto fetches and takes it in, flag only reports it'),
    timeoutMs: durationMs.min(100).default(10_000),
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
    tenants: z
      .array(z.union([tenantKey, z.literal('*')]))
      .min(1)
      .describe('tenants this portal may submit for; a district key includes its municipalities'),
    statusCallback: statusCallbackSchema.optional().describe("where the hub sends status changes of this portal's submissions"),
    listing: portalListingSchema
      .optional()
      .describe("the portal's listing API, for reconciling portal vs hub (docs/reconciliation-portal.md)"),
    rateLimit: z
      .object({
        perMinute: z.number().min(0.01).max(1_000_000).describe('submissions per minute this token may send, on each hub instance'),
        burst: z.number().int().min(1).max(100_000).default(60).describe('submissions that may come at once after a quiet spell'),
      })
      .strict()
      .optional()
      .describe('a limit on POST /api/v1/submissions for this token: 429 with Retry-After beyond it (docs/security.md)'),
    signing: z
      .object({
        secret: z.string().min(32).describe('the shared HMAC-SHA256 key, written ${env:NAME}; never logged'),
        windowSeconds: z
          .number()
          .int()
          .min(10)
          .max(3600)
          .default(300)
          .describe('how far the signed timestamp may lie from the hub clock, and how long a signature is remembered against replays'),
      })
      .strict()
      .optional()
      .describe('require X-Amtsbote-Timestamp and X-Amtsbote-Signature on submissions from this portal (docs/security.md)'),
  })
  .strict()
  .refine((p) => (p.token ? 1 : 0) + (p.tokenHash ? 1 : 0) === 1, {
    message: 'give exactly one of token or tokenHash',
    path: ['token'],
  });

/** Reconciliation of one target against its back office (needs an adapter with list() or status()). */
export const targetReconcileSchema = z
  .object({
    schedule: z
      .string()
      .refine((c) => validCron(c), 'a cron expression with five or six fields')
      .optional()
      .describe('when to reconcile this target; absent: only in global reconcile schedules and on demand'),
    timezone: z
      .string()
      .refine((tz) => Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC', 'an IANA time zone such as Europe/Berlin')
      .default('Europe/Berlin'),
    redeliver: z
      .enum(['auto', 'ask'])
      .optional()
      .describe('a case missing in the back office: auto re-delivers it, ask waits for an operator; absent: flag only'),
    graceMinutes: z
      .number()
      .int()
      .min(0)
      .default(15)
      .describe('cases delivered less than this long ago are not yet expected in the back office'),
    lookbackDays: z.number().int().min(1).max(3660).default(7).describe('how far back to compare'),
    concurrency: z.number().int().min(1).max(64).default(4).describe('status() questions in flight, for adapters without list()'),
    retry: z
      .object({
        maxAttempts: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(4)
          .describe('tries of the listing (or of one status lookup), never more than policy.retry.maxAttempts'),
        maxDurationMs: durationMs
          .default(120_000)
          .describe('no further try starts once this long has passed since the first, waits included'),
      })
      .strict()
      .optional()
      .describe("how often a failed listing is tried again, with policy.retry's delays; absent: 4 tries within 2 minutes"),
  })
  .strict();

export const targetSchema = z
  .object({
    adapter: z.string().min(1).describe('the adapter type, e.g. rest'),
    description: z.string().optional(),
    format: z
      .enum(['json', 'xml', 'original', 'xdomea'])
      .optional()
      .describe(
        "the message format; original sends an inbound channel's document unchanged; xdomea an XSD-checked xdomea 3.0 zip container; default: the adapter's",
      ),
    timeoutMs: durationMs.min(100).default(30_000),
    options: z.record(z.string(), z.unknown()).default({}),
    policy: z
      .object({
        retry: retryPolicy.prefault({}),
        breaker: breakerPolicy.prefault({}),
        rateLimit: rateLimitPolicy.prefault({}),
        windows: z
          .array(z.string().superRefine(checkWindow))
          .min(1)
          .optional()
          .describe('when the back office takes deliveries, e.g. "Mon-Fri 06:00-22:00 Europe/Berlin"; outside them deliveries wait'),
      })
      .strict()
      .prefault({}),
    status: targetStatusSchema
      .prefault({})
      .describe("how the back office's status words map to the portal's, and whether it may push them"),
    reconcile: targetReconcileSchema
      .optional()
      .describe('compare what the hub delivered with what the back office holds (docs/reconciliation.md)'),
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
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .describe('stable id, shown in logs and the sync log'),
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
  cron: z
    .string()
    .refine((c) => validCron(c), 'a cron expression with five or six fields, e.g. */5 * * * *')
    .describe('cron expression with five or six fields'),
  timezone: z
    .string()
    .refine((tz) => Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC', 'an IANA time zone such as Europe/Berlin')
    .default('Europe/Berlin'),
};

const retentionDays = z.number().int().min(1).max(3660);

/** What the `prune` job keeps; exported so `amtsbote prune` without a prune schedule uses the same defaults. */
export const pruneOptionsSchema = z
  .object({
    reconcileRunsDays: retentionDays
      .default(90)
      .describe(
        'reconciliation runs (finished or failed) started more than this many days ago are deleted with their findings; never a run still running or one with a finding awaiting an operator',
      ),
    emptyRunsDays: retentionDays.default(7).describe('finished runs that found nothing are deleted after this many days already'),
    statusOutboxDays: retentionDays
      .default(30)
      .describe('status updates for portals that were delivered or given up more than this many days ago are deleted; pending ones never'),
  })
  .strict();

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
  z
    .object({
      ...scheduleBase,
      job: z
        .literal('reconcile')
        .describe('stuck deliveries, hub vs back office, portal vs hub; one recorded run (docs/reconciliation.md)'),
      options: z
        .object({
          targets: z
            .array(z.string().min(1))
            .min(1)
            .optional()
            .describe('only these targets; default: every target with reconcile settings'),
          tenants: z.array(tenantKey).min(1).optional().describe('only deliveries of these tenants'),
          lookbackDays: z
            .number()
            .int()
            .min(1)
            .max(3660)
            .optional()
            .describe("how far back to compare; default: each target's reconcile.lookbackDays"),
          stuckAfterMinutes: z.number().int().min(1).default(15).describe('open deliveries this long past due are reported as stuck'),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  z
    .object({
      ...scheduleBase,
      job: z
        .literal('prune')
        .describe(
          'deletes old reconciliation runs and finished portal status updates, so the database does not grow without bound (docs/operations.md)',
        ),
      options: pruneOptionsSchema.prefault({}),
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
          .describe(
            'folders with more adapters, relative to the config folder: each subfolder whose index.ts (or index.js) default-exports defineAdapter(...)',
          ),
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
        threads: z
          .number()
          .int()
          .min(0)
          .max(16)
          .default(0)
          .describe(
            'worker threads that render and send the messages beside the event loop (docs/throughput.md); 0 renders and sends on the event loop',
          ),
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
    demo: demoSchema,
    access: accessSchema
      .prefault({})
      .describe("the operator console's logins: sessions, throttle, scoped tokens, OpenID Connect (docs/console-access.md)"),
    intake: z
      .object({ attachments: attachmentLimitsSchema.prefault({}) })
      .strict()
      .prefault({})
      .describe('limits on what a portal may send with one submission'),
    retention: retentionSchema
      .prefault({})
      .describe(
        'how long form data and attachments stay once every delivery of a submission is final; the prune schedule deletes them (docs/security.md)',
      ),
  })
  .strict();

export const configSchema = hubSchema.extend({
  tenants: z.array(tenantSchema).default([]),
  services: z.array(serviceSchema).default([]),
  portals: z.array(portalSchema).default([]),
  targets: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case id'), targetSchema).default({}),
  routes: z.array(routeSchema).default([]),
  schedules: z.array(scheduleSchema).default([]),
  inbound: z
    .object({
      channels: z
        .array(inboundChannelSchema)
        .default([])
        .describe('standards messages taken as they are: POST /api/v1/inbound/{name} (docs/inbound.md)'),
      xta: z
        .array(xtaMailboxSchema)
        .default([])
        .describe('XTA 2 message boxes the hub reads on a schedule, each message through an inbound channel (docs/xta2.md)'),
    })
    .strict()
    .prefault({}),
  fitConnect: fitConnectSchema,
});

export type ConfigInput = z.input<typeof configSchema>;
export type HubConfig = z.output<typeof configSchema>;
export type TenantConfig = z.output<typeof tenantSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type PortalConfig = z.output<typeof portalSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type { InboundChannelConfig } from '../inbound/channel-schema.ts';
/** The retry rule's own type (src/core/policy/retry.ts); the schema above is checked to produce it. */
export type { RetryPolicy };
export type BreakerPolicy = z.output<typeof breakerPolicy>;
export type RateLimitPolicy = z.output<typeof rateLimitPolicy>;
export type StatusCallbackConfig = z.output<typeof statusCallbackSchema>;
export type TargetStatusConfig = z.output<typeof targetStatusSchema>;
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type PruneOptions = z.output<typeof pruneOptionsSchema>;
export type TargetReconcileConfig = z.output<typeof targetReconcileSchema>;
