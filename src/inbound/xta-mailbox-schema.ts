// The configuration of an XTA 2 message box the hub reads (docs/xta2.md): a zod-only leaf like channel-schema.ts,
// so the hub's configuration schema includes it without loading the XTA client.

import { z } from 'zod';
import { checkHttpUrl } from '../sdk/urls.ts';
import { tlsOptions } from '../sdk/tls.ts';

const url = z.string().superRefine(checkHttpUrl('tls'));

export const xtaMailboxSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes')
      .describe('the message box in logs and schedules (schedule id xta:<name>)'),
    description: z.string().optional(),
    channel: z.string().min(1).describe('the inbound channel (inbound.channels[].name) every message is read through: schema, mapping'),
    portal: z.string().min(1).describe('the portal (portals[].id) the messages are stored as; it must be allowed for their tenants'),
    endpoints: z.object({ msgBox: url.describe("the XTA server's MsgBoxPort: getStatusList, getMessage, close") }).strict(),
    account: z
      .object({
        identifier: z.string().min(1).describe("the hub's account (oscimeta:Author of its requests; the messages' Reader)"),
        type: z.string().min(1).default('xoev'),
        name: z.string().min(1).optional(),
        category: z.string().min(1).optional(),
      })
      .strict(),
    tls: tlsOptions
      .optional()
      .describe(
        'client certificate and key the XTA server authenticates the hub by, and its CA; paths relative to the configuration folder',
      ),
    cron: z
      .string()
      .min(1)
      .default('*/30 * * * * *')
      .describe('how often to read the box (node-cron, seconds optional); default every 30 s'),
    timezone: z.string().default('Europe/Berlin'),
    maxPerPoll: z.number().int().min(1).max(1000).default(50).describe('at most this many messages per reading'),
    timeoutMs: z.number().int().min(100).default(30_000).describe('per request to the XTA server'),
  })
  .strict();

export type XtaMailboxConfig = z.output<typeof xtaMailboxSchema>;
