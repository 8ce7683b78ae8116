// The decrypted metadata of a submission, checked against the shape of FIT-Connect's metadata schema 1.x
// (https://schema.fitko.de/fit-connect/metadata/1.x.y/metadata.schema.json): `contentStructure` is required,
// with the data's `submissionSchema` and `hash` and every attachment's id, hash, purpose and MIME type.
// Only the parts the subscriber relies on are modelled; the rest passes through untouched.

import { z } from 'zod';
import { problems, type RejectProblem } from './problems.ts';
import { readStrictJson } from '../../http/strict-json.ts';

const hashSchema = z.object({
  type: z.literal('sha512'),
  content: z.string().regex(/^[a-f0-9]{128}$/, 'a hex SHA-512 (128 lowercase hex digits)'),
});

const dataSchema = z.looseObject({
  hash: hashSchema,
  submissionSchema: z.looseObject({
    schemaUri: z.url(),
    mimeType: z.enum(['application/json', 'application/xml']),
  }),
});

const attachmentSchema = z.looseObject({
  attachmentId: z.uuid(),
  hash: hashSchema,
  purpose: z.enum(['form', 'attachment', 'report']),
  mimeType: z.string().regex(/^[-\w.]+\/[-\w.+]+$/, 'a MIME type such as application/pdf'),
  filename: z.string().optional(),
  description: z.string().optional(),
});

export const metadataSchema = z.looseObject({
  $schema: z.string().optional(),
  contentStructure: z.looseObject({
    data: dataSchema.optional(),
    attachments: z.array(attachmentSchema),
  }),
  publicServiceType: z.looseObject({ identifier: z.string().optional(), name: z.string().optional() }).optional(),
});

export type Metadata = z.infer<typeof metadataSchema>;
export type MetadataResult = { ok: true; metadata: Metadata } | { ok: false; problems: RejectProblem[] };

const SCHEMA_URI = /^https:\/\/schema\.fitko\.de\/fit-connect\/metadata\/(\d+)\.(\d+)\.(\d+)\/metadata\.schema\.json$/;

/** Parses and checks decrypted metadata; every schema violation is named by its path. */
export function parseMetadata(plaintext: Uint8Array): MetadataResult {
  // The strict reader (src/http/strict-json.ts): UTF-8, depth, duplicate keys and __proto__ checked on the bytes.
  const read = readStrictJson(plaintext);
  if (!read.ok) return { ok: false, problems: [problems.syntaxViolation('metadata', 'Der Metadatensatz ist kein valides JSON.')] };
  const json = read.value;
  const declared = json && typeof json === 'object' ? (json as Record<string, unknown>).$schema : undefined;
  if (declared !== undefined) {
    const m = typeof declared === 'string' ? SCHEMA_URI.exec(declared) : null;
    if (m?.[1] !== '1') {
      return {
        ok: false,
        problems: [problems.unsupportedSchema('metadata', 'Das Metadatenschema wird nicht unterstützt; unterstützt wird Version 1.x.')],
      };
    }
  }
  const parsed = metadataSchema.safeParse(json);
  if (!parsed.success) {
    // Paths and the rule broken, never the values: metadata can carry a citizen's data (reply channel, payment).
    const where = parsed.error.issues.slice(0, 10).map((i) => `${i.path.length ? i.path.join('.') : '(Wurzel)'}: ${i.message}`);
    return {
      ok: false,
      problems: [problems.schemaViolation('metadata', `Der Metadatensatz ist nicht schema-valide (${where.join('; ')}).`)],
    };
  }
  return { ok: true, metadata: parsed.data };
}

/**
 * Compares the metadata with the submission it came in: data described and present (or neither), and the
 * same attachment ids on both sides.
 */
export function checkContentStructure(
  metadata: Metadata,
  submission: { encryptedData?: string | undefined; attachments: string[] },
): RejectProblem[] {
  const found: RejectProblem[] = [];
  const described = metadata.contentStructure.data !== undefined;
  if (described && !submission.encryptedData) found.push(problems.missingData('data', 'Der Fachdatensatz fehlt.'));
  if (!described && submission.encryptedData)
    found.push(problems.missingData('metadata', 'Die Metadaten beschreiben keinen Fachdatensatz, die Einreichung enthält aber einen.'));
  const inMetadata = new Set(metadata.contentStructure.attachments.map((a) => a.attachmentId));
  const inSubmission = new Set(submission.attachments);
  const same = inMetadata.size === inSubmission.size && [...inMetadata].every((id) => inSubmission.has(id));
  if (!same) found.push(problems.attachmentsMismatch('submission', 'Die Anlagen der Einreichung und der Metadaten stimmen nicht überein.'));
  return found;
}
