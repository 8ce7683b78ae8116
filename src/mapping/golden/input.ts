import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServiceConfig, TenantConfig } from '../../config/schema.ts';
import { validateEnvelope, type Envelope } from '../../intake/envelope.ts';
import { parseSubmissionXml } from '../../intake/xml.ts';
import { buildMappingInput, type MappingInput } from '../../delivery/message-input.ts';

export type { MappingInput } from '../../delivery/message-input.ts';

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

/** The mapping input of an envelope that was never stored: decoded and re-encoded as intake and store would. */
export function mappingInputFromEnvelope(envelope: Envelope, ctx: InputContext): MappingInput {
  return buildMappingInput({
    submissionId: ctx.submissionId,
    externalId: envelope.externalId,
    portal: ctx.portal,
    submittedAt: envelope.submittedAt,
    receivedAt: Date.parse(ctx.receivedAt),
    tenantKey: envelope.tenant,
    serviceKey: envelope.service,
    tenant: ctx.tenant,
    service: ctx.service,
    // The hub stores applicant and data as JSON and parses them back: the mapping sees JSON values only.
    applicant: JSON.parse(JSON.stringify(envelope.applicant)) as unknown,
    data: JSON.parse(JSON.stringify(envelope.data)) as unknown,
    attachments: envelope.attachments.map((a) => {
      const bytes = Buffer.from(a.content, 'base64');
      return {
        filename: a.filename,
        mediaType: a.mediaType,
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        content: bytes,
      };
    }),
    delivery: ctx.delivery,
  });
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
