import { z } from 'zod';

/** Limits on what a portal may send with one submission; bytes are counted decoded, not as base64. */
export const attachmentLimitsSchema = z
  .object({
    maxCount: z.number().int().min(0).max(100).default(20).describe('attachments per submission'),
    maxBytes: z
      .number()
      .int()
      .min(1)
      .default(10 * 1024 * 1024)
      .describe('bytes of one attachment'),
    maxTotalBytes: z
      .number()
      .int()
      .min(1)
      .default(18 * 1024 * 1024)
      .describe('bytes of all attachments of one submission together (keep below server.bodyLimit: base64 adds a third)'),
  })
  .strict();

export type AttachmentLimits = z.output<typeof attachmentLimitsSchema>;
