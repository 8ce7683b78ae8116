import { z } from 'zod';
import { pointer, type FieldError } from '../http/problem-details.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const attachment = z
  .object({
    filename: z
      .string()
      .min(1)
      .max(255)
      .refine((f) => !/[\\/\u0000-\u001f]/.test(f) && f !== '.' && f !== '..', 'a file name without path separators or control characters'),
    mediaType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'a media type such as application/pdf'),
    content: z
      .string()
      .transform((s) => s.replace(/\s+/g, ''))
      .refine((s) => s.length % 4 === 0 && BASE64.test(s), 'base64-encoded content'),
  })
  .strict();

// An empty element in XML (<data/>) arrives as "": an object with nothing in it.
const jsonObject = z.preprocess((v) => (v === '' ? {} : v), z.record(z.string(), z.unknown()));

/** The submission as a portal sends it, JSON or XML alike. */
export const envelopeSchema = z
  .object({
    externalId: z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
    tenant: z.string().regex(/^\d{5}(\d{3})?$/, 'an official key: 8-digit AGS or 5-digit district key'),
    service: z.string().min(1).max(100),
    submittedAt: z.iso.datetime({ offset: true, message: 'an ISO 8601 date-time with time zone, e.g. 2026-11-24T09:30:00+01:00' }),
    applicant: jsonObject,
    data: jsonObject,
    // An empty <attachments/> in XML arrives as "": the same as none.
    attachments: z.preprocess((v) => (v === '' ? [] : v), z.array(attachment).max(100).default([])),
  })
  .strict();

export type Envelope = z.output<typeof envelopeSchema>;

export function validateEnvelope(body: unknown): { ok: true; envelope: Envelope } | { ok: false; errors: FieldError[] } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, errors: [{ pointer: '#', detail: 'the body must be an object' }] };
  }
  const r = envelopeSchema.safeParse(body, { reportInput: true });
  if (r.success) return { ok: true, envelope: r.data };
  return {
    ok: false,
    errors: r.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') return { pointer: pointer([...i.path, i.keys[0]!]), detail: `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` };
      if (i.code === 'invalid_type' && i.input === undefined) return { pointer: pointer(i.path), detail: 'required' };
      // The input rode along only to tell "missing" from "wrong"; the answer names the rule, never the value.
      return { pointer: pointer(i.path), detail: i.code === 'invalid_type' ? `expected ${i.expected === 'record' ? 'object' : i.expected}` : i.message };
    }),
  };
}
