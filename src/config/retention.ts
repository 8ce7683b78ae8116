import { z } from 'zod';

const days = z.number().int().min(0).max(3660);
const tenantKey = z.string().regex(/^\d{5}(\d{3})?$/, 'an official key: 8-digit AGS of a municipality or 5-digit key of a district');
const serviceSlug = z.string().regex(/^[a-z][a-z0-9-]*$/, "a service's slug");

/** One retention rule: for a tenant, a service, or the pair; the most specific rule that matches wins. */
export const retentionRuleSchema = z
  .object({
    tenant: tenantKey.optional().describe("the tenant's key, exactly as configured (a district's rule does not reach its municipalities)"),
    service: serviceSlug.optional().describe("the service's slug"),
    formDataDays: days.describe('days after the last delivery reached a final state'),
  })
  .strict()
  .refine((r) => r.tenant !== undefined || r.service !== undefined, { message: 'give a tenant, a service or both', path: ['tenant'] });

/**
 * How long form data and attachments are kept once every delivery of a submission reached a final state (delivered
 * or failed). The submission's metadata, deliveries, attempts, events and status history stay (docs/security.md).
 */
export const retentionSchema = z
  .object({
    formDataDays: days
      .optional()
      .describe('for every tenant and service without a rule of its own; absent: form data is kept until a rule says otherwise'),
    rules: z
      .array(retentionRuleSchema)
      .default([])
      .describe('per tenant, per service or per pair; tenant and service beats service beats tenant'),
  })
  .strict();

export type RetentionConfig = z.output<typeof retentionSchema>;
