import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServiceConfig, TenantConfig } from '../../config/schema.ts';
import { validateEnvelope, type Envelope } from '../../intake/envelope.ts';
import { parseSubmissionXml } from '../../intake/xml.ts';

/**
 * The mapping input built from a submission envelope, without a store: the same shape and the same
 * derivations as src/delivery/message-input.ts (which builds it from a stored submission) and
 * src/intake/accept.ts (which decodes the attachments). Kept beside it rather than shared because
 * message-input.ts reads from the store's row types; if either changes, change both.
 */
export interface MappingInput {
  submission: { id: string; externalId: string; portal: string; submittedAt: string; receivedAt: string };
  tenant: { key: string; name?: string; parent?: string };
  service: { slug: string; leika?: string; name?: string };
  applicant: unknown;
  data: unknown;
  attachments: { filename: string; mediaType: string; size: number; sha256: string; content: string }[];
  delivery: { id: string; idempotencyKey: string; target: string };
}

export interface InputContext {
  /** The tenant and service from the configuration; absent ones give `{ key }` / `{ slug }` as the hub would. */
  tenant?: TenantConfig;
  service?: ServiceConfig;
  submissionId: string;
  portal: string;
  /** ISO 8601; the hub writes the time it stored the submission, in UTC. */
  receivedAt: string;
  delivery: { id: string; idempotencyKey: string; target: string };
}

export function mappingInputFromEnvelope(envelope: Envelope, ctx: InputContext): MappingInput {
  const { tenant, service } = ctx;
  return {
    submission: {
      id: ctx.submissionId,
      externalId: envelope.externalId,
      portal: ctx.portal,
      submittedAt: envelope.submittedAt,
      receivedAt: new Date(ctx.receivedAt).toISOString(),
    },
    tenant: tenant ? { key: tenant.key, name: tenant.name, ...(tenant.parent ? { parent: tenant.parent } : {}) } : { key: envelope.tenant },
    service: service ? { slug: service.slug, leika: service.leika, name: service.name } : { slug: envelope.service },
    // The hub stores applicant and data as JSON and parses them back: the mapping sees JSON values only.
    applicant: JSON.parse(JSON.stringify(envelope.applicant)) as unknown,
    data: JSON.parse(JSON.stringify(envelope.data)) as unknown,
    attachments: envelope.attachments.map((a) => {
      // Intake stores the decoded bytes, and the input re-encodes them: the mapping sees canonical base64.
      const bytes = Buffer.from(a.content, 'base64');
      return {
        filename: a.filename,
        mediaType: a.mediaType,
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        content: bytes.toString('base64'),
      };
    }),
    delivery: { ...ctx.delivery },
  };
}

export class EnvelopeError extends Error {}

/** A submission as a portal would post it: JSON, or XML (by extension or a leading `<`), not yet validated. */
export function readSubmissionFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new EnvelopeError(`cannot read ${file}`);
  }
  if (/\.xml$/i.test(file) || text.trimStart().startsWith('<')) {
    try {
      return parseSubmissionXml(text) as Record<string, unknown>;
    } catch (e) {
      throw new EnvelopeError(`${file}: ${(e as Error).message}`);
    }
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new EnvelopeError(`${file}: not JSON (${(e as Error).message})`);
  }
}

/** The intake's validation: a case cannot feed a mapping what the hub would have refused at the door. */
export function checkedEnvelope(body: unknown, where: string): Envelope {
  const r = validateEnvelope(body);
  if (r.ok) return r.envelope;
  throw new EnvelopeError(`${where} is not a valid submission: ${r.errors.map((e) => `${e.pointer} ${e.detail}`).join('; ')}`);
}
