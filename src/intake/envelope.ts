import { z } from 'zod';
import { pointer, type FieldError } from '../http/problem-details.ts';

// Base64 (RFC 4648, with padding) as written: whitespace such as line breaks may stand anywhere and is dropped
// afterwards. As a pattern rather than a check in code, so the OpenAPI description carries the same rule.
const B = '[A-Za-z0-9+/]\\s*';
const BASE64 = new RegExp(`^\\s*(${B}${B}${B}${B})*(${B}${B}(${B}=|=\\s*=)\\s*)?$`);

export const attachmentSchema = z
  .object({
    filename: z
      .string()
      .min(1)
      .max(255)
      .regex(/^(?!\.\.?$)[^\\/\u0000-\u001f]*$/, 'a file name without path separators or control characters')
      .meta({ description: 'A file name without path separators or control characters; not `.` or `..`.', examples: ['nachweis.pdf'] }),
    mediaType: z
      .string()
      .regex(/^[\w.+-]+\/[\w.+-]+$/, 'a media type such as application/pdf')
      .meta({ description: "The file's media type.", examples: ['application/pdf', 'image/jpeg'] }),
    content: z
      .string()
      .regex(BASE64, 'base64-encoded content')
      .meta({
        description: 'The file, base64-encoded (RFC 4648, with padding; whitespace such as line breaks is ignored).',
        contentEncoding: 'base64',
      })
      .transform((s) => s.replace(/\s+/g, '')),
  })
  .strict()
  .meta({ description: 'One file, inline as base64.' });

// An empty element in XML (<data/>) arrives as "": an object with nothing in it.
const jsonObject = (description: string) =>
  z.preprocess((v) => (v === '' ? {} : v), z.record(z.string(), z.unknown()).meta({ description }));

/** The submission as a portal sends it, JSON or XML alike. */
export const envelopeSchema = z
  .object({
    externalId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
      .meta({
        description: "The portal's own id of the application, unique per portal: printable ASCII without spaces.",
        examples: ['SP-2026-000123'],
      }),
    tenant: z
      .string()
      .regex(/^\d{5}(\d{3})?$/, 'an official key: 8-digit AGS or 5-digit district key')
      .meta({
        description: 'The municipality: 8-digit AGS (Amtlicher Gemeindeschlüssel) or 5-digit district key.',
        examples: ['05513000', '05562'],
      }),
    service: z
      .string()
      .min(1)
      .max(100)
      .meta({
        description: 'The service: its slug as configured on the hub, or its 14-digit LeiKa key.',
        examples: ['sperrmuell', '99050012104000'],
      }),
    submittedAt: z.iso.datetime({ offset: true, message: 'an ISO 8601 date-time with time zone, e.g. 2026-11-24T09:30:00+01:00' }).meta({
      description: 'When the applicant submitted, ISO 8601 with seconds and a time zone (`Z` or `±hh:mm`).',
      examples: ['2026-11-24T09:30:00+01:00'],
    }),
    applicant: jsonObject('The applicant (Antragsteller), free-form: name, address, contact.'),
    data: jsonObject("The form's answers, free-form as the service's form defines them."),
    // An empty <attachments/> in XML arrives as "": the same as none.
    attachments: z.preprocess(
      (v) => (v === '' ? [] : v),
      z
        .array(attachmentSchema)
        .max(100)
        .default([])
        .meta({ description: 'Files sent with the application (proofs, photos). Omitted means none.' }),
    ),
  })
  .strict()
  .meta({
    description:
      "A submission as a portal sends it. `applicant` and `data` are free-form; the routes' mappings decide what a back office needs from them.",
  });

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
      if (i.code === 'unrecognized_keys')
        return { pointer: pointer([...i.path, i.keys[0]!]), detail: `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` };
      if (i.code === 'invalid_type' && i.input === undefined) return { pointer: pointer(i.path), detail: 'required' };
      // The input rode along only to tell "missing" from "wrong"; the answer names the rule, never the value.
      return {
        pointer: pointer(i.path),
        detail: i.code === 'invalid_type' ? `expected ${i.expected === 'record' ? 'object' : i.expected}` : i.message,
      };
    }),
  };
}
